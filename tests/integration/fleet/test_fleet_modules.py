"""The three modules over real SSH, under each privilege model an operator may use, on every node's interpreter.

  become: true (root)                      check, converge, idempotence; owner, group and mode of every file kept
  become_user: <service account>, no pipelining (acl installed): Ansible hands the module over with setfacl
  no become (the login account)            fails, naming the file, the account and what to do (become/become_user)
  an account that can read, not write      truststore_info works; --check fails exactly as the real run does
  a new store next to the gateway's        gets the owner and group of the folder's existing stores, not root's
  a PKCS12 store on cryptography < 45      fails naming the library, the version found and the version needed
"""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from ansible_collections.apim.certificates.tests.integration.fleet._support import (
    PASSWORD, assert_owned_by_service_account, home_paths, run_play, snapshot)
from ansible_collections.apim.certificates.tests.support.java import KEYTOOL, keytool_list
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256

pytestmark = [pytest.mark.fleet, pytest.mark.xdist_group("fleet")]

PAYMENTS, _payments_key = make_cert("payments.internal", sans=["payments.internal"])
INTERVAL = 120000
HOME = "{{ gateway_sync_apim_home }}"
SECURITY = HOME + "/repository/resources/security"


def _module_tasks(alias="payments", cert=PAYMENTS):
    """One task per module, each allowed to fail so that every result is recorded."""
    return [
        {"name": "endpoint_certificate", "apim.certificates.endpoint_certificate":
            {"apim_home": HOME, "alias": alias, "certificate": pem(cert)}, "ignore_errors": True},
        {"name": "ssl_profile", "apim.certificates.ssl_profile": {"apim_home": HOME, "interval": INTERVAL},
         "ignore_errors": True},
        {"name": "truststore_info", "apim.certificates.truststore_info": {"apim_home": HOME}, "ignore_errors": True},
    ]


def _no_failures(run, names=("endpoint_certificate", "ssl_profile", "truststore_info")):
    failed = {(task, host): record.get("msg") for task in names for host, record in run.task(task).items()
              if record["_status"] == "failed"}
    assert not failed, f"{failed}\n{run.output[-8000:]}"


def _holds(record, alias, fingerprint):
    """truststore_info's result: the live and the persistent store each hold fingerprint under alias."""
    roles = {}
    for store in record["stores"]:
        roles[store["role"]] = [e["fingerprints"]["sha256"] for e in store["entries"] if e["alias"] == alias]
    return roles == {"live": [fingerprint], "persistent": [fingerprint]}


def test_modules_as_root_check_converge_idempotent(fleet, nodes, tmp_path):
    before = {name: snapshot(node) for name, node in nodes.items()}
    audit = run_play(fleet, tmp_path, tasks=_module_tasks(), become=True, check=True, diff=True)
    assert audit.rc == 0, audit.output
    _no_failures(audit)
    assert {name: snapshot(node) for name, node in nodes.items()} == before, "--check changed a file, an owner or a mode"
    for task in ("endpoint_certificate", "ssl_profile"):
        assert {h: r["changed"] for h, r in audit.task(task).items()} == {n: True for n in nodes}, task

    converge = run_play(fleet, tmp_path, tasks=_module_tasks(), become=True)
    assert converge.rc == 0, converge.output
    _no_failures(converge)
    for task in ("endpoint_certificate", "ssl_profile"):
        assert {h: r["changed"] for h, r in converge.task(task).items()} == {n: True for n in nodes}, task
    for name, node in nodes.items():
        assert _holds(converge.task("truststore_info")[name], "payments", sha256(PAYMENTS)), name
        assert_owned_by_service_account(node)  # root wrote them; the gateway's account still owns them, 0640
        if KEYTOOL:
            for store in ("live", "persistent"):
                assert keytool_list(node.paths[store], PASSWORD)["payments"] == ("trustedCertEntry", sha256(PAYMENTS))
        with open(node.paths["deployment_toml"], encoding="utf-8") as handle:
            assert str(INTERVAL) in handle.read()
    after = {name: snapshot(node) for name, node in nodes.items()}

    again = run_play(fleet, tmp_path, tasks=_module_tasks(), become=True)
    assert again.rc == 0, again.output
    _no_failures(again)
    assert {h: r["changed"] for h, r in again.recap.items()} == {n: 0 for n in nodes}, again.output
    assert {name: snapshot(node) for name, node in nodes.items()} == after


def test_become_user_without_pipelining_goes_through_acl(fleet, nodes, tmp_path):
    tasks = [t for t in _module_tasks() if t["name"] != "ssl_profile"]
    run = run_play(fleet, tmp_path, tasks=tasks, become=True, become_user="service", pipelining=False, verbosity=3)
    assert run.rc == 0, run.output[-8000:]
    _no_failures(run, ("endpoint_certificate", "truststore_info"))
    # the module file went to the login account's temp folder and was handed over with an ACL, not by pipelining
    assert "setfacl" in run.output, "pipelining was not off: Ansible did not hand the module over with setfacl"
    assert "Failed to set permissions on the temporary files" not in run.output
    for name, node in nodes.items():
        assert run.task("endpoint_certificate")[name]["changed"], name
        assert _holds(run.task("truststore_info")[name], "payments", sha256(PAYMENTS)), name
        assert_owned_by_service_account(node)


def _permission_failure(record, node, account):
    """A failed result whose message names a file of the node, the account, and what to do."""
    msg = record.get("msg", "")
    assert record["_status"] == "failed", \
        f"{node.name}: {record.get('_task')} did not fail (changed={record.get('changed')}, check_mode={record.get('check_mode')})"
    assert home_paths(msg, node), f"{node.name} {record['_task']}: the message names no file of {node.home}: {msg}"
    assert account in msg, f"{node.name} {record['_task']}: the message does not name the account {account}: {msg}"
    assert "become" in msg, f"{node.name} {record['_task']}: the message does not say to use become/become_user: {msg}"
    assert "Traceback" not in msg, msg
    return msg


def _checked_and_real(tasks):
    """Each task twice: in check mode ('<name> --check') and for real."""
    return [dict(t, name=f"{t['name']} --check", check_mode=True) for t in tasks] + tasks


def test_without_become_every_module_fails_naming_file_account_and_remedy(fleet, nodes, tmp_path):
    before = {name: snapshot(node) for name, node in nodes.items()}
    run = run_play(fleet, tmp_path, tasks=_checked_and_real(_module_tasks()))
    for task in ("endpoint_certificate", "ssl_profile", "truststore_info"):
        for suffix in (" --check", ""):
            for name, record in run.task(task + suffix).items():
                _permission_failure(record, nodes[name], fleet.login)
    assert {name: snapshot(node) for name, node in nodes.items()} == before


def test_check_by_a_reader_predicts_the_permission_failure_of_the_real_run(fleet, nodes, tmp_path):
    """The auditor account reads every file (service group, 0640/0750) but can write none: --check must say so."""
    before = {name: snapshot(node) for name, node in nodes.items()}
    run = run_play(fleet, tmp_path, tasks=_checked_and_real(_module_tasks()), user=fleet.auditor)
    assert {name: snapshot(node) for name, node in nodes.items()} == before
    # the premise: this account can read the gateway's stores
    _no_failures(run, ("truststore_info --check", "truststore_info"))
    for task in ("endpoint_certificate", "ssl_profile"):
        for name, node in nodes.items():
            predicted = _permission_failure(run.task(task + " --check")[name], node, fleet.auditor)
            hit = _permission_failure(run.task(task)[name], node, fleet.auditor)
            assert home_paths(predicted, node) == home_paths(hit, node), \
                f"{name} {task}: --check said\n  {predicted}\nthe real run said\n  {hit}"


def test_new_stores_get_the_owner_of_the_folders_stores_and_pkcs12_needs_cryptography_45(fleet, nodes, tmp_path):
    tasks = [
        {"name": "new JKS", "apim.certificates.endpoint_certificate":
            {"path": SECURITY + "/backends-extra.jks", "password": "fleet-extra", "create": True, "alias": "payments",
             "certificate": pem(PAYMENTS)}, "ignore_errors": True},
        {"name": "new PKCS12", "apim.certificates.endpoint_certificate":
            {"path": SECURITY + "/backends-extra.p12", "password": "fleet-extra", "create": True, "alias": "payments",
             "store_type": "PKCS12", "certificate": pem(PAYMENTS)}, "ignore_errors": True},
        {"name": "libraries", "ansible.builtin.command":
            {"argv": ["{{ ansible_python_interpreter }}", "-c", "import cryptography; print(cryptography.__version__)"]},
         "changed_when": False},
    ]
    run = run_play(fleet, tmp_path, tasks=tasks, become=True)
    for name, node in nodes.items():
        uid, gid = pwd.getpwnam(node.service_account).pw_uid, grp.getgrnam(node.service_account).gr_gid
        jks = run.task("new JKS")[name]
        assert jks["_status"] == "ok" and jks["changed"], f"{name}: {jks.get('msg')}"
        path = os.path.join(os.path.dirname(node.paths["persistent"]), "backends-extra.jks")
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (uid, gid), f"{name}: {path} belongs to {st.st_uid}:{st.st_gid}, not the gateway's account"
        assert not st.st_mode & 0o007, f"{name}: {path} is open to every account ({oct(st.st_mode)})"
        if KEYTOOL:
            assert keytool_list(path, "fleet-extra")["payments"] == ("trustedCertEntry", sha256(PAYMENTS))

        version = run.task("libraries")[name]["stdout"].strip()
        p12 = run.task("new PKCS12")[name]
        p12_path = os.path.join(os.path.dirname(node.paths["persistent"]), "backends-extra.p12")
        if int(version.split(".")[0]) >= 45:
            assert p12["_status"] == "ok" and p12["changed"], f"{name}: {p12.get('msg')}"
            st = os.stat(p12_path)
            assert (st.st_uid, st.st_gid) == (uid, gid), f"{name}: {p12_path} is not the gateway account's"
            if KEYTOOL:
                assert keytool_list(p12_path, "fleet-extra", "PKCS12")["payments"][1] == sha256(PAYMENTS)
        else:
            msg = p12.get("msg", "")
            assert p12["_status"] == "failed", f"{name}: PKCS12 written on cryptography {version}?"
            assert "cryptography" in msg and version in msg and "45" in msg, \
                f"{name}: the message must name cryptography, the version found ({version}) and 45: {msg}"
            assert "Traceback" not in msg and "AttributeError" not in msg and "has no attribute" not in msg, msg
            assert not os.path.exists(p12_path), f"{name}: a failed run left {p12_path}"
