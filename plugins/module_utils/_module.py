# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The little glue between AnsibleModule and the library that every module of the collection shares."""

from __future__ import annotations

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


def _keep_data_unmasked(module, result: dict) -> dict:
    """Return data that merely equals a password (WSO2's default password is also the alias 'wso2carbon').

    Ansible masks every returned string equal to (or containing) a no_log value. The passwords themselves never
    reach a result: this collection's code does not put them there, and the invocation is sanitized here by option,
    not by value. So the value-based masking only corrupts aliases and file names, and is turned off.
    """
    result.setdefault("invocation", {"module_args": _sanitized(module.argument_spec, module.params)})
    for value in _secret_values(module):
        module.no_log_values.discard(value)
    return result


def exit_json(module, **result):
    module.exit_json(**_keep_data_unmasked(module, result))


def fail_json(module, msg: str, **result):
    module.fail_json(msg=msg, **_keep_data_unmasked(module, result))
