"""The gateway_sync role over real SSH, as each node's service account (sudo, pipelining on), on every interpreter.

gw1 runs on the distribution's /usr/bin/python3, gw2 on the oldest libraries the collection claims, gw3 on the newest.
--check writes nothing (byte for byte, owner and mode) but reports what it would change; the converge changes each
node; a second run changes nothing; every file keeps its owner, group and mode (0640, the service account); keytool
lists the declared certificate in the live and the persistent truststore of every node.
"""

from __future__ import annotations

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.fleet._support import PASSWORD, assert_owned_by_service_account, run_play, snapshot
from ansible_collections.apim.certificates.tests.support import fleet as fleet_mod
from ansible_collections.apim.certificates.tests.support.java import KEYTOOL, keytool_list
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256

pytestmark = [pytest.mark.fleet, pytest.mark.xdist_group("fleet")]

GOOD, _good_key = make_cert("orders.internal", sans=["orders.internal"])
STALE, _stale_key = make_cert("orders.internal", sans=["orders.internal"])
ROLE_VARS = {
    "gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}],
    "gateway_sync_ssl_profile": {"interval": 60000},
}
# One task per node: the SSL profiles (its result under ssl_profile), then the trusted certificates.
CONVERGE_TASK = ("apim.certificates.gateway_sync : Converge the node "
                 "(SSL profiles if asked for, trusted certificates in the live and persistent truststores, reload)")


def _stores_changed(result: dict) -> bool:
    return any(item["action"] != "unchanged" for item in result["results"])


def _role_play(fleet, tmp_path, **kwargs):
    return run_play(fleet, tmp_path, become=True, become_user="service",
                    roles=[{"role": "apim.certificates.gateway_sync", "vars": ROLE_VARS}], **kwargs)


def test_role_as_the_service_account_check_converge_idempotent(fleet, nodes, tmp_path):
    stale = nodes["gw2"]
    for store in ("live", "persistent"):
        ts.converge_truststore(stale.paths[store], PASSWORD, [ts.DesiredCertificate("orders", "present", STALE)])
    fleet_mod.own(stale.home, stale.service_account)
    before = {name: snapshot(node) for name, node in nodes.items()}

    audit = _role_play(fleet, tmp_path, check=True)
    assert audit.rc == 0, audit.output
    assert {name: snapshot(node) for name, node in nodes.items()} == before, "--check changed a file, an owner or a mode"
    assert {h: _stores_changed(r) for h, r in audit.task(CONVERGE_TASK).items()} == {n: True for n in nodes}, audit.output
    assert {h: r["ssl_profile"]["changed"] for h, r in audit.task(CONVERGE_TASK).items()} == {n: True for n in nodes}, audit.output

    converge = _role_play(fleet, tmp_path)
    assert converge.rc == 0, converge.output
    assert {h: r["failed"] for h, r in converge.recap.items()} == {n: 0 for n in nodes}, converge.output
    assert {h: _stores_changed(r) for h, r in converge.task(CONVERGE_TASK).items()} == {n: True for n in nodes}
    for node in nodes.values():
        assert_owned_by_service_account(node)
        assert snapshot(node) != before[node.name]
        if KEYTOOL:
            for store in ("live", "persistent"):
                listed = keytool_list(node.paths[store], PASSWORD)
                assert listed["orders"] == ("trustedCertEntry", sha256(GOOD)), f"{node.name} {store}: {listed.get('orders')}"
                assert sha256(STALE) not in {sha for _kind, sha in listed.values()}
        with open(node.paths["deployment_toml"], encoding="utf-8") as handle:
            assert "60000" in handle.read()
    after = {name: snapshot(node) for name, node in nodes.items()}

    again = _role_play(fleet, tmp_path)
    assert again.rc == 0, again.output
    assert {h: r["changed"] for h, r in again.recap.items()} == {n: 0 for n in nodes}, again.output
    assert {name: snapshot(node) for name, node in nodes.items()} == after


INSTALL_TASK = "apim.certificates.gateway_sync : Install the collection's Python libraries into a virtualenv on the node"
PACKAGES_TASK = "apim.certificates.gateway_sync : Install the node's Python libraries from the distribution's packages"


def test_install_requirements_never_pips_into_the_system_python(fleet, nodes, tmp_path):
    """gw1 runs on Debian's /usr/bin/python3 (PEP 668: pip refuses it). packages: the OS packages are there, nothing
    to do. venv: --check predicts the virtualenv and still audits with the node's Python; the real run makes it,
    and the role's module tasks run with it; a second run changes nothing; /usr/bin/python3 is untouched."""
    import os  # pylint: disable=import-outside-toplevel
    import shutil  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel

    venv = f"/opt/apim-fleet-test-venv-{os.getpid()}"
    system_before = subprocess.run(["/usr/bin/python3", "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                                   check=False, timeout=120).stdout
    role_vars = dict(ROLE_VARS, gateway_sync_install_requirements="true", gateway_sync_venv=venv,
                     gateway_sync_python_requirements=["cryptography>=3.4.8", "tomlkit>=0.9.2"])
    try:
        packages = run_play(fleet, tmp_path, hosts=["gw1"], become=True, become_user="service",
                            roles=[{"role": "apim.certificates.gateway_sync",
                                    "vars": dict(role_vars, gateway_sync_install_method="packages")}], check=True)
        assert packages.rc == 0, packages.output
        assert packages.task(PACKAGES_TASK)["gw1"].get("changed") is False, packages.output

        venv_vars = dict(role_vars, gateway_sync_install_method="venv")
        audit = run_play(fleet, tmp_path, hosts=["gw1"], become=True, become_user="service",
                         roles=[{"role": "apim.certificates.gateway_sync", "vars": venv_vars}], check=True)
        assert audit.rc == 0, audit.output
        assert audit.task(INSTALL_TASK)["gw1"].get("changed") is True and not os.path.exists(venv), audit.output

        real = run_play(fleet, tmp_path, hosts=["gw1"], become=True, become_user="service",
                        roles=[{"role": "apim.certificates.gateway_sync", "vars": venv_vars}], verbosity=3)
        assert real.rc == 0, real.output
        assert os.path.exists(os.path.join(venv, "bin", "python")), real.output
        assert f"{venv}/bin/python" in real.output, "the module tasks did not run with the virtualenv's Python"

        again = run_play(fleet, tmp_path, hosts=["gw1"], become=True, become_user="service",
                         roles=[{"role": "apim.certificates.gateway_sync", "vars": venv_vars}])
        assert again.rc == 0 and again.recap["gw1"]["changed"] == 0, again.output
    finally:
        shutil.rmtree(venv, ignore_errors=True)
    assert subprocess.run(["/usr/bin/python3", "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                          check=False, timeout=120).stdout == system_before, "the system Python's packages changed"


def test_trust_checks_over_ssh_on_every_interpreter_and_check_predicts_the_failure(fleet, nodes, tmp_path):
    """Each node checks the declared endpoints itself: a pinned endpoint whose certificate the store then holds is
    trusted (decided from the DER), one that presents another certificate than the one declared for it is not
    (cryptography's path building, on the oldest cryptography too). With gateway_sync_fail_on_untrusted both --check
    and the real run fail, naming the endpoint, with the same verdicts."""
    from ansible_collections.apim.certificates.tests.support.servers import https_server  # pylint: disable=import-outside-toplevel

    backend, backend_key = make_cert("localhost", sans=["localhost"])
    served, served_key = make_cert("localhost", sans=["localhost"])
    declared, _declared_key = make_cert("localhost", sans=["localhost"])
    with https_server(backend, backend_key) as good_port, https_server(served, served_key) as bad_port:
        good, bad = f"https://localhost:{good_port}/orders", f"https://localhost:{bad_port}/billing"
        role_vars = {"gateway_sync_certificates": [
            {"alias": "pinned-backend", "endpoint": good, "fingerprint": sha256(backend)},
            {"alias": "billing-declared", "endpoint": bad, "certificate": pem(declared)},  # not what it presents
        ], "gateway_sync_fail_on_untrusted": True}
        runs = {check: run_play(fleet, tmp_path, become=True, become_user="service", check=check,
                                roles=[{"role": "apim.certificates.gateway_sync", "vars": role_vars}])
                for check in (True, False)}
    for check, run in runs.items():
        assert run.rc != 0 and "Not trusted" in run.output and bad in run.output, run.output
        verdicts = {host: {c["endpoint"]: (c["trusted"], c["anchor"]) for c in result["trust_checks"]}
                    for host, result in run.task(CONVERGE_TASK).items()}
        assert verdicts == {n: {good: (True, "pinned-backend"), bad: (False, None)} for n in nodes}, (check, verdicts)
        for host, result in run.task(CONVERGE_TASK).items():
            reason = next(c["reason"] for c in result["trust_checks"] if c["endpoint"] == bad)
            assert "PKIX path building would fail" in reason, (check, host, reason)


def test_trust_issuer_over_ssh_survives_a_renewal_and_check_predicts_a_refused_key(fleet, nodes, tmp_path):
    """Backend rotation on every interpreter (the oldest cryptography verifies signatures without
    verify_directly_issued_by): trust: issuer with an SPKI pin on the CA stores the CA on every node; after the backend
    renews its leaf under that CA nothing changes and every node still trusts it; a CA with another key is refused by
    --check and by the real run alike, naming the pin, with nothing written."""
    import base64  # pylint: disable=import-outside-toplevel
    import hashlib  # pylint: disable=import-outside-toplevel

    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    from ansible_collections.apim.certificates.tests.support.servers import renewable_https_server  # pylint: disable=import-outside-toplevel

    def spki(cert):
        der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "sha256/" + base64.b64encode(hashlib.sha256(der).digest()).decode()

    ca, ca_key = make_cert("Fleet Rotation CA", ca=True, key=ec.generate_private_key(ec.SECP256R1()))

    def leaf(issuer=ca, issuer_key=ca_key):
        return make_cert("localhost", sans=["localhost"], issuer=issuer, issuer_key=issuer_key, key=ec.generate_private_key(ec.SECP256R1()))

    with renewable_https_server(*leaf(), chain=[ca]) as backend:
        url = f"https://localhost:{backend.port}/orders"
        role_vars = {"gateway_sync_certificates": [{"alias": "orders-ca", "endpoint": url, "trust": "issuer", "spki_pins": [spki(ca)]}],
                     "gateway_sync_fail_on_untrusted": True}

        def play(check=False):
            return run_play(fleet, tmp_path, become=True, become_user="service", check=check,
                            roles=[{"role": "apim.certificates.gateway_sync", "vars": role_vars}])

        def homes():
            return {name: snapshot(node) for name, node in nodes.items()}

        before = homes()
        audit = play(check=True)
        assert audit.rc == 0, audit.output
        assert homes() == before, "--check wrote nothing"
        predicted = {host: [r["action"] for r in result["results"]] for host, result in audit.task(CONVERGE_TASK).items()}
        assert predicted == {n: ["added"] for n in nodes}, predicted
        converge = play()
        assert converge.rc == 0, converge.output
        assert {host: [r["action"] for r in result["results"]] for host, result in converge.task(CONVERGE_TASK).items()} == predicted
        for host, result in converge.task(CONVERGE_TASK).items():
            check = result["trust_checks"][0]
            assert check["trusted"] and check["trusted_by"] == "ca" and check["anchor"] == "orders-ca", (host, check)
            assert all(s["entries"]["orders-ca"] == sha256(ca) for s in result["after"]["stores"]), host

        backend.renew(*leaf(), chain=[ca])
        steady = play()
        assert steady.rc == 0, steady.output
        assert not any(_stores_changed(result) for result in steady.task(CONVERGE_TASK).values()), "renewed under the trusted CA"
        assert all(result["trust_checks"][0]["trusted"] for result in steady.task(CONVERGE_TASK).values())

        other_ca, other_key = make_cert("Fleet Rotation CA", ca=True, key=ec.generate_private_key(ec.SECP256R1()))
        backend.renew(*leaf(other_ca, other_key), chain=[other_ca])
        role_vars["gateway_sync_certificates"][0]["alias"] = "orders-ca-next"  # a new alias: the fetch must be pinned
        kept = homes()
        refusals = {check: play(check=check) for check in (True, False)}
        for check, run in refusals.items():
            assert run.rc != 0 and "matches a pin" in run.output and spki(ca) in run.output, (check, run.output[-3000:])
        assert homes() == kept, "a refused key changes nothing on any node"


def test_listener_client_certificates_over_ssh_as_the_service_account_on_every_interpreter(fleet, nodes, tmp_path):
    """gateway_sync_listener_certificates over SSH as each node's service account, the oldest libraries included:
    --check predicts and writes nothing, the run puts the client CA into every node's listener truststore (owner and
    mode kept, listenerprofiles.xml touched), each node accepts a client certificate it issued, a second run changes
    nothing."""
    partner_ca, partner_key = make_cert("Partner CA", ca=True)
    client = make_cert("partner-app", issuer=partner_ca, issuer_key=partner_key)[0]
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}],
                 "gateway_sync_listener_certificates": [{"alias": "partner-ca", "certificate": pem(partner_ca)}],
                 "gateway_sync_listener_checks": [{"name": "partner-app", "certificate": pem(client)}],
                 "gateway_sync_fail_on_untrusted": True}

    def play(**kwargs):
        return run_play(fleet, tmp_path, become=True, become_user="service",
                        roles=[{"role": "apim.certificates.gateway_sync", "vars": role_vars}], **kwargs)

    before = {name: snapshot(node) for name, node in nodes.items()}
    audit = play(check=True)
    assert audit.rc == 0, audit.output
    assert {name: snapshot(node) for name, node in nodes.items()} == before, "--check changed a file, an owner or a mode"
    assert {h: r["listener"]["changed"] for h, r in audit.task(CONVERGE_TASK).items()} == {n: True for n in nodes}

    converge = play()
    assert converge.rc == 0, converge.output
    for host, result in converge.task(CONVERGE_TASK).items():
        assert [(c["name"], c["accepted"]) for c in result["listener"]["checks"]] == [("partner-app", True)], (host, result["listener"])
        assert result["listener"]["touched"].endswith("listenerprofiles.xml")
    for node in nodes.values():
        assert_owned_by_service_account(node)
        held = ts.load_truststore(node.paths["persistent"], PASSWORD).fingerprints()
        assert held["production_partner-ca_-1234"] == sha256(partner_ca), node.name
    again = play()
    assert again.rc == 0 and {h: r["changed"] for h, r in again.recap.items()} == {n: 0 for n in nodes}, again.output


def test_key_pairs_over_ssh_as_the_service_account_on_every_interpreter(fleet, nodes, tmp_path):
    """gateway_sync_key_pairs over SSH as each node's service account, the oldest libraries included (JKS key
    protection without pyjks): --check writes nothing, the run puts the key pair into every node's wso2carbon.jks
    (owner and mode kept), a second run changes nothing, and the key never reaches the output (-v)."""
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.pki import key_pem  # pylint: disable=import-outside-toplevel

    ca, ca_key = make_cert("Client CA", ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = make_cert("gateway-client", issuer=ca, issuer_key=ca_key, key=leaf_key)[0]
    key_text = key_pem(leaf_key)
    role_vars = {"gateway_sync_key_pairs": [{"alias": "orders-client", "private_key": key_text, "certificate": pem(leaf) + pem(ca)}]}

    def play(**kwargs):
        return run_play(fleet, tmp_path, become=True, become_user="service", verbosity=1,
                        roles=[{"role": "apim.certificates.gateway_sync", "vars": role_vars}], **kwargs)

    before = {name: snapshot(node) for name, node in nodes.items()}
    audit = play(check=True)
    assert audit.rc == 0, audit.output
    assert {name: snapshot(node) for name, node in nodes.items()} == before, "--check changed a file, an owner or a mode"
    converge = play()
    assert converge.rc == 0, converge.output
    for output in (audit.output, converge.output):
        assert key_text.splitlines()[1] not in output and "PRIVATE KEY" not in output, "the key reached the output"
    for host, result in converge.task(CONVERGE_TASK).items():
        assert [(k["alias"], k["action"], k["fingerprint"]) for k in result["key_pairs"]] == [
            ("orders-client", "added", result["key_pairs"][0]["fingerprint"])], (host, result["key_pairs"])
    for node in nodes.values():
        assert_owned_by_service_account(node)
        entry = ts.load_truststore(node.paths["keystore"], PASSWORD).entries["orders-client"]
        assert entry.entry_type == "PrivateKeyEntry" and entry.sha256 == sha256(leaf), node.name
        if KEYTOOL:
            assert keytool_list(node.paths["keystore"], PASSWORD)["orders-client"] == ("PrivateKeyEntry", sha256(leaf))
    again = play()
    assert again.rc == 0 and {h: r["changed"] for h, r in again.recap.items()} == {n: 0 for n in nodes}, again.output


LOCAL_FACT_TASK = "Gather the local facts"


def test_the_local_fact_over_ssh_as_the_service_account_and_a_folder_it_cannot_write_is_a_warning(fleet, nodes, tmp_path):
    """gateway_sync_local_fact as the service account: a fact folder the account owns gets the node's fact, which
    fact gathering over SSH returns as ansible_local.apim_certificates; on gw3 the folder is root's (0755): the run
    warns, converges the stores anyway and writes nothing there."""
    import grp  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    import pwd  # pylint: disable=import-outside-toplevel
    import shutil  # pylint: disable=import-outside-toplevel

    base = f"/var/tmp/apim-fleet-facts-{os.getpid()}"
    os.makedirs(base, mode=0o755)
    try:
        for name, node in nodes.items():
            folder = os.path.join(base, name)
            os.makedirs(folder, mode=0o755)
            if name != "gw3":
                os.chown(folder, pwd.getpwnam(node.service_account).pw_uid, grp.getgrnam(node.service_account).gr_gid)
        fact = base + "/{{ inventory_hostname }}/apim_certificates.fact"
        role_vars = dict(ROLE_VARS, gateway_sync_local_fact=fact)
        run = run_play(fleet, tmp_path, become=True, become_user="service",
                       roles=[{"role": "apim.certificates.gateway_sync", "vars": role_vars}])
        assert run.rc == 0, run.output
        converged = run.task(CONVERGE_TASK)
        assert {h: r.get("local_fact") for h, r in converged.items()} == {
            "gw1": f"{base}/gw1/apim_certificates.fact", "gw2": f"{base}/gw2/apim_certificates.fact", "gw3": None}
        assert any("permission denied" in w.lower() or "cannot write" in w.lower() for w in converged["gw3"]["warnings"]
                   if f"{base}/gw3" in w), converged["gw3"].get("warnings")
        assert os.listdir(os.path.join(base, "gw3")) == []
        for name, node in nodes.items():
            for store in ("live", "persistent"):
                assert ts.load_truststore(node.paths[store], PASSWORD).fingerprints()["orders"] == sha256(GOOD), name

        gathered = run_play(fleet, tmp_path, hosts=["gw1", "gw2"], tasks=[{
            "name": LOCAL_FACT_TASK,
            "ansible.builtin.setup": {"fact_path": base + "/{{ inventory_hostname }}", "gather_subset": ["!all", "!min", "local"]}}])
        assert gathered.rc == 0, gathered.output
        for host, result in gathered.task(LOCAL_FACT_TASK).items():
            local = result["ansible_facts"]["ansible_local"]["apim_certificates"]
            assert local["apim_home"] == nodes[host].home
            assert {s["entries"]["orders"]["fingerprint"] for s in local["stores"]} == {sha256(GOOD)}, host
            owner = pwd.getpwuid(os.stat(f"{base}/{host}/apim_certificates.fact").st_uid).pw_name
            assert owner == nodes[host].service_account, f"{host}: the fact belongs to {owner}"
    finally:
        shutil.rmtree(base, ignore_errors=True)
