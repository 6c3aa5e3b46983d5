"""ssl_profile run by ansible-playbook, as users run it: four runs per case, diffs, refusals, no secret in any output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.apim.certificates.tests.support import FIXTURES
from ansible_collections.apim.certificates.tests.support.ansible import COLLECTIONS, run_module, run_module_raw, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import (
    TOML_KEYSTORE_TLS, TOML_TRUSTSTORE, backend_stores, gateway_toml, make_gateway_node, toml_loads)
from ansible_collections.apim.certificates.tests.support.pki import make_cert

MODULE = "apim.certificates.ssl_profile"
SECURITY = os.path.join("repository", "resources", "security")
ALL_IN_ONE = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "deployment.toml")
GATEWAY_TOML = gateway_toml('hostname = "gw.example.internal"', TOML_KEYSTORE_TLS, TOML_TRUSTSTORE)
TRUST_PASSWORD = "Int3g-Trust-<&>-pw"
KEY_PASSWORD = "Int3g-Client-Key-pw"
SECRETS = (TRUST_PASSWORD, KEY_PASSWORD, "Int3g-Trust-&lt;&amp;&gt;-pw")
BACKEND, BACKEND_KEY = make_cert("orders.internal")


def gateway(tmp_path, toml_text=GATEWAY_TOML):
    """A simulated 4.x gateway node (make_gateway_node): sslprofiles.xml points at the start-up copy client-truststore-temp.jks
    (relative to the home), wso2carbon.jks holds a private key; the backend's stores in tmp_path/backend."""
    home = tmp_path / "wso2am"
    make_gateway_node(str(home), toml_text=toml_text, entries=[("wso2carbon", make_cert("localhost")[0])], own_keystore=True,
                      relative_location=True, listener=False)
    backend_stores(str(tmp_path / "backend"), BACKEND, BACKEND_KEY, TRUST_PASSWORD, KEY_PASSWORD)
    return home


def files(home) -> tuple:
    return (home / "repository" / "conf" / "deployment.toml", home / SECURITY / "sslprofiles.xml")


def checksums(home) -> tuple:
    return tuple(sha256_file(str(p)) for p in files(home))


def orders_profile(tmp_path, **extra) -> dict:
    return {
        "servers": "orders.internal:443",
        "keystore": {"location": str(tmp_path / "backend" / "orders-client.p12"), "type": "PKCS12", "password": KEY_PASSWORD},
        "truststore": {"location": str(tmp_path / "backend" / "orders-truststore.jks"), "password": TRUST_PASSWORD},
        **extra,
    }


def assert_no_secret(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output, "a password reached the output"


def four_runs(tmp_path, home, args, expected_actions):
    """check, real, check again, real again: changed, changed, not, not; check mode never touches a file."""
    before = checksums(home)

    first_check, output = run_module_raw(tmp_path, MODULE, args, check=True, diff=True, verbosity=4)
    assert not first_check.failed, first_check
    assert first_check.changed and first_check["actions"] == expected_actions
    assert checksums(home) == before, "check mode changed a file"
    assert_no_secret(output)

    real, output = run_module_raw(tmp_path, MODULE, args, diff=True, verbosity=4)
    assert not real.failed, real
    assert real.changed and real["actions"] == expected_actions
    assert real["diff"] == first_check["diff"]
    assert checksums(home) != before
    assert_no_secret(output)

    second_check, output = run_module_raw(tmp_path, MODULE, args, check=True, diff=True, verbosity=4)
    assert not second_check.failed and not second_check.changed, second_check
    assert all(part["before"] == part["after"] for part in second_check["diff"])
    assert_no_secret(output)

    after = checksums(home)
    stamps = [os.stat(p).st_mtime_ns for p in files(home)]
    again, output = run_module_raw(tmp_path, MODULE, args, verbosity=4)
    assert not again.failed and not again.changed, again
    assert checksums(home) == after and [os.stat(p).st_mtime_ns for p in files(home)] == stamps
    assert_no_secret(output)
    return real


def profiles_in(xml_path) -> list:
    root = ET.parse(xml_path).getroot()
    return [(p.findtext("servers"), p.find("TrustStore").findtext("Location"), p.find("TrustStore").findtext("Password"))
            for p in root.findall("profile")]


def test_add_a_custom_profile_to_a_live_gateway(tmp_path):
    home = gateway(tmp_path)
    xml = home / SECURITY / "sslprofiles.xml"
    os.utime(xml, (1_000_000_000, 1_000_000_000))
    real = four_runs(tmp_path, home, {"apim_home": str(home), "custom_profiles": [orders_profile(tmp_path)]},
                     {"orders.internal:443": "added"})
    toml_diff, xml_diff = real["diff"]
    assert toml_diff["before_header"] == str(files(home)[0]) and xml_diff["before_header"] == str(xml)
    assert '+truststore.password = "********"' in "\n".join("+" + line for line in toml_diff["after"].splitlines())
    assert "<Password>********</Password>" in xml_diff["after"] and "orders.internal:443" in xml_diff["after"]
    # The 4.x rule: the default profile keeps the gateway's start-up copy; the new profile follows.
    assert profiles_in(xml) == [
        ("*", "repository/resources/security/client-truststore-temp.jks", "wso2carbon"),
        ("orders.internal:443", str(tmp_path / "backend" / "orders-truststore.jks"), TRUST_PASSWORD),
    ]
    assert os.stat(xml).st_mtime > 1_000_000_000, "sslprofiles.xml's mtime must advance for the gateway to reload"
    assert real["sslprofiles_changed"] and real["deployment_toml_changed"]
    assert real["reload_within_ms"] == 600000 and real["restart_required"] is False
    assert real["profiles"][1] == {"servers": "orders.internal:443",
                                   "keystore": {"location": str(tmp_path / "backend" / "orders-client.p12"), "type": "PKCS12"},
                                   "truststore": {"location": str(tmp_path / "backend" / "orders-truststore.jks"), "type": "JKS"}}
    entry = toml_loads(files(home)[0].read_text())["keystore"]["ssl_profile"]["custom"][0]
    assert entry["truststore"]["password"] == TRUST_PASSWORD and entry["keystore"]["key_password"] == KEY_PASSWORD


def test_remove_unlisted_profiles_with_exclusive(tmp_path):
    home = gateway(tmp_path)
    args = {"apim_home": str(home), "custom_profiles": [orders_profile(tmp_path), orders_profile(tmp_path, servers="billing.internal:443")]}
    assert run_module(tmp_path, MODULE, args).changed
    real = four_runs(tmp_path, home, {"apim_home": str(home), "exclusive": True, "custom_profiles": [{"servers": "billing.internal:443"}]},
                     {"orders.internal:443": "removed", "billing.internal:443": "unchanged"})
    assert [p["servers"] for p in real["profiles"]] == ["*", "billing.internal:443"]
    assert [p[0] for p in profiles_in(files(home)[1])] == ["*", "billing.internal:443"]


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason="../shared/fixtures absent")
def test_interval_in_a_real_deployment_toml_by_path(tmp_path):
    path = tmp_path / "deployment.toml"
    shutil.copy(ALL_IN_ONE, path)
    original = path.read_text()
    args = {"path": str(path), "interval": 120000}
    results = [run_module(tmp_path, MODULE, args, check=True, diff=True)]
    assert path.read_text() == original
    results += [run_module(tmp_path, MODULE, args, diff=True), run_module(tmp_path, MODULE, args, check=True), run_module(tmp_path, MODULE, args)]
    assert [r.changed for r in results] == [True, True, False, False] and not any(r.failed for r in results)
    assert path.read_text() == original + "\n[transport.passthru_https.sender.ssl_profile]\ninterval = 120000\n"
    assert results[1]["sslprofiles_path"] is None and results[1]["restart_required"] is True
    assert len(results[1]["diff"]) == 1


@pytest.mark.parametrize("args, message", [
    ({"interval": 1000}, "interval 1000 ms is below 60000 ms"),
    ({"custom_profiles": [{"servers": "orders.internal"}]}, "'orders.internal' is not host:port"),
    ({"custom_profiles": [{"servers": "*", "state": "absent"}]}, "'*' is the default SSL profile"),
    ({"custom_profiles": [{"servers": "a.internal:443"}, {"servers": "b.internal:443,a.internal:443"}]},
     "server 'a.internal:443' is also in custom_profiles[0]"),
    ({"custom_profiles": "wrong-password"}, "the truststore of the custom SSL profile 'orders.internal:443' cannot be opened"),
    ({"custom_profiles": "missing-store"}, "does not exist; nothing was written"),
])
def test_refusals_leave_every_file_as_it_was(tmp_path, args, message):
    home = gateway(tmp_path)
    if args.get("custom_profiles") == "wrong-password":
        args = {"custom_profiles": [orders_profile(tmp_path)]}
        args["custom_profiles"][0]["truststore"]["password"] = "Int3g-Wrong-pw"
    elif args.get("custom_profiles") == "missing-store":
        args = {"custom_profiles": [orders_profile(tmp_path)]}
        args["custom_profiles"][0]["truststore"]["location"] = str(tmp_path / "nowhere.jks")
    before = checksums(home)
    result, output = run_module_raw(tmp_path, MODULE, dict(args, apim_home=str(home)), diff=True, verbosity=4)
    assert result.failed and message in result["msg"], result
    assert "Traceback" not in output
    assert checksums(home) == before
    assert_no_secret(output)
    assert "Int3g-Wrong-pw" not in output


def test_malformed_files_fail_cleanly(tmp_path):
    home = gateway(tmp_path, GATEWAY_TOML + "\n[[keystore.ssl_profile.custom]\n")
    before = checksums(home)
    result = run_module(tmp_path, MODULE, {"apim_home": str(home), "interval": 120000})
    assert result.failed and "deployment.toml is not valid TOML: line 16" in result["msg"]
    home2 = gateway(tmp_path / "two")
    files(home2)[1].write_text("<parameter><profile></parameter>")
    before2 = checksums(home2)
    result = run_module(tmp_path, MODULE, {"apim_home": str(home2), "interval": 120000})
    assert result.failed and "sslprofiles.xml is not well-formed XML (mismatched tag: line 1" in result["msg"]
    assert checksums(home) == before and checksums(home2) == before2


def test_ip_address_servers_warn(tmp_path):
    home = gateway(tmp_path)
    result = run_module(tmp_path, MODULE, {"apim_home": str(home), "custom_profiles": [orders_profile(tmp_path, servers="10.1.2.3:8443")]})
    assert result.changed and any("uses an IP address; WSO2 advises host names" in w for w in result.get("warnings", []))


def test_ansible_doc_renders(tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), MODULE], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "custom_profiles" in proc.stdout and "validate_stores" in proc.stdout
