"""endpoint_keystore's library: key protection (JKS, JCEKS), key input, chain order, plan/apply/converge, reports.

pyjks is the independent reader here (keytool and a JVM judge in tests/interop/test_endpoint_keystore_java.py).
"""

from __future__ import annotations

import base64
import datetime
import os

import jks
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apim.certificates.plugins.module_utils import _key_material as material
from ansible_collections.apim.certificates.plugins.module_utils import _key_protection as protection
from ansible_collections.apim.certificates.plugins.module_utils import _keystore as ks
from ansible_collections.apim.certificates.plugins.module_utils import _keystore_report as report
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError, CertificateError, TruststoreError
from ansible_collections.apim.certificates.tests.support.pki import der, key_pem, make_cert, pem, sha256

STORE_PW = "Store-pw-1"
KEY_PW = "Key-pw-2"
UTC = datetime.timezone.utc

ROOT_KEY = ec.generate_private_key(ec.SECP256R1())
ROOT, _root_key = make_cert("Keystore Root CA", ca=True, sans=[], key=ROOT_KEY)
INTER_KEY = ec.generate_private_key(ec.SECP256R1())
INTER, _inter_key = make_cert("Keystore Issuing CA", ca=True, sans=[], issuer=ROOT, issuer_key=ROOT_KEY, key=INTER_KEY)
LEAF_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LEAF, _leaf_key = make_cert("gateway.client.test", issuer=INTER, issuer_key=INTER_KEY, key=LEAF_KEY)
NEW_KEY = ec.generate_private_key(ec.SECP384R1())
NEW_LEAF, _new_key = make_cert("gateway.client.test", issuer=INTER, issuer_key=INTER_KEY, key=NEW_KEY)
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER, _other_key = make_cert("other.client.test", key=OTHER_KEY)
CHAIN_PEM = pem(ROOT) + pem(LEAF) + pem(INTER)  # out of order on purpose


def _pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _request(alias="client", key=LEAF_KEY, chain=CHAIN_PEM, **extra):
    params = {"alias": alias, "private_key": key_pem(key), "certificate": chain}
    params.update(extra)
    return ks.resolve_request(params)


def _manage(path, request, store_type="auto", key_password=KEY_PW, check_mode=False, **options):
    options.setdefault("create", True)
    return ks.manage(request, ks.Options(**options), path=path, password=STORE_PW, key_password=key_password,
                     store_type=store_type, check_mode=check_mode)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


# --- key protection ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_protect_and_recover_round_trip(store_type):
    p8 = _pkcs8(LEAF_KEY)
    protected = protection.protect(p8, KEY_PW, store_type)
    assert protection.recover(protected, KEY_PW) == p8
    with pytest.raises(protection.WrongKeyPassword):
        protection.recover(protected, "not-it")
    expected = protection.JKS_KEY_PROTECTOR if store_type == "JKS" else protection.JCEKS_KEY_PROTECTOR
    assert protection.protection_algorithm(protected) == expected


def test_jks_protection_is_what_pyjks_reads():
    p8 = _pkcs8(LEAF_KEY)
    protected = protection.protect(p8, KEY_PW, "JKS")
    _alg, _params, encrypted = protection._parse_encrypted_private_key_info(protected)  # pylint: disable=protected-access
    assert jks.sun_crypto.jks_pkey_decrypt(encrypted, KEY_PW) == p8


@pytest.mark.parametrize("salt", [b"abcdabcd", b"\x01\x02\x03\x04\x05\x06\x07\x08"], ids=["equal-halves", "distinct-halves"])
def test_jceks_key_derivation_is_what_pyjks_reads(salt):
    """PBEWithMD5AndTripleDES as the JDK derives it, equal salt halves (the JDK's rearrangement) included."""
    p8 = _pkcs8(OTHER_KEY)
    protected = protection._jceks_protect(p8, KEY_PW, salt=salt, iterations=1000)  # pylint: disable=protected-access
    _alg, _params, encrypted = protection._parse_encrypted_private_key_info(protected)  # pylint: disable=protected-access
    assert jks.sun_crypto.jce_pbe_decrypt(encrypted, KEY_PW, salt, 1000) == p8
    assert protection.recover(protected, KEY_PW) == p8


def test_jceks_key_password_must_be_ascii():
    with pytest.raises(TruststoreError, match="printable ASCII"):
        protection.protect(_pkcs8(OTHER_KEY), "pässword", "JCEKS")


def test_unknown_protection_is_named():
    blob = protection._encrypted_private_key_info("1.2.840.113549.1.5.13", b"", b"x" * 16)  # pylint: disable=protected-access
    with pytest.raises(protection.UnsupportedProtection, match="1.2.840.113549.1.5.13"):
        protection.recover(blob, KEY_PW)


# --- key input ---------------------------------------------------------------------------------------------------

_PASSPHRASE = "Key-Passphrase-9"


def _key_text(key, form):
    enc = serialization.Encoding.PEM
    if form == "pkcs1-or-sec1":
        return key.private_bytes(enc, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode()
    if form == "pkcs8":
        return key.private_bytes(enc, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    if form == "pkcs8-encrypted":
        return key.private_bytes(enc, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(_PASSPHRASE.encode())).decode()
    if form == "traditional-encrypted":
        return key.private_bytes(enc, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.BestAvailableEncryption(_PASSPHRASE.encode())).decode()
    if form == "der-base64":
        return base64.b64encode(_pkcs8(key)).decode()
    raise AssertionError(form)


@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("form", ["pkcs1-or-sec1", "pkcs8", "pkcs8-encrypted", "traditional-encrypted", "der-base64"])
def test_every_key_form_is_read(kind, form):
    key = LEAF_KEY if kind == "rsa" else OTHER_KEY
    passphrase = _PASSPHRASE if "encrypted" in form else None
    loaded = material.load_private_key(_key_text(key, form), passphrase, "private_key")
    assert material.public_key_der(loaded) == material.public_key_der(key)


@pytest.mark.parametrize("form, passphrase, message", [
    ("pkcs8-encrypted", None, r"private_key: the private key is encrypted; give private_key_passphrase"),
    ("traditional-encrypted", None, r"the private key is encrypted; give private_key_passphrase"),
    ("pkcs8-encrypted", "wrong", r"cannot be decrypted with private_key_passphrase \(wrong passphrase"),
    ("traditional-encrypted", "wrong", r"cannot be decrypted with private_key_passphrase"),
    ("pkcs8", _PASSPHRASE, r"private_key_passphrase is given but the private key is not encrypted"),
])
def test_key_passphrase_problems_are_named(form, passphrase, message):
    with pytest.raises(CertificateError, match=message):
        material.load_private_key(_key_text(LEAF_KEY, form), passphrase, "private_key")


@pytest.mark.parametrize("text, message", [
    (pem(LEAF), r"no private key found \(PEM blocks: 'CERTIFICATE'\)"),
    (key_pem(LEAF_KEY) + key_pem(OTHER_KEY), r"2 private keys found; give exactly one"),
    ("not a key at all", r"not a private key \(neither PEM nor DER\)"),
    ("", r"the content is empty"),
    (key_pem(LEAF_KEY)[:200], r"has no END line"),
])
def test_not_a_key_is_named(text, message):
    with pytest.raises(CertificateError, match=message):
        material.load_private_key(text, None, "private_key")


def test_a_key_without_certificate_and_the_reverse_are_refused():
    with pytest.raises(CertificateError, match="a private key without its certificate"):
        ks.resolve_request({"alias": "a", "private_key": key_pem(LEAF_KEY)})
    with pytest.raises(CertificateError, match="a certificate without its private key"):
        ks.resolve_request({"alias": "a", "certificate": pem(LEAF)})
    with pytest.raises(CertificateError, match="no key pair is given"):
        ks.resolve_request({"alias": "a"})


# --- the chain ---------------------------------------------------------------------------------------------------


def test_a_chain_out_of_order_is_ordered_from_the_leaf():
    request = _request()
    assert request.key_pair.ders == [der(LEAF), der(INTER), der(ROOT)]
    assert request.key_pair.complete


def test_a_key_for_another_certificate_is_refused():
    with pytest.raises(CertificateError, match=r"the private key does not match the certificate given \(.*CN=gateway\.client\.test"):
        _request(key=OTHER_KEY)


def test_an_incomplete_chain_is_refused_unless_allowed():
    with pytest.raises(CertificateError, match=r"the chain is incomplete: it ends at .*CN=Keystore Issuing CA.*issued by .*CN=Keystore Root CA"):
        _request(chain=pem(LEAF) + pem(INTER))
    allowed = _request(chain=pem(INTER) + pem(LEAF), allow_incomplete_chain=True)
    assert allowed.key_pair.ders == [der(LEAF), der(INTER)] and not allowed.key_pair.complete


def test_a_certificate_off_the_chain_is_refused():
    with pytest.raises(CertificateError, match=r"1 certificate\(s\) given are not on the chain .*CN=other\.client\.test"):
        _request(chain=CHAIN_PEM + pem(OTHER))


def test_a_self_signed_leaf_is_a_complete_chain():
    request = _request(key=OTHER_KEY, chain=pem(OTHER))
    assert request.key_pair.complete and request.key_pair.ders == [der(OTHER)]


def test_key_types():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cert, _k = make_cert("small.test", key=small)
    with pytest.raises(CertificateError, match="1024 bits"):
        _request(key=small, chain=pem(cert))
    edkey = ed25519.Ed25519PrivateKey.generate()
    edcert, _k = make_cert("ed.test", key=edkey, issuer=ROOT, issuer_key=ROOT_KEY)  # make_cert cannot self-sign Ed25519
    edpem = edkey.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    params = {"alias": "ed", "private_key": edpem, "certificate": pem(edcert) + pem(ROOT)}
    with pytest.raises(CertificateError, match="Ed25519, which Java reads only from JDK 15 on"):
        ks.resolve_request(params)
    assert ks.resolve_request(dict(params, allow_ed25519=True)).key_pair.ders == [der(edcert), der(ROOT)]
    dsakey = dsa.generate_private_key(key_size=2048)
    dsapem = dsakey.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(CertificateError, match="DSA keys are not supported"):
        material.check_key_type(material.load_private_key(dsapem, None, "private_key"), "private_key")


@pytest.mark.floor
def test_a_pkcs12_bundle_is_read(tmp_path):
    bundle = pkcs12.serialize_key_and_certificates(b"x", LEAF_KEY, LEAF, [ROOT, INTER], serialization.BestAvailableEncryption(b"bundle-pw"))
    request = ks.resolve_request({"alias": "client", "pkcs12": base64.b64encode(bundle).decode(), "pkcs12_password": "bundle-pw"})
    assert request.key_pair.ders == [der(LEAF), der(INTER), der(ROOT)]
    path = tmp_path / "b.p12"
    path.write_bytes(bundle)
    with pytest.raises(CertificateError, match=r"\(pkcs12_path .*b\.p12\): cannot open the PKCS#12 bundle: wrong pkcs12_password"):
        ks.resolve_request({"alias": "client", "pkcs12_path": str(path), "pkcs12_password": "wrong"})
    with pytest.raises(CertificateError, match="not base64"):
        ks.resolve_request({"alias": "client", "pkcs12": "*** not base64 ***", "pkcs12_password": "bundle-pw"})
    with pytest.raises(CertificateError, match="not both"):
        ks.resolve_request({"alias": "client", "pkcs12_path": str(path), "private_key": key_pem(LEAF_KEY)})


# --- converge ----------------------------------------------------------------------------------------------------

def _key_store_with_others(path, store_type, other_key_password=KEY_PW):
    """A keystore with a trusted entry and another key entry: written by pyjks (not the code under test) for JKS; pyjks
    cannot write JCEKS, so there the JKS bytes get JCEKS's magic number and the key entry JCEKS's protection (keytool
    makes its own in tests/interop)."""
    other = jks.PrivateKeyEntry.new("other", [der(OTHER)], _pkcs8(OTHER_KEY), "pkcs8")
    other.encrypt(other_key_password)
    trusted = jks.TrustedCertEntry.new("trusted", der(ROOT))
    jks.KeyStore.new("jks", [other, trusted]).save(path, STORE_PW)
    if store_type == "JCEKS":
        store = ts.load_truststore(path, STORE_PW)
        entry = store.entries["other"]
        entry.protected_key = protection.protect(_pkcs8(OTHER_KEY), other_key_password, "JCEKS")
        with open(path, "wb") as handle:
            handle.write(ts.serialize_truststore(store.replace(store_type="JCEKS"), STORE_PW))
    return path


def _pyjks_key(path, alias, key_password=KEY_PW):
    store = jks.KeyStore.load(path, STORE_PW, try_decrypt_keys=False)
    entry = store.private_keys[alias]
    entry.decrypt(key_password)
    return entry


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_add_keeps_other_entries_byte_for_byte_and_pyjks_reads_the_key(tmp_path, store_type):
    path = _key_store_with_others(str(tmp_path / f"ks.{store_type.lower()}"), store_type)
    before = ts.load_truststore(path, STORE_PW)
    check = _manage(path, _request(), check_mode=True)
    assert check["changed"] and check["action"] == "added" and _read(path) == before.raw
    result = _manage(path, _request())
    assert result["action"] == "added" and result["key"] == {"type": "RSA", "size": 2048}
    assert [c["fingerprint"] for c in result["chain"]] == [sha256(LEAF), sha256(INTER), sha256(ROOT)]
    after = ts.load_truststore(path, STORE_PW)
    assert list(after.entries) == ["other", "trusted", "client"]
    for alias in ("other", "trusted"):
        assert after.entries[alias] == before.entries[alias]
    entry = _pyjks_key(path, "client")
    assert entry.pkey_pkcs8 == _pkcs8(LEAF_KEY)
    assert [bytes(c[1]) for c in entry.cert_chain] == [der(LEAF), der(INTER), der(ROOT)]
    again = _manage(path, _request())
    assert not again["changed"] and again["action"] == "unchanged"
    assert result["diff"] == check["diff"]
    assert result["diff"]["before"] == {} and list(result["diff"]["after"]["client"]) == ["chain", "key"]


@pytest.mark.floor  # PKCS12 keystores are written by serialize_key_and_certificates, in cryptography 3.4.8 already
@pytest.mark.parametrize("store_type", ["JKS", "JCEKS", "PKCS12"])
def test_replace_and_remove(tmp_path, store_type):
    path = str(tmp_path / "ks.bin")
    key_password = STORE_PW if store_type == "PKCS12" else KEY_PW
    _manage(path, _request(), store_type=store_type, key_password=key_password)
    renewed = _manage(path, _request(key=NEW_KEY, chain=pem(NEW_LEAF) + pem(INTER) + pem(ROOT)), key_password=key_password)
    assert renewed["action"] == "replaced" and renewed["reason"] == "the certificate chain differs"
    assert renewed["previous_chain"][0]["fingerprint"] == sha256(LEAF)
    assert renewed["key"] == {"type": "EC", "size": 384}
    assert renewed["diff"]["before"]["client"]["chain"][0]["fingerprint"] == sha256(LEAF)
    kept = _manage(path, _request(), key_password=key_password, replace=False)
    assert not kept["changed"] and any("replace is false" in w for w in kept["warnings"])
    if store_type == "PKCS12":
        with pytest.raises(TruststoreError, match="its only entry; removing it would leave an empty PKCS12 keystore"):
            _manage(path, ks.KeyRequest("client", "absent"), key_password=key_password)
        return
    _manage(path, _request(alias="second", key=OTHER_KEY, chain=pem(OTHER)), key_password=key_password)
    removed = _manage(path, ks.KeyRequest("client", "absent"), key_password=key_password)
    assert removed["action"] == "removed" and removed["diff"]["after"] == {}
    assert list(ts.load_truststore(path, STORE_PW).entries) == ["second"]
    assert not _manage(path, ks.KeyRequest("client", "absent"), key_password=key_password)["changed"]


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_a_new_key_password_rewrites_the_entry(tmp_path, store_type):
    path = str(tmp_path / "ks.bin")
    _manage(path, _request(), store_type=store_type)
    changed = _manage(path, _request(), key_password="Another-key-pw")
    assert changed["action"] == "replaced" and changed["reason"] == "the key entry does not open with key_password"
    assert _pyjks_key(path, "client", "Another-key-pw").pkey_pkcs8 == _pkcs8(LEAF_KEY)


def test_another_key_entry_with_another_password_is_refused(tmp_path):
    path = _key_store_with_others(str(tmp_path / "ks.jks"), "JKS", other_key_password="different")
    before = _read(path)
    for check_mode in (True, False):
        with pytest.raises(TruststoreError, match=r"key entry 'other' does not open with key_password\. Java's KeyManagerFactory"):
            _manage(path, _request(), check_mode=check_mode)
    assert _read(path) == before


def test_a_trusted_certificate_alias_is_not_a_key_entry(tmp_path):
    path = _key_store_with_others(str(tmp_path / "ks.jks"), "JKS")
    with pytest.raises(TruststoreError, match="alias 'trusted' .* is a trustedCertEntry, not a key entry"):
        _manage(path, _request(alias="trusted"))
    with pytest.raises(TruststoreError, match="is a trustedCertEntry"):
        _manage(path, ks.KeyRequest("trusted", "absent"))


@pytest.mark.floor
def test_pkcs12_with_other_entries_is_refused(tmp_path):
    path = str(tmp_path / "ks.p12")
    with open(path, "wb") as handle:
        handle.write(pkcs12.serialize_key_and_certificates(
            b"other", OTHER_KEY, OTHER, None, serialization.BestAvailableEncryption(STORE_PW.encode())))
    before = _read(path)
    with pytest.raises(TruststoreError, match=r"holds 'other' \(PrivateKeyEntry\) besides alias 'client'"):
        _manage(path, _request(), key_password=None)
    assert _read(path) == before


def test_passwords_the_type_needs(tmp_path):
    with pytest.raises(TruststoreError, match="key_password is required for a JKS keystore"):
        _manage(str(tmp_path / "a.jks"), _request(), key_password=None)
    with pytest.raises(TruststoreError, match="one password for the store and its keys"):
        _manage(str(tmp_path / "a.p12"), _request(), store_type="PKCS12", key_password="differs")
    with pytest.raises(TruststoreError, match="does not exist; set create"):
        _manage(str(tmp_path / "missing.jks"), _request(), create=False)
    assert not os.listdir(tmp_path)


def test_an_expired_certificate_is_refused_unless_allowed(tmp_path):
    now = datetime.datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    old, _k = make_cert("old.client.test", key=key, not_before=now - datetime.timedelta(days=30),
                        not_after=now - datetime.timedelta(days=1))
    request = _request(key=key, chain=pem(old))
    with pytest.raises(CertificateError, match="expired on"):
        _manage(str(tmp_path / "a.jks"), request)
    result = _manage(str(tmp_path / "a.jks"), request, allow_expired=True)
    assert result["changed"] and any("expired" in w for w in result["warnings"])


def test_nothing_secret_in_results_or_errors(tmp_path):
    path = str(tmp_path / "a.jks")
    result = _manage(path, _request())
    text = repr(result) + repr(_request())
    pem_body = "".join(key_pem(LEAF_KEY).splitlines()[1:-1])
    for secret in (STORE_PW, KEY_PW, pem_body[:40]):
        assert secret not in text
    with pytest.raises(ApimCertificatesError) as caught:
        _manage(path, _request(), key_password=None)
    assert KEY_PW not in str(caught.value) and STORE_PW not in str(caught.value)


# --- reports -----------------------------------------------------------------------------------------------------


def test_key_entries_and_expiry_warnings(tmp_path):
    now = datetime.datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    soon, _k = make_cert("soon.client.test", key=key, not_after=now + datetime.timedelta(days=10))
    path = str(tmp_path / "a.jks")
    _manage(path, _request(key=key, chain=pem(soon)))
    entries = report.key_entries(ts.load_truststore(path, STORE_PW))
    assert entries[0]["alias"] == "client" and entries[0]["key"] == {"type": "EC", "size": 256}
    assert entries[0]["chain"][0]["subject"] == "O=apim.certificates tests,CN=soon.client.test"
    assert entries[0]["days_remaining"] in (9, 10)
    warnings = report.expiry_warnings("keystore x", entries, 30)
    assert len(warnings) == 1 and "expires on" in warnings[0] and "endpoint_keystore" in warnings[0]
    assert report.expiry_warnings("keystore x", entries, 5) == []


def test_truststore_info_facts_of_a_key_entry(tmp_path):
    from ansible_collections.apim.certificates.plugins.module_utils._facts import entry_facts  # pylint: disable=import-outside-toplevel

    path = str(tmp_path / "a.jks")
    _manage(path, _request())
    facts = entry_facts(ts.load_truststore(path, STORE_PW).entries["client"])
    assert facts["entry_type"] == "PrivateKeyEntry" and facts["public_key"]["type"] == "RSA"
    assert [c["fingerprint"] for c in facts["chain"]] == [sha256(LEAF), sha256(INTER), sha256(ROOT)]
