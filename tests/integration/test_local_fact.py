"""gateway_trust's local_fact and the role's gateway_sync_local_fact: what a node trusts, read back by fact gathering
(ansible.builtin.setup with fact_path) as ansible_local.<name>, as a user's later play reads it."""

from __future__ import annotations

import datetime
import json
import os
import stat

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module, run_role, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

TRUST = "apim.certificates.gateway_trust"
PASSWORD = "Fact-Store-pw9"
BACKEND, BACKEND_KEY = make_cert("localhost", sans=["localhost", "127.0.0.1"])
UNTRUSTED, UNTRUSTED_KEY = make_cert("localhost", sans=["localhost", "127.0.0.1"])


def _not_after(cert) -> datetime.datetime:
    return cert.not_valid_after_utc if hasattr(cert, "not_valid_after_utc") else cert.not_valid_after


def _gathered(tmp_path, fact_dir: str) -> dict:
    """ansible_local as fact gathering returns it from fact_dir."""
    facts = run_module(tmp_path, "ansible.builtin.setup", {"fact_path": fact_dir, "gather_subset": ["!all", "!min", "local"]})
    assert not facts.failed, facts
    return facts["ansible_facts"]["ansible_local"]


def _store_files(node) -> dict:
    return {key: sha256_file(node[key]) for key in ("live", "persistent", "sslprofiles")}


def test_the_fact_reports_the_stores_and_trust_checks_and_check_mode_writes_none(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"), password=PASSWORD)
    fact_dir = tmp_path / "facts.d"
    fact_dir.mkdir()
    fact = str(fact_dir / "apim_certificates.fact")
    with https_server(BACKEND, BACKEND_KEY) as good, https_server(UNTRUSTED, UNTRUSTED_KEY) as bad:
        args = {"apim_home": node["home"], "local_fact": fact, "password": PASSWORD,
                "certificates": [{"alias": "orders", "endpoint": f"https://localhost:{good}/", "fingerprint": sha256(BACKEND)},
                                 {"alias": "billing", "endpoint": f"https://localhost:{bad}/", "certificate": pem(make_cert("other")[0])}]}

        audit = run_module(tmp_path, TRUST, args, check=True)
        assert audit.changed and not audit.failed, audit
        assert audit["local_fact"] == fact, "check mode predicts the fact the real run writes"
        assert not os.path.exists(fact), "check mode wrote the fact"
        assert not [w for w in audit.get("warnings", []) if "local_fact" in w], audit["warnings"]

        run = run_module(tmp_path, TRUST, args)
        assert run.changed and not run.failed, run
        assert run["local_fact"] == fact
        assert stat.S_IMODE(os.stat(fact).st_mode) == 0o644
        text = open(fact, encoding="utf-8").read()
        assert "BEGIN" not in text and PASSWORD not in text, "a certificate or the password in the fact"

        local = _gathered(tmp_path, str(fact_dir))["apim_certificates"]
        assert local["written_by"] == "apim.certificates.gateway_trust" and local["apim_home"] == node["home"]
        assert local["changed"] is True
        written = datetime.datetime.strptime(local["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        assert abs((datetime.datetime.now(datetime.timezone.utc) - written).total_seconds()) < 300
        stores = {s["role"]: s for s in local["stores"]}
        assert set(stores) == {"live", "persistent"}
        for store in stores.values():
            assert store["entries"]["orders"]["fingerprint"] == sha256(BACKEND)
            assert store["entries"]["orders"]["subject"].endswith("CN=localhost")
            assert store["entries"]["orders"]["not_after"] == _not_after(BACKEND).strftime("%Y-%m-%dT%H:%M:%SZ")
        checks = {c["endpoint"]: c for c in local["trust_checks"]}
        assert checks[f"https://localhost:{good}/"]["trusted"] is True
        assert checks[f"https://localhost:{good}/"]["fingerprint"] == sha256(BACKEND)
        assert checks[f"https://localhost:{bad}/"]["trusted"] is False
        assert local["untrusted_endpoints"] == [f"https://localhost:{bad}/"]

        again = run_module(tmp_path, TRUST, args)
        assert not again.changed and not again.failed, "rewriting the fact is not a change"
        assert _gathered(tmp_path, str(fact_dir))["apim_certificates"]["changed"] is False


def test_a_fact_that_cannot_be_written_is_a_warning_check_mode_predicts_and_the_stores_still_converge(tmp_path):
    missing = str(tmp_path / "no-such-dir" / "apim_certificates.fact")
    misnamed = str(tmp_path / "apim_certificates.json")
    for index, (fact, expected) in enumerate(((missing, "does not exist; create it first"), (misnamed, "only files named <name>.fact"))):
        node = make_gateway_node(str(tmp_path / f"gw{index}"))
        args = {"apim_home": node["home"], "local_fact": fact, "certificates": [{"alias": "orders", "certificate": pem(BACKEND)}]}
        before = _store_files(node)
        audit = run_module(tmp_path, TRUST, args, check=True)
        assert _store_files(node) == before
        run = run_module(tmp_path, TRUST, args)
        for result in (audit, run):
            assert result.changed and not result.failed, result
            assert result["local_fact"] is None
            warned = [w for w in result["warnings"] if fact in w]
            assert warned and expected in warned[0] and "not written" in warned[0], result["warnings"]
        assert not os.path.exists(fact)
        for store in ("live", "persistent"):
            assert ts.load_truststore(node[store], "wso2carbon").fingerprints()["orders"] == sha256(BACKEND)


def test_the_role_writes_each_nodes_fact(tmp_path):
    hosts = {}
    for name in ("gw1", "gw2"):
        node = make_gateway_node(str(tmp_path / name))
        (tmp_path / name / "facts.d").mkdir()
        hosts[name] = {"gateway_sync_apim_home": node["home"],
                       "gateway_sync_local_fact": str(tmp_path / name / "facts.d" / "apim_certificates.fact")}
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(BACKEND)}]}
    result = run_role(tmp_path, hosts, role_vars)
    assert result.returncode == 0, result.stdout + result.stderr
    for name, host in hosts.items():
        with open(host["gateway_sync_local_fact"], encoding="utf-8") as handle:
            fact = json.load(handle)
        assert fact["apim_home"] == host["gateway_sync_apim_home"], name
        assert {s["entries"]["orders"]["fingerprint"] for s in fact["stores"]} == {sha256(BACKEND)}, name
        assert [k["alias"] for k in fact["key_pairs"]] == ["wso2carbon"], "the gateway's own key pair"

    checked = run_role(tmp_path, hosts, dict(role_vars, gateway_sync_certificates=[{"alias": "billing", "certificate": pem(UNTRUSTED)}]),
                       "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for host in hosts.values():
        with open(host["gateway_sync_local_fact"], encoding="utf-8") as handle:
            assert "billing" not in json.load(handle)["stores"][0]["entries"], "check mode rewrote the fact"
