"""The gateway stand-in's own rules: what a running API-M 4.x gateway does with sslprofiles.xml (docs/standin.md).

Each test runs one stand-in JVM on a simulated node (tests/support/gateway.py) with a test-only interval, and a local
HTTPS backend whose certificate no store holds at first. The facts come from ../shared/docs/synapse-reload.md.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.reliability._inputs import jks_keystore
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node, profile_xml
from ansible_collections.apim.certificates.tests.support.pki import make_cert
from ansible_collections.apim.certificates.tests.support.servers import https_server
from ansible_collections.apim.certificates.tests.support.standin import IGNORED, Standin, classes_or_skip, touch

pytestmark = pytest.mark.java

INTERVAL_MS = 400
PW = "wso2carbon"
KEYSTORE = "repository/resources/security/wso2carbon.jks"


@pytest.fixture(scope="module")
def classes():
    return classes_or_skip()


@pytest.fixture(scope="module")
def backend():
    cert, key = make_cert("localhost", sans=["localhost", "127.0.0.1"])
    with https_server(cert, key) as port:
        yield cert, port


@pytest.fixture
def node(tmp_path):
    return make_gateway_node(str(tmp_path / "wso2am"))


@pytest.fixture
def gateway(node, tmp_path, classes):
    standin = Standin(node["home"], tmp_path / "standin", interval_ms=INTERVAL_MS, classes=classes).start()
    yield standin
    standin.stop()


def trust(store: str, cert, alias: str = "backend", create: bool = False) -> None:
    ts.converge_truststore(store, PW, [ts.DesiredCertificate(alias, "present", cert)], create=create)


def replace_file(path: str, text: str, mtime_ns: int | None = None) -> None:
    """Give path new content and one mtime (now by default) in a single step, as an atomic rename does: a check
    running meanwhile sees the old file or the new one, never the new content under an intermediate mtime."""
    staged = path + ".staged"
    with open(staged, "w", encoding="utf-8") as handle:
        handle.write(text)
    if mtime_ns is not None:
        os.utime(staged, ns=(mtime_ns, mtime_ns))
    os.replace(staged, path)


def url(port, host="localhost") -> str:
    return f"https://{host}:{port}/orders"


def assert_pkix(result) -> None:
    assert not result["ok"] and "PKIX path building failed" in result["error"], result


def test_start_up_copies_the_persistent_truststore_and_points_the_default_profile_at_it(node, gateway):
    with open(node["persistent"], "rb") as a, open(node["live"], "rb") as b:
        assert a.read() == b.read()
    assert os.path.abspath(node["live"]) in open(node["sslprofiles"], encoding="utf-8").read()
    state = gateway.state()
    assert state["pid"] == gateway.pid and state["servers"] == ["*"]
    assert state["intervalMs"] == INTERVAL_MS and state["testOnlyInterval"] and state["configuredIntervalMs"] == 600000
    assert state["hostnameVerifier"] == "DefaultAndLocalhost"


def test_a_touch_reloads_within_one_interval_in_the_same_process(node, gateway, backend):
    cert, port = backend
    assert_pkix(gateway.call(url(port)))
    trust(node["live"], cert)
    time.sleep(INTERVAL_MS * 2.5 / 1000)
    assert_pkix(gateway.call(url(port)))  # the store changed but sslprofiles.xml did not: nothing is reloaded
    before = gateway.reload_attempts()
    touched = touch(node["sslprofiles"])
    reload = gateway.wait_for_reload(before)
    assert reload["ok"] and reload["trigger"] == "timer"
    assert reload["at"] / 1000 - touched <= INTERVAL_MS / 1000 + 2  # one interval, and slack for a loaded machine
    result = gateway.call(url(port))
    assert result == {"profile": "*", "ok": True, "status": 200, "error": None}
    assert gateway.state()["pid"] == gateway.pid
    log = gateway.log()
    for line in ("PassThroughHttpSender reloading SSL Config..", "customSSLProfiles configuration is loaded from path: ",
                 "HTTPS Custom SSL profiles initialized for 1 mappings",
                 "Pass-through HTTPS Sender updated with Dynamic Configuration Updates ..."):
        assert line in log


def test_an_older_mtime_never_reloads(node, gateway, backend):
    cert, port = backend
    trust(node["live"], cert)
    before = gateway.reload_attempts()
    touch(node["sslprofiles"], time.time() - 3600)  # a restore with cp -p: the file is older than the baseline
    gateway.wait_for_checks(4)
    assert gateway.reload_attempts() == before
    assert_pkix(gateway.call(url(port)))
    touch(node["sslprofiles"])
    assert gateway.wait_for_reload(before)["ok"]
    assert gateway.call(url(port))["ok"]


def test_an_equal_mtime_does_not_reload_either(node, gateway, backend):
    cert, port = backend
    baseline = gateway.state()["baseline"]
    trust(node["live"], cert)
    before = gateway.reload_attempts()
    touch(node["sslprofiles"], baseline / 1000)  # strictly greater is needed
    gateway.wait_for_checks(3)
    assert gateway.reload_attempts() == before
    assert_pkix(gateway.call(url(port)))


def test_the_first_check_comes_one_interval_after_start(node, tmp_path, classes, backend):
    cert, port = backend
    interval = 3000
    standin = Standin(node["home"], tmp_path / "slow", interval_ms=interval, classes=classes).start()
    try:
        started = standin.state()["startedAt"]
        before = standin.reload_attempts()
        trust(node["live"], cert)
        touch(node["sslprofiles"])
        reload = standin.wait_for_reload(before, timeout=20)
        assert reload["ok"] and reload["trigger"] == "timer"
        assert reload["at"] - started >= interval - 50, "the timer checked before one interval had passed"
        assert reload["at"] - started < 2 * interval + 2000
    finally:
        standin.stop()


def _break(kind: str, store: str, node) -> str:
    """Make the custom profile's store bad in one way; returns the sslprofiles.xml text to write."""
    live = os.path.abspath(node["live"])
    keystore = KEYSTORE
    trust_password = PW
    if kind == "missing":
        os.unlink(store)
    elif kind == "corrupt":
        with open(store, "r+b") as handle:
            handle.seek(40)
            handle.write(b"\x00" * 16)
    elif kind == "wrong-password":
        trust_password = "not-the-password"
    xml = profile_xml([("*", KEYSTORE, live), ("localhost:1", keystore, store, trust_password)])
    if kind == "wrong-key-password":
        keystore = jks_keystore(os.path.join(os.path.dirname(store), "client.jks"), "client", PW)
        xml = profile_xml([("*", KEYSTORE, live), ("localhost:1", keystore, store)])
        head, _sep, tail = xml.rpartition("<KeyPassword>wso2carbon</KeyPassword>")
        xml = head + "<KeyPassword>not-the-key-password</KeyPassword>" + tail
    return xml


@pytest.mark.parametrize("kind", ["missing", "corrupt", "wrong-password", "wrong-key-password"])
def test_one_bad_store_in_any_profile_ignores_the_whole_reload_with_no_retry(node, gateway, backend, tmp_path, kind):
    cert, port = backend
    store = str(tmp_path / "other-truststore.jks")
    trust(store, make_cert("other.test")[0], create=True)
    trust(node["live"], cert)  # the default profile is fine and now trusts the backend ...
    before = gateway.reload_attempts()
    replace_file(node["sslprofiles"], _break(kind, store, node))  # ... but another profile names a bad store
    reload = gateway.wait_for_reload(before)
    assert not reload["ok"]
    log = gateway.log()
    assert "HTTPS Error opening/loading Keystore..." in log and IGNORED in log
    assert "not-the-" not in log, "a password reached the log"
    assert_pkix(gateway.call(url(port)))  # the old profiles stay in force
    assert gateway.state()["servers"] == ["*"]

    # No retry: the baseline moved to the failed mtime. Repairing the file without a touch changes nothing ...
    replace_file(node["sslprofiles"], profile_xml([("*", KEYSTORE, os.path.abspath(node["live"]))]),
                 int(reload["mtime"]) * 1_000_000)  # the very mtime the gateway saw last
    gateway.wait_for_checks(3)
    assert gateway.reload_attempts() == before + 1
    assert_pkix(gateway.call(url(port)))
    # ... until the next touch.
    touch(node["sslprofiles"])
    assert gateway.wait_for_reload(before + 1)["ok"]
    assert gateway.call(url(port))["ok"]


def test_a_malformed_sslprofiles_xml_keeps_the_old_profiles(node, gateway, backend):
    cert, port = backend
    trust(node["live"], cert)
    before = gateway.reload_attempts()
    replace_file(node["sslprofiles"], "<parameter name='customSSLProfiles'><profile>")
    assert not gateway.wait_for_reload(before)["ok"]
    assert "Could not load customSSLProfiles from file path" in gateway.log()
    assert_pkix(gateway.call(url(port)))


def test_a_restart_copies_the_persistent_truststore_over_the_temp_copy(node, gateway, backend):
    cert, port = backend
    trust(node["live"], cert)  # as a Publisher upload does: into the start-up copy only
    before = gateway.reload_attempts()
    touch(node["sslprofiles"])
    gateway.wait_for_reload(before)
    assert gateway.call(url(port))["ok"]
    first_pid = gateway.pid
    gateway.restart()
    assert gateway.pid != first_pid and gateway.state()["pid"] == gateway.pid
    with open(node["persistent"], "rb") as a, open(node["live"], "rb") as b:
        assert a.read() == b.read()
    assert_pkix(gateway.call(url(port)))  # lost: it was never in client-truststore.jks

    trust(node["persistent"], cert)
    gateway.restart()
    assert gateway.call(url(port))["ok"]


def test_profiles_are_chosen_by_exact_host_port_then_star(node, gateway, backend, tmp_path):
    cert, port = backend
    store = str(tmp_path / "orders-truststore.jks")
    trust(store, cert, create=True)  # only the custom profile's store trusts the backend
    live = os.path.abspath(node["live"])
    before = gateway.reload_attempts()
    replace_file(node["sslprofiles"], profile_xml([("*", KEYSTORE, live), (f"localhost:{port},localhost", KEYSTORE, store)]))
    assert gateway.wait_for_reload(before)["ok"]
    assert gateway.state()["servers"] == ["*", f"localhost:{port}", "localhost"]
    exact = gateway.call(url(port))
    assert exact["ok"] and exact["profile"] == f"localhost:{port},localhost"
    for other in ("LOCALHOST", "127.0.0.1"):  # case-sensitive; another name of the same server is another key
        result = gateway.call(url(port, other))
        assert result["profile"] == "*"
        assert_pkix(result)


def test_without_profiles_every_host_uses_the_axis2_default_the_original_truststore(node, gateway, backend):
    cert, port = backend
    trust(node["persistent"], cert)  # the original client-truststore.jks, not the temp copy
    before = gateway.reload_attempts()
    replace_file(node["sslprofiles"], '<parameter name="customSSLProfiles">\n</parameter>\n')
    assert gateway.wait_for_reload(before)["ok"]
    result = gateway.call(url(port))
    assert result["ok"] and result["profile"] == "axis2 default"


@pytest.mark.parametrize("configured, expected", [(1000, 60000), (60000, 60000), (120000, 120000)])
def test_the_interval_comes_from_deployment_toml_clamped_to_60_s(tmp_path, classes, configured, expected):
    toml = ('[truststore]\nfile_name = "client-truststore.jks"\ntype = "JKS"\npassword = "wso2carbon"\n\n'
            f'[transport.passthru_https.sender.ssl_profile]\ninterval = {configured}\n\n'
            '[transport.passthru_https.sender.parameters]\nHostnameVerifier = "strict"  # case-insensitive\n')
    node = make_gateway_node(str(tmp_path / "wso2am"), toml_text=toml)
    with Standin(node["home"], tmp_path / "standin", classes=classes) as standin:
        state = standin.state()
    assert (state["intervalMs"], state["configuredIntervalMs"], state["testOnlyInterval"]) == (expected, configured, False)
    assert state["hostnameVerifier"] == "Strict"


def test_the_sender_verifies_host_names_after_the_handshake(tmp_path, classes):
    toml = ('[truststore]\nfile_name = "client-truststore.jks"\npassword = "wso2carbon"\n'
            '[transport.passthru_https.sender.parameters]\nHostnameVerifier = "Default"\n')
    node = make_gateway_node(str(tmp_path / "wso2am"), toml_text=toml)
    cert, key = make_cert("elsewhere.test", sans=["elsewhere.test"])
    trust(node["persistent"], cert)
    with https_server(cert, key) as port, Standin(node["home"], tmp_path / "standin", interval_ms=INTERVAL_MS,
                                                  classes=classes) as standin:
        result = standin.call(url(port))
    assert not result["ok"] and result["error"].startswith("Host name verification failed for host : localhost"), result
    shutil.rmtree(tmp_path / "wso2am")
