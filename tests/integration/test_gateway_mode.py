"""endpoint_certificate against simulated API-M 4.x gateway nodes (apim_home), and certificates fetched from endpoints."""

from __future__ import annotations

import os
import socket
import time

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module, run_module_raw, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.java import compile_client, java_tls_get, needs_java
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

MODULE = "apim.certificates.endpoint_certificate"
BACKEND, BACKEND_KEY = make_cert("localhost", sans=["localhost", "127.0.0.1"])
OTHER, _unused_key = make_cert("other.test")


def _fps(path, password="wso2carbon"):
    return ts.load_truststore(path, password).fingerprints()


def _state(node):
    return {k: (sha256_file(node[k]), os.stat(node[k]).st_mtime_ns) for k in ("persistent", "live", "sslprofiles", "deployment_toml")}


@pytest.fixture
def node(tmp_path):
    paths = make_gateway_node(str(tmp_path / "wso2am"))
    past = time.time() - 3600
    os.utime(paths["sslprofiles"], (past, past))
    return paths


def test_both_stores_gain_the_certificate_and_the_gateway_reloads(tmp_path, node):
    args = {"apim_home": node["home"], "alias": "orders", "certificate": pem(BACKEND)}
    before = _state(node)
    stock = len(_fps(node["persistent"]))

    predicted = run_module(tmp_path, MODULE, args, check=True, diff=True)
    assert predicted.changed and not predicted.failed, predicted
    assert predicted["touched"] == node["sslprofiles"]
    assert _state(node) == before, "check mode touched a file"

    done = run_module(tmp_path, MODULE, args, diff=True)
    assert done.changed and not done.failed, done
    assert {s["path"]: s["role"] for s in done["stores"]} == {node["live"]: "live", node["persistent"]: "persistent"}
    assert done["touched"] == node["sslprofiles"]
    assert done["reload_within_ms"] == 600000
    for key in ("live", "persistent"):
        fps = _fps(node[key])
        assert fps["orders"] == sha256(BACKEND) and len(fps) == stock + 1
    after = _state(node)
    assert after["sslprofiles"][1] > before["sslprofiles"][1]
    assert after["sslprofiles"][0] == before["sslprofiles"][0], "the touch changed sslprofiles.xml's content"
    assert after["deployment_toml"] == before["deployment_toml"]

    again_check = run_module(tmp_path, MODULE, args, check=True)
    assert not again_check.changed and again_check["touched"] is None
    again = run_module(tmp_path, MODULE, args)
    assert not again.changed and again["touched"] is None
    assert _state(node) == after, "a run with nothing to do wrote or touched something"


def test_reload_false_does_not_touch(tmp_path, node):
    before = _state(node)
    result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "certificate": pem(BACKEND), "reload": False})
    assert result.changed and result["touched"] is None
    assert _state(node)["sslprofiles"] == before["sslprofiles"]


def test_before_first_start_live_and_persistent_are_one_store(tmp_path):
    node = make_gateway_node(str(tmp_path / "fresh"), temp_copy=False)
    result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "certificate": pem(BACKEND)})
    assert [s["role"] for s in result["stores"]] == ["live+persistent"]
    assert _fps(node["persistent"])["orders"] == sha256(BACKEND)


def test_custom_profile_serves_its_own_backend(tmp_path):
    home = str(tmp_path / "custom")
    custom_store = os.path.join(home, "custom-truststore.jks")
    toml = (
        "[truststore]\nfile_name = \"client-truststore.jks\"\ntype = \"JKS\"\npassword = \"wso2carbon\"\n\n"
        "[[keystore.ssl_profile.custom]]\nservers = \"payments.internal:9443,payments2.internal:9443\"\n"
        f"truststore.location = \"{custom_store}\"\ntruststore.type = \"JKS\"\ntruststore.password = \"custom-pass\"\n"
    )
    node = make_gateway_node(home, toml_text=toml,
                             extra_profiles=[("payments.internal:9443,payments2.internal:9443", "repository/resources/security/wso2carbon.jks",
                                              custom_store, "custom-pass")])
    ts.converge_truststore(custom_store, "custom-pass", [ts.DesiredCertificate("seed", "present", OTHER)], create=True)
    stock = _fps(node["persistent"])

    result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "payments", "endpoint": "https://payments2.internal:9443/pay",
                                           "certificate": pem(BACKEND)})
    assert result.changed, result
    assert [(s["path"], s["role"]) for s in result["stores"]] == [(custom_store, "live+persistent")]
    assert _fps(custom_store, "custom-pass") == {"seed": sha256(OTHER), "payments": sha256(BACKEND)}
    assert _fps(node["persistent"]) == stock and "payments" not in _fps(node["live"])

    other = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "elsewhere", "endpoint": "https://payments.internal:8443/",
                                          "certificate": pem(BACKEND)})
    assert {s["role"] for s in other["stores"]} == {"live", "persistent"}, "a different port must fall back to the * profile"


def test_secure_vault_password_must_be_given(tmp_path, node):
    text = open(node["deployment_toml"]).read().replace('password = "wso2carbon"', 'password = "$secret{truststore_password}"')
    open(node["deployment_toml"], "w").write(text)
    xml = open(node["sslprofiles"]).read().replace("<Password>wso2carbon</Password>", '<Password svns:secretAlias="truststore">password</Password>')
    xml = xml.replace('<parameter name="customSSLProfiles">', '<parameter name="customSSLProfiles" xmlns:svns="http://org.wso2.securevault/configuration">')
    open(node["sslprofiles"], "w").write(xml)
    before = _state(node)
    result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "certificate": pem(BACKEND)})
    assert result.failed and "protected" in result["msg"] and "give password" in result["msg"], result
    assert _state(node) == before
    given = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "certificate": pem(BACKEND), "password": "wso2carbon"})
    assert given.changed, given


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda n: open(n["deployment_toml"], "a").write("\n[broken\nkey = \n"), r"deployment.toml is not valid TOML: line \d+"),
        (lambda n: os.unlink(n["deployment_toml"]), "deployment.toml .* does not exist"),
        (lambda n: open(n["sslprofiles"], "w").write("<parameter><profile><servers>*</servers>"),
         r"sslprofiles.xml is not well-formed XML \(no element found: line \d+"),
        (lambda n: os.unlink(n["sslprofiles"]), "sslprofiles.xml .* does not exist"),
        (lambda n: os.unlink(n["live"]), "client-truststore-temp.jks does not exist"),
    ],
    ids=["bad-toml", "no-toml", "bad-xml", "no-xml", "no-live-store"],
)
def test_broken_gateway_files_are_named(tmp_path, node, damage, message):
    damage(node)
    before = {k: sha256_file(p) for k, p in node.items() if k != "home" and os.path.exists(p)}
    result, output = run_module_raw(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "certificate": pem(BACKEND)})
    assert result.failed
    assert __import__("re").search(message, result["msg"]), result["msg"]
    assert "Traceback" not in output
    assert before == {k: sha256_file(p) for k, p in node.items() if k != "home" and os.path.exists(p)}


def test_fetch_from_endpoint_pinned(tmp_path, node):
    with https_server(BACKEND, BACKEND_KEY) as port:
        args = {"apim_home": node["home"], "alias": "orders", "endpoint": f"https://localhost:{port}/api",
                "fingerprint": sha256(BACKEND).lower().replace(":", "")}
        result = run_module(tmp_path, MODULE, args)
        assert result.changed and not result.failed, result
        assert not [w for w in result.get("warnings", []) if "first use" in w]
        assert _fps(node["live"])["orders"] == sha256(BACKEND)
        assert not run_module(tmp_path, MODULE, args).changed


def test_fetch_without_pin_warns_trust_on_first_use(tmp_path):
    store = str(tmp_path / "t.jks")
    with https_server(BACKEND, BACKEND_KEY) as port:
        result = run_module(tmp_path, MODULE, {"path": store, "password": "changeit", "create": True, "alias": "b", "endpoint": f"127.0.0.1:{port}"})
    assert result.changed
    assert any("trusted on first use" in w for w in result["warnings"])


def test_fetch_chain_all(tmp_path):
    ca, ca_key = make_cert("Private CA", ca=True)
    leaf, leaf_key = make_cert("localhost", issuer=ca, issuer_key=ca_key, sans=["localhost"])
    store = str(tmp_path / "t.p12")
    with https_server(leaf, leaf_key, chain=[ca]) as port:
        result = run_module(tmp_path, MODULE, {"path": store, "password": "changeit", "create": True, "store_type": "PKCS12",
                                               "alias": "b", "endpoint": f"https://localhost:{port}", "chain": "all", "fingerprint": sha256(leaf)})
    assert result.changed, result
    assert _fps(store, "changeit") == {"b": sha256(leaf), "b-1": sha256(ca)}


def test_wrong_pin_writes_nothing(tmp_path, node):
    before = _state(node)
    with https_server(BACKEND, BACKEND_KEY) as port:
        result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "endpoint": f"https://localhost:{port}/",
                                               "fingerprint": sha256(OTHER)})
    assert result.failed and "matches a pin" in result["msg"] and "Nothing was written" in result["msg"]
    assert sha256(OTHER) in result["msg"] and sha256(BACKEND) in result["msg"]  # the pins and what was served
    assert _state(node) == before


def test_unreachable_endpoint_fails_within_the_timeout(tmp_path, node):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts TCP, never speaks TLS
    port = silent.getsockname()[1]
    try:
        started = time.monotonic()
        result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "endpoint": f"https://127.0.0.1:{port}/", "timeout": 2})
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert result.failed and "did not finish within 2 s" in result["msg"]
    # the whole ansible-playbook run, start-up included (over 15 s on a loaded 2-core machine); a server that never
    # speaks TLS would hold a run without the timeout until the test's own 300 s limit
    assert elapsed < 60
    closed = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "endpoint": f"https://127.0.0.1:{port}/", "timeout": 2})
    assert closed.failed and f"cannot connect to 127.0.0.1:{port}" in closed["msg"]


@needs_java
def test_jvm_trusts_the_backend_through_the_live_store(tmp_path, node):
    classes = compile_client(str(tmp_path))
    with https_server(BACKEND, BACKEND_KEY) as port:
        url = f"https://localhost:{port}/"
        before = java_tls_get(classes, url, node["live"], "wso2carbon", "JKS")
        assert before.returncode != 0 and "PKIX" in before.stdout, before.stdout
        result = run_module(tmp_path, MODULE, {"apim_home": node["home"], "alias": "orders", "endpoint": url, "fingerprint": sha256(BACKEND)})
        assert result.changed, result
        after = java_tls_get(classes, url, node["live"], "wso2carbon", "JKS")
        assert after.returncode == 0 and "HTTP 200" in after.stdout, after.stdout + after.stderr
