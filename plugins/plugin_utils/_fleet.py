# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gateway_sync role's comparison of its nodes, on the controller, from one gateway_trust result per node: the
one engine behind the gateway_sync_report action and the filters (which alias a run may remove is _ownership's).

Every function here walks each node's result once (work proportional to nodes x aliases the run names), so the
controller's cost per node does not grow with the fleet. Inputs are keyed by inventory hostname.
"""

from __future__ import annotations

import json

from ansible_collections.apim.certificates.plugins.module_utils._ownership import Ownership


def _roles(store: dict) -> list:
    return store.get("role", "live").split("+")


def _fingerprints(state: dict) -> dict:
    """role -> {alias: sha256} from a gateway_trust before/after state."""
    found = {}
    for store in (state or {}).get("stores", []):
        for role in _roles(store):
            found[role] = store.get("entries") or {}
    return found


def drift_report(results: dict) -> dict:
    """What each node held before the run, per alias the run names: which nodes hold which fingerprint in which store.

    An alias is in sync when every store of every node holds the same fingerprint (or every one lacks it and the
    source wants it absent). Duplicates are certificates held under several aliases on a node, stock pairs aside.
    """
    by_node = {node: (_fingerprints(r.get("before")), r.get("requested") or []) for node, r in sorted(results.items())}
    aliases = sorted({item["alias"] for _fps, requested in by_node.values() for item in requested})
    absent = {}
    for _fps, requested in by_node.values():
        for item in requested:
            absent.setdefault(item["alias"], []).append(item["state"] == "absent")
    report, drifted = {}, False
    for alias in aliases:
        per_fp = {}
        for node, (fps, _requested) in by_node.items():
            for role, entries in sorted(fps.items()):
                per_fp.setdefault(entries.get(alias) or "absent", []).append(f"{node} ({role})")
        wants_absent = len(absent[alias]) == len(by_node) and all(absent[alias])
        in_sync = len(per_fp) == 1 and ("absent" in per_fp) == wants_absent
        drifted = drifted or not in_sync
        report[alias] = {"in_sync": in_sync, "fingerprints": per_fp}
    duplicates = {}
    for node, result in sorted(results.items()):
        unique = {}
        for store in (result.get("before") or {}).get("stores", []):
            for dup in store.get("duplicates", []):
                item = unique.setdefault(dup["fingerprint"], {"fingerprint": dup["fingerprint"], "aliases": dup["aliases"], "stores": []})
                item["stores"].append(store.get("role"))
        if unique:
            duplicates[node] = list(unique.values())
    return {"drifted": drifted, "aliases": report, "duplicates": duplicates}


def verify(results: dict) -> dict:
    """After the run: every node holds, in every store, the fingerprint its run reported for every alias it synced.

    Returns {ok, differing: {alias: {fingerprint or 'absent' or 'expected ...': [node (role)]}}}.
    """
    synced = {}
    for node, result in results.items():
        for item in result.get("results", []):
            synced.setdefault(item["alias"], {})[node] = None if item["action"] == "removed" else item.get("fingerprint")
    after = {node: _fingerprints(result.get("after")) for node, result in results.items()}
    differing = {}
    for alias, expected_by_node in sorted(synced.items()):
        seen = {}
        for node, expected in sorted(expected_by_node.items()):
            for role, entries in sorted(after[node].items()):
                actual = entries.get(alias)
                seen.setdefault(actual or "absent", []).append(f"{node} ({role})")
                if actual != expected:
                    seen.setdefault(f"expected {expected or 'absent'}", []).append(f"{node} ({role})")
        if len(seen) > 1:
            differing[alias] = seen
    return {"ok": not differing, "differing": differing}


def _key_pair_checks(results: dict) -> dict:
    """node -> key pair -> the backend's answer to it (check_endpoint), with the reason where there is one."""
    checks = {}
    for node, result in sorted(results.items()):
        for item in result.get("key_pairs") or []:
            shake = item.get("handshake")
            if shake:
                key = f"{item['alias']} ({shake['endpoint']})"
                checks.setdefault(node, {})[key] = shake["result"] + (f": {shake['reason']}" if shake.get("reason") else "")
    return checks


def key_pair_drift(results: dict) -> dict:
    """Before the run, per key pair of gateway_sync_key_pairs (alias, and endpoint when given): which nodes presented
    which certificate (SHA-256 of the leaf, or 'absent'). A key pair is in sync when every node held the same one and
    none had to change it. {drifted, aliases: {key: {in_sync, fingerprints: {fp: [nodes]}}}}."""
    found, changed = {}, set()
    for node, result in sorted(results.items()):
        for item in result.get("key_pairs") or []:
            key = item["alias"] if not item.get("endpoint") else f"{item['alias']} ({item['endpoint']})"
            found.setdefault(key, {}).setdefault(item.get("previous_fingerprint") or "absent", []).append(node)
            if item.get("action") != "unchanged":
                changed.add(key)
    aliases = {key: {"in_sync": len(fps) == 1 and key not in changed, "fingerprints": fps} for key, fps in sorted(found.items())}
    return {"drifted": not all(a["in_sync"] for a in aliases.values()), "aliases": aliases}


def _listener_results(results: dict) -> dict:
    """node -> gateway_trust's listener part (listener_certificates), for the nodes that have one. It has the shape of
    a node's result (requested, results, before, after), so drift_report and verify judge it as they judge the sender."""
    return {node: r["listener"] for node, r in results.items() if isinstance(r.get("listener"), dict)}


def summary(results: dict, profiles: dict | None = None, expiry_warn_days: int = 30) -> dict:
    """The end-of-play summary over every node."""
    counts = {"added": 0, "replaced": 0, "removed": 0}
    changed_nodes, reload, expiring, trust, dropped = set(), {}, {}, {}, {}
    for node, result in sorted(results.items()):
        if result.get("changed"):
            changed_nodes.add(node)
        for item in result.get("results", []):
            if item["action"] in counts:
                counts[item["action"]] += 1
        if result.get("touched"):
            reload[node] = result.get("reload_within_ms")
        soon = sorted({f"{e['alias']} ({e['not_after']})" for e in result.get("expiring", [])})
        if soon:
            expiring[node] = soon
        gone = [f"{d['alias']} ({d['reason']})" for d in result.get("dropped", [])]
        if gone:
            dropped[node] = gone
        verdicts = {check["endpoint"]: "trusted" if check["trusted"] else f"NOT trusted: {check['reason']}"
                    for check in result.get("trust_checks", [])}
        if verdicts:
            trust[node] = verdicts
    profile_changes = {}
    for node, result in sorted((profiles or {}).items()):
        if result and result.get("changed"):
            changed_nodes.add(node)
            profile_changes[node] = {k: v for k, v in (result.get("actions") or {}).items() if v != "unchanged"}
            if result.get("interval_changed") or result.get("restart_required"):
                profile_changes[node]["restart_required"] = bool(result.get("restart_required"))
    key_pairs = {node: {item["alias"]: item["action"] for item in r.get("key_pairs") or [] if item["action"] != "unchanged"}
                 for node, r in sorted(results.items())}
    listener, listener_checks = {}, {}
    for node, side in sorted(_listener_results(results).items()):
        changes = {item["alias"]: item["action"] for item in side.get("results", []) if item["action"] != "unchanged"}
        if changes:
            listener[node] = changes
        verdicts = {check["name"]: "accepted" if check["accepted"] else f"REFUSED: {check['reason']}" for check in side.get("checks", [])}
        if verdicts:
            listener_checks[node] = verdicts
    return dict({
        "nodes": len(results),
        "nodes_changed": sorted(changed_nodes),
        "key_pairs": {node: changes for node, changes in key_pairs.items() if changes},
        "key_pair_checks": _key_pair_checks(results),
        "listener": listener,
        "listener_checks": listener_checks,
        "trust_checks": trust,
        "certificates": counts,
        "ssl_profiles": profile_changes,
        "expiring_within_days": expiry_warn_days,
        "expiring": expiring,
        "dropped": dropped,
        "reload_within_ms": reload,
    }, **rotation(results, expiry_warn_days))


def _live_entries(state: dict) -> dict:
    for store in (state or {}).get("stores", []):
        if "live" in _roles(store):
            return store.get("entries") or {}
    return {}


def rotation(results: dict, expiry_warn_days: int = 30) -> dict:
    """What the nodes' trust checks say about the backends' next renewals (docs/user-guide.md, "Backend certificate
    rotation"), from gateway_trust's trust_checks (served chain, served leaf, trusted_by, anchor) and stores:

    served_leaves: per endpoint, the leaf it serves (subject, not_after, days_remaining, expiring within the horizon).
    leaf_only: per endpoint, the nodes that trust it through a CA-issued leaf only (its next renewal breaks them).
    rotation_pending: per endpoint, the nodes where the declared alias holds a certificate the served chain neither
    contains nor is trusted through (the backend changed its certificate or CA), or that do not trust it.
    safe_to_remove: per alias (never stock, owned elsewhere, or declared with an endpoint), the nodes where no declared
    endpoint needs it: it is in no served chain and no trust check builds to it. Only nodes that reached every endpoint count.
    """
    served, leaf_only, pending, removable = {}, {}, {}, {}
    for node, result in sorted(results.items()):
        checks = {check["endpoint"]: check for check in result.get("trust_checks", [])}
        live = _live_entries(result.get("after"))
        for endpoint, check in checks.items():
            leaf = check.get("served_leaf")
            if leaf:
                item = served.setdefault(endpoint, dict(leaf, expiring=leaf["days_remaining"] < expiry_warn_days, nodes=[]))
                item["nodes"].append(node)
                if check.get("trusted_by") == "leaf" and leaf.get("issuer") != leaf.get("subject"):
                    leaf_only.setdefault(endpoint, []).append(node)
        for wanted in result.get("requested", []):
            check = checks.get(wanted.get("endpoint"))
            if wanted.get("state") != "present" or check is None or not check.get("served_chain"):
                continue
            held = live.get(wanted["alias"])
            if not check.get("trusted"):
                reason = f"not trusted: {check.get('reason')}"
            elif held not in check["served_chain"] and check.get("anchor") != wanted["alias"]:
                reason = f"trusted through '{check.get('anchor')}', not through '{wanted['alias']}', which the served chain no longer contains"
            else:
                continue
            pending.setdefault(wanted["endpoint"], {"alias": wanted["alias"], "nodes": {}})["nodes"][node] = reason
        if checks and all(check.get("served_chain") for check in checks.values()):
            needed = {check.get("anchor") for check in checks.values() if check.get("trusted")}
            chains = {fp for check in checks.values() for fp in check["served_chain"]}
            owned = set(result.get("owned_elsewhere") or {})
            # an alias declared with an endpoint follows that endpoint (a run refreshes it): never offered for removal
            owned |= {w["alias"] for w in result.get("requested", []) if w.get("endpoint") and w.get("state") == "present"}
            for alias, sha256 in live.items():
                if alias not in needed and sha256 not in chains and alias not in owned:
                    removable.setdefault(alias, []).append(node)
    return {"served_leaves": served, "leaf_only": leaf_only, "rotation_pending": pending, "safe_to_remove": removable}


def report(results: dict, profiles: dict | None = None, expiry_warn_days: int = 30, *, fail_on_drift: bool = False,
           fail_on_untrusted: bool = False) -> dict:
    """Everything the role prints and judges, from one pass over the nodes' results.

    failures: why the play must fail, in words: nodes that differ after a real run, and, when asked for, drift and
    endpoints a node does not trust.
    """
    profiles = {node: p for node, p in (profiles or {}).items() if p and not p.get("skipped")}
    drifting = sorted({node for node, r in results.items() if r.get("changed")}
                      | {node for node, p in profiles.items() if p.get("changed")})
    untrusted = {}
    for node, result in sorted(results.items()):
        bad = [check["endpoint"] for check in result.get("trust_checks", []) if not check["trusted"]]
        if bad:
            untrusted[node] = bad
    check_mode = any(r.get("check_mode") for r in results.values())
    verification = verify(results)
    failures = []
    if not check_mode and not verification["ok"]:
        failures.append(f"Nodes differ after converging: {json.dumps(verification['differing'], sort_keys=True)}")
    if fail_on_drift and drifting:
        failures.append(f"The gateway nodes drift from the source of truth: {', '.join(drifting)} would change.")
    if fail_on_untrusted and untrusted:
        failures.append(f"Not trusted: {json.dumps(untrusted, sort_keys=True)}")
    listener = _listener_results(results)
    listener_verification = verify(listener)
    if not check_mode and not listener_verification["ok"]:
        failures.append(f"Listener truststores differ after converging: {json.dumps(listener_verification['differing'], sort_keys=True)}")
    refused = {node: [c["name"] for c in side.get("checks", []) if not c["accepted"]] for node, side in sorted(listener.items())}
    refused = {node: names for node, names in refused.items() if names}
    if fail_on_untrusted and refused:
        failures.append(f"Client certificates the HTTPS listener refuses: {json.dumps(refused, sort_keys=True)}")
    not_accepted = {node: {k: v for k, v in checks.items() if not v.startswith(("accepted", "no certificate requested"))}
                    for node, checks in _key_pair_checks(results).items()}
    not_accepted = {node: checks for node, checks in not_accepted.items() if checks}
    if fail_on_untrusted and not_accepted:
        failures.append(f"Backends that do not accept the gateway's key pair: {json.dumps(not_accepted, sort_keys=True)}")
    overview = summary(results, profiles, expiry_warn_days)
    notices = [f"rotation pending for {endpoint} (alias '{item['alias']}'): " +
               "; ".join(f"{node}: {why}" for node, why in sorted(item["nodes"].items()))
               for endpoint, item in sorted(overview["rotation_pending"].items())]
    notices += [f"safe to remove: '{alias}' is needed by no declared endpoint on {', '.join(nodes)}"
                for alias, nodes in sorted(overview["safe_to_remove"].items())]
    return {
        "warnings": notices,
        "drift": drift_report(results),
        "not_in_source": {node: list(r.get("unmanaged") or []) for node, r in sorted(results.items())},
        "verification": verification,
        "key_pair_drift": key_pair_drift(results),
        "listener_drift": drift_report(listener),
        "listener_verification": listener_verification,
        "summary": overview,
        "drifting": drifting,
        "untrusted": untrusted,
        "check_mode": check_mode,
        "failures": failures,
    }


# --- the role's desired state per node, and the deprecated filters' truststore_info inputs ----------------------


def store_state(info_result: dict) -> dict:
    """gateway_trust's compact state ({stores: [{role, entries: {alias: sha256}, duplicates}]}) from a truststore_info
    gateway-mode result, so that the functions above judge both."""
    return {"stores": [
        {"role": store.get("role", "live"), "duplicates": store.get("duplicates", []),
         "entries": {e["alias"]: (e.get("fingerprints") or {}).get("sha256") for e in store.get("entries", [])}}
        for store in (info_result or {}).get("stores", [])
    ]}


def declared_item(item):
    """A declared certificate with chain under one name (the role's argument spec lists trust as an option of its own,
    since role argument specs have no aliases; gateway_trust takes it as chain's alias). ValueError when both differ."""
    if isinstance(item, dict) and item.get("trust") is not None:
        if item.get("chain") not in (None, item["trust"]):
            raise ValueError(f"certificate '{item.get('alias')}' gives chain '{item['chain']}' and trust '{item['trust']}': "
                             "trust is another name for chain; give one of them")
        item = dict(item)
        item["chain"] = item.pop("trust")
    return item


def desired_batch(*, source: str, certificates: list, remove_aliases: list, prune: bool, node_state: dict,
                  primary_state: dict | None, ownership: Ownership) -> list:
    """The batch for one node (filter gateway_sync_desired): the declared certificates, or the primary node's own
    (its non-stock entries, gathered with content), then the removals _ownership allows."""
    if source == "primary":
        if not primary_state:
            raise ValueError("gateway_sync_source is 'primary' but the primary node's state was not gathered")
        wanted = [{"alias": e["alias"], "certificate": e["pem"], "state": "present"}
                  for e in primary_state.get("entries", []) if e.get("pem") and ownership.owner(e["alias"]) is None]
    else:
        wanted = []
        for item in certificates:
            entry = {"alias": item["alias"], "state": item.get("state") or "present"}
            item = declared_item(item)
            keys = ("certificate", "certificate_path", "endpoint", "fingerprint", "spki_pins", "chain")
            entry.update({key: item[key] for key in keys if item.get(key) not in (None, "")})
            wanted.append(entry)
    held = {alias for store in store_state(node_state)["stores"] for alias in store["entries"]}
    removals, _unmanaged, _owned = ownership.removals(held, [w["alias"] for w in wanted], remove_aliases, prune)
    return wanted + [{"alias": alias, "state": "absent"} for alias in removals]
