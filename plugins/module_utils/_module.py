# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The little glue between AnsibleModule and the library that every module of the collection shares."""

from __future__ import annotations

import re

NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def _secret_values(module) -> list:
    """The values of every no_log option the module was given, including in sub-options."""
    found = []

    def walk(spec, params):
        for name, option in (spec or {}).items():
            value = (params or {}).get(name)
            if value is None:
                continue
            if option.get("no_log"):
                found.append(value)
            elif option.get("options"):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict):
                        walk(option["options"], item)

    walk(module.argument_spec, module.params)
    return found


def _sanitized(spec, params):
    clean = {}
    for name, value in (params or {}).items():
        option = (spec or {}).get(name, {})
        if value is not None and option.get("no_log"):
            clean[name] = NO_LOG_PLACEHOLDER
        elif option.get("options") and isinstance(value, list):
            clean[name] = [_sanitized(option["options"], v) if isinstance(v, dict) else v for v in value]
        elif option.get("options") and isinstance(value, dict):
            clean[name] = _sanitized(option["options"], value)
        else:
            clean[name] = value
    return clean


# Returned fields that hold aliases or paths (at any depth, lists included): what a password may collide with.
_NAME_FIELD = re.compile(r"alias|path|file|location|home|touched|expiring|toml|xml")


def _returned_names(data, in_name_field: bool = False):
    """Every alias and path string in a result: values of alias/path fields, and every mapping key (diffs are keyed
    by alias, ssl_profile's actions by server)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield key
            yield from _returned_names(value, in_name_field or (isinstance(key, str) and bool(_NAME_FIELD.search(key))))
    elif isinstance(data, (list, tuple)):
        for item in data:
            yield from _returned_names(item, in_name_field)
    elif in_name_field and isinstance(data, str):
        yield data


def _keep_data_unmasked(module, result: dict) -> dict:
    """Keep Ansible's value masking, except for a password that is also an alias or part of a path, returned or given.

    Ansible replaces every returned string that equals or contains a no_log value. WSO2's default password is also
    the alias of its own certificate and part of its keystore's file name ('wso2carbon', 'wso2carbon.jks'), so masking
    that value would report aliases as '********' and break every playbook that reads them. The passwords themselves
    never reach a result (this collection's code does not put them there, and the invocation is sanitized here by
    option, not by value), so only such a colliding value is taken off the mask list; every other password stays on
    it, and Ansible still masks it wherever it might appear.
    """
    result.setdefault("invocation", {"module_args": _sanitized(module.argument_spec, module.params)})
    secrets = [value for value in _secret_values(module) if isinstance(value, str) and value]
    if secrets:
        # The aliases and paths asked for count too: a failure's message names them, and returns no data.
        names = list(_returned_names(result)) + list(_returned_names(_sanitized(module.argument_spec, module.params)))
        for value in secrets:
            if any(value in name for name in names):
                module.no_log_values.discard(value)
    return result


def settle(module, result: dict) -> dict:
    """The engine's result as a module returns it: check_mode stated, its warnings given to Ansible, its diff kept only
    in diff mode (one place for what endpoint_certificate and gateway_trust did alike)."""
    result["check_mode"] = module.check_mode
    for warning in result.pop("warnings", []):
        module.warn(warning)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:  # pylint: disable=protected-access
        result["diff"] = diff
    return result


def exit_with_file_attributes(module, result: dict) -> None:
    """exit_json for a module that writes the file at params['path'] (add_file_common_args): the file's owner, group
    and mode options applied too, counted as a change when they change the file."""
    import os  # pylint: disable=import-outside-toplevel

    path = module.params.get("path")
    if path and os.path.exists(path):
        result["changed"] = module.set_fs_attributes_if_different(module.load_file_common_arguments(module.params), result["changed"])
    exit_json(module, **result)


def exit_json(module, **result):
    module.exit_json(**_keep_data_unmasked(module, result))


def fail_json(module, msg: str, **result):
    module.fail_json(msg=msg, **_keep_data_unmasked(module, result))
