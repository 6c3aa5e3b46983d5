"""gateway_trust on simulated gateway nodes: one run reads, converges (or predicts), re-reads and checks trust."""

from __future__ import annotations

import datetime

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

TRUST = "apim.certificates.gateway_trust"
BACKEND, BACKEND_KEY = make_cert("localhost", sans=["localhost", "127.0.0.1"])
OTHER, _other_key = make_cert("orders.internal")
LEGACY, _legacy_key = make_cert("legacy.internal")


def _checksums(node):
    return {k: sha256_file(p) for k, p in node.items() if k not in ("home",)}


def _roles(state):
    return {s["role"]: s for s in state["stores"]}


def test_check_mode_predicts_writes_nothing_then_converge_and_nothing_to_do(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    ts.converge_truststore(node["live"], "wso2carbon", [ts.DesiredCertificate("orders", "present", OTHER)])
    before_files = _checksums(node)
    with https_server(BACKEND, BACKEND_KEY) as port:
        args = {"apim_home": node["home"],
                "certificates": [{"alias": "orders", "endpoint": f"https://localhost:{port}/", "fingerprint": sha256(BACKEND)}]}

        audit = run_module(tmp_path, TRUST, args, check=True, diff=True)
        assert not audit.failed, audit
        assert audit.changed and audit["check_mode"] is True
        assert _checksums(node) == before_files, "check mode wrote something"
        assert _roles(audit["before"])["live"]["entries"]["orders"] == sha256(OTHER)
        assert "orders" not in _roles(audit["before"])["persistent"]["entries"]
        assert {r: s["entries"]["orders"] for r, s in _roles(audit["after"]).items()} == {
            "live": sha256(BACKEND), "persistent": sha256(BACKEND)}, "the predicted stores"
        assert audit["trust_checks"][0]["trusted"] is True, "checked against the predicted stores"
        assert audit["touched"] == node["sslprofiles"]
        assert audit["diff"]["after"]

        converge = run_module(tmp_path, TRUST, args)
        assert converge.changed and not converge.failed, converge
        assert {r["action"] for r in converge["results"]} == {"replaced"}
        for store in ("live", "persistent"):
            assert ts.load_truststore(node[store], "wso2carbon").fingerprints()["orders"] == sha256(BACKEND)
        assert {r: s["entries"]["orders"] for r, s in _roles(converge["after"]).items()} == {
            "live": sha256(BACKEND), "persistent": sha256(BACKEND)}, "read back from disk"
        assert converge["trust_checks"][0]["trusted"] is True
        assert converge["requested"] == [{"alias": "orders", "state": "present", "endpoint": args["certificates"][0]["endpoint"]}]

        written = _checksums(node)
        again = run_module(tmp_path, TRUST, args)
        assert not again.changed and not again.failed, again
        assert again["touched"] is None and again["before"] == again["after"]
        assert _checksums(node) == written


def test_stock_entries_are_counted_not_listed_and_stock_duplicates_are_not_reported(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    ts.converge_truststore(node["live"], "wso2carbon", [ts.DesiredCertificate("orders", "present", OTHER),
                                                        ts.DesiredCertificate("orders-copy", "present", OTHER)])
    # WSO2 ships its own certificate twice: wso2carbon = gateway_certificate_alias
    ts.converge_truststore(node["persistent"], "wso2carbon", [ts.DesiredCertificate("wso2carbon", "present", LEGACY),
                                                              ts.DesiredCertificate("gateway_certificate_alias", "present", LEGACY)])
    stock = ts.load_truststore(node["persistent"], "wso2carbon")
    result = run_module(tmp_path, TRUST, {"apim_home": node["home"]})
    assert not result.failed and not result.changed, result
    persistent = _roles(result["before"])["persistent"]
    assert persistent["count"] == len(stock.entries) and persistent["entries"] == {}
    assert persistent["duplicates"] == []
    live = _roles(result["before"])["live"]
    assert live["entries"] == {"orders": sha256(OTHER), "orders-copy": sha256(OTHER)}
    assert live["duplicates"] == [{"fingerprint": sha256(OTHER), "aliases": ["orders", "orders-copy"]}]
    assert result["unmanaged"] == ["orders", "orders-copy"]


def test_prune_removes_what_the_source_does_not_name_but_never_stock_or_chain_members(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    for store in ("live", "persistent"):
        ts.converge_truststore(node[store], "wso2carbon", [ts.DesiredCertificate("legacy", "present", LEGACY),
                                                           ts.DesiredCertificate("orders-1", "present", LEGACY)])
    stock = set(ts.load_truststore(node["persistent"], "wso2carbon").fingerprints()) - {"legacy", "orders-1"}
    args = {"apim_home": node["home"], "certificates": [{"alias": "orders", "certificate": pem(OTHER)}], "prune": True}
    result = run_module(tmp_path, TRUST, args)
    assert result.changed and not result.failed, result
    assert {"alias": "legacy", "state": "absent"} in result["requested"] and result["unmanaged"] == []
    for store in ("live", "persistent"):
        held = set(ts.load_truststore(node[store], "wso2carbon").fingerprints())
        assert "legacy" not in held and "orders-1" in held and "orders" in held
        assert stock <= held, "a stock entry was pruned"


def test_a_bad_stock_pattern_is_named_and_nothing_is_written(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    before = _checksums(node)
    result = run_module(tmp_path, TRUST, {"apim_home": node["home"], "stock_alias_pattern": "([jdk",
                                          "certificates": [{"alias": "orders", "certificate": pem(OTHER)}]})
    assert result.failed and "stock_alias_pattern '([jdk' is not a valid regular expression" in result["msg"], result
    assert _checksums(node) == before


def test_a_pinned_certificate_both_stores_hold_is_not_fetched_again(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    for store in ("live", "persistent"):
        ts.converge_truststore(node[store], "wso2carbon", [ts.DesiredCertificate("orders", "present", BACKEND)])
    # nothing listens at the endpoint: a fetch would fail; the trust check reports it unreachable
    args = {"apim_home": node["home"], "timeout": 3, "certificates": [
        {"alias": "orders", "endpoint": "https://127.0.0.1:1/", "fingerprint": sha256(BACKEND)}]}
    result = run_module(tmp_path, TRUST, args)
    assert not result.failed and not result.changed, result
    assert result["results"][0]["action"] == "unchanged"
    assert result["trust_checks"][0]["trusted"] is False and result["trust_checks"][0]["fingerprint"] is None
    # held in one store only: it must be fetched, and that fails
    ts.converge_truststore(node["persistent"], "wso2carbon", [ts.DesiredCertificate("orders", "absent")])
    assert run_module(tmp_path, TRUST, args).failed


def test_prune_keeps_api_client_certificates_the_gateway_wrote_into_the_shared_truststore(tmp_path):
    """client-truststore.jks is also the listener's truststore: the API client certificates the gateway writes there for
    mutual-SSL APIs (PRODUCTION_<alias>_<tenantId>, SANDBOX_...) belong to the Publisher and survive a prune; only
    naming one in remove_aliases removes it."""
    node = make_gateway_node(str(tmp_path / "gw"))
    client = {"PRODUCTION_mobile-app_-1234": make_cert("mobile-app")[0], "SANDBOX_partner_42": make_cert("partner")[0],
              "SANDBOX_tester_-1234": make_cert("tester")[0]}
    for store in ("live", "persistent"):
        ts.converge_truststore(node[store], "wso2carbon", [ts.DesiredCertificate("legacy", "present", LEGACY)] +
                               [ts.DesiredCertificate(alias, "present", cert) for alias, cert in client.items()])
    args = {"apim_home": node["home"], "certificates": [{"alias": "orders", "certificate": pem(OTHER)}], "prune": True,
            "remove_aliases": ["SANDBOX_tester_-1234"]}
    result = run_module(tmp_path, TRUST, args)
    assert result.changed and not result.failed, result
    assert result["owned_elsewhere"] == {"production_mobile-app_-1234": "API client certificate (the Publisher's)",
                                         "sandbox_partner_42": "API client certificate (the Publisher's)"}
    assert {r["alias"] for r in result["requested"] if r["state"] == "absent"} == {"legacy", "sandbox_tester_-1234"}
    for store in ("live", "persistent"):
        held = ts.load_truststore(node[store], "wso2carbon").fingerprints()
        assert held["production_mobile-app_-1234"] == sha256(client["PRODUCTION_mobile-app_-1234"])
        assert held["sandbox_partner_42"] == sha256(client["SANDBOX_partner_42"])
        assert "sandbox_tester_-1234" not in held and "legacy" not in held


def _drop_node(tmp_path):
    """A node whose stores hold: an expired leaf, a leaf no endpoint serves, a CA no endpoint serves, the leaf the
    backend serves under an alias the run does not name, an expired API client certificate and an expired stock entry."""
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)
    expired = make_cert("expired.internal", not_before=past - datetime.timedelta(days=30), not_after=past)[0]
    client = make_cert("mobile-app", not_before=past - datetime.timedelta(days=30), not_after=past)[0]
    stock = make_cert("stock.internal", not_before=past - datetime.timedelta(days=30), not_after=past)[0]
    private_ca = make_cert("Private CA", ca=True)[0]
    node = make_gateway_node(str(tmp_path / "gw"), entries=[("wso2carbon", stock)])
    for store in ("live", "persistent"):
        ts.converge_truststore(node[store], "wso2carbon", [
            ts.DesiredCertificate("old-leaf", "present", expired), ts.DesiredCertificate("legacy", "present", LEGACY),
            ts.DesiredCertificate("private-ca", "present", private_ca), ts.DesiredCertificate("old-orders", "present", BACKEND),
            ts.DesiredCertificate("PRODUCTION_mobile-app_-1234", "present", client),
            ts.DesiredCertificate("wso2carbon", "present", stock)], allow_expired=True)
    return node


def test_drop_removes_expired_and_unserved_leaves_but_never_named_served_ca_client_or_stock_entries(tmp_path):
    node = _drop_node(tmp_path)
    before_files = _checksums(node)
    with https_server(BACKEND, BACKEND_KEY) as port:
        args = {"apim_home": node["home"], "drop": ["expired", "unserved_leaves"],
                "certificates": [{"alias": "orders", "endpoint": f"https://localhost:{port}/", "fingerprint": sha256(BACKEND)}]}
        audit = run_module(tmp_path, TRUST, args, check=True, diff=True)
        assert not audit.failed and audit.changed, audit
        assert _checksums(node) == before_files, "check mode wrote something"
        assert [(d["alias"], d["reason"], sorted(d["stores"])) for d in audit["dropped"]] == [
            ("legacy", "unserved leaf", ["live", "persistent"]), ("old-leaf", "expired", ["live", "persistent"])]
        assert {"alias": "legacy", "state": "absent"} in audit["requested"]
        assert "legacy" not in audit["unmanaged"] and "private-ca" in audit["unmanaged"]

        result = run_module(tmp_path, TRUST, args)
        assert not result.failed and result.changed, result
        assert result["dropped"] == audit["dropped"], "check mode predicted the real run"
        for store in ("live", "persistent"):
            held = set(ts.load_truststore(node[store], "wso2carbon").fingerprints())
            assert not held & {"old-leaf", "legacy"}, held
            assert {"orders", "old-orders", "private-ca", "production_mobile-app_-1234", "wso2carbon"} <= held, held
        assert result["trust_checks"][0]["trusted"] is True

        again = run_module(tmp_path, TRUST, args)
        assert not again.changed and again["dropped"] == [], again

        stock = run_module(tmp_path, TRUST, dict(args, drop=["expired"], drop_stock=True))
        assert [d["alias"] for d in stock["dropped"]] == ["wso2carbon"], stock
        assert "production_mobile-app_-1234" in ts.load_truststore(node["live"], "wso2carbon").fingerprints()


def test_drop_unserved_leaves_removes_nothing_while_a_declared_endpoint_cannot_be_asked(tmp_path):
    node = _drop_node(tmp_path)
    for store in ("live", "persistent"):
        ts.converge_truststore(node[store], "wso2carbon", [ts.DesiredCertificate("orders", "present", BACKEND)])
    before_files = _checksums(node)
    # the pinned certificate is held: the run needs no fetch, but what the endpoint serves is unknown
    args = {"apim_home": node["home"], "timeout": 3, "drop": ["unserved_leaves"],
            "certificates": [{"alias": "orders", "endpoint": "https://127.0.0.1:1/", "fingerprint": sha256(BACKEND)}]}
    result = run_module(tmp_path, TRUST, args)
    assert not result.failed and not result.changed and result["dropped"] == [], result
    assert any("unserved_leaves removed nothing, because what https://127.0.0.1:1/ serves is not known" in w
               for w in result["warnings"]), result["warnings"]
    assert _checksums(node) == before_files


def test_an_unknown_drop_filter_is_named_and_nothing_is_written(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    before = _checksums(node)
    result = run_module(tmp_path, TRUST, {"apim_home": node["home"], "drop": ["expired", "old"]})
    assert result.failed and "drop" in result["msg"] and "old" in result["msg"], result
    assert _checksums(node) == before


def _server_only(cn, issuer, issuer_key):
    """A certificate issued by issuer whose extendedKeyUsage is serverAuth only: no TLS client certificate."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(issuer.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(issuer_key, hashes.SHA256()))


def test_the_listener_side_in_the_same_run_check_predicts_and_client_certificates_are_checked(tmp_path):
    """gateway_trust's listener part: the partners' CA goes into the listener's truststore under the gateway's name;
    a client certificate it issued is accepted, one from another CA and one for servers only are refused."""
    node = make_gateway_node(str(tmp_path / "gw"))
    partner_ca, partner_key = make_cert("Partner CA", ca=True)
    client = make_cert("partner-app", issuer=partner_ca, issuer_key=partner_key)[0]
    stranger = make_cert("stranger-app")[0]
    server_only = _server_only("partner-server", partner_ca, partner_key)
    args = {"apim_home": node["home"], "certificates": [{"alias": "orders", "certificate": pem(OTHER)}],
            "listener_certificates": [{"alias": "partner-ca", "certificate": pem(partner_ca)}],
            "listener_checks": [{"name": "partner-app", "certificate": pem(client) + pem(partner_ca)},
                                {"name": "stranger", "certificate": pem(stranger)},
                                {"name": "server-only", "certificate": pem(server_only)}]}
    before = _checksums(node)
    audit = run_module(tmp_path, TRUST, args, check=True, diff=True)
    assert not audit.failed and audit.changed, audit
    assert _checksums(node) == before, "check mode wrote something"
    listener = audit["listener"]
    assert listener["changed"] and listener["touched"] == node["listenerprofiles"]
    assert listener["after"]["stores"][0]["entries"] == {"production_partner-ca_-1234": sha256(partner_ca)}
    assert listener["before"]["stores"][0]["entries"] == {}
    assert [(c["name"], c["accepted"]) for c in listener["checks"]] == [
        ("partner-app", True), ("stranger", False), ("server-only", False)], "checked against the predicted store"
    assert "clientAuth" in listener["checks"][2]["reason"]
    assert isinstance(audit["diff"], list) and len(audit["diff"]) == 2, "the sender's and the listener's diff"

    real = run_module(tmp_path, TRUST, args)
    assert not real.failed and real["listener"]["results"] == listener["results"], real
    assert real["listener"]["after"] == listener["after"] and real["listener"]["checks"] == listener["checks"]
    held = ts.load_truststore(node["persistent"], "wso2carbon").fingerprints()
    assert held["production_partner-ca_-1234"] == sha256(partner_ca) and held["orders"] == sha256(OTHER)
    again = run_module(tmp_path, TRUST, args)
    assert not again.changed and not again["listener"]["changed"], again
