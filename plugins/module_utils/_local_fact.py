# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gateway_trust's local fact: what one gateway node trusts after a run, as a JSON file that Ansible's setup module
reads from its fact_path (/etc/ansible/facts.d by default) into ansible_local.<file name without .fact>.

It is a report of the run, never a condition of it: a fact file that cannot be written is a warning (check mode
predicts it), and the stores are converged either way. It holds fingerprints, subjects, issuers, serial numbers
and dates; never a password, a key, a PEM block or an error text that could quote one.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._fileio import write_atomic, write_problem

SCHEMA = 1
MODE = 0o644  # setup reads it as whichever account gathers facts; nothing in it is secret


def problem(path: str) -> str | None:
    """Why path cannot be the local fact file, or None. Writes nothing (check mode predicts with it)."""
    if not os.path.basename(path).endswith(".fact") or os.path.basename(path) == ".fact":
        return (f"local_fact {path}: the setup module reads only files named <name>.fact (as ansible_local.<name>); "
                "give a path such as /etc/ansible/facts.d/apim_certificates.fact")
    if os.path.isdir(path):
        return f"local_fact {path} is a directory; give the fact file's path, such as {os.path.join(path, 'apim_certificates.fact')}"
    why = write_problem(path, "local fact file")
    if why and "does not exist" in why:
        return (f"local_fact {path}: {why}; create it first (ansible.builtin.file state=directory, as root for "
                "/etc/ansible/facts.d) and let the account the module runs as write the fact file")
    return f"local_fact {path}: {why}" if why else None


def content(result: dict, *, apim_home: str, now: datetime.datetime) -> dict:
    """The fact: the node's stores after the run, each listed certificate's facts, the trust checks and the key pairs."""
    facts = result.get("certificates") or {}
    stores = []
    for store in (result.get("after") or {}).get("stores") or []:
        entries = {}
        for alias, sha256 in (store.get("entries") or {}).items():
            fact = facts.get(sha256) or {}
            entries[alias] = {"fingerprint": sha256, "subject": fact.get("subject"), "not_after": fact.get("not_after")}
        stores.append({"path": store.get("path"), "role": store.get("role"), "count": store.get("count"), "entries": entries})
    checks = []
    for check in result.get("trust_checks") or []:
        leaf = check.get("served_leaf") or {}
        checks.append({"endpoint": check.get("endpoint"), "trusted": check.get("trusted"), "trusted_by": check.get("trusted_by"),
                       "fingerprint": check.get("fingerprint"), "served_leaf_not_after": leaf.get("not_after")})
    key_pairs = []
    for keystore in result.get("keystores") or []:
        for entry in keystore.get("key_entries") or []:
            chain = entry.get("chain") or [{}]
            key_pairs.append({"keystore": keystore.get("path"), "alias": entry.get("alias"),
                              "fingerprint": chain[0].get("fingerprint"), "not_after": entry.get("not_after")})
    return {
        "schema": SCHEMA,
        "written_by": "apim.certificates.gateway_trust",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "apim_home": apim_home,
        "changed": bool(result.get("changed")),
        "stores": stores,
        "expiring": [{"alias": e.get("alias"), "not_after": e.get("not_after")} for e in result.get("expiring") or []],
        "trust_checks": checks,
        "untrusted_endpoints": [c["endpoint"] for c in checks if c["trusted"] is False],
        "key_pairs": key_pairs,
    }


def write(path: str, fact: dict) -> str | None:
    """Write the fact atomically; the reason it could not be written, or None."""
    data = (json.dumps(fact, indent=1, sort_keys=True) + "\n").encode("utf-8")
    try:
        write_atomic(path, data, new_mode=MODE)
    except (ApimCertificatesError, OSError) as exc:
        return f"local_fact {path}: {exc}"
    return None
