"""Backend certificate rotation, over real TLS: what to trust of a served chain (chain: leaf/issuer/root), SPKI pins
with a backup pin, and a backend that renews its leaf under the same CA while the gateway node keeps its stores."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, sha256
from ansible_collections.apim.certificates.tests.support.servers import renewable_https_server

EC = "apim.certificates.endpoint_certificate"
TRUST = "apim.certificates.gateway_trust"
ROOT, ROOT_KEY = make_cert("Rotation Root CA", ca=True)
ISSUING, ISSUING_KEY = make_cert("Rotation Issuing CA", ca=True, issuer=ROOT, issuer_key=ROOT_KEY)


def _leaf(key=None):
    """A leaf under the issuing CA, with a key of its own unless given (make_cert reuses a few keys)."""
    return make_cert("localhost", issuer=ISSUING, issuer_key=ISSUING_KEY, sans=["localhost"], key=key or ec.generate_private_key(ec.SECP256R1()))


def _spki(cert) -> str:
    key = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256/" + base64.b64encode(hashlib.sha256(key).digest()).decode()


def _held(path, password="changeit"):
    return ts.load_truststore(path, password).fingerprints()


def test_trust_issuer_survives_a_renewal_and_trust_root_stores_the_top_ca(tmp_path):
    leaf, key = _leaf()
    store = str(tmp_path / "t.jks")
    with renewable_https_server(leaf, key, chain=[ISSUING, ROOT]) as backend:
        endpoint = f"https://localhost:{backend.port}/"
        base = {"path": store, "password": "changeit", "create": True, "endpoint": endpoint}
        issuer = run_module(tmp_path, EC, dict(base, alias="orders-ca", trust="issuer", spki_pins=[_spki(ISSUING)]))
        assert issuer.changed and not issuer.failed, issuer
        root = run_module(tmp_path, EC, dict(base, alias="orders-root", chain="root", fingerprint=sha256(ROOT)))
        assert root.changed and not root.failed, root
        assert _held(store) == {"orders-ca": sha256(ISSUING), "orders-root": sha256(ROOT)}
        assert not [w for w in issuer.get("warnings", []) if "first use" in w or "next renewal" in w]

        renewed, renewed_key = _leaf()
        backend.renew(renewed, renewed_key, chain=[ISSUING, ROOT])
        again = run_module(tmp_path, EC, dict(base, alias="orders-ca", trust="issuer", spki_pins=[_spki(ISSUING)]))
        assert not again.changed and not again.failed, "the renewed leaf is under the same CA: nothing to do"
        info = run_module(tmp_path, "apim.certificates.truststore_info",
                          {"path": store, "password": "changeit", "verify_endpoints": [endpoint]})
        check = info["trust_checks"][0]
        assert check["trusted"] and check["trusted_by"] == "ca" and check["fingerprint"] == sha256(renewed), check
        assert check["served_chain"] == [sha256(renewed), sha256(ISSUING), sha256(ROOT)]
        assert "CN=localhost" in check["served_leaf"]["subject"] and check["served_leaf"]["days_remaining"] >= 364


def test_leaf_trust_warns_before_the_renewal_and_an_spki_pin_refuses_a_key_rotation(tmp_path):
    leaf, key = _leaf()
    store = str(tmp_path / "t.jks")
    with renewable_https_server(leaf, key, chain=[ISSUING]) as backend:
        args = {"path": store, "password": "changeit", "create": True, "alias": "orders", "endpoint": f"localhost:{backend.port}",
                "spki_pins": [_spki(leaf), "sha256/" + base64.b64encode(b"\x01" * 32).decode()]}  # with a backup pin
        first = run_module(tmp_path, EC, args)
        assert first.changed and not first.failed, first
        assert any("next renewal of it breaks trust" in w and "Rotation Issuing CA" in w for w in first["warnings"]), first["warnings"]

        same_key, _same = _leaf(key=key)
        backend.renew(same_key, key, chain=[ISSUING])
        kept = run_module(tmp_path, EC, args)
        assert kept.changed and not kept.failed and _held(store)["orders"] == sha256(same_key), "a renewal keeping the key matches"

        rotated, rotated_key = _leaf()
        backend.renew(rotated, rotated_key, chain=[ISSUING])
        before = _held(store)
        refused = run_module(tmp_path, EC, args)
        assert refused.failed and "matches a pin" in refused["msg"] and _spki(rotated) in refused["msg"], refused
        assert _spki(leaf) in refused["msg"], "the pins given are named beside what was served"
        assert _held(store) == before
        accepted = run_module(tmp_path, EC, dict(args, spki_pins=[_spki(leaf), _spki(rotated)]))
        assert accepted.changed and _held(store)["orders"] == sha256(rotated), "declaring the new pin lets it in"


def test_a_pin_on_a_ca_merely_appended_to_the_chain_is_refused(tmp_path):
    """OkHttp CVE-2016-2402: the attacker's chain carries the pinned CA, but that CA did not sign the leaf."""
    # a key of its own: make_cert reuses a few keys, and the leaf then carrying the pinned CA's key would match the
    # pin legitimately (a pin matches the leaf too)
    attacker, attacker_key = make_cert("localhost", sans=["localhost"], key=ec.generate_private_key(ec.SECP256R1()))
    store = str(tmp_path / "t.jks")
    with renewable_https_server(attacker, attacker_key, chain=[ISSUING]) as backend:
        result = run_module(tmp_path, EC, {"path": store, "password": "changeit", "create": True, "alias": "orders",
                                           "endpoint": f"localhost:{backend.port}", "spki_pins": [_spki(ISSUING)]})
    assert result.failed and "not on the verified path" in result["msg"], result
    assert not (tmp_path / "t.jks").exists()


def test_the_gateway_node_with_leaf_trust_reports_the_broken_renewal_and_one_run_fixes_it(tmp_path):
    node = make_gateway_node(str(tmp_path / "wso2am"))
    leaf, key = _leaf()
    with renewable_https_server(leaf, key, chain=[ISSUING]) as backend:
        endpoint = f"https://localhost:{backend.port}/"
        leaf_only = {"apim_home": node["home"], "certificates": [{"alias": "orders", "endpoint": endpoint}], "expiring_within_days": 400}
        first = run_module(tmp_path, TRUST, leaf_only)
        assert first.changed and first["trust_checks"][0]["trusted_by"] == "leaf", first
        assert any("trusted through its leaf" in w for w in first["warnings"]), first["warnings"]
        assert any("serves a certificate" in w and "days left" in w for w in first["warnings"]), "within the 400-day horizon"

        renewed, renewed_key = _leaf()
        backend.renew(renewed, renewed_key, chain=[ISSUING])
        seen = run_module(tmp_path, "apim.certificates.truststore_info", {"apim_home": node["home"], "verify_endpoints": [endpoint]})
        check = seen["trust_checks"][0]
        assert not check["trusted"] and check["served_chain"][0] == sha256(renewed), "the renewal broke leaf trust"
        audit = run_module(tmp_path, TRUST, leaf_only, check=True)
        assert audit.changed and [r["action"] for r in audit["results"]] == ["replaced"], audit
        assert audit["trust_checks"][0]["trusted"], "check mode predicts the fix, checked against the predicted stores"
        fixed = run_module(tmp_path, TRUST, leaf_only)
        assert fixed.changed and fixed["trust_checks"][0]["trusted"], fixed

        issuer = dict(leaf_only, certificates=[{"alias": "orders", "endpoint": endpoint, "trust": "issuer",
                                                "spki_pins": [_spki(ISSUING)]}])
        moved = run_module(tmp_path, TRUST, issuer)
        assert moved.changed and moved["trust_checks"][0]["trusted_by"] == "ca", moved
        assert not any("trusted through its leaf" in w for w in moved.get("warnings", []))
        for store in ("live", "persistent"):
            assert _held(node[store], "wso2carbon")["orders"] == sha256(ISSUING)
        third, third_key = _leaf()
        backend.renew(third, third_key, chain=[ISSUING])
        steady = run_module(tmp_path, TRUST, issuer)
        assert not steady.changed and steady["trust_checks"][0]["trusted"], "renewed again under the same CA: nothing to do"
