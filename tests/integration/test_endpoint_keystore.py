"""endpoint_keystore run by ansible-playbook, as users run it: path mode per keystore type, gateway mode, bad input."""

from __future__ import annotations

import base64
import json
import os
import re
import stat

import jks
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import run_module, run_module_raw, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import OWN_TOML, make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import der, key_pem, make_cert, pem, sha256

MODULE = "apim.certificates.endpoint_keystore"
INFO = "apim.certificates.truststore_info"
STORE_PW = "Integr4tion-Store"
KEY_PW = "Integr4tion-Key"
PASSPHRASE = "Integr4tion-Passphrase"

ROOT_KEY = ec.generate_private_key(ec.SECP256R1())
ROOT, _unused = make_cert("Client Root CA", ca=True, sans=[], key=ROOT_KEY)
INTER_KEY = ec.generate_private_key(ec.SECP256R1())
INTER, _unused = make_cert("Client Issuing CA", ca=True, sans=[], issuer=ROOT, issuer_key=ROOT_KEY, key=INTER_KEY)
LEAF_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LEAF, _unused = make_cert("gateway.client.test", issuer=INTER, issuer_key=INTER_KEY, key=LEAF_KEY)
NEW_KEY = ec.generate_private_key(ec.SECP256R1())
NEW_LEAF, _unused = make_cert("gateway.client.test", issuer=INTER, issuer_key=INTER_KEY, key=NEW_KEY)
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER, _unused = make_cert("other.client.test", key=OTHER_KEY)
ENCRYPTED_KEY = LEAF_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(PASSPHRASE.encode())).decode()


def _args(path, **extra):
    args = {"path": path, "password": STORE_PW, "key_password": KEY_PW, "alias": "Client", "create": True,
            "private_key": ENCRYPTED_KEY, "private_key_passphrase": PASSPHRASE,
            "certificate": pem(ROOT) + pem(LEAF) + pem(INTER)}
    args.update(extra)
    return {k: v for k, v in args.items() if v is not None}


def _secrets_absent(text: str) -> None:
    body = "".join(key_pem(LEAF_KEY).splitlines()[1:-1])
    encrypted_body = "".join(ENCRYPTED_KEY.splitlines()[1:-1])
    for secret in (STORE_PW, KEY_PW, PASSPHRASE, body[:48], encrypted_body[:48]):
        assert secret not in text, "a secret reached the output"


def four_runs(tmp_path, path, args, action, watched=()):
    """check, real, check again, real again: changed, changed, not, not; check mode never touches a file."""
    files = [path, *watched]
    before = {f: sha256_file(f) if os.path.exists(f) else None for f in files}
    first_check = run_module(tmp_path, MODULE, args, check=True, diff=True)
    assert not first_check.failed, first_check
    assert first_check.changed and first_check["action"] == action
    assert {f: sha256_file(f) if os.path.exists(f) else None for f in files} == before, "check mode changed a file"
    real, output = run_module_raw(tmp_path, MODULE, args, diff=True, verbosity=4)
    assert not real.failed, real
    assert real.changed and real["action"] == action
    assert real["diff"] == first_check["diff"]
    _secrets_absent(output + json.dumps(real))
    after = sha256_file(path)
    assert after != before[path]
    second_check = run_module(tmp_path, MODULE, args, check=True, diff=True)
    assert not second_check.failed and not second_check.changed, second_check
    assert second_check["action"] == "unchanged"
    again = run_module(tmp_path, MODULE, args)
    assert not again.failed and not again.changed, again
    assert sha256_file(path) == after, "an unchanged run rewrote the keystore"
    return real


def _pyjks_key(path, alias, key_password=KEY_PW, store_password=STORE_PW):
    entry = jks.KeyStore.load(path, store_password, try_decrypt_keys=False).private_keys[alias]
    entry.decrypt(key_password)
    return entry


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS", "PKCS12"])
def test_create_add_and_keep(tmp_path, store_type):
    path = str(tmp_path / f"keystore.{store_type.lower()}")
    key_password = None if store_type == "PKCS12" else KEY_PW
    real = four_runs(tmp_path, path, _args(path, store_type=store_type, key_password=key_password, mode="0640"), "added")
    assert real["alias"] == "client" and real["created"] is True and real["store_type"] == store_type
    assert [c["fingerprint"] for c in real["chain"]] == [sha256(LEAF), sha256(INTER), sha256(ROOT)]
    assert real["key"] == {"type": "RSA", "size": 2048}
    assert real["diff"]["before"] == {}
    assert real["diff"]["after"]["client"]["chain"][0] == {
        "fingerprint": sha256(LEAF), "subject": "O=apim.certificates tests,CN=gateway.client.test",
        "not_after": real["chain"][0]["not_after"]}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    store = ts.load_truststore(path, STORE_PW)
    assert list(store.entries) == ["client"] and store.entries["client"].entry_type == "PrivateKeyEntry"
    if store_type == "JKS":
        assert _pyjks_key(path, "client").pkey_pkcs8 == LEAF_KEY.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def test_rotate_keeps_other_entries_owner_and_mode(tmp_path):
    path = str(tmp_path / "keystore.jks")
    other = jks.PrivateKeyEntry.new("other", [der(OTHER)], OTHER_KEY.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), "pkcs8")
    other.encrypt(KEY_PW)
    jks.KeyStore.new("jks", [other, jks.TrustedCertEntry.new("backend-ca", der(ROOT))]).save(path, STORE_PW)
    os.chmod(path, 0o640)
    before = ts.load_truststore(path, STORE_PW)
    run_module(tmp_path, MODULE, _args(path))
    rotated = four_runs(tmp_path, path, _args(path, private_key=key_pem(NEW_KEY), private_key_passphrase=None,
                                              certificate=pem(NEW_LEAF) + pem(INTER) + pem(ROOT), backup=True), "replaced")
    assert rotated["reason"] == "the certificate chain differs"
    assert rotated["previous_chain"][0]["fingerprint"] == sha256(LEAF)
    assert rotated["diff"]["before"]["client"]["chain"][0]["fingerprint"] == sha256(LEAF)
    assert rotated["diff"]["after"]["client"]["chain"][0]["fingerprint"] == sha256(NEW_LEAF)
    assert os.path.exists(rotated["backup_file"])
    after = ts.load_truststore(path, STORE_PW)
    assert list(after.entries) == ["other", "backend-ca", "client"]
    assert after.entries["other"] == before.entries["other"] and after.entries["backend-ca"] == before.entries["backend-ca"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_remove(tmp_path):
    path = str(tmp_path / "keystore.jceks")
    run_module(tmp_path, MODULE, _args(path, store_type="JCEKS"))
    run_module(tmp_path, MODULE, _args(path, alias="second", private_key=key_pem(OTHER_KEY), private_key_passphrase=None,
                                       certificate=pem(OTHER)))
    real = four_runs(tmp_path, path, {"path": path, "password": STORE_PW, "key_password": KEY_PW, "alias": "CLIENT",
                                      "state": "absent"}, "removed")
    assert real["diff"]["after"] == {} and real["diff"]["before"]["client"]["key"] == {"type": "RSA", "size": 2048}
    assert list(ts.load_truststore(path, STORE_PW).entries) == ["second"]


def test_from_a_pkcs12_bundle(tmp_path):
    bundle = pkcs12.serialize_key_and_certificates(b"bundle", LEAF_KEY, LEAF, [INTER, ROOT],
                                                   serialization.BestAvailableEncryption(b"Bundle-pw"))
    path = str(tmp_path / "keystore.jks")
    args = {"path": path, "password": STORE_PW, "key_password": KEY_PW, "alias": "client", "create": True,
            "pkcs12": base64.b64encode(bundle).decode(), "pkcs12_password": "Bundle-pw"}
    real = four_runs(tmp_path, path, args, "added")
    assert [c["fingerprint"] for c in real["chain"]] == [sha256(LEAF), sha256(INTER), sha256(ROOT)]
    bundle_file = tmp_path / "client.p12"
    bundle_file.write_bytes(bundle)
    same = run_module(tmp_path, MODULE, {"path": path, "password": STORE_PW, "key_password": KEY_PW, "alias": "client",
                                         "pkcs12_path": str(bundle_file), "pkcs12_password": "Bundle-pw"})
    assert not same.failed and not same.changed, same


def _gateway(tmp_path):
    return make_gateway_node(str(tmp_path / "gw"), toml_text=OWN_TOML, own_keystore=True,
                             entries=[("backend", make_cert("backend.test")[0])])


def test_gateway_mode_writes_the_default_profile_keystore_and_touches(tmp_path):
    node = _gateway(tmp_path)
    before = ts.load_truststore(node["keystore"], "wso2carbon")
    mtime = os.stat(node["sslprofiles"]).st_mtime
    args = {"apim_home": node["home"], "alias": "client", "private_key": key_pem(LEAF_KEY),
            "certificate": pem(LEAF) + pem(INTER) + pem(ROOT)}
    real = four_runs(tmp_path, node["keystore"], args, "added", watched=[node["sslprofiles"], node["persistent"], node["live"]])
    assert real["profile"] == "*" and real["touched"] == node["sslprofiles"]
    assert real["stores"] == [{"path": node["keystore"], "role": "live+persistent", "store_type": "JKS", "changed": True,
                               "created": False, "action": "added"}]
    assert os.stat(node["sslprofiles"]).st_mtime > mtime
    after = ts.load_truststore(node["keystore"], "wso2carbon")
    assert list(after.entries) == ["wso2carbon", "client"] and after.entries["wso2carbon"] == before.entries["wso2carbon"]
    assert [bytes(c[1]) for c in _pyjks_key(node["keystore"], "client", "wso2carbon", "wso2carbon").cert_chain] == [
        der(LEAF), der(INTER), der(ROOT)]
    info = run_module(tmp_path, INFO, {"apim_home": node["home"], "expiring_within_days": 400})
    assert not info.failed, info
    keystore = info["keystores"][0]
    assert keystore["path"] == node["keystore"] and keystore["profiles"] == ["*"]
    client = next(e for e in keystore["key_entries"] if e["alias"] == "client")
    assert client["key"] == {"type": "RSA", "size": 2048} and len(client["chain"]) == 3
    assert any("key entry 'client'" in w and "expires on" in w for w in info["warnings"])
    _secrets_absent(json.dumps(info))


def test_gateway_mode_a_custom_profile(tmp_path):
    security = tmp_path / "gw" / "repository" / "resources" / "security"
    security.mkdir(parents=True)
    keystore = str(security / "orders-keystore.jks")
    custom = ('[[keystore.ssl_profile.custom]]\nservers = "orders.internal:8443"\n'
              'keystore.location = "repository/resources/security/orders-keystore.jks"\nkeystore.type = "JKS"\n'
              'keystore.password = "wso2carbon"\nkeystore.key_password = "wso2carbon"\n'
              'truststore.location = "repository/resources/security/client-truststore.jks"\n'
              'truststore.type = "JKS"\ntruststore.password = "wso2carbon"\n')
    node = make_gateway_node(str(tmp_path / "gw"), toml_text=OWN_TOML + "\n" + custom, own_keystore=True,
                             entries=[("backend", make_cert("backend.test")[0])],
                             extra_profiles=[("orders.internal:8443", "repository/resources/security/orders-keystore.jks",
                                              "repository/resources/security/client-truststore.jks")])
    default_before = sha256_file(node["keystore"])
    args = {"apim_home": node["home"], "endpoint": "https://orders.internal:8443/", "alias": "orders-client", "create": True,
            "private_key": key_pem(OTHER_KEY), "certificate": pem(OTHER)}
    real = four_runs(tmp_path, keystore, args, "added", watched=[node["sslprofiles"]])
    assert real["profile"] == "orders.internal:8443" and real["stores"][0]["role"] == "live+persistent"
    assert real["created"] is True and stat.S_IMODE(os.stat(keystore).st_mode) == 0o600
    assert sha256_file(node["keystore"]) == default_before
    assert list(ts.load_truststore(keystore, "wso2carbon").entries) == ["orders-client"]


# --- bad input: a named failure, every file byte-for-byte as it was --------------------------------------------

BAD = [
    ("key-without-certificate", {"certificate": None}, r"a private key without its certificate; give certificate"),
    ("certificate-without-key", {"private_key": None, "private_key_passphrase": None}, r"a certificate without its private key"),
    ("wrong-passphrase", {"private_key_passphrase": "wrong"}, r"cannot be decrypted with private_key_passphrase"),
    ("no-passphrase", {"private_key_passphrase": None}, r"the private key is encrypted; give private_key_passphrase"),
    ("key-for-another-certificate", {"private_key": key_pem(OTHER_KEY), "private_key_passphrase": None},
     r"the private key does not match the certificate given"),
    ("no-key-password", {"key_password": None}, r"key_password is required for a JKS keystore"),
    ("incomplete-chain", {"certificate": pem(LEAF) + pem(INTER)}, r"the chain is incomplete: it ends at"),
    ("certificate-off-the-chain", {"certificate": pem(LEAF) + pem(INTER) + pem(ROOT) + pem(OTHER)},
     r"not on the chain of the key's certificate"),
    ("wrong-store-password", {"password": "Wrong-store-pw"}, r"wrong password \(the JKS integrity check failed\)"),
    ("alias-is-a-trusted-certificate", {"alias": "backend-ca"}, r"is a trustedCertEntry, not a key entry"),
]


@pytest.mark.parametrize("case, change, message", BAD, ids=[case for case, _c, _m in BAD])
def test_bad_input_is_a_named_failure_and_changes_nothing(tmp_path, case, change, message):
    path = str(tmp_path / "keystore.jks")
    jks.KeyStore.new("jks", [jks.TrustedCertEntry.new("backend-ca", der(ROOT))]).save(path, STORE_PW)
    before = sha256_file(path)
    args = _args(path)
    args.update(change)
    args = {k: v for k, v in args.items() if v is not None}
    for check in (True, False):
        result, output = run_module_raw(tmp_path, MODULE, args, check=check, verbosity=4)
        assert result.failed, (case, result)
        assert re.search(message, result["msg"]), (case, result["msg"])
        assert "Traceback" not in result["msg"]
        _secrets_absent(output + json.dumps(result))
    assert sha256_file(path) == before
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".keystore.jks.")], "a temporary file was left"


def test_check_endpoint_names_the_backends_answer_from_the_node(tmp_path):
    """One handshake that presents the key pair: accepted by a backend that requires certificates from its CA,
    refused by one that trusts another CA, 'no certificate requested' by one without mutual TLS, unreachable when
    nothing listens. The key never reaches the result."""
    from ansible_collections.apim.certificates.tests.support.servers import https_server, mutual_tls_server  # pylint: disable=import-outside-toplevel

    node = make_gateway_node(str(tmp_path / "gw"), own_keystore=True)
    backend, backend_key = make_cert("localhost", sans=["localhost", "127.0.0.1"])
    base = {"apim_home": node["home"], "alias": "orders-client", "private_key": key_pem(LEAF_KEY),
            "certificate": pem(LEAF) + pem(INTER) + pem(ROOT), "check_endpoint": True, "timeout": 5}
    verdicts = {}
    with mutual_tls_server(backend, backend_key, [ROOT]) as (good, presented), \
            mutual_tls_server(backend, backend_key, [OTHER]) as (strict, _seen), https_server(backend, backend_key) as plain:
        for name, port in (("good", good), ("strict", strict), ("plain", plain), ("closed", 1)):
            result = run_module(tmp_path, MODULE, dict(base, endpoint=f"https://localhost:{port}/"), check=True)
            assert not result.failed, result
            assert key_pem(LEAF_KEY).splitlines()[1] not in json.dumps(result), "the key reached the result"
            verdicts[name] = result["handshake"]["result"]
        assert presented and presented[0] == der(LEAF), "the backend saw another certificate"
    assert verdicts == {"good": "accepted", "strict": "refused", "plain": "no certificate requested", "closed": "unreachable"}, verdicts
    refused = run_module(tmp_path, MODULE, dict(base, state="absent", endpoint="https://localhost:1/"))
    assert refused.failed and "check_endpoint needs endpoint" in refused["msg"], refused
