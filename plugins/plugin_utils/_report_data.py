# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the gateway_sync role's report files show (the HTML report, _report_html; the Prometheus metrics, _metrics),
worked out once on the controller from the nodes' gateway_trust results and the fleet report (_fleet.report).

Only what the results already carry: aliases, SHA-256 fingerprints, subjects, issuers, dates, verdicts. Never a
password, a PEM block or a file's content. Dates per alias are known where a result gives them: the certificates
the run named (results), those expiring within the window (expiring), those dropped (dropped), the gateway's own key
pairs (keystores) and the served leaves of the declared endpoints (trust_checks). A certificate the run does not name
and that does not expire soon has only its fingerprint in the results (before/after), so it has no date here.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile

from ansible_collections.apim.certificates.plugins.module_utils._ownership import Ownership

ROLES = ("live", "persistent")
_CN = re.compile(r"(?:^|,)\s*CN=((?:[^,\\]|\\.)*)", re.IGNORECASE)
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ReportPathError(ValueError):
    """A report file cannot be written where it was asked for."""


def common_name(name) -> str:
    """The CN of an RFC 4514 name ('' when it has none)."""
    match = _CN.search(name or "")
    return re.sub(r"\\(.)", r"\1", match.group(1)).strip() if match else ""


def parse_time(text):
    """An ISO 8601 UTC time ('2026-12-12T00:00:00Z') as an aware datetime, or None."""
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def collection_version(root: str = COLLECTION_ROOT) -> str:
    """The collection's version, from its MANIFEST.json (installed) or galaxy.yml (a source tree)."""
    import json  # pylint: disable=import-outside-toplevel

    try:
        with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        import yaml  # pylint: disable=import-outside-toplevel

        with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
            return str(yaml.safe_load(handle)["version"])
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return "unknown"


def check_path(path: str, what: str) -> str:
    """The absolute path, once its folder exists and is writable (and the path is not a folder): else ReportPathError."""
    if not isinstance(path, str) or not path.strip():
        raise ReportPathError(f"{what}: give a file path")
    path = os.path.abspath(os.path.expanduser(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise ReportPathError(f"{what}: the folder {folder} does not exist on the controller")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportPathError(f"{what}: the folder {folder} is not writable on the controller")
    if os.path.isdir(path):
        raise ReportPathError(f"{what}: {path} is a folder; give a file path")
    return path


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    """Write text to path through a temporary file in the same folder and a rename, so that a reader (a browser, the
    node_exporter textfile collector) never sees half a file."""
    folder = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _stores(state) -> dict:
    """role -> {path, entries} of a gateway_trust before/after state (a live+persistent store counts for both)."""
    found = {}
    for store in (state or {}).get("stores", []):
        for role in store.get("role", "live").split("+"):
            found[role] = {"path": store.get("path") or "", "entries": store.get("entries") or {}}
    return found


def _reference(results: dict, after: dict, alias: str):
    """(fingerprint the fleet should hold, whether absence is wanted) for an alias."""
    wanted, absent = [], []
    for result in results.values():
        for item in result.get("results", []):
            if item.get("alias") == alias:
                (absent if item.get("action") == "removed" else wanted).append(item.get("fingerprint"))
        for item in result.get("requested", []):
            if item.get("alias") == alias and item.get("state") == "absent":
                absent.append(None)
    if wanted:
        return max(set(wanted), key=wanted.count), False
    if absent:
        return None, True
    held = [stores[role]["entries"].get(alias) for stores in after.values() for role in stores if stores[role]["entries"].get(alias)]
    return (max(set(held), key=held.count) if held else None), False


def _state(fingerprint, reference, wants_absent: bool, stock: bool) -> str:
    if not fingerprint:
        return "absent" if wants_absent else "missing"
    if stock:
        return "stock"
    if wants_absent:
        return "unwanted"
    return "present" if fingerprint == reference else "different"


def certificate_dates(result: dict) -> dict:
    """alias -> {subject, issuer, not_after, fingerprint, serial_number} of what a node's result dates (see the module
    docstring): every certificate its after-state lists, from gateway_trust's certificates facts where the result has
    them; otherwise (an older node result) what expiring, dropped and results say."""
    found = {}
    facts = result.get("certificates") or {}
    for store in (result.get("after") or {}).get("stores", []):
        for alias, fingerprint in (store.get("entries") or {}).items():
            fact = facts.get(fingerprint)
            if fact and alias not in found:
                found[alias] = {"subject": fact.get("subject"), "issuer": fact.get("issuer"), "not_after": fact.get("not_after"),
                                "fingerprint": fingerprint, "serial_number": fact.get("serial_number")}
    from_facts = set(found)
    for item in result.get("expiring", []):
        if item["alias"] not in from_facts:
            found[item["alias"]] = {"subject": None, "issuer": None, "not_after": item.get("not_after"), "fingerprint": None}
    for item in result.get("dropped", []):
        if item["alias"] not in from_facts:
            entry = found.setdefault(item["alias"], {"issuer": None, "fingerprint": None})
            entry.update(subject=item.get("subject"), not_after=item.get("not_after"))
    for item in result.get("results", []):
        if item["alias"] in from_facts or item.get("action") == "removed" or not item.get("not_after"):
            continue
        found[item["alias"]] = {"subject": item.get("subject"), "issuer": item.get("issuer"), "not_after": item["not_after"],
                                "fingerprint": item.get("fingerprint")}
    return found


def build(results: dict, report: dict, *, expiry_warn_days: int, check_mode: bool, now: datetime.datetime | None = None,
          version: str | None = None, ansible_version: str = "", ownership: Ownership | None = None) -> dict:
    """The view both report files render: produced, nodes, matrix, timeline, trust, summary."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    ownership = ownership or Ownership()
    nodes = sorted(results)
    before = {node: _stores(results[node].get("before")) for node in nodes}
    after = {node: _stores(results[node].get("after")) for node in nodes}
    drift = (report or {}).get("drift", {}).get("aliases", {})
    named = sorted({item["alias"] for r in results.values() for item in r.get("requested", [])})
    others = sorted({alias for state in (before, after) for stores in state.values() for store in stores.values()
                     for alias in store["entries"] if alias not in named})
    columns = []
    for alias in named + others:
        reference, wants_absent = _reference(results, after, alias)
        stock = ownership.owner(alias) is not None
        cells, column_drift = {}, not drift.get(alias, {}).get("in_sync", True)
        for node in nodes:
            per_role = {}
            for role in ROLES:
                if role not in after[node] and role not in before[node]:
                    continue
                was = (before[node].get(role) or {}).get("entries", {}).get(alias)
                now_fp = (after[node].get(role) or {}).get("entries", {}).get(alias)
                cell = {"before": _state(was, reference, wants_absent, stock), "after": _state(now_fp, reference, wants_absent, stock),
                        "fingerprint": now_fp, "changed": was != now_fp}
                cell["drift"] = cell["changed"] or cell["before"] in ("missing", "different", "unwanted")
                column_drift = column_drift or cell["drift"]
                per_role[role] = cell
            cells[node] = per_role
        columns.append({"alias": alias, "source": "named" if alias in named else ("stock" if stock else "not in source"),
                        "reference": reference, "wants_absent": wants_absent, "drift": column_drift, "cells": cells})

    horizon = now + datetime.timedelta(days=int(expiry_warn_days))
    events = []

    def add(kind, node, name, subject, issuer, not_after, **extra):
        when = parse_time(not_after)
        if when is None:
            return
        days = (when - now) // datetime.timedelta(days=1)
        status = "expired" if when <= now else ("expiring" if when <= horizon else "ok")
        events.append(dict({"kind": kind, "node": node, "name": name, "subject": subject or "", "subject_cn": common_name(subject),
                            "issuer_cn": common_name(issuer), "not_after": not_after, "when": when, "days_remaining": days,
                            "status": status}, **extra))

    trust = {}
    for node in nodes:
        result = results[node]
        for alias, item in sorted(certificate_dates(result).items()):
            add("trusted certificate", node, alias, item["subject"], item["issuer"], item["not_after"], alias=alias,
                fingerprint=item["fingerprint"], serial_number=item.get("serial_number"),
                stores=[(role, store["path"]) for role, store in sorted(after[node].items()) if store["entries"].get(alias)])
        for keystore in result.get("keystores") or []:
            for entry in keystore.get("key_entries") or []:
                leaf = (entry.get("chain") or [{}])[0]
                add("key pair", node, entry.get("alias"), leaf.get("subject"), leaf.get("issuer"), entry.get("not_after"),
                    alias=entry.get("alias"), fingerprint=leaf.get("fingerprint"), stores=[("keystore", keystore.get("path") or "")])
        for check in result.get("trust_checks", []):
            leaf = check.get("served_leaf") or {}
            add("served leaf", node, check["endpoint"], leaf.get("subject"), leaf.get("issuer"), leaf.get("not_after"),
                endpoint=check["endpoint"], fingerprint=check.get("fingerprint"))
            trust.setdefault(node, {})[check["endpoint"]] = {
                "trusted": bool(check.get("trusted")), "reason": check.get("reason") or "", "anchor": check.get("anchor") or "",
                "trusted_by": check.get("trusted_by") or ""}
    events.sort(key=lambda e: (e["when"], e["kind"], e["name"], e["node"]))
    endpoints = sorted({endpoint for checks in trust.values() for endpoint in checks})
    return {
        "produced": {"at": now, "check_mode": bool(check_mode), "version": version or collection_version(),
                     "ansible_version": ansible_version, "expiry_warn_days": int(expiry_warn_days), "horizon": horizon},
        "nodes": nodes,
        "columns": columns,
        "drifted": bool((report or {}).get("drift", {}).get("drifted")) or any(c["drift"] for c in columns),
        "events": events,
        "trust": trust,
        "endpoints": endpoints,
        "stores": {node: {role: store["path"] for role, store in sorted(after[node].items())} for node in nodes},
        "changed": sorted(node for node in nodes if results[node].get("changed")),
        "summary": (report or {}).get("summary", {}),
    }


def results_for_files(hostvars, hosts, play_hosts, result_var: str) -> dict:
    """The results the report files cover: this batch's, and under serial the earlier batches' of the play."""
    found = {}
    for host in list(play_hosts or []) + [h for h in hosts if h not in (play_hosts or [])]:
        node_vars = hostvars.get(host) if hasattr(hostvars, "get") else None
        node = node_vars.get(result_var) if node_vars is not None and result_var in node_vars else None
        if isinstance(node, dict) and "before" in node:
            found[host] = node
    return found
