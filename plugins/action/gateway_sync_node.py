# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of apim.certificates.gateway_sync_node; documented in plugins/modules/gateway_sync_node.py.

The gateway_sync role's one task per node: reads the role's variables (survey text included) in Python, then runs
apim.certificates.ssl_profile (only when SSL profiles are asked for) and apim.certificates.gateway_trust on the node.
One task instead of four per node, because every task costs each host a worker process on the controller, skipped
or not (docs/performance.md, "Fleet cost").
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.apim.certificates.plugins.plugin_utils import _fleet, _survey

# apim.certificates.gateway_trust option -> the role variable it comes from (a variable not given: the module's default)
TRUST_OPTIONS = {
    "certificates": "gateway_sync_certificates",
    "remove_aliases": "gateway_sync_remove_aliases",
    "prune": "gateway_sync_prune",
    "drop": "gateway_sync_drop",
    "drop_stock": "gateway_sync_drop_stock",
    "listener_certificates": "gateway_sync_listener_certificates",
    "listener_exclusive": "gateway_sync_listener_exclusive",
    "listener_checks": "gateway_sync_listener_checks",
    "protected_aliases": "gateway_sync_protected_aliases",
    "stock_alias_pattern": "gateway_sync_stock_alias_pattern",
    "timeout": "gateway_sync_endpoint_timeout",
    "backup": "gateway_sync_backup",
    "expiring_within_days": "gateway_sync_expiry_warn_days",
    "local_fact": "gateway_sync_local_fact",
}
# keys of a module result that are merged rather than nested
_MERGED = ("warnings", "deprecations")


def _diffs(result: dict) -> list:
    diff = result.get("diff")
    if not diff:
        return []
    return list(diff) if isinstance(diff, list) else [diff]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("variables", "apim_home", "password", "certificates", "python"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = self._task.args
        if not args.get("apim_home"):
            raise AnsibleActionFail("apim_home is required: the API-M home on the node (gateway_sync_apim_home)")
        variables = args.get("variables")
        if not isinstance(variables, dict):
            raise AnsibleActionFail("variables must be a mapping of the gateway_sync role's variables (gateway_sync__given)")
        try:
            values = _survey.normalise(variables)
        except _survey.SurveyInputError as exc:
            raise AnsibleActionFail(str(exc)) from None

        # The Python of the module runs: the venv of gateway_sync_install_method=venv (python, set by install.yml),
        # else gateway_sync_python, else the node's interpreter as the inventory or the configuration gives it.
        python = args.get("python") or values.get("gateway_sync_python")
        module_vars = dict(task_vars, ansible_python_interpreter=python) if python else task_vars

        primary = values.get("gateway_sync_source") == "primary"
        if primary and args.get("certificates") is None:
            raise AnsibleActionFail("gateway_sync_source is primary but no certificates were read from the primary node")
        certificates = args.get("certificates") if primary else values.get("gateway_sync_certificates")
        try:
            certificates = [_fleet.declared_item(item) for item in certificates or []]
        except ValueError as exc:
            raise AnsibleActionFail(f"gateway_sync_certificates: {exc}") from None

        profile_request = values.get("gateway_sync_ssl_profile") or {}
        diffs, merged, changed = [], {key: [] for key in _MERGED}, False
        profile = None
        if profile_request:
            # gateway_sync_ssl_profile holds ssl_profile's own options, passed as given (the module refuses, by name,
            # one it does not know); the node's API-M home, and gateway_sync_backup unless the dict says otherwise
            profile_args = dict(profile_request, apim_home=args["apim_home"])
            if "backup" not in profile_args and values.get("gateway_sync_backup") is not None:
                profile_args["backup"] = values["gateway_sync_backup"]
            profile = self._execute_module(module_name="apim.certificates.ssl_profile", module_args=profile_args,
                                           task_vars=module_vars)
            profile.pop("invocation", None)  # the module's own (passwords masked); not repeated in the node's result
            for key in _MERGED:
                merged[key].extend(profile.pop(key, None) or [])
            diffs.extend(_diffs(profile))
            profile.pop("diff", None)  # shown once, in the node's result
            changed = bool(profile.get("changed"))
            if profile.get("failed"):
                result.update(failed=True, changed=changed, ssl_profile=profile,
                              msg=f"SSL profiles (gateway_sync_ssl_profile): {profile.get('msg', 'the ssl_profile module failed')}")
                return self._finish(result, merged, diffs)

        key_pairs, failure = self._key_pairs(values, args, module_vars, merged, diffs)
        changed = changed or any(item["action"] != "unchanged" for item in key_pairs)
        if failure:
            result.update(failed=True, changed=changed, key_pairs=key_pairs, msg=failure)
            if profile is not None:
                result["ssl_profile"] = profile
            return self._finish(result, merged, diffs)

        trust_args = {option: values[name] for option, name in TRUST_OPTIONS.items() if values.get(name) is not None}
        trust_args.update(apim_home=args["apim_home"], certificates=certificates or [], strict_alias=not primary,
                          allow_expired=primary)
        if args.get("password"):
            trust_args["password"] = args["password"]
        trust = self._execute_module(module_name="apim.certificates.gateway_trust", module_args=trust_args,
                                     task_vars=module_vars)
        for key in _MERGED:
            merged[key].extend(trust.pop(key, None) or [])
        diffs.extend(_diffs(trust))
        facts = dict(profile.get("ansible_facts") or {}) if profile else {}
        facts.update(trust.get("ansible_facts") or {})
        result.update(trust)
        if facts:
            result["ansible_facts"] = facts
        result["changed"] = changed or bool(trust.get("changed"))
        if profile is not None:
            result["ssl_profile"] = profile
        result["key_pairs"] = key_pairs
        return self._finish(result, merged, diffs)

    def _key_pairs(self, values: dict, args: dict, module_vars: dict, merged: dict, diffs: list) -> tuple:
        """gateway_sync_key_pairs through apim.certificates.endpoint_keystore, one run each: ([{alias, endpoint, action,
        fingerprint, previous_fingerprint, not_after, profile}], the failure in words or None). Never the key."""
        done = []
        for index, item in enumerate(values.get("gateway_sync_key_pairs") or []):
            item_args = {key: value for key, value in dict(item).items() if value is not None}
            item_args["apim_home"] = args["apim_home"]
            if "backup" not in item_args and values.get("gateway_sync_backup") is not None:
                item_args["backup"] = values["gateway_sync_backup"]
            out = self._execute_module(module_name="apim.certificates.endpoint_keystore", module_args=item_args,
                                       task_vars=module_vars)
            out.pop("invocation", None)
            for key in _MERGED:
                merged[key].extend(out.pop(key, None) or [])
            diffs.extend(_diffs(out))
            alias = item.get("alias")
            if out.get("failed"):
                return done, f"key pair gateway_sync_key_pairs[{index}] ('{alias}'): {out.get('msg', 'endpoint_keystore failed')}"
            chain, previous = out.get("chain") or [], out.get("previous_chain") or []
            done.append({"alias": out.get("alias", alias), "endpoint": item.get("endpoint"), "action": out.get("action"),
                         "fingerprint": chain[0]["fingerprint"] if chain else None,
                         "previous_fingerprint": previous[0]["fingerprint"] if previous else None,
                         "not_after": chain[0].get("not_after") if chain else None, "profile": out.get("profile"),
                         "handshake": out.get("handshake")})
        return done, None

    @staticmethod
    def _finish(result: dict, merged: dict, diffs: list) -> dict:
        result.pop("diff", None)
        if diffs:
            result["diff"] = diffs if len(diffs) > 1 else diffs[0]
        for key, items in merged.items():
            if items:
                result[key] = items
        return result
