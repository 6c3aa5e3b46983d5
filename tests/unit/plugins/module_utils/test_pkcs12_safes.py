"""The collection's PKCS12 reader (_pkcs12_safes): its RC2 against RFC 2268's test vectors and cryptography's RC2,
and stores cryptography writes with each encryption it offers, read bag by bag with their attributes."""

from __future__ import annotations

import os

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _pkcs12_safes as safes
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError
from ansible_collections.apim.certificates.tests.support.pki import cryptography_has, der, make_cert

CERTS = [make_cert(f"p12-{i}.test", key_kind="ec") for i in range(3)]

# RFC 2268 section 5: (key, effective key bits, plaintext, ciphertext)
RFC2268 = [
    ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
    ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
    ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
    ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
    ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
    ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ("88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e", 129, "0000000000000000", "5b78d3a43dfff1f1"),
]


@pytest.mark.parametrize("key, bits, plain, cipher", RFC2268)
def test_rc2_decrypts_rfc_2268s_test_vectors(key, bits, plain, cipher):
    assert safes._rc2_cbc_decrypt(bytes.fromhex(key), bits, bytes(8), bytes.fromhex(cipher)).hex() == plain  # pylint: disable=protected-access


def test_rc2_agrees_with_cryptography_on_128_bit_keys():
    decrepit = pytest.importorskip("cryptography.hazmat.decrepit.ciphers.algorithms", reason="RC2 in cryptography >= 43")
    from cryptography.hazmat.primitives.ciphers import Cipher, modes  # pylint: disable=import-outside-toplevel

    for _round in range(20):
        key, iv, data = os.urandom(16), os.urandom(8), os.urandom(64)
        encryptor = Cipher(decrepit.RC2(key), modes.CBC(iv)).encryptor()
        assert safes._rc2_cbc_decrypt(key, 128, iv, encryptor.update(data) + encryptor.finalize()) == data  # pylint: disable=protected-access


def _serialize(kind: str, algorithm):
    from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12  # pylint: disable=import-outside-toplevel

    encryption = PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048).key_cert_algorithm(algorithm).build(b"p12-pass")
    if kind == "trusted":
        return pkcs12.serialize_java_truststore([pkcs12.PKCS12Certificate(c, f"Trusted-{i}".encode()) for i, (c, _k) in enumerate(CERTS)], encryption)
    cert, key = CERTS[0]
    return pkcs12.serialize_key_and_certificates(b"Key-Entry", key, cert, [CERTS[1][0], CERTS[2][0]], encryption)


@pytest.mark.skipif(not cryptography_has("pkcs12_write"), reason="writing PKCS12 needs cryptography >= 45.0.0")
@pytest.mark.parametrize("algorithm", ["PBESv1SHA1And3KeyTripleDESCBC", "PBESv2SHA256AndAES256CBC"])
def test_bags_and_their_attributes_are_read_as_java_reads_them(tmp_path, algorithm):
    from cryptography.hazmat.primitives.serialization.pkcs12 import PBES  # pylint: disable=import-outside-toplevel

    trusted = safes.read_bags(_serialize("trusted", getattr(PBES, algorithm)), "p12-pass")
    assert [(b.kind, b.friendly_name, b.trusted, b.certificate) for b in trusted] == [
        ("cert", f"Trusted-{i}", True, der(c)) for i, (c, _k) in enumerate(CERTS)]
    path = tmp_path / "keyed.p12"
    path.write_bytes(_serialize("keyed", getattr(PBES, algorithm)))
    store = ts.load_truststore(str(path), "p12-pass")
    assert list(store.entries) == ["key-entry"]
    assert store.entries["key-entry"].entry_type == ts.PRIVATE_KEY
    assert store.untrusted == (der(CERTS[1][0]), der(CERTS[2][0]))  # self-signed CAs: no issuer of the key's certificate
    with pytest.raises(TruststoreError, match=r"wrong password \(the PKCS12 MAC"):
        ts.load_truststore(str(path), "not-the-pass")


def _nokeys_store(path, cas) -> None:
    """A store of certificate bags without the trusted-key-usage attribute, as `openssl pkcs12 -export -nokeys` makes it."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12  # pylint: disable=import-outside-toplevel

    path.write_bytes(pkcs12.serialize_key_and_certificates(None, None, None, cas, BestAvailableEncryption(b"p12-pass")))


@pytest.mark.skipif(not cryptography_has("pkcs12_write"), reason="writing PKCS12 needs cryptography >= 45.0.0")
def test_a_rewrite_keeps_the_bags_java_does_not_trust_as_they_were(tmp_path):
    path = tmp_path / "nokeys.p12"
    _nokeys_store(path, [CERTS[1][0], CERTS[2][0]])
    kept = [bag.der for bag in safes.read_bags(path.read_bytes(), "p12-pass")]
    result = ts.converge_truststore(str(path), "p12-pass", [ts.DesiredCertificate("Added", "present", CERTS[0][0])])
    assert result.changed and [c.action for c in result.plan.changes] == ["added"]
    bags = safes.read_bags(path.read_bytes(), "p12-pass")  # the MAC verifies with the password
    assert [(b.friendly_name, b.trusted, b.certificate) for b in bags] == [
        ("added", True, der(CERTS[0][0])), (None, False, der(CERTS[1][0])), (None, False, der(CERTS[2][0]))]
    assert [b.der for b in bags[1:]] == kept
    store = ts.load_truststore(str(path), "p12-pass")
    assert list(store.entries) == ["added"] and store.untrusted == (der(CERTS[1][0]), der(CERTS[2][0]))
    with pytest.raises(TruststoreError, match="wrong password"):
        ts.load_truststore(str(path), "other-pass")
    # a second rewrite keeps them again; one that would leave no trusted certificate is refused, the file unchanged
    ts.converge_truststore(str(path), "p12-pass", [ts.DesiredCertificate("second", "present", make_cert("second.test")[0])])
    again = ts.load_truststore(str(path), "p12-pass")
    assert list(again.entries) == ["added", "second"] and again.kept == tuple(kept)
    before = path.read_bytes()
    with pytest.raises(TruststoreError, match="would hold no trusted certificate"):
        ts.converge_truststore(str(path), "p12-pass", [ts.DesiredCertificate("added", "absent"), ts.DesiredCertificate("second", "absent")])
    assert path.read_bytes() == before


@pytest.mark.skipif(not cryptography_has("pkcs12_write"), reason="writing PKCS12 needs cryptography >= 45.0.0")
def test_bags_are_appended_only_to_the_layout_cryptography_writes():
    from cryptography.hazmat.primitives.serialization import NoEncryption, pkcs12  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.serialization.pkcs12 import PBES  # pylint: disable=import-outside-toplevel

    extra = [bag.der for bag in safes.read_bags(_serialize("keyed", PBES.PBESv2SHA256AndAES256CBC), "p12-pass") if bag.kind == "cert"]
    plain = pkcs12.serialize_java_truststore([pkcs12.PKCS12Certificate(CERTS[0][0], b"plain")], NoEncryption())
    assert [b.der for b in safes.read_bags(safes.append_bags(plain, "", extra), "")][1:] == extra
    with pytest.raises(safes.Unsupported, match="other than PBES2"):
        safes.append_bags(_serialize("trusted", PBES.PBESv1SHA1And3KeyTripleDESCBC), "p12-pass", extra)
