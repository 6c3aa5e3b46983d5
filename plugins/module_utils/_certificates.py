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
import re
import traceback
import warnings

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
except ImportError:  # pragma: no cover - exercised by the modules' missing_required_lib path
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError

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


def _der_element_length(data: bytes) -> int | None:
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


def _load_pkcs7(der: bytes) -> list:
    """PKCS#7 bundles are rare: import their loader (4 ms, it pulls in the email package) only when one comes."""
    from cryptography.hazmat.primitives.serialization import pkcs7  # pylint: disable=import-outside-toplevel

    return pkcs7.load_der_pkcs7_certificates(der)


def _load_der_certificate(der: bytes) -> "x509.Certificate":
    with warnings.catch_warnings():
        # Some real CA certificates have non-positive serials; a warning must not become a failure.
        warnings.simplefilter("ignore")
        cert = x509.load_der_x509_certificate(der)
        # cryptography decodes names and extensions lazily: decode them now, so that a certificate it cannot
        # describe is refused here (ValueError) rather than failing later, when it is reported or planned with.
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        len(cert.extensions)
        return cert


def _what_is_der(der: bytes) -> str | None:
    """Name a DER structure that is not a certificate, for the error message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            serialization.load_der_private_key(der, password=None)
            return "a private key (DER)"
        except TypeError:
            return "an encrypted private key (DER)"
        except Exception:  # noqa: BLE001 - any parse failure just means "not a key"
            pass
        try:
            x509.load_der_x509_csr(der)
            return "a certificate signing request (DER)"
        except Exception:  # noqa: BLE001
            pass
        try:
            serialization.load_der_public_key(der)
            return "a bare public key (DER)"
        except Exception:  # noqa: BLE001
            pass
    return None


def _leaf_first(bundle: list) -> list:
    """PKCS#7 keeps its certificates in a SET, in no useful order: put them leaf first, each followed by its issuer."""
    remaining = list(bundle)
    issuers = {c.issuer for c in remaining if c.issuer != c.subject}
    leaves = [c for c in remaining if c.subject not in issuers] or remaining[:1]
    ordered = []
    current = leaves[0]
    while current is not None and current in remaining:
        ordered.append(current)
        remaining.remove(current)
        current = next((c for c in remaining if c.subject == current.issuer), None)
    return ordered + remaining


def _certificates_from_der(der: bytes, source: str) -> list:
    length = _der_element_length(der)
    if length is None or length > len(der):
        raise CertificateError(f"{source}: not a certificate: {_first_bytes(der)}")
    try:
        return [_load_der_certificate(der[:length])]
    except ValueError:
        pass
    try:
        certs = _load_pkcs7(der)
    except ValueError:
        certs = None
    if certs:
        return _leaf_first(list(certs))
    if certs is not None:
        raise CertificateError(f"{source}: the PKCS#7 bundle holds no certificate")
    found = _what_is_der(der)
    if found:
        raise CertificateError(f"{source}: found {found}, not a certificate")
    raise CertificateError(f"{source}: not a certificate: DER data that is neither an X.509 certificate nor a PKCS#7 bundle")


def _first_bytes(data: bytes) -> str:
    if not data:
        return "the content is empty"
    printable = all(32 <= b < 127 or b in (9, 10, 13) for b in data[:32])
    if printable:
        sample = data[:32].decode("ascii").strip().splitlines()[0] if data.strip() else ""
        return f"found neither a PEM block, DER nor base64 DER ({len(data)} bytes, starting '{sample[:24]}')"
    return f"found neither a PEM block, DER nor base64 DER ({len(data)} bytes of binary data starting 0x{data[:4].hex()})"


def parse_certificates(data, source: str = "certificate") -> list:
    """Return the certificates in data (bytes or str), in order. Raise CertificateError otherwise.

    source names the input in error messages, e.g. "certificate for alias 'backend'".
    """
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
                    length = _der_element_length(der)
                    try:
                        if length is None or length > len(der):
                            raise ValueError("truncated")
                        certs.append(_load_der_certificate(der[:length]))
                    except ValueError:
                        raise CertificateError(
                            f"{source}: PEM block '{label.decode()}' number {len(certs) + len(refused) + 1} "
                            "is not a valid X.509 certificate (truncated or corrupt)"
                        ) from None
                else:
                    try:
                        certs.extend(_leaf_first(list(_load_pkcs7(der))))
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
    if _der_element_length(data) is not None:
        return _certificates_from_der(data, source)
    if _BASE64_ONLY.match(stripped):
        try:
            der = base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError):
            der = b""
        if _der_element_length(der) is not None:
            return _certificates_from_der(der, f"{source} (base64 DER)")
    raise CertificateError(f"{source}: not a certificate: {_first_bytes(data)}")


def certificate_der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def certificate_pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


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


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validity_status(cert, now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now > cert.not_valid_after_utc:
        return "expired"
    if now < cert.not_valid_before_utc:
        return "not_yet_valid"
    return "active"


def days_remaining(cert, now: datetime.datetime | None = None) -> int:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (cert.not_valid_after_utc - now) // datetime.timedelta(days=1)


def _general_name(name) -> str:
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.DirectoryName):
        return f"dirName:{name.value.rfc4514_string()}"
    if isinstance(name, x509.RegisteredID):
        return f"RID:{name.value.dotted_string}"
    if isinstance(name, x509.OtherName):
        return f"otherName:{name.type_id.dotted_string}"
    return str(name)


def subject_alt_names(cert) -> list:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    except ValueError:
        return []
    return [_general_name(name) for name in ext.value]


def _is_ca(cert) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _key_identifier(cert, extension_class, attribute):
    try:
        return getattr(cert.extensions.get_extension_for_class(extension_class).value, attribute)
    except (x509.ExtensionNotFound, ValueError):
        return None


def is_self_signed(cert) -> bool:
    """Issued by its own subject: same name, and the authority key identifier, when there is one, is its own key's.

    The signature is not checked: listing a store does not validate it (keytool does not either), verifying an
    EC P-384 self-signature costs about 0.4 ms per entry, and cryptography refuses SHA-1 signatures, which made
    every SHA-1 root (DigiCert Global Root CA, ...) look not self-signed.
    """
    if cert.subject != cert.issuer:
        return False
    authority = _key_identifier(cert, x509.AuthorityKeyIdentifier, "key_identifier")
    if authority is None:
        return True
    return authority == _key_identifier(cert, x509.SubjectKeyIdentifier, "digest")


def public_key_facts(cert) -> dict:
    try:
        key = cert.public_key()
    except Exception:  # noqa: BLE001 - an algorithm cryptography does not know
        return {"type": "unknown", "size": None}
    if isinstance(key, rsa.RSAPublicKey):
        return {"type": "RSA", "size": key.key_size}
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"type": "EC", "size": key.curve.key_size, "curve": key.curve.name}
    if isinstance(key, ed25519.Ed25519PublicKey):
        return {"type": "Ed25519", "size": 256}
    if isinstance(key, ed448.Ed448PublicKey):
        return {"type": "Ed448", "size": 456}
    if isinstance(key, dsa.DSAPublicKey):
        return {"type": "DSA", "size": key.key_size}
    return {"type": type(key).__name__, "size": None}


def _signature_algorithm(cert) -> str:
    oid = cert.signature_algorithm_oid
    name = getattr(oid, "_name", None)
    if name and name != "Unknown OID":
        return name
    return oid.dotted_string


def certificate_facts(cert, now: datetime.datetime | None = None, der: bytes | None = None) -> dict:
    """The facts truststore_info reports for one certificate. Key names are public interface.

    der: the certificate's DER when the caller has it (a truststore entry), to spare re-encoding it.
    """
    der = der if der is not None else certificate_der(cert)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = cert.serial_number
    subject = cert.subject.rfc4514_string()
    return {
        "subject": subject,
        "issuer": subject if cert.issuer == cert.subject else cert.issuer.rfc4514_string(),
        "serial_number": serial,
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "status": validity_status(cert, now),
        "days_remaining": days_remaining(cert, now),
        "fingerprints": {
            "sha1": colon_hex(hashlib.sha1(der).digest()),
            "sha256": colon_hex(hashlib.sha256(der).digest()),
        },
        "subject_alt_names": subject_alt_names(cert),
        "is_ca": _is_ca(cert),
        "self_signed": is_self_signed(cert),
        "signature_algorithm": _signature_algorithm(cert),
        "public_key": public_key_facts(cert),
    }
