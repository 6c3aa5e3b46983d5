"""Every node-side module run by ansible-playbook on real CPython 3.8, 3.9 and 3.10 node interpreters.

The node-side floor is Python 3.8 (docs/managed-nodes.md). vermin checks it statically (make node-python); these tests
run it: each flavor is a venv from a real CPython of that version (found by version, not path: on PATH, /usr/bin,
/usr/local/bin or pyenv) with the libraries a distribution pairs with it (tests/support/fleet.py NODE_PYTHONS):
3.8 and 3.9 with the oldest libraries the collection claims (cryptography 3.4.8, tomlkit 0.9.2), 3.9 with RHEL 9's
(cryptography 36.0.1, tomlkit 0.11.4), 3.10 with Ubuntu 22.04's (cryptography 3.4.8, tomlkit 0.9.2). Each module runs
in gateway mode, in check mode with diff first, then for real, then again (nothing to do). The controller stays this
test's own Python. Where a CPython version is absent, its tests skip and say which and how to get it.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support import fleet
from ansible_collections.apim.certificates.tests.support.ansible import run_module, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import backend_stores, make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

BACKEND, BACKEND_KEY = make_cert("localhost", sans=["localhost", "127.0.0.1"])
OTHER, _other_key = make_cert("billing.internal")
CLIENT, CLIENT_KEY = make_cert("orders-client")
TRUST_PASSWORD, KEY_PASSWORD = "Trust-Node-7e1", "Key-Node-3f9"


@pytest.fixture(scope="module", params=sorted(fleet.NODE_PYTHONS))
def node_python(request):
    """(flavor, the venv's python, (major, minor), pins) of one real node Python."""
    flavor = request.param
    reason = fleet.node_python_missing(flavor)
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the node Python {flavor}, but: {reason}")
        pytest.skip(f"node Python {flavor}: {reason}")
    version, pins, _what = fleet.NODE_PYTHONS[flavor]
    return flavor, fleet.interpreter(flavor), version, pins


def _files(node: dict) -> dict:
    return {key: sha256_file(path) for key, path in node.items() if key != "home" and os.path.isfile(path)}


def _runs(tmp_path, module, args, python, node, *, first_changes=True):
    """check+diff, real, again: the check predicts the real run and writes nothing, the second real run does nothing."""
    before = _files(node)
    check = run_module(tmp_path, module, args, check=True, diff=True, python=python)
    assert not check.failed and check.changed is first_changes, check
    assert _files(node) == before, f"{module}: check mode wrote something"
    real = run_module(tmp_path, module, args, diff=True, python=python)
    assert not real.failed and real.changed is first_changes, real
    again = run_module(tmp_path, module, args, python=python)
    assert not again.failed and not again.changed, again
    return check, real


def test_the_node_interpreter_is_the_real_version_with_its_libraries(tmp_path, node_python):
    flavor, python, version, pins = node_python
    facts = run_module(tmp_path, "ansible.builtin.setup", {"gather_subset": ["!all", "!min", "python"]}, python=python)
    assert not facts.failed, facts
    got = facts["ansible_facts"]["ansible_python"]
    assert f"{got['version']['major']}.{got['version']['minor']}" == version, (flavor, got)
    probe = run_module(tmp_path, "ansible.builtin.command", {"argv": [
        got["executable"], "-c", "import cryptography, tomlkit; print(cryptography.__version__, tomlkit.__version__)"]},
        python=python)
    wanted = {pin.split("==")[0]: pin.split("==")[1] for pin in pins}
    assert probe["stdout"].split() == [wanted["cryptography"], wanted["tomlkit"]], probe


def test_endpoint_certificate_and_truststore_info_in_gateway_mode(tmp_path, node_python):
    _flavor, python, _version, _pins = node_python
    node = make_gateway_node(str(tmp_path / "gw"))
    with https_server(BACKEND, BACKEND_KEY) as port:
        endpoint = f"https://localhost:{port}/"
        pinned = {"apim_home": node["home"], "alias": "orders", "endpoint": endpoint, "fingerprint": sha256(BACKEND)}
        check, real = _runs(tmp_path, "apim.certificates.endpoint_certificate", pinned, python, node)
        assert check["results"] == real["results"], "check mode predicted the real run"
        assert real["diff"] and real["touched"] == node["sslprofiles"]
        for store in ("live", "persistent"):
            assert ts.load_truststore(node[store], "wso2carbon").fingerprints()["orders"] == sha256(BACKEND)

        content = {"apim_home": node["home"], "alias": "billing", "certificate": pem(OTHER)}
        _runs(tmp_path, "apim.certificates.endpoint_certificate", content, python, node)

        info = run_module(tmp_path, "apim.certificates.truststore_info",
                          {"apim_home": node["home"], "verify_endpoints": [endpoint]},
                          python=python)
        assert not info.failed, info
        assert info["trust_checks"][0]["trusted"] is True and info["trust_checks"][0]["trusted_by"] == "leaf", info
        live = next(s for s in info["stores"] if "live" in s["role"])
        held = {e["alias"]: e["fingerprints"]["sha256"] for e in live["entries"]}
        assert {alias: held.get(alias) for alias in ("orders", "billing")} == {"orders": sha256(BACKEND), "billing": sha256(OTHER)}

        removal = {"apim_home": node["home"], "alias": "billing", "state": "absent"}
        _runs(tmp_path, "apim.certificates.endpoint_certificate", removal, python, node)
        assert "billing" not in ts.load_truststore(node["persistent"], "wso2carbon").fingerprints()


def test_gateway_trust_converges_and_checks_from_the_node(tmp_path, node_python):
    _flavor, python, _version, _pins = node_python
    node = make_gateway_node(str(tmp_path / "gw"))
    with https_server(BACKEND, BACKEND_KEY) as port:
        args = {"apim_home": node["home"], "certificates": [
            {"alias": "orders", "endpoint": f"https://localhost:{port}/", "fingerprint": sha256(BACKEND)},
            {"alias": "billing", "certificate": pem(OTHER)}]}
        check, real = _runs(tmp_path, "apim.certificates.gateway_trust", args, python, node)
        assert check["after"] == real["after"], "check mode predicted the stores"
        assert [c["trusted"] for c in real["trust_checks"]] == [True], real["trust_checks"]


def test_ssl_profile_adds_a_custom_profile_whose_pkcs12_keystore_it_opens(tmp_path, node_python):
    """ssl_profile validates the stores a profile names: a PKCS12 keystore is opened on every cryptography (below 36,
    only opened: _pkcs12._open_only), a JKS truststore read by the collection's own codec."""
    _flavor, python, _version, _pins = node_python
    node = make_gateway_node(str(tmp_path / "gw"))
    keystore, truststore = backend_stores(str(tmp_path / "backend"), CLIENT, CLIENT_KEY, TRUST_PASSWORD, KEY_PASSWORD)
    profile = {"servers": "orders.internal:443", "keystore": {"location": keystore, "type": "PKCS12", "password": KEY_PASSWORD},
               "truststore": {"location": truststore, "password": TRUST_PASSWORD}}
    args = {"apim_home": node["home"], "custom_profiles": [profile]}
    check, real = _runs(tmp_path, "apim.certificates.ssl_profile", args, python, node)
    assert check["actions"] == real["actions"] == {"orders.internal:443": "added"}, real
    for result in (check, real):
        assert TRUST_PASSWORD not in str(result) and KEY_PASSWORD not in str(result), "a password reached the result"
    with open(node["sslprofiles"], encoding="utf-8") as handle:
        assert "orders.internal:443" in handle.read()

    wrong = dict(profile, truststore={"location": truststore, "password": "not-the-password"})
    before = _files(node)
    refused = run_module(tmp_path, "apim.certificates.ssl_profile",
                         {"apim_home": node["home"], "custom_profiles": [dict(wrong, servers="billing.internal:443")]},
                         python=python)
    assert refused.failed and "wrong password" in refused["msg"], refused
    assert _files(node) == before, "a refused run changed a file"


def test_listener_certificate_writes_the_listeners_client_certificates(tmp_path, node_python):
    _flavor, python, _version, _pins = node_python
    node = make_gateway_node(str(tmp_path / "gw"))
    args = {"apim_home": node["home"], "certificates": [{"alias": "orders-client", "certificate": pem(CLIENT)}]}
    check, real = _runs(tmp_path, "apim.certificates.listener_certificate", args, python, node)
    assert check["results"] == real["results"] and real["touched"] == node["listenerprofiles"], real
    assert ts.load_truststore(node["persistent"], "wso2carbon").fingerprints()["production_orders-client_-1234"] == sha256(CLIENT)


def test_endpoint_keystore_writes_the_gateways_key_pair(tmp_path, node_python):
    """The key pair into the default profile's keystore: JKS key protection (hashlib) and the chain on every interpreter
    and its libraries (cryptography 3.4.8 included)."""
    from ansible_collections.apim.certificates.tests.support.pki import key_pem  # pylint: disable=import-outside-toplevel

    _flavor, python, _version, _pins = node_python
    node = make_gateway_node(str(tmp_path / "gw"), own_keystore=True)
    ca, ca_key = make_cert("Client CA", ca=True)
    leaf, leaf_key = make_cert("gateway-client", issuer=ca, issuer_key=ca_key)
    args = {"apim_home": node["home"], "alias": "orders-client", "private_key": key_pem(leaf_key), "certificate": pem(leaf) + pem(ca)}
    check, real = _runs(tmp_path, "apim.certificates.endpoint_keystore", args, python, node)
    assert check["action"] == real["action"] == "added", real
    entry = ts.load_truststore(node["keystore"], "wso2carbon").entries["orders-client"]
    assert entry.entry_type == "PrivateKeyEntry" and entry.sha256 == sha256(leaf)
