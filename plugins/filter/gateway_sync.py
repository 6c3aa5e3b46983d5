# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the gateway_sync role (documented in the .yml files), thin wrappers of the one engine.

The node comparison is plugins/plugin_utils/_fleet.py (the gateway_sync_report action uses it), the rules of which
aliases a run may remove are plugins/module_utils/_ownership.py (gateway_trust uses them on the node). The filters
gateway_sync_unmanaged, gateway_sync_drift, gateway_sync_verify and gateway_sync_summary, which the role no longer
uses, are deprecated (meta/runtime.yml; removal in 2.0.0): they take truststore_info results and hand them to
_fleet in gateway_trust's form.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.apim.certificates.plugins.module_utils._ownership import DEFAULT_PROTECTED, DEFAULT_STOCK_PATTERN, Ownership
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import normalize_alias
from ansible_collections.apim.certificates.plugins.plugin_utils import _artifact, _fleet, _survey


def _ownership(protected, stock_pattern) -> Ownership:
    return Ownership(tuple(protected if protected is not None else DEFAULT_PROTECTED), stock_pattern)


def gateway_sync_desired(node_state, source="declared", certificates=None, remove_aliases=None, prune=False,
                         primary_state=None, protected=None, stock_pattern=DEFAULT_STOCK_PATTERN):
    try:
        return _fleet.desired_batch(
            source=source, certificates=list(certificates or []), remove_aliases=list(remove_aliases or []),
            prune=bool(prune), node_state=node_state or {}, primary_state=primary_state,
            ownership=_ownership(protected, stock_pattern),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"gateway_sync_desired: {exc}") from None


def gateway_sync_unmanaged(node_state, desired, protected=None, stock_pattern=DEFAULT_STOCK_PATTERN):
    held = {alias for store in _fleet.store_state(node_state or {})["stores"] for alias in store["entries"]}
    return _ownership(protected, stock_pattern).removals(held, [d["alias"] for d in desired or []], [], False)[1]


def _requested(batch) -> list:
    return [{"alias": normalize_alias(d["alias"]), "state": d.get("state") or "present"} for d in batch or []]


def gateway_sync_drift(states, desired):
    desired = dict(desired or {})
    return _fleet.drift_report({node: {"before": _fleet.store_state(state), "requested": _requested(desired.get(node))}
                                for node, state in dict(states or {}).items()})


def gateway_sync_verify(states, results):
    states = dict(states or {})
    return _fleet.verify({node: {"results": (result or {}).get("results", []), "after": _fleet.store_state(states.get(node))}
                          for node, result in dict(results or {}).items()})


def gateway_sync_summary(results, states, expiry_warn_days=30, protected=None, stock_pattern=DEFAULT_STOCK_PATTERN,
                         profiles=None):
    ownership = _ownership(protected, stock_pattern)
    states = dict(states or {})
    per_node = {}
    for node, result in dict(results or {}).items():
        state = states.get(node) or {}
        expiring = [e for s in state.get("stores", []) for e in s.get("entries", [])
                    if e.get("days_remaining") is not None and e["days_remaining"] < int(expiry_warn_days)
                    and not ownership.stock(e["alias"])]
        per_node[node] = dict(result or {}, expiring=expiring, trust_checks=state.get("trust_checks", []))
    return _fleet.summary(per_node, dict(profiles or {}), int(expiry_warn_days))


def gateway_sync_input(values, secrets=True):
    try:
        result = _survey.normalise(dict(values or {}))
    except _survey.SurveyInputError as exc:
        raise AnsibleFilterError(str(exc)) from None
    return result if secrets else _survey.without_secrets(result)


def gateway_sync_artifact(summary, drift=None, not_in_source=None, previous=None, check_mode=False, nodes=None):
    return _artifact.build(dict(summary or {}), drift=dict(drift or {}), not_in_source=dict(not_in_source or {}),
                           previous=previous, check_mode=bool(check_mode),
                           nodes=list(nodes or []))


class FilterModule:
    def filters(self):
        return {
            "gateway_sync_desired": gateway_sync_desired,
            "gateway_sync_unmanaged": gateway_sync_unmanaged,
            "gateway_sync_drift": gateway_sync_drift,
            "gateway_sync_verify": gateway_sync_verify,
            "gateway_sync_summary": gateway_sync_summary,
            "gateway_sync_input": gateway_sync_input,
            "gateway_sync_artifact": gateway_sync_artifact,
        }
