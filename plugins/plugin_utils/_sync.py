# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gateway_sync role's reasoning, as plain functions the role's filters call on the controller.

Inputs are the registered results of truststore_info (gateway mode) and endpoint_certificate, keyed by node.
"""

from __future__ import annotations

import re

from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import normalize_alias

DEFAULT_STOCK_PATTERN = r"\s\[jdk\]$"
DEFAULT_PROTECTED = ("wso2carbon", "gateway_certificate_alias")


def is_stock(alias: str, protected=DEFAULT_PROTECTED, pattern: str = DEFAULT_STOCK_PATTERN) -> bool:
    """Entries the product ships with (JDK CAs, WSO2's own): never pruned unless listed for removal."""
    return normalize_alias(alias) in {normalize_alias(p) for p in protected} or bool(pattern and re.search(pattern, alias))


def _store_fingerprints(state: dict) -> dict:
    """role -> {alias: sha256} from a truststore_info gateway-mode result."""
    stores = {}
    for store in state.get("stores", []):
        fingerprints = {e["alias"]: (e.get("fingerprints") or {}).get("sha256") for e in store.get("entries", [])}
        for role in store.get("role", "live").split("+"):
            stores[role] = fingerprints
    return stores


def desired_certificates(*, source: str, certificates: list, remove_aliases: list, prune: bool, node_state: dict,
                         primary_state: dict | None = None, protected=DEFAULT_PROTECTED,
                         stock_pattern: str = DEFAULT_STOCK_PATTERN) -> list:
    """The batch for endpoint_certificate on one node: what to add or keep, and what to remove."""
    if source == "primary":
        if not primary_state:
            raise ValueError("gateway_sync_source is 'primary' but the primary node's state was not gathered")
        wanted = [
            {"alias": e["alias"], "certificate": e["pem"], "state": "present"}
            for e in primary_state.get("entries", [])
            if e.get("pem") and not is_stock(e["alias"], protected, stock_pattern)
        ]
    else:
        wanted = []
        for item in certificates:
            entry = {"alias": item["alias"], "state": item.get("state") or "present"}
            for key in ("certificate", "certificate_path", "endpoint", "fingerprint"):
                if item.get(key) not in (None, ""):
                    entry[key] = item[key]
            wanted.append(entry)
    names = {normalize_alias(w["alias"]) for w in wanted}
    removals = [a for a in remove_aliases if normalize_alias(a) not in names]
    if prune:
        kept = names | {normalize_alias(a) for a in removals}
        base_names = set(names)
        for role_fps in _store_fingerprints(node_state).values():
            for alias in role_fps:
                if alias in kept or is_stock(alias, protected, stock_pattern):
                    continue
                if re.sub(r"-\d+$", "", alias) in base_names:
                    continue  # a chain member stored as <alias>-N
                removals.append(alias)
                kept.add(alias)
    return wanted + [{"alias": a, "state": "absent"} for a in removals]


def unmanaged_aliases(node_state: dict, desired: list, protected=DEFAULT_PROTECTED, stock_pattern: str = DEFAULT_STOCK_PATTERN) -> list:
    """Aliases on the node that the source does not name (reported; removed only with prune)."""
    names = {normalize_alias(d["alias"]) for d in desired}
    found = set()
    for role_fps in _store_fingerprints(node_state).values():
        for alias in role_fps:
            if alias not in names and re.sub(r"-\d+$", "", alias) not in names and not is_stock(alias, protected, stock_pattern):
                found.add(alias)
    return sorted(found)


def drift_report(states: dict, desired: dict) -> dict:
    """Per alias, which nodes hold it with which fingerprint, in which store; and whether the nodes differ.

    states: node -> truststore_info result; desired: node -> desired batch (from desired_certificates).
    """
    aliases = sorted({normalize_alias(d["alias"]) for batch in desired.values() for d in batch})
    report = {}
    drifted = False
    for alias in aliases:
        per_fp = {}
        for node, state in sorted(states.items()):
            for role, fps in sorted(_store_fingerprints(state).items()):
                fingerprint = fps.get(alias) or "absent"
                per_fp.setdefault(fingerprint, []).append(f"{node} ({role})")
        wants_absent = all(
            any(normalize_alias(d["alias"]) == alias and d.get("state") == "absent" for d in batch) for batch in desired.values()
        )
        consistent = len(per_fp) == 1 and (("absent" in per_fp) == wants_absent)
        drifted = drifted or not consistent
        report[alias] = {"in_sync": consistent, "fingerprints": per_fp}
    duplicates = {}
    for node, state in sorted(states.items()):
        unique = {}
        for store in state.get("stores", []):
            for dup in store.get("duplicates", []):
                unique.setdefault(dup["fingerprint"], {"fingerprint": dup["fingerprint"], "aliases": dup["aliases"], "stores": []})
                unique[dup["fingerprint"]]["stores"].append(store.get("role"))
        duplicates[node] = list(unique.values())
    return {
        "drifted": drifted,
        "aliases": report,
        "duplicates": {node: dups for node, dups in duplicates.items() if dups},
    }


def verify(states: dict, results: dict) -> dict:
    """After converging: every node must hold the same fingerprint for every synced alias in every store.

    results: node -> endpoint_certificate result. Returns {ok, differing: {alias: {fingerprint: [node (role)]}}}.
    """
    synced = {}
    for node, result in results.items():
        for item in result.get("results", []):
            synced.setdefault(item["alias"], {})[node] = None if item["action"] == "removed" else item.get("fingerprint")
    differing = {}
    for alias, expected_by_node in sorted(synced.items()):
        seen = {}
        for node, expected in sorted(expected_by_node.items()):
            stores = _store_fingerprints(states.get(node, {}))
            for role, fps in sorted(stores.items()):
                actual = fps.get(alias)
                seen.setdefault(actual or "absent", []).append(f"{node} ({role})")
                if actual != expected:
                    seen.setdefault(f"expected {expected or 'absent'}", []).append(f"{node} ({role})")
        if len(seen) > 1:
            differing[alias] = seen
    return {"ok": not differing, "differing": differing}


def summary(results: dict, states: dict, *, expiry_warn_days: int, protected=DEFAULT_PROTECTED,
            stock_pattern: str = DEFAULT_STOCK_PATTERN, profiles: dict | None = None) -> dict:
    """The end-of-play summary over every node. Expiry covers the certificates operators add, not stock CAs."""
    counts = {"added": 0, "replaced": 0, "removed": 0}
    changed_nodes, reload = [], {}
    for node, result in sorted(results.items()):
        if result.get("changed"):
            changed_nodes.append(node)
        for item in result.get("results", []):
            if item["action"] in counts:
                counts[item["action"]] += 1
        if result.get("touched"):
            reload[node] = result.get("reload_within_ms")
    expiring = {}
    for node, state in sorted(states.items()):
        soon = sorted({
            f"{e['alias']} ({e['not_after']})"
            for s in state.get("stores", []) for e in s.get("entries", [])
            if e.get("days_remaining") is not None and e["days_remaining"] < expiry_warn_days
            and not is_stock(e["alias"], protected, stock_pattern)
        })
        if soon:
            expiring[node] = soon
    profile_changes = {}
    for node, result in sorted((profiles or {}).items()):
        if result and result.get("changed"):
            if node not in changed_nodes:
                changed_nodes.append(node)
            profile_changes[node] = {k: v for k, v in (result.get("actions") or {}).items() if v != "unchanged"}
            if result.get("interval_changed") or result.get("restart_required"):
                profile_changes[node]["restart_required"] = bool(result.get("restart_required"))
    changed_nodes.sort()
    trust = {}
    for node, state in sorted(states.items()):
        verdicts = {
            check["endpoint"]: "trusted" if check["trusted"] else f"NOT trusted: {check['reason']}"
            for check in state.get("trust_checks", [])
        }
        if verdicts:
            trust[node] = verdicts
    return {
        "nodes": len(results),
        "nodes_changed": changed_nodes,
        "trust_checks": trust,
        "certificates": counts,
        "ssl_profiles": profile_changes,
        "expiring_within_days": expiry_warn_days,
        "expiring": expiring,
        "reload_within_ms": reload,
    }
