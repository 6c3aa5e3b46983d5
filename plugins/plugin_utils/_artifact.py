# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gateway_sync role's job artifact: what a later AWX workflow node needs, and nothing secret.

Built on the controller from the role's end-of-play summary (gateway_sync_summary) and drift report; published with
ansible.builtin.set_stats under the key ``gateway_sync``. Under ``serial`` every batch builds on the previous batch's
artifact, so the last one covers the whole play. The schema is documented in docs/role-gateway_sync.md.
"""

from __future__ import annotations

SCHEMA_VERSION = 1


def _sorted_union(*lists) -> list:
    return sorted({item for items in lists for item in (items or [])})


def _merge_drift(previous: dict, current: dict) -> dict:
    aliases = {}
    for alias in sorted(set(previous) | set(current)):
        fingerprints = {}
        for source in (previous.get(alias) or {}, current.get(alias) or {}):
            for fingerprint, holders in (source.get("fingerprints") or {}).items():
                fingerprints[fingerprint] = _sorted_union(fingerprints.get(fingerprint), holders)
        in_sync = all((source.get(alias) or {}).get("in_sync", True) for source in (previous, current)) and len(fingerprints) <= 1
        aliases[alias] = {"in_sync": in_sync, "fingerprints": fingerprints}
    return aliases


def pick_previous(candidates, nodes) -> dict | None:
    """The artifact of this play's previous serial batches, among those other hosts of the play carry.

    Each batch's artifact covers that batch and the ones before it, so the right one names none of this batch's nodes
    and has the most nodes. One left by an earlier play over the same hosts names this batch's nodes and is ignored.
    """
    if isinstance(candidates, dict):
        candidates = [candidates]
    nodes = set(nodes or [])
    fitting = [c for c in candidates or [] if isinstance(c, dict) and not nodes & set(c.get("node_names") or [])]
    return max(fitting, key=lambda c: len(c.get("node_names") or []), default=None)


def _by_node(per_item: dict) -> dict:
    """{item: [node]} -> {node: [item]} (node-keyed, so that the batches of a serial play merge by node)."""
    found = {}
    for item, nodes in per_item.items():
        for node in nodes:
            found.setdefault(node, []).append(item)
    return {node: sorted(items) for node, items in sorted(found.items())}


def _pending_by_node(pending) -> dict:
    found = {}
    for endpoint, item in (pending or {}).items():
        for node, reason in (item.get("nodes") or {}).items():
            found.setdefault(node, {})[endpoint] = reason
    return found


def build(summary: dict, drift: dict | None = None, not_in_source: dict | None = None, previous=None,
          check_mode: bool = False, nodes: list | None = None) -> dict:
    """The artifact for one play batch, merged into the previous batch's artifact when there is one.

    summary: the role's summary (nodes, nodes_changed, certificates, expiring, trust_checks, reload_within_ms, ...).
    drift: the drift report before converging ({drifted, aliases: {alias: {in_sync, fingerprints}}}).
    not_in_source: node -> aliases it holds that the source does not name.
    previous: the artifacts other hosts of the play carry (see pick_previous), or one artifact.
    nodes: the batch's nodes.
    """
    summary = dict(summary or {})
    drift = dict(drift or {})
    trust = {node: dict(verdicts) for node, verdicts in (summary.get("trust_checks") or {}).items()}
    untrusted = {node: sorted(e for e, v in verdicts.items() if v != "trusted") for node, verdicts in trust.items()}
    current = {
        "schema_version": SCHEMA_VERSION,
        "check_mode": bool(check_mode),
        "nodes": int(summary.get("nodes") or len(nodes or [])),
        "node_names": sorted(nodes or []),
        "nodes_changed": sorted(summary.get("nodes_changed") or []),
        "drifted": bool(drift.get("drifted")),
        "drift": _merge_drift({}, drift.get("aliases") or {}),
        "not_in_source": {n: sorted(a) for n, a in sorted((not_in_source or {}).items()) if a},
        "certificates": {k: int((summary.get("certificates") or {}).get(k) or 0) for k in ("added", "replaced", "removed")},
        "ssl_profiles": {n: dict(c) for n, c in sorted((summary.get("ssl_profiles") or {}).items())},
        "expiring_within_days": summary.get("expiring_within_days"),
        "expiring": {n: sorted(e) for n, e in sorted((summary.get("expiring") or {}).items())},
        "dropped": {n: sorted(d) for n, d in sorted((summary.get("dropped") or {}).items())},
        "key_pairs": {n: dict(sorted(c.items())) for n, c in sorted((summary.get("key_pairs") or {}).items())},
        "key_pair_checks": {n: dict(sorted(c.items())) for n, c in sorted((summary.get("key_pair_checks") or {}).items())},
        "listener": {n: dict(sorted(c.items())) for n, c in sorted((summary.get("listener") or {}).items())},
        "listener_checks": {n: dict(sorted(c.items())) for n, c in sorted((summary.get("listener_checks") or {}).items())},
        "trust_checks": trust,
        "untrusted": {n: e for n, e in sorted(untrusted.items()) if e},
        "reload_due": dict(sorted((summary.get("reload_within_ms") or {}).items())),
        "served_leaves": {e: {k: leaf.get(k) for k in ("subject", "not_after", "days_remaining", "expiring")}
                          for e, leaf in sorted((summary.get("served_leaves") or {}).items())},
        "leaf_only": _by_node(summary.get("leaf_only") or {}),
        "rotation_pending": {n: dict(sorted(p.items())) for n, p in sorted(_pending_by_node(summary.get("rotation_pending")).items())},
        "safe_to_remove": _by_node(summary.get("safe_to_remove") or {}),
    }
    previous = pick_previous(previous, nodes)
    if not previous:
        return current
    previous = dict(previous)
    merged = dict(current)
    merged["check_mode"] = bool(previous.get("check_mode")) or current["check_mode"]
    merged["nodes"] = int(previous.get("nodes") or 0) + current["nodes"]
    merged["node_names"] = _sorted_union(previous.get("node_names"), current["node_names"])
    merged["nodes_changed"] = _sorted_union(previous.get("nodes_changed"), current["nodes_changed"])
    merged["drift"] = _merge_drift(previous.get("drift") or {}, current["drift"])
    merged["drifted"] = bool(previous.get("drifted")) or current["drifted"] or not all(a["in_sync"] for a in merged["drift"].values())
    merged["certificates"] = {k: int((previous.get("certificates") or {}).get(k) or 0) + current["certificates"][k]
                              for k in ("added", "replaced", "removed")}
    for key in ("not_in_source", "ssl_profiles", "expiring", "dropped", "key_pairs", "key_pair_checks", "listener", "listener_checks",
                "trust_checks", "untrusted", "reload_due", "served_leaves", "leaf_only", "rotation_pending", "safe_to_remove"):
        combined = dict(previous.get(key) or {})
        combined.update(current[key])
        merged[key] = dict(sorted(combined.items()))
    return merged
