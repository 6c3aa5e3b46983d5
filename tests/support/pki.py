"""Real certificates for tests, made on the fly with cryptography (no fixtures to go stale)."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

UTC = datetime.timezone.utc
_KEY_CACHE: dict = {}


def _key(kind: str, slot: int):
    # Generating RSA keys is the slow part of these tests: reuse a few per kind.
    cache_key = (kind, slot % 4)
    if cache_key not in _KEY_CACHE:
        if kind == "ec":
            _KEY_CACHE[cache_key] = ec.generate_private_key(ec.SECP256R1())
        else:
            _KEY_CACHE[cache_key] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEY_CACHE[cache_key]


_counter = [0]


def make_cert(
    cn: str = "backend.test",
    *,
    days: int = 365,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    issuer=None,
    issuer_key=None,
    ca: bool = False,
    sans: list | None = None,
    key_kind: str = "rsa",
    key=None,
):
    """Return (certificate, private key). Self-signed unless issuer/issuer_key are given."""
    _counter[0] += 1
    key = key or _key(key_kind, _counter[0])
    now = datetime.datetime.now(UTC)
    not_before = not_before or now - datetime.timedelta(minutes=5)
    not_after = not_after or now + datetime.timedelta(days=days)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "apim.certificates tests")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    names = []
    for san in sans if sans is not None else [cn]:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def key_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def sha256(cert) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der(cert)).digest())


def expired_cert(cn: str = "expired.test"):
    now = datetime.datetime.now(UTC)
    return make_cert(cn, not_before=now - datetime.timedelta(days=400), not_after=now - datetime.timedelta(days=1))


def _der_tlv(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes([tag, length]) + body
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + body


def pkcs7_bundle(certs: list, encoding=serialization.Encoding.PEM) -> bytes:
    """A certificates-only PKCS#7 bundle, as `openssl crl2pkcs7 -nocrl` makes one.

    cryptography's pkcs7.serialize_certificates (37.0) where the test runs on such a version; else the same
    degenerate SignedData built here, so the tests also run on the oldest cryptography the collection supports.
    """
    from cryptography.hazmat.primitives.serialization import pkcs7  # pylint: disable=import-outside-toplevel

    if hasattr(pkcs7, "serialize_certificates"):
        return pkcs7.serialize_certificates(list(certs), encoding)
    oid_signed_data = bytes.fromhex("06092a864886f70d010702")
    oid_data = bytes.fromhex("06092a864886f70d010701")
    signed = _der_tlv(0x30, b"".join([
        bytes.fromhex("020101"),  # version 1
        _der_tlv(0x31, b""),  # digestAlgorithms: none
        _der_tlv(0x30, oid_data),  # encapContentInfo without content
        _der_tlv(0xA0, b"".join(der(c) for c in certs)),  # [0] certificates
        _der_tlv(0x31, b""),  # signerInfos: none
    ]))
    data = _der_tlv(0x30, oid_signed_data + _der_tlv(0xA0, signed))
    if encoding == serialization.Encoding.DER:
        return data
    import base64  # pylint: disable=import-outside-toplevel

    body = base64.encodebytes(data).replace(b"\n", b"")
    lines = b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN PKCS7-----\n" + lines + b"\n-----END PKCS7-----\n"


def not_valid_before(cert) -> datetime.datetime:
    """The start of validity, aware UTC, on every cryptography version the collection supports."""
    return getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=UTC)


def not_valid_after(cert) -> datetime.datetime:
    return getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=UTC)


def cryptography_has(feature: str) -> bool:
    """Whether the test's cryptography has feature (see plugins/module_utils/_compat.py)."""
    from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel

    return {
        "pkcs12_read": hasattr(pkcs12, "load_pkcs12"),
        "pkcs12_write": hasattr(pkcs12, "serialize_java_truststore"),
    }[feature]
