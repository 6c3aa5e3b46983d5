"""listener_certificate on simulated API-M 4.x gateway nodes: the HTTPS listener's client certificates, by file.

The listener's truststore (listenerprofiles.xml) is client-truststore.jks, the sender's persistent truststore too:
each side must leave the other's entries alone.
"""

from __future__ import annotations

import os

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256

MODULE = "apim.certificates.listener_certificate"
MOBILE, _mobile_key = make_cert("mobile-app")
PARTNER_CA, _partner_ca_key = make_cert("Partner CA", ca=True)
BACKEND, _backend_key = make_cert("orders.internal")
OLD, _old_key = make_cert("old-client")


def _files(node):
    return {k: sha256_file(p) for k, p in node.items() if k != "home"}


def _held(node, store):
    return ts.load_truststore(node[store], "wso2carbon").fingerprints()


def test_a_client_certificate_goes_into_the_listener_store_under_the_gateways_name_and_the_listener_reloads(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    os.utime(node["listenerprofiles"], (1_000_000_000, 1_000_000_000))
    os.utime(node["sslprofiles"], (1_000_000_000, 1_000_000_000))
    before = _files(node)
    args = {"apim_home": node["home"], "certificates": [
        {"alias": "mobile-app", "certificate": pem(MOBILE)},
        {"alias": "partner-ca", "key_type": "SANDBOX", "tenant_id": 3, "certificate": pem(PARTNER_CA)}]}

    check = run_module(tmp_path, MODULE, args, check=True, diff=True)
    assert not check.failed and check.changed, check
    assert _files(node) == before, "check mode wrote something"
    assert [(r["alias"], r["action"]) for r in check["results"]] == [
        ("production_mobile-app_-1234", "added"), ("sandbox_partner-ca_3", "added")]
    assert check["touched"] == node["listenerprofiles"] and check["diff"]

    real = run_module(tmp_path, MODULE, args, diff=True)
    assert not real.failed and real.changed, real
    assert real["results"] == check["results"], "check mode predicted the real run"
    assert [s["role"] for s in real["stores"]] == ["listener+persistent"], "one file: the listener's and the persistent store"
    held = _held(node, "persistent")
    assert held["production_mobile-app_-1234"] == sha256(MOBILE) and held["sandbox_partner-ca_3"] == sha256(PARTNER_CA)
    assert not set(_held(node, "live")) & {"production_mobile-app_-1234", "sandbox_partner-ca_3"}, \
        "the sender's live store got a client certificate"
    assert os.stat(node["listenerprofiles"]).st_mtime > 1_000_000_000, "listenerprofiles.xml not touched"
    assert os.stat(node["sslprofiles"]).st_mtime == 1_000_000_000, "the sender's profile file was touched"
    assert real["live_within_ms"] == {"listenerprofiles.xml": 600000, "header certificate reloader": 600000}
    assert any("HTTPS listener reloads its SSL profile within 600 s (transport.passthru_https.listener.ssl_profile_interval)"
               in line for line in real["live_within"]), real["live_within"]

    written = _files(node)
    again = run_module(tmp_path, MODULE, args)
    assert not again.failed and not again.changed and again["touched"] is None and again["live_within"] == [], again
    assert _files(node) == written


def test_the_reload_periods_come_from_deployment_toml(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    with open(node["deployment_toml"], "a", encoding="utf-8") as handle:
        handle.write('\n[transport.passthru_https.listener]\nssl_profile_interval = "120000"\n\n'
                     '[apim.certificate_reloader]\nperiod = "30"\n')
    result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "certificates": [{"alias": "mobile-app", "certificate": pem(MOBILE)}]})
    assert not result.failed, result
    assert result["live_within_ms"] == {"listenerprofiles.xml": 120000, "header certificate reloader": 30000}
    assert any("within 30 s (apim.certificate_reloader.period)" in line for line in result["live_within"]), result["live_within"]


def test_the_sender_and_the_listener_leave_each_others_entries_alone(tmp_path):
    """The sender's prune never removes a client certificate; the listener's exclusive never removes a backend's."""
    node = make_gateway_node(str(tmp_path / "gw"))
    for store in ("live", "persistent"):
        ts.converge_truststore(node[store], "wso2carbon", [ts.DesiredCertificate("orders", "present", BACKEND)])
    listener = {"apim_home": node["home"], "certificates": [{"alias": "mobile-app", "certificate": pem(MOBILE)}]}
    assert run_module(tmp_path, MODULE, listener).changed

    sender = run_module(tmp_path, "apim.certificates.gateway_trust", {
        "apim_home": node["home"], "prune": True, "drop": ["unserved_leaves"],
        "certificates": [{"alias": "orders", "certificate": pem(BACKEND)}]})
    assert not sender.failed, sender
    assert "production_mobile-app_-1234" in sender["owned_elsewhere"]
    assert _held(node, "persistent")["production_mobile-app_-1234"] == sha256(MOBILE), "the sender's prune removed it"

    ts.converge_truststore(node["persistent"], "wso2carbon", [ts.DesiredCertificate("PRODUCTION_old_-1234", "present", OLD)])
    stock = set(_held(node, "persistent")) - {"orders", "production_old_-1234", "production_mobile-app_-1234"}
    exclusive = run_module(tmp_path, MODULE, dict(listener, exclusive=True), check=True)
    assert [(r["alias"], r["action"]) for r in exclusive["results"]] == [
        ("production_mobile-app_-1234", "unchanged"), ("production_old_-1234", "removed")], exclusive
    assert run_module(tmp_path, MODULE, dict(listener, exclusive=True)).changed
    held = _held(node, "persistent")
    assert "production_old_-1234" not in held and held["orders"] == sha256(BACKEND) and stock <= set(held)


def test_bad_input_is_named_and_nothing_is_written(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    before = _files(node)
    bundle = run_module(tmp_path, MODULE, {"apim_home": node["home"], "certificates": [
        {"alias": "mobile-app", "certificate": pem(MOBILE) + pem(PARTNER_CA)}]})
    assert bundle.failed and "2 certificates were given" in bundle["msg"] and "one certificate per alias" in bundle["msg"], bundle
    twice = run_module(tmp_path, MODULE, {"apim_home": node["home"], "certificates": [
        {"alias": "Mobile-App", "certificate": pem(MOBILE)}, {"alias": "mobile-app", "certificate": pem(PARTNER_CA)}]})
    assert twice.failed and "same gateway alias 'production_mobile-app_-1234'" in twice["msg"], twice
    long_alias = run_module(tmp_path, MODULE, {"apim_home": node["home"], "certificates": [{"alias": "a" * 31, "certificate": pem(MOBILE)}]})
    assert long_alias.failed and "certificates[0]" in long_alias["msg"] and "at most 30" in long_alias["msg"], long_alias
    nothing = run_module(tmp_path, MODULE, {"apim_home": node["home"], "certificates": [{"alias": "mobile-app"}]})
    assert nothing.failed and "give exactly one of certificate or certificate_path" in nothing["msg"], nothing
    assert _files(node) == before

    bare = make_gateway_node(str(tmp_path / "bare"), listener=False)
    missing = run_module(tmp_path, MODULE, {"apim_home": bare["home"], "certificates": [{"alias": "mobile-app", "certificate": pem(MOBILE)}]},
                         check=True)
    assert missing.failed and "listenerprofiles.xml does not exist" in missing["msg"], missing
