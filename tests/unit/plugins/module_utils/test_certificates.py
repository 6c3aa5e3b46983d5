from __future__ import annotations

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError
from ansible_collections.apim.certificates.plugins.module_utils._facts import certificate_facts
from ansible_collections.apim.certificates.tests.support.pki import der, expired_cert, key_pem, make_cert, pem, pkcs7_bundle, sha256

LEAF, LEAF_KEY = make_cert("leaf.test", sans=["leaf.test", "127.0.0.1"])
OTHER, _unused_key = make_cert("other.test", key_kind="ec")


def _csr_pem(key) -> str:
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr.test")])
    ).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _pkcs7(*items, encoding=serialization.Encoding.PEM) -> bytes:
    return pkcs7_bundle(list(items), encoding)


@pytest.mark.parametrize(
    "data, expected",
    [
        pytest.param(pem(LEAF), [LEAF], id="pem"),
        pytest.param("Bag Attributes\n  friendlyName: x\n" + pem(LEAF) + "trailing text\n", [LEAF], id="pem-with-text-around"),
        pytest.param(pem(LEAF) + pem(OTHER), [LEAF, OTHER], id="pem-bundle"),
        pytest.param(pem(LEAF).replace("\n", "\r\n"), [LEAF], id="pem-crlf"),
        pytest.param(der(LEAF), [LEAF], id="der"),
        pytest.param(base64.b64encode(der(LEAF)).decode(), [LEAF], id="base64-der"),
        pytest.param(base64.encodebytes(der(LEAF)).decode(), [LEAF], id="base64-der-wrapped"),
        pytest.param(_pkcs7(LEAF, OTHER), [LEAF, OTHER], id="pkcs7-pem"),
        pytest.param(_pkcs7(LEAF, OTHER, encoding=serialization.Encoding.DER), [LEAF, OTHER], id="pkcs7-der"),
    ],
)
def test_parse_accepts_every_form_operators_have(data, expected, request):
    found = certs.parse_certificates(data)
    if expected == [LEAF, OTHER] and "pkcs7" in request.node.callspec.id:
        # Two unrelated certificates: a PKCS#7 SET has no order to keep.
        assert sorted(sha256(c) for c in found) == sorted(sha256(c) for c in expected)
    else:
        assert [sha256(c) for c in found] == [sha256(c) for c in expected]


def test_pkcs7_bundle_comes_out_leaf_first():
    ca, ca_key = make_cert("root.test", ca=True)
    mid, mid_key = make_cert("intermediate.test", ca=True, issuer=ca, issuer_key=ca_key)
    leaf, _unused_key = make_cert("leaf.test", issuer=mid, issuer_key=mid_key)
    for order in ([ca, mid, leaf], [leaf, ca, mid], [mid, leaf, ca]):
        found = certs.parse_certificates(_pkcs7(*order))
        assert [sha256(c) for c in found] == [sha256(leaf), sha256(mid), sha256(ca)]


@pytest.mark.parametrize(
    "data, message",
    [
        pytest.param(key_pem(LEAF_KEY), "found a private key", id="private-key-pem"),
        pytest.param(
            LEAF_KEY.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
            "found a private key (DER)", id="private-key-der",
        ),
        pytest.param(pem(LEAF) + key_pem(LEAF_KEY), "found a private key", id="cert-plus-key"),
        pytest.param(_csr_pem(LEAF_KEY), "certificate signing request", id="csr"),
        pytest.param("hello world, not a certificate", "not a certificate", id="garbage-text"),
        pytest.param(b"\x00\x01\x02\xff" * 10, "binary data", id="garbage-binary"),
        pytest.param("", "empty", id="empty"),
        pytest.param("   \n", "empty", id="blank"),
        pytest.param(pem(LEAF)[:200], "without a complete PEM block", id="truncated-pem"),
        pytest.param(der(LEAF)[:300], "not a certificate", id="truncated-der"),
        pytest.param("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not valid base64", id="bad-base64"),
        pytest.param(
            "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"\x30\x03\x02\x01\x01").decode() + "\n-----END CERTIFICATE-----\n",
            "not a valid X.509 certificate", id="pem-not-x509",
        ),
        pytest.param(
            LEAF.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
            "bare public key", id="public-key",
        ),
    ],
)
def test_parse_refuses_with_what_was_found(data, message):
    with pytest.raises(CertificateError) as info:
        certs.parse_certificates(data, "certificate for alias 'x'")
    assert message in str(info.value)
    assert "certificate for alias 'x'" in str(info.value)


def test_private_key_material_is_never_echoed():
    body = key_pem(LEAF_KEY).splitlines()[1]
    with pytest.raises(CertificateError) as info:
        certs.parse_certificates(key_pem(LEAF_KEY))
    assert body[:20] not in str(info.value)


def test_facts_describe_the_certificate():
    facts = certificate_facts(LEAF)
    assert facts["subject"] == "O=apim.certificates tests,CN=leaf.test"
    assert facts["issuer"] == facts["subject"]
    assert facts["serial_number"] == LEAF.serial_number
    assert facts["fingerprints"]["sha256"] == sha256(LEAF)
    assert len(facts["fingerprints"]["sha1"].split(":")) == 20
    assert facts["subject_alt_names"] == ["DNS:leaf.test", "IP:127.0.0.1"]
    assert facts["status"] == "active"
    assert 363 <= facts["days_remaining"] <= 365
    assert facts["self_signed"] is True
    assert facts["is_ca"] is False
    assert facts["signature_algorithm"] == "sha256WithRSAEncryption"
    assert facts["public_key"] == {"type": "RSA", "size": 2048}
    assert facts["not_after"].endswith("Z") and "T" in facts["not_after"]


def test_facts_of_ec_and_issued_certificates():
    ca, ca_key = make_cert("ca.test", ca=True)
    leaf, _unused_key = make_cert("issued.test", issuer=ca, issuer_key=ca_key, key_kind="ec")
    facts = certificate_facts(leaf)
    assert facts["self_signed"] is False
    assert facts["issuer"] == "O=apim.certificates tests,CN=ca.test"
    assert facts["public_key"] == {"type": "EC", "size": 256, "curve": "secp256r1"}
    assert facts["signature_algorithm"] == "sha256WithRSAEncryption"
    assert certificate_facts(ca)["is_ca"] is True


@pytest.mark.parametrize(
    "offset_before, offset_after, status",
    [(-10, 10, "active"), (-10, -1, "expired"), (1, 10, "not_yet_valid")],
)
def test_status(offset_before, offset_after, status):
    now = datetime.datetime.now(datetime.timezone.utc)
    cert, _unused_key = make_cert(
        "s.test", not_before=now + datetime.timedelta(days=offset_before), not_after=now + datetime.timedelta(days=offset_after)
    )
    assert certificate_facts(cert)["status"] == status


def test_expired_has_negative_days_remaining():
    cert, _unused_key = expired_cert()
    assert certificate_facts(cert)["days_remaining"] < 0


@pytest.mark.parametrize(
    "given",
    [
        lambda fp: fp,
        lambda fp: fp.replace(":", ""),
        lambda fp: fp.lower(),
        lambda fp: "SHA256:" + fp,
        lambda fp: "sha256: " + fp.replace(":", "").lower(),
    ],
)
def test_fingerprint_forms_normalize_to_keytools(given):
    fp = sha256(LEAF)
    assert certs.normalize_fingerprint(given(fp)) == fp


@pytest.mark.parametrize("bad", ["", "abc", "ZZ" * 32, "AB:" * 31 + "AB:CD"])
def test_bad_fingerprints_are_refused(bad):
    with pytest.raises(CertificateError, match="not a SHA-256 fingerprint"):
        certs.normalize_fingerprint(bad)
