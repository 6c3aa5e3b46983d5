"""gateway_sync in check mode is an audit: it writes nothing and does not fail because nothing was written.

--check is proven by tests/integration/test_gateway_sync_role.py::test_check_mode_is_an_audit (and test_secrets.py here).
This file covers the other way users ask for check mode: the check_mode keyword on a play (or a role, or an
include_role with apply).
"""

from __future__ import annotations

import sys


from ansible_collections.apim.certificates.tests.integration.reliability import _inputs as inp
from ansible_collections.apim.certificates.tests.integration.reliability._support import run_plays, snapshot, snapshot_diff
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem

CERT, _KEY = make_cert("orders.internal")

BUG = ("BUG: roles/gateway_sync/tasks/main.yml, task 'Verify that every node holds the same fingerprints...', "
       "is guarded by `when: not ansible_check_mode`; Ansible sets ansible_check_mode from --check only, so a play with "
       "the check_mode: true keyword (still an audit: nothing is written) fails with 'Nodes differ after converging'")


def test_role_audit_with_the_check_mode_keyword(tmp_path):
    node = inp.gateway_home(str(tmp_path / "gw"))
    before = snapshot(node["home"])
    inventory = {"all": {"hosts": {"gw": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                          "gateway_sync_apim_home": node["home"]}}}}
    plays = [{"name": "audit", "hosts": "gw", "gather_facts": False, "check_mode": True,
              "roles": [{"role": "apim.certificates.gateway_sync",
                         "vars": {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(CERT)}]}}]}]
    records, output, returncode = run_plays(str(tmp_path / "work"), plays, inventory=inventory)
    assert snapshot_diff(before, snapshot(node["home"])) == [], "check mode wrote something"
    failed = [f"{r['_task']}: {r.get('msg')}" for r in records if r.failed]
    assert returncode == 0 and failed == [], failed or output[-2000:]
