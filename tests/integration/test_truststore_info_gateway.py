"""truststore_info on simulated gateway nodes: both stores, duplicates, PEM content, trust checks."""

from __future__ import annotations

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

INFO = "apim.certificates.truststore_info"
BACKEND, BACKEND_KEY = make_cert("localhost", sans=["localhost", "127.0.0.1"])


def test_gateway_report_covers_live_and_persistent(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    ts.converge_truststore(node["live"], "wso2carbon", [ts.DesiredCertificate("uploaded", "present", BACKEND),
                                                        ts.DesiredCertificate("uploaded-again", "present", BACKEND)])
    result = run_module(tmp_path, INFO, {"apim_home": node["home"], "alias": ["uploaded"], "content": True})
    assert not result.failed, result
    assert result["path"] == node["live"]
    assert [e["alias"] for e in result["entries"]] == ["uploaded"]
    assert result["entries"][0]["pem"].startswith("-----BEGIN CERTIFICATE-----")
    roles = {s["role"]: s for s in result["stores"]}
    assert set(roles) == {"live", "persistent"}
    assert roles["persistent"]["missing"] == ["uploaded"]
    assert {"fingerprint": sha256(BACKEND), "aliases": ["uploaded", "uploaded-again"]} in result["duplicates"]
    assert result["gateway"]["reload_within_ms"] == 600000
    assert result["gateway"]["sslprofiles_path"] == node["sslprofiles"]
    assert result["gateway"]["profiles"][0]["servers"] == ["*"]


def test_trust_checks_before_and_after(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    with https_server(BACKEND, BACKEND_KEY) as port:
        endpoints = [f"https://localhost:{port}/", "https://127.0.0.1:1/"]
        before = run_module(tmp_path, INFO, {"apim_home": node["home"], "verify_endpoints": endpoints, "timeout": 3})
        verdicts = before["trust_checks"]
        assert verdicts[0]["trusted"] is False and "PKIX path building would fail" in verdicts[0]["reason"]
        assert verdicts[0]["fingerprint"] == sha256(BACKEND) and verdicts[0]["profile"] == "*"
        assert verdicts[1]["trusted"] is False and "cannot connect" in verdicts[1]["reason"]
        ts.converge_truststore(node["live"], "wso2carbon", [ts.DesiredCertificate("backend", "present", BACKEND)])
        after = run_module(tmp_path, INFO, {"apim_home": node["home"], "verify_endpoints": endpoints[:1]})
        assert after["trust_checks"][0]["trusted"] is True, after["trust_checks"]
        assert after["trust_checks"][0]["anchor"] == "backend"
        strict = run_module(tmp_path, INFO, {"path": node["live"], "password": "wso2carbon", "verify_endpoints": [f"https://127.0.0.1:{port}/"],
                                             "hostname_verifier": "Strict"})
        assert strict["trust_checks"][0]["trusted"] is True  # 127.0.0.1 is in the SANs
        other, other_key = make_cert("elsewhere.test", sans=["elsewhere.test"])
    ts.converge_truststore(node["live"], "wso2carbon", [ts.DesiredCertificate("elsewhere", "present", other)])
    with https_server(other, other_key) as port:
        wrong_name = run_module(tmp_path, INFO, {"path": node["live"], "password": "wso2carbon", "verify_endpoints": [f"https://127.0.0.1:{port}/"],
                                                 "hostname_verifier": "Default"})
        assert wrong_name["trust_checks"][0]["trusted"] is False
        assert "IP addresses" in wrong_name["trust_checks"][0]["reason"]
        localhost = run_module(tmp_path, INFO, {"path": node["live"], "password": "wso2carbon", "verify_endpoints": [f"https://127.0.0.1:{port}/"]})
        assert localhost["trust_checks"][0]["trusted"] is True  # DefaultAndLocalhost lets 127.0.0.1 pass


def test_gateway_report_needs_no_password_when_configured(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    result = run_module(tmp_path, INFO, {"apim_home": node["home"]}, check=True)
    assert not result.failed and result["integrity_verified"] is True and result["count"] > 0


def test_the_report_says_which_profile_family_uses_each_store_listener_included(tmp_path):
    """listenerprofiles.xml (WSO2's own file where ../shared is present) is read: the persistent client-truststore.jks
    is the listener's truststore, the start-up copy the sender's; a listener truststore of its own is reported too."""
    node = make_gateway_node(str(tmp_path / "gw"))
    result = run_module(tmp_path, INFO, {"apim_home": node["home"]})
    assert not result.failed, result
    used = {s["role"]: s["used_by"] for s in result["stores"]}
    assert used == {"live": ["sender (*)"], "persistent": ["listener"]}
    listener = result["gateway"]["listener"]
    assert listener["path"] == node["listenerprofiles"] and listener["truststore"] == node["persistent"]
    assert listener["settings"]["SSLVerifyClient"] == "optional"
    assert listener["reload_within_ms"] == {"listenerprofiles.xml": 600000, "header certificate reloader": 600000}

    clients = ts.converge_truststore(str(tmp_path / "gw" / "repository" / "resources" / "security" / "clients.jks"), "wso2carbon",
                                     [ts.DesiredCertificate("production_app_-1234", "present", BACKEND)], create=True)
    with open(node["listenerprofiles"], encoding="iso-8859-1") as handle:
        text = handle.read()
    with open(node["listenerprofiles"], "w", encoding="iso-8859-1") as handle:
        handle.write(text.replace("repository/resources/security/client-truststore.jks", "repository/resources/security/clients.jks"))
    again = run_module(tmp_path, INFO, {"apim_home": node["home"]})
    assert not again.failed, again
    roles = {s["role"]: s for s in again["stores"]}
    assert roles["listener"]["path"] == clients.path and roles["listener"]["used_by"] == ["listener"]
    assert [e["alias"] for e in roles["listener"]["entries"]] == ["production_app_-1234"]
    assert roles["persistent"]["used_by"] == []
