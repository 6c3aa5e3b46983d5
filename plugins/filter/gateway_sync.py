# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters the gateway_sync role uses to reason over every node's gathered state (documented in the .yml files)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.apim.certificates.plugins.plugin_utils import _sync
from ansible_collections.apim.certificates.plugins.plugin_utils import _artifact, _survey


def gateway_sync_desired(node_state, source="declared", certificates=None, remove_aliases=None, prune=False,
                         primary_state=None, protected=None, stock_pattern=_sync.DEFAULT_STOCK_PATTERN):
    try:
        return _sync.desired_certificates(
            source=source, certificates=list(certificates or []), remove_aliases=list(remove_aliases or []),
            prune=bool(prune), node_state=node_state or {}, primary_state=primary_state,
            protected=tuple(protected if protected is not None else _sync.DEFAULT_PROTECTED), stock_pattern=stock_pattern,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"gateway_sync_desired: {exc}") from None


def gateway_sync_unmanaged(node_state, desired, protected=None, stock_pattern=_sync.DEFAULT_STOCK_PATTERN):
    return _sync.unmanaged_aliases(node_state or {}, list(desired or []),
                                   tuple(protected if protected is not None else _sync.DEFAULT_PROTECTED), stock_pattern)


def gateway_sync_drift(states, desired):
    return _sync.drift_report(dict(states or {}), dict(desired or {}))


def gateway_sync_verify(states, results):
    return _sync.verify(dict(states or {}), dict(results or {}))


def gateway_sync_summary(results, states, expiry_warn_days=30, protected=None, stock_pattern=_sync.DEFAULT_STOCK_PATTERN,
                         profiles=None):
    return _sync.summary(dict(results or {}), dict(states or {}), expiry_warn_days=int(expiry_warn_days),
                         protected=tuple(protected if protected is not None else _sync.DEFAULT_PROTECTED), stock_pattern=stock_pattern,
                         profiles=dict(profiles or {}))


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
