"""The gateway_sync role over real SSH on real CPython 3.8, 3.9 and 3.10 node interpreters, one node each.

A fleet of its own (tests/support/fleet.py NODE_PYTHONS): gw38 on CPython 3.8 with the oldest libraries claimed
(cryptography 3.4.8, tomlkit 0.9.2), gw39 on CPython 3.9 with RHEL 9's (cryptography 36.0.1, tomlkit 0.11.4), gw310
on CPython 3.10 with Ubuntu 22.04's (cryptography 3.4.8, tomlkit 0.9.2). Each interpreter is found by version (PATH,
/usr/bin, /usr/local/bin, pyenv) and, when the service accounts cannot reach it (pyenv under root's 0700 home), copied
where they can. The role runs as each node's service account (sudo, become_user): --check (an audit) predicts and
writes nothing, the converge changes every node, a second run changes nothing and an audit then finds no drift.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.fleet._support import PASSWORD, assert_owned_by_service_account, run_play, snapshot
from ansible_collections.apim.certificates.tests.support import fleet as fleet_mod
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256

pytestmark = [pytest.mark.fleet, pytest.mark.xdist_group("fleet")]

NODES = {"gw38": "py38", "gw39": "py39-rhel9", "gw310": "py310"}
GOOD, _good_key = make_cert("orders.internal", sans=["orders.internal"])
STALE, _stale_key = make_cert("orders.internal", sans=["orders.internal"])
CONVERGE_TASK = ("apim.certificates.gateway_sync : Converge the node "
                 "(SSL profiles if asked for, trusted certificates in the live and persistent truststores, reload)")
VERSION_TASK = "the node's Python"


@pytest.fixture(scope="module")
def python_fleet():
    reason = fleet_mod.missing(tuple(NODES.values()))
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the node-Python fleet test, but: {reason}")
        print(f"\nnode-Python SSH fleet test skipped: {reason}")
        pytest.skip(reason)
    try:
        started = fleet_mod.up(tuple(NODES), tuple(NODES.values()), homes=True, owner_pid=os.getpid())
    except RuntimeError as exc:
        pytest.fail(f"could not start the node-Python SSH fleet: {exc}")
    yield started
    problems = started.down()
    assert not problems, problems


def _role(fleet, tmp_path, **kwargs):
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}],
                 "gateway_sync_ssl_profile": {"interval": 60000}, "gateway_sync_fail_on_drift": kwargs.pop("fail_on_drift", False)}
    return run_play(fleet, tmp_path, become=True, become_user="service",
                    roles=[{"role": "apim.certificates.gateway_sync", "vars": role_vars}], **kwargs)


def test_role_converges_and_audits_on_cpython_38_39_310_as_the_service_account(python_fleet, tmp_path):
    nodes = python_fleet.nodes
    probe = run_play(python_fleet, tmp_path, become=True, become_user="service", tasks=[{
        "name": VERSION_TASK, "ansible.builtin.command": {"argv": [
            "{{ ansible_python_interpreter }}", "-c",
            "import sys, os, cryptography, tomlkit; print('%d.%d' % sys.version_info[:2], cryptography.__version__, "
            "tomlkit.__version__, os.geteuid())"]}}])
    assert probe.rc == 0, probe.output
    for name, result in probe.task(VERSION_TASK).items():
        version, pins, _what = fleet_mod.NODE_PYTHONS[NODES[name]]
        wanted = dict(pin.split("==") for pin in pins)
        got_version, got_crypto, got_toml, uid = result["stdout"].split()
        assert (got_version, got_crypto, got_toml) == (version, wanted["cryptography"], wanted["tomlkit"]), (name, result["stdout"])
        assert int(uid) == __import__("pwd").getpwnam(nodes[name].service_account).pw_uid, "not run as the service account"

    stale = nodes["gw39"]
    for store in ("live", "persistent"):
        ts.converge_truststore(stale.paths[store], PASSWORD, [ts.DesiredCertificate("orders", "present", STALE)])
    fleet_mod.own(stale.home, stale.service_account)
    before = {name: snapshot(node) for name, node in nodes.items()}

    audit = _role(python_fleet, tmp_path, check=True)
    assert audit.rc == 0, audit.output
    assert {name: snapshot(node) for name, node in nodes.items()} == before, "--check changed a file, an owner or a mode"
    assert {h: any(i["action"] != "unchanged" for i in r["results"]) for h, r in audit.task(CONVERGE_TASK).items()} == \
        {n: True for n in nodes}, audit.output

    converge = _role(python_fleet, tmp_path)
    assert converge.rc == 0, converge.output
    assert {h: r["failed"] for h, r in converge.recap.items()} == {n: 0 for n in nodes}, converge.output
    for node in nodes.values():
        assert_owned_by_service_account(node)
        for store in ("live", "persistent"):
            assert ts.load_truststore(node.paths[store], PASSWORD).fingerprints()["orders"] == sha256(GOOD), (node.name, store)
        with open(node.paths["deployment_toml"], encoding="utf-8") as handle:
            assert "60000" in handle.read()
    after = {name: snapshot(node) for name, node in nodes.items()}

    again = _role(python_fleet, tmp_path)
    assert again.rc == 0 and {h: r["changed"] for h, r in again.recap.items()} == {n: 0 for n in nodes}, again.output
    clean_audit = _role(python_fleet, tmp_path, check=True, fail_on_drift=True)
    assert clean_audit.rc == 0, clean_audit.output
    assert {name: snapshot(node) for name, node in nodes.items()} == after
