"""endpoint_certificate and truststore_info run by ansible-playbook, as users run them."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module, run_module_raw, sha256_file
from ansible_collections.apim.certificates.tests.support.pki import der, expired_cert, key_pem, make_cert, pem, sha256

MODULE = "apim.certificates.endpoint_certificate"
INFO = "apim.certificates.truststore_info"
PASSWORD = "Integr4tion-Pass"
A, A_KEY = make_cert("a.backend.test")
B, _unused_key = make_cert("b.backend.test")
C, _unused_key = make_cert("c.backend.test", key_kind="ec")


def _seed(tmp_path, store_type="JKS", entries=(("existing", A),)):
    path = str(tmp_path / f"truststore.{store_type.lower()}")
    ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate(alias, "present", cert) for alias, cert in entries],
                           store_type=store_type, create=True)
    return path


def _fingerprints(path):
    return ts.load_truststore(path, PASSWORD).fingerprints()


def four_runs(tmp_path, path, args, expected_actions):
    """check, real, check again, real again: changed, changed, not, not; check mode never touches the file."""
    before = sha256_file(path) if os.path.exists(path) else None

    first_check = run_module(tmp_path, MODULE, args, check=True, diff=True)
    assert not first_check.failed, first_check
    assert first_check.changed
    assert [r["action"] for r in first_check["results"]] == expected_actions
    assert (sha256_file(path) if os.path.exists(path) else None) == before, "check mode changed the file"

    real = run_module(tmp_path, MODULE, args, diff=True)
    assert not real.failed, real
    assert real.changed
    assert [r["action"] for r in real["results"]] == expected_actions
    assert real["diff"] == first_check["diff"]
    after = sha256_file(path)
    assert after != before

    second_check = run_module(tmp_path, MODULE, args, check=True, diff=True)
    assert not second_check.failed and not second_check.changed, second_check
    assert all(r["action"] == "unchanged" for r in second_check["results"])
    assert second_check["diff"]["before"] == second_check["diff"]["after"] == {}

    again = run_module(tmp_path, MODULE, args)
    assert not again.failed and not again.changed, again
    assert sha256_file(path) == after, "an unchanged run rewrote the store"
    return real


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS", "PKCS12"])
def test_add_to_an_existing_store(tmp_path, store_type):
    path = _seed(tmp_path, store_type)
    real = four_runs(tmp_path, path, {"path": path, "password": PASSWORD, "alias": "Orders", "certificate": pem(B)}, ["added"])
    assert real["results"][0]["alias"] == "orders"
    assert real["results"][0]["fingerprint"] == sha256(B)
    assert real["diff"]["after"] == {"orders": {"fingerprint": sha256(B), "subject": "O=apim.certificates tests,CN=b.backend.test"}}
    assert _fingerprints(path) == {"existing": sha256(A), "orders": sha256(B)}


def test_create_a_new_pkcs12_store_with_mode(tmp_path):
    path = str(tmp_path / "new.p12")
    args = {"path": path, "password": PASSWORD, "store_type": "pkcs12", "create": True, "alias": "a", "certificate": pem(A), "mode": "0640"}
    real = four_runs(tmp_path, path, args, ["added"])
    assert real["created"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert _fingerprints(path) == {"a": sha256(A)}


def test_new_store_is_private_by_default(tmp_path):
    path = str(tmp_path / "new.jks")
    result = run_module(tmp_path, MODULE, {"path": path, "password": PASSWORD, "create": True, "alias": "a", "certificate": pem(A)})
    assert result.changed and stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_replace_a_stale_certificate(tmp_path):
    path = _seed(tmp_path, "JCEKS", (("orders", A),))
    real = four_runs(tmp_path, path, {"path": path, "password": PASSWORD, "alias": "orders", "certificate": pem(B)}, ["replaced"])
    assert real["results"][0]["previous_fingerprint"] == sha256(A)
    assert real["diff"]["before"]["orders"]["fingerprint"] == sha256(A)
    assert real["diff"]["after"]["orders"]["fingerprint"] == sha256(B)
    assert _fingerprints(path) == {"orders": sha256(B)}


def test_replace_false_keeps_the_old_certificate(tmp_path):
    path = _seed(tmp_path, "JKS", (("orders", A),))
    before = sha256_file(path)
    result = run_module(tmp_path, MODULE, {"path": path, "password": PASSWORD, "alias": "orders", "certificate": pem(B), "replace": False})
    assert not result.changed
    assert any("replace is false" in w for w in result.get("warnings", []))
    assert sha256_file(path) == before


def test_remove(tmp_path):
    path = _seed(tmp_path, "JKS", (("orders", A), ("payments", B)))
    real = four_runs(tmp_path, path, {"path": path, "password": PASSWORD, "alias": "ORDERS", "state": "absent"}, ["removed"])
    assert real["diff"]["before"] == {"orders": {"fingerprint": sha256(A), "subject": "O=apim.certificates tests,CN=a.backend.test"}}
    assert real["diff"]["after"] == {}
    assert _fingerprints(path) == {"payments": sha256(B)}


def test_batch_in_one_load_and_save(tmp_path):
    path = _seed(tmp_path, "JKS", (("keep", A), ("drop", B)))
    cert_file = tmp_path / "c.der"
    cert_file.write_bytes(der(C))
    args = {"path": path, "password": PASSWORD, "certificates": [
        {"alias": "keep", "certificate": pem(A)},
        {"alias": "drop", "state": "absent"},
        {"alias": "from-file", "certificate_path": str(cert_file)},
    ]}
    four_runs(tmp_path, path, args, ["unchanged", "removed", "added"])
    assert _fingerprints(path) == {"keep": sha256(A), "from-file": sha256(C)}


def test_bundle_is_stored_whole_or_leaf_only(tmp_path):
    ca, ca_key = make_cert("ca.test", ca=True)
    leaf, _unused_key = make_cert("leaf.test", issuer=ca, issuer_key=ca_key)
    path = _seed(tmp_path)
    four_runs(tmp_path, path, {"path": path, "password": PASSWORD, "alias": "chain", "certificate": pem(leaf) + pem(ca)}, ["added", "added"])
    assert _fingerprints(path) == {"existing": sha256(A), "chain": sha256(leaf), "chain-1": sha256(ca)}
    other = _seed(tmp_path, "PKCS12")
    result = run_module(tmp_path, MODULE, {"path": other, "password": PASSWORD, "alias": "chain", "chain": "leaf", "certificate": pem(leaf) + pem(ca)})
    assert result.changed and _fingerprints(other) == {"existing": sha256(A), "chain": sha256(leaf)}


def test_tenant_alias(tmp_path):
    path = _seed(tmp_path)
    result = run_module(tmp_path, MODULE, {"path": path, "password": PASSWORD, "alias": "orders", "tenant_id": 3, "certificate": pem(B)})
    assert result["results"][0]["alias"] == "orders_3"
    assert "orders_3" in _fingerprints(path)


def test_duplicate_certificate_warns(tmp_path):
    path = _seed(tmp_path)
    result = run_module(tmp_path, MODULE, {"path": path, "password": PASSWORD, "alias": "again", "certificate": pem(A)})
    assert result.changed
    assert any("under alias 'existing'" in w for w in result["warnings"])


def test_backup(tmp_path):
    path = _seed(tmp_path)
    old = open(path, "rb").read()
    result = run_module(tmp_path, MODULE, {"path": path, "password": PASSWORD, "alias": "b", "certificate": pem(B), "backup": True})
    assert open(result["backup_file"], "rb").read() == old


def _corrupt(path):
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))


def _truncate(path):
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])


OLD, _unused_key = expired_cert()

FAILURES = [
    ("wrong password", {"password": "wrong-one"}, None, "wrong password"),
    ("corrupt store", {}, _corrupt, "wrong password|corrupt"),
    ("truncated store", {}, _truncate, "corrupt or truncated"),
    ("wrong declared type", {"store_type": "PKCS12"}, None, "store_type is PKCS12 but the file is a JKS store"),
    ("unknown store type", {"store_type": "BKS"}, None, "store_type 'BKS' is not one of"),
    ("garbage certificate", {"certificate": "this is not a certificate"}, None, "not a certificate"),
    ("private key as certificate", {"certificate": key_pem(A_KEY)}, None, "found a private key"),
    ("expired certificate", {"certificate": pem(OLD)}, None, "expired on .* set allow_expired"),
    ("alias too long", {"alias": "a" * 31}, None, "31 characters long; API-M allows at most 30"),
    ("alias with space", {"alias": "my alias"}, None, "contains white space"),
    ("empty alias", {"alias": ""}, None, "alias is empty"),
    ("missing certificate file", {"certificate": None, "certificate_path": "/nonexistent/c.pem"}, None, "certificate file /nonexistent/c.pem does not exist"),
    ("no certificate", {"certificate": None}, None, "none of certificate, certificate_path or endpoint"),
    ("no password", {"password": None}, None, "password is required"),
]


@pytest.mark.parametrize("case, override, damage, message", FAILURES, ids=[f[0] for f in FAILURES])
def test_bad_input_fails_cleanly_and_changes_nothing(tmp_path, case, override, damage, message):
    path = _seed(tmp_path)
    if damage:
        damage(path)
    before = sha256_file(path)
    args = {"path": path, "password": PASSWORD, "alias": "new", "certificate": pem(B)}
    args.update(override)
    args = {k: v for k, v in args.items() if v is not None}
    result, output = run_module_raw(tmp_path, MODULE, args)
    assert result.failed, f"{case}: {result}"
    assert __import__("re").search(message, result["msg"]), f"{case}: {result['msg']}"
    assert "Traceback" not in output and "module_stderr" not in result, output
    assert sha256_file(path) == before
    assert os.listdir(tmp_path / ".") and not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


@pytest.mark.parametrize("state", ["absent", "present"])
def test_top_level_state_with_certificates_is_refused(tmp_path, state):
    """The documented contract: certificates and a top-level state are mutually exclusive.

    Before, state had a default and so could not be checked: state=absent with certificates silently added them."""
    path = _seed(tmp_path)
    before = sha256_file(path)
    args = {"path": path, "password": PASSWORD, "state": state, "certificates": [{"alias": "orders", "certificate": pem(B)}]}
    for check in (True, False):
        result = run_module(tmp_path, MODULE, args, check=check)
        assert result.failed, result
        assert "mutually exclusive" in result["msg"] and "state" in result["msg"], result["msg"]
        assert sha256_file(path) == before
    assert _fingerprints(path) == {"existing": sha256(A)}


def test_duplicate_aliases_in_batch(tmp_path):
    path = _seed(tmp_path)
    before = sha256_file(path)
    result = run_module(tmp_path, MODULE, {"path": path, "password": PASSWORD, "certificates": [
        {"alias": "Dup", "certificate": pem(B)}, {"alias": "dup", "certificate": pem(C)}]})
    assert result.failed and "given twice" in result["msg"]
    assert sha256_file(path) == before


def test_missing_store_without_create(tmp_path):
    path = str(tmp_path / "absent.jks")
    result = run_module(tmp_path, MODULE, {"path": path, "password": PASSWORD, "alias": "a", "certificate": pem(A)})
    assert result.failed and "set create to true" in result["msg"]
    assert not os.path.exists(path)


def test_password_never_in_output(tmp_path):
    path = _seed(tmp_path)
    secret = PASSWORD
    for check in (True, False):
        result, output = run_module_raw(tmp_path, MODULE, {"path": path, "password": secret, "alias": "b", "certificate": pem(B), "backup": True},
                                        check=check, diff=True, verbosity=4)
        assert secret not in output and secret not in str(result)
    result, output = run_module_raw(tmp_path, MODULE, {"path": path, "password": secret + "x", "alias": "c", "certificate": pem(C)},
                                    diff=True, verbosity=4)
    assert result.failed and secret not in output


def test_info_reports_the_public_interface(tmp_path):
    old_ok, _unused_key = make_cert("soon.test", days=10)
    path = _seed(tmp_path, "PKCS12", (("later", A), ("soon", old_ok)))
    result = run_module(tmp_path, INFO, {"path": path, "password": PASSWORD, "store_type": "pkcs12"})
    assert not result.changed and not result.failed
    assert result["store_type"] == "PKCS12" and result["count"] == 2
    assert result["expiring"] == ["soon"]
    entry = {e["alias"]: e for e in result["entries"]}["later"]
    assert entry["fingerprints"]["sha256"] == sha256(A)
    assert entry["entry_type"] == "trustedCertEntry" and entry["status"] == "active"
    filtered = run_module(tmp_path, INFO, {"path": path, "password": PASSWORD, "alias": ["LATER", "nothere"], "expiring_within_days": 5})
    assert [e["alias"] for e in filtered["entries"]] == ["later"]
    assert filtered["missing"] == ["nothere"] and filtered["expiring"] == []


def test_info_without_password_warns(tmp_path):
    path = _seed(tmp_path)
    result = run_module(tmp_path, INFO, {"path": path})
    assert result["count"] == 1 and result["integrity_verified"] is False
    assert any("not verified" in w for w in result["warnings"])


def test_info_in_check_mode(tmp_path):
    path = _seed(tmp_path)
    result = run_module(tmp_path, INFO, {"path": path, "password": PASSWORD}, check=True)
    assert not result.failed and result["count"] == 1


def test_data_equal_to_the_password_is_not_masked(tmp_path):
    """WSO2's default password is also the alias of its own certificate: the alias must still be reported."""
    path = str(tmp_path / "stock.jks")
    ts.converge_truststore(path, "wso2carbon", [ts.DesiredCertificate("wso2carbon", "present", A),
                                                ts.DesiredCertificate("wso2carbon-old", "present", B)], create=True)
    result, output = run_module_raw(tmp_path, INFO, {"path": path, "password": "wso2carbon"}, verbosity=4)
    assert sorted(e["alias"] for e in result["entries"]) == ["wso2carbon", "wso2carbon-old"]
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    added = run_module(tmp_path, MODULE, {"path": path, "password": "wso2carbon", "alias": "wso2carbon-new", "certificate": pem(C)})
    assert added["results"][0]["alias"] == "wso2carbon-new"
    assert added["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert '"password": "wso2carbon"' not in output
