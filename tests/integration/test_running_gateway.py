"""The collection against a running gateway: a stand-in JVM (tests/standin/, docs/standin.md) that reloads its sender
SSL profiles as an API-M 4.x gateway does. The same process (same pid) must reach the backend after the next reload
once a module changed its trust, and keep doing so after a restart; a removal must stop new connections.
"""

from __future__ import annotations

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.reliability._inputs import jks_keystore
from ansible_collections.apim.certificates.tests.support.ansible import run_module
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server
from ansible_collections.apim.certificates.tests.support.standin import IGNORED, Standin, classes_or_skip

pytestmark = pytest.mark.java

EC = "apim.certificates.endpoint_certificate"
SSL = "apim.certificates.ssl_profile"
INTERVAL_MS = 500
PW = "wso2carbon"


@pytest.fixture(scope="module")
def classes():
    return classes_or_skip()


@pytest.fixture
def backend():
    cert, key = make_cert("localhost", sans=["localhost", "127.0.0.1"])
    with https_server(cert, key) as port:
        yield cert, port


@pytest.fixture
def running(tmp_path, classes):
    node = make_gateway_node(str(tmp_path / "wso2am"))
    standin = Standin(node["home"], tmp_path / "standin", interval_ms=INTERVAL_MS, classes=classes).start()
    yield node, standin
    standin.stop()
    assert IGNORED not in standin.log(), standin.log()


def assert_pkix(result) -> None:
    assert not result["ok"] and "PKIX path building failed" in result["error"], result


def fingerprints(store: str) -> set:
    return {e.sha256 for e in ts.load_truststore(store, PW).entries.values()}


def test_endpoint_certificate_reaches_the_running_gateway_and_survives_a_restart(tmp_path, running, backend):
    node, gateway = running
    cert, port = backend
    url = f"https://localhost:{port}/orders"
    pid = gateway.pid
    assert_pkix(gateway.call(url))

    before = gateway.reload_attempts()
    added = run_module(tmp_path, EC, {"apim_home": node["home"], "alias": "orders", "endpoint": url, "certificate": pem(cert)})
    assert added.changed and not added.failed, added
    assert added["touched"] == node["sslprofiles"]
    assert added["reload_within_ms"] == max(gateway.state()["configuredIntervalMs"], 60000)
    assert gateway.wait_for_reload(before)["ok"]
    result = gateway.call(url)
    assert result["ok"] and result["status"] == 200 and result["profile"] == "*", result
    assert gateway.pid == pid and gateway.state()["pid"] == pid  # the same process: no restart was needed

    gateway.restart()  # the start-up copy replaces client-truststore-temp.jks with client-truststore.jks
    assert gateway.pid != pid
    assert gateway.call(url)["ok"]

    pid = gateway.pid
    before = gateway.reload_attempts()
    removed = run_module(tmp_path, EC, {"apim_home": node["home"], "alias": "orders", "state": "absent"})
    assert removed.changed and not removed.failed, removed
    assert gateway.wait_for_reload(before)["ok"]
    assert_pkix(gateway.call(url))  # new connections fail after the reload
    assert gateway.pid == pid
    gateway.restart()
    assert_pkix(gateway.call(url))


def test_an_unchanged_store_is_not_touched_and_nothing_reloads(tmp_path, running, backend):
    node, gateway = running
    cert, port = backend
    args = {"apim_home": node["home"], "alias": "orders", "endpoint": f"https://localhost:{port}/", "certificate": pem(cert)}
    before = gateway.reload_attempts()
    assert run_module(tmp_path, EC, args).changed
    gateway.wait_for_reload(before)
    attempts = gateway.reload_attempts()
    again = run_module(tmp_path, EC, args)
    assert not again.changed and again["touched"] is None
    gateway.wait_for_checks(3)
    assert gateway.reload_attempts() == attempts


def test_a_custom_ssl_profile_serves_its_backend_through_its_own_truststore(tmp_path, running, backend):
    node, gateway = running
    cert, port = backend
    store = str(tmp_path / "orders-truststore.jks")
    ts.converge_truststore(store, PW, [ts.DesiredCertificate("orders", "present", cert)], create=True)
    keystore = jks_keystore(str(tmp_path / "orders-client.jks"), "orders-client", PW)
    assert sha256(cert) not in fingerprints(node["live"]) | fingerprints(node["persistent"])

    before = gateway.reload_attempts()
    profile = {"servers": f"localhost:{port}", "truststore": {"location": store, "type": "JKS", "password": PW},
               "keystore": {"location": keystore, "type": "JKS", "password": PW}}
    result = run_module(tmp_path, SSL, {"apim_home": node["home"], "custom_profiles": [profile]})
    assert result.changed and not result.failed, result
    assert gateway.wait_for_reload(before)["ok"]
    assert gateway.state()["servers"] == ["*", f"localhost:{port}"]
    through_profile = gateway.call(f"https://localhost:{port}/orders")
    assert through_profile["ok"] and through_profile["profile"] == f"localhost:{port}", through_profile
    other_name = gateway.call(f"https://127.0.0.1:{port}/orders")  # same server, another key: the * profile
    assert other_name["profile"] == "*"
    assert_pkix(other_name)

    gateway.restart()
    assert gateway.call(f"https://localhost:{port}/orders")["ok"]


def test_an_endpoint_spelled_in_another_case_is_served_by_the_star_profile(tmp_path, running, backend):
    node, gateway = running
    cert, port = backend
    store = str(tmp_path / "orders-truststore.jks")
    ts.converge_truststore(store, PW, [ts.DesiredCertificate("other", "present", make_cert("other.test")[0])], create=True)
    profile = {"servers": f"localhost:{port}", "truststore": {"location": store, "type": "JKS", "password": PW},
               "keystore": {"location": jks_keystore(str(tmp_path / "client.jks"), "client", PW), "type": "JKS", "password": PW}}
    before = gateway.reload_attempts()
    assert run_module(tmp_path, SSL, {"apim_home": node["home"], "custom_profiles": [profile]}).changed
    # The custom profile is live first: else the reload it causes can come after the count below is taken and before
    # the certificate is written, and the wait below would return on it
    assert gateway.wait_for_reload(before)["ok"]
    url = f"https://LOCALHOST:{port}/orders"  # the gateway serves this key with the * profile
    before = gateway.reload_attempts()
    added = run_module(tmp_path, EC, {"apim_home": node["home"], "alias": "orders", "endpoint": url, "certificate": pem(cert)})
    assert added.changed and not added.failed, added
    gateway.wait_for_reload(before)
    result = gateway.call(url)
    assert result["profile"] == "*"
    assert result["ok"], result


def _spki(cert) -> str:
    import base64  # pylint: disable=import-outside-toplevel
    import hashlib  # pylint: disable=import-outside-toplevel

    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    key = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256/" + base64.b64encode(hashlib.sha256(key).digest()).decode()


def test_a_backend_renewing_under_a_trusted_issuer_needs_no_run_and_leaf_trust_is_fixed_in_one(tmp_path, running):
    """Backend certificate rotation against the running JVM: trust: issuer keeps the same gateway process calling a
    backend that renewed its leaf under the same CA, with no play run; leaf trust was warned about before the
    renewal, fails with PKIX after it, is reported untrusted and is fixed by one gateway_trust run."""
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    from ansible_collections.apim.certificates.tests.support.servers import renewable_https_server  # pylint: disable=import-outside-toplevel

    node, gateway = running
    ca, ca_key = make_cert("Orders Private CA", ca=True)

    def leaf():
        return make_cert("localhost", issuer=ca, issuer_key=ca_key, sans=["localhost"], key=ec.generate_private_key(ec.SECP256R1()))

    first, first_key = leaf()
    other_first, other_key = leaf()
    with renewable_https_server(first, first_key, chain=[ca]) as orders, \
            renewable_https_server(other_first, other_key, chain=[ca]) as billing:
        orders_url, billing_url = f"https://localhost:{orders.port}/orders", f"https://localhost:{billing.port}/billing"
        pid = gateway.pid
        before = gateway.reload_attempts()
        trusted = run_module(tmp_path, EC, {"apim_home": node["home"], "alias": "orders-ca", "endpoint": orders_url,
                                            "trust": "issuer", "spki_pins": [_spki(ca)]})
        assert trusted.changed and not trusted.failed, trusted
        assert fingerprints(node["live"]) >= {sha256(ca)}
        assert gateway.wait_for_reload(before)["ok"]
        assert gateway.call(orders_url)["ok"]

        renewed, renewed_key = leaf()
        orders.renew(renewed, renewed_key, chain=[ca])
        attempts = gateway.reload_attempts()
        assert gateway.call(orders_url)["ok"], "renewed under the trusted CA: still trusted, with no run and no reload"
        assert gateway.reload_attempts() == attempts and gateway.pid == pid

        # leaf trust, for the billing backend: the CA goes first, so that it does not vouch for the renewed leaf
        before = gateway.reload_attempts()
        removed = run_module(tmp_path, EC, {"apim_home": node["home"], "alias": "orders-ca", "state": "absent"})
        assert removed.changed and not removed.failed, removed
        # the removal's own reload first: taken for the next run's, it would leave the billing leaf unloaded
        assert gateway.wait_for_reload(before)["ok"]
        before = gateway.reload_attempts()
        leaf_only = {"apim_home": node["home"], "certificates": [{"alias": "billing", "endpoint": billing_url,
                                                                  "spki_pins": [_spki(other_first), _spki(ca)]}]}
        warned = run_module(tmp_path, "apim.certificates.gateway_trust", leaf_only)
        assert warned.changed and warned["trust_checks"][0]["trusted_by"] == "leaf", warned
        assert any("next renewal breaks trust" in w for w in warned["warnings"]), warned["warnings"]
        assert gateway.wait_for_reload(before)["ok"] and gateway.call(billing_url)["ok"]

        billing_renewed, billing_renewed_key = leaf()
        billing.renew(billing_renewed, billing_renewed_key, chain=[ca])
        assert_pkix(gateway.call(billing_url))
        seen = run_module(tmp_path, "apim.certificates.truststore_info", {"apim_home": node["home"], "verify_endpoints": [billing_url]})
        assert seen["trust_checks"][0]["trusted"] is False, seen["trust_checks"]
        before = gateway.reload_attempts()
        fixed = run_module(tmp_path, "apim.certificates.gateway_trust", leaf_only)
        assert fixed.changed and fixed["trust_checks"][0]["trusted"], fixed
        assert gateway.wait_for_reload(before)["ok"] and gateway.call(billing_url)["ok"]
        assert gateway.pid == pid
