# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading X.509 certificates from whatever an operator has at hand, and describing them.

Accepted: PEM (one or many blocks, text around them ignored), DER, base64 DER without PEM armour,
PKCS#7 bundles (PEM or DER). Anything else -- a private key, a CSR, garbage -- is refused with a
message that says what was found instead. Key material is never echoed back.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import importlib.util
import re
import warnings

from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError

# cryptography is imported on first use, not here: storing a certificate that _der fully understands does not need
# it, and importing cryptography.x509 costs more than the rest of such a task. It stays a requirement.
HAS_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None
CRYPTOGRAPHY_IMPORT_ERROR = None if HAS_CRYPTOGRAPHY else "No module named 'cryptography'"


def _x509():
    """cryptography.x509, imported on first use."""
    try:
        from cryptography import x509  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise CertificateError(f"the Python library cryptography (>= 3.4.8) is required and cannot be imported: {exc}") from None
    return x509


def _serialization():
    _x509()
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    return serialization


_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n?(.*?)-----END \1-----", re.DOTALL
)
_PEM_HEADER_LINE = re.compile(rb"^[A-Za-z-]+:.*$", re.MULTILINE)
_BASE64_ONLY = re.compile(rb"^[A-Za-z0-9+/=\s]+$")

_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS"}
_CSR_LABELS = {b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"}


def _describe_label(label: bytes) -> str:
    text = label.decode("ascii", "replace")
    if "PRIVATE KEY" in text:
        return f"a private key (PEM block '{text}')"
    if label in _CSR_LABELS:
        return f"a certificate signing request (PEM block '{text}')"
    if "PUBLIC KEY" in text:
        return f"a bare public key (PEM block '{text}')"
    return f"a PEM block '{text}'"


def der_element_length(data: bytes) -> int | None:
    """Length of the first DER TLV in data, or None when data does not start with one."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return None
    length = int.from_bytes(data[2:2 + count], "big")
    return 2 + count + length


def _pkcs7(der: bytes) -> list:
    """The certificates of a PKCS#7 bundle, leaf first; ValueError when der is not one. Rare: _der_forms reads them."""
    from ansible_collections.apim.certificates.plugins.module_utils._der_forms import pkcs7_certificates  # pylint: disable=import-outside-toplevel

    return pkcs7_certificates(der)


def _what_is_der(der: bytes) -> str | None:
    """What a DER structure that is not a certificate is, for the error message (from _der_forms: errors are rare)."""
    from ansible_collections.apim.certificates.plugins.module_utils._der_forms import what_is_der  # pylint: disable=import-outside-toplevel

    return what_is_der(der)


class CertificateInfo:
    """A certificate as a truststore change uses it: its DER, and the facts a result reports about it."""

    __slots__ = ("der", "subject", "issuer", "not_before", "not_after")

    def __init__(self, der: bytes, subject: str, issuer: str, not_before: datetime.datetime, not_after: datetime.datetime):
        self.der = der
        self.subject = subject
        self.issuer = issuer
        self.not_before = not_before
        self.not_after = not_after

    def __repr__(self) -> str:
        return f"CertificateInfo(subject={self.subject!r}, not_after={iso_utc(self.not_after)})"

    @classmethod
    def from_x509(cls, cert, der: bytes | None = None) -> "CertificateInfo":
        """From a cryptography Certificate (one load_der_certificate accepted)."""
        from ansible_collections.apim.certificates.plugins.module_utils import _compat  # pylint: disable=import-outside-toplevel

        return cls(der if der is not None else certificate_der(cert), cert.subject.rfc4514_string(),
                   cert.issuer.rfc4514_string(), _compat.not_valid_before(cert), _compat.not_valid_after(cert))


def certificate_info(cert) -> CertificateInfo:
    """A CertificateInfo for a CertificateInfo or a cryptography Certificate."""
    return cert if isinstance(cert, CertificateInfo) else CertificateInfo.from_x509(cert)


def describe_der(der: bytes) -> CertificateInfo:
    """CertificateInfo for der: from _der when it fully understands the certificate, else from cryptography.

    ValueError when der is not a certificate cryptography reads.
    """
    summary = _der.summarize_certificate(der)
    if summary is not None:
        return CertificateInfo(der, *summary)
    described = java_judge(der)
    try:
        return CertificateInfo.from_x509(load_der_certificate(der), der)
    except ValueError:
        # Java reads it and cryptography does not (an x400Address name, an empty ExtendedKeyUsage, a BER length...):
        # what Java accepts, the collection stores, described from the DER.
        return CertificateInfo(der, *described)


def java_judge(der: bytes) -> tuple:
    """(subject, issuer, not_before, not_after) of a certificate Java's CertificateFactory accepts; JavaRefusal (a
    ValueError) with Java's reason when it refuses it, ValueError when it is no certificate (see _java_x509)."""
    from ansible_collections.apim.certificates.plugins.module_utils._java_x509 import judge  # pylint: disable=import-outside-toplevel

    return judge(der)


def java_refusal(der: bytes) -> str | None:
    """Java's reason for refusing der, or None when Java accepts it. _der's strict certificates are accepted at once."""
    if _der.summarize_certificate(der) is not None:
        return None
    try:
        java_judge(der)
    except ValueError as exc:  # JavaRefusal, or no certificate Java reads at all
        return str(exc)
    return None


def _java_checked_load(der: bytes):
    """load_der_certificate, for a certificate Java accepts too (JavaRefusal otherwise)."""
    if _der.summarize_certificate(der) is None:
        java_judge(der)
    return load_der_certificate(der)


def load_der_certificate(der: bytes):
    """cryptography's Certificate for der. ValueError when cryptography does not read it as one."""
    x509 = _x509()
    try:
        return _load_der_certificate(x509, der)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - cryptography raises more than ValueError on some certificates
        # (DuplicateExtension, UnsupportedGeneralNameType, InvalidVersion, ...): each is "cannot read it", named.
        raise ValueError(f"{type(exc).__name__}: {exc}") from None


def _load_der_certificate(x509, der: bytes):
    with warnings.catch_warnings():
        # Some real CA certificates have non-positive serials; a warning must not become a failure.
        warnings.simplefilter("ignore")
        cert = x509.load_der_x509_certificate(der)
        # cryptography decodes names and extensions lazily: decode them now, so that a certificate it cannot
        # describe is refused here (ValueError) rather than failing later, when it is reported or planned with.
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        len(cert.extensions)
        # cryptography before 35 parses the validity times lazily too (and refuses a malformed one only then)
        from ansible_collections.apim.certificates.plugins.module_utils import _compat  # pylint: disable=import-outside-toplevel

        _compat.not_valid_before(cert)
        _compat.not_valid_after(cert)
        return cert


def _certificates_from_der(der: bytes, source: str, load, convert) -> list:
    length = der_element_length(der)
    if length is None or length > len(der):
        raise CertificateError(f"{source}: not a certificate: {_first_bytes(der)}")
    try:
        return [load(der[:length])]
    except ValueError as exc:
        _raise_if_java_refuses(exc, source)
    try:
        certs = _pkcs7(der)
    except ValueError:
        certs = None
    if certs:
        return [convert(cert) for cert in certs]
    if certs is not None:
        raise CertificateError(f"{source}: the PKCS#7 bundle holds no certificate")
    found = _what_is_der(der)
    if found:
        raise CertificateError(f"{source}: found {found}, not a certificate")
    raise CertificateError(f"{source}: not a certificate: DER data that is neither an X.509 certificate nor a PKCS#7 bundle")


def _raise_if_java_refuses(exc: ValueError, source: str) -> None:
    """A certificate Java's CertificateFactory refuses gets Java's reason: one such entry makes keytool and the
    gateway refuse the whole store, so it is never stored."""
    from ansible_collections.apim.certificates.plugins.module_utils._java_x509 import JavaRefusal  # pylint: disable=import-outside-toplevel

    if isinstance(exc, JavaRefusal):
        raise CertificateError(
            f"{source}: Java cannot read this certificate ({exc}): keytool and the gateway would refuse every store "
            "holding it, so it is not stored"
        ) from None


def _first_bytes(data: bytes) -> str:
    if not data:
        return "the content is empty"
    printable = all(32 <= b < 127 or b in (9, 10, 13) for b in data[:32])
    if printable:
        sample = data[:32].decode("ascii").strip().splitlines()[0] if data.strip() else ""
        return f"found neither a PEM block, DER nor base64 DER ({len(data)} bytes, starting '{sample[:24]}')"
    return f"found neither a PEM block, DER nor base64 DER ({len(data)} bytes of binary data starting 0x{data[:4].hex()})"


def parse_certificates(data, source: str = "certificate") -> list:
    """Return the certificates in data (bytes or str), in order, as cryptography Certificates.

    Raise CertificateError otherwise. source names the input in error messages, e.g. "certificate for alias 'backend'".
    """
    return _parse(data, source, _java_checked_load, lambda cert: cert)


def read_certificates(data, source: str = "certificate") -> list:
    """parse_certificates for storing them: CertificateInfo items, read without cryptography where _der can.

    Accepts and refuses exactly what parse_certificates does, with the same messages: whatever _der does not fully
    understand goes to cryptography.
    """
    return _parse(data, source, describe_der, CertificateInfo.from_x509)


def _parse(data, source: str, load, convert) -> list:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or not data.strip():
        raise CertificateError(f"{source}: the content is empty")

    if b"-----BEGIN " in data:
        certs = []
        refused = []
        for match in _PEM_BLOCK.finditer(data):
            label, body = match.group(1), match.group(2)
            body = _PEM_HEADER_LINE.sub(b"", body)
            if label in _CERT_LABELS or label in _PKCS7_LABELS:
                try:
                    der = base64.b64decode(b"".join(body.split()), validate=True)
                except (binascii.Error, ValueError):
                    raise CertificateError(f"{source}: PEM block '{label.decode()}' is not valid base64") from None
                if label in _CERT_LABELS:
                    length = der_element_length(der)
                    try:
                        if length is None or length > len(der):
                            raise ValueError("truncated")
                        certs.append(load(der[:length]))
                    except ValueError as exc:
                        _raise_if_java_refuses(exc, f"{source}: PEM block '{label.decode()}' number {len(certs) + len(refused) + 1}")
                        raise CertificateError(
                            f"{source}: PEM block '{label.decode()}' number {len(certs) + len(refused) + 1} "
                            "is not a valid X.509 certificate (truncated or corrupt)"
                        ) from None
                else:
                    try:
                        certs.extend(convert(cert) for cert in _pkcs7(der))
                    except ValueError:
                        raise CertificateError(f"{source}: PEM block '{label.decode()}' is not a valid PKCS#7 bundle") from None
            else:
                refused.append(label)
        if refused:
            found = ", ".join(_describe_label(label) for label in refused)
            raise CertificateError(f"{source}: found {found}; only certificates are accepted")
        if not certs:
            raise CertificateError(f"{source}: a '-----BEGIN' marker without a complete PEM block (truncated?)")
        return certs

    stripped = data.strip()
    if der_element_length(data) is not None:
        return _certificates_from_der(data, source, load, convert)
    if _BASE64_ONLY.match(stripped):
        try:
            der = base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError):
            der = b""
        if der_element_length(der) is not None:
            return _certificates_from_der(der, f"{source} (base64 DER)", load, convert)
    raise CertificateError(f"{source}: not a certificate: {_first_bytes(data)}")


def certificate_der(cert) -> bytes:
    if isinstance(cert, CertificateInfo):
        return cert.der
    return cert.public_bytes(_serialization().Encoding.DER)


def certificate_pem(cert) -> str:
    return cert.public_bytes(_serialization().Encoding.PEM).decode("ascii")


def pem_of_der(der: bytes) -> str:
    """PEM of a certificate's DER, as cryptography writes it (64-character lines), for any DER, read or not."""
    body = base64.b64encode(der).decode("ascii")
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"


def colon_hex(digest: bytes) -> str:
    """keytool's fingerprint form: upper-case hex bytes joined by colons."""
    return digest.hex(":").upper()


def sha256_fingerprint(der: bytes) -> str:
    return colon_hex(hashlib.sha256(der).digest())


def normalize_fingerprint(value: str) -> str:
    """Accept a SHA-256 fingerprint with or without colons, any case, optional 'SHA256:' prefix."""
    text = value.strip()
    if text.upper().startswith("SHA256:") or text.upper().startswith("SHA-256:"):
        text = text.split(":", 1)[1]
    hexdigits = re.sub(r"[\s:]", "", text)
    if not re.fullmatch(r"[0-9A-Fa-f]{64}", hexdigits):
        raise CertificateError(
            f"fingerprint '{value}' is not a SHA-256 fingerprint (64 hex digits, colons optional)"
        )
    return colon_hex(bytes.fromhex(hexdigits))


def iso_utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validity_status(cert, now: datetime.datetime | None = None) -> str:
    if isinstance(cert, CertificateInfo):
        return status_between(cert.not_before, cert.not_after, now)
    from ansible_collections.apim.certificates.plugins.module_utils import _compat  # pylint: disable=import-outside-toplevel

    return status_between(_compat.not_valid_before(cert), _compat.not_valid_after(cert), now)


def status_between(not_before: datetime.datetime, not_after: datetime.datetime, now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now > not_after:
        return "expired"
    if now < not_before:
        return "not_yet_valid"
    return "active"
