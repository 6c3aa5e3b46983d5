# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What truststore_info and cert_info report about a certificate: every fact, read through cryptography.

Kept apart from _certificates (reading certificates) so that a module that only stores certificates neither
imports cryptography nor compiles this code: AnsiballZ modules compile their module_utils on every run.
"""

from __future__ import annotations

import datetime
import hashlib
import warnings

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
except ImportError:  # pragma: no cover - the modules report the missing library (HAS_CRYPTOGRAPHY) before using this
    x509 = dsa = ec = ed448 = ed25519 = rsa = None

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._compat import not_valid_after, not_valid_before
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import PRIVATE_KEY


def days_remaining(cert, now: datetime.datetime | None = None) -> int:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (not_valid_after(cert) - now) // datetime.timedelta(days=1)


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
        return {"type": "Ed25519", "size": 255}  # keytool: "255-bit Ed25519 key"
    if isinstance(key, ed448.Ed448PublicKey):
        return {"type": "Ed448", "size": 448}  # keytool: "448-bit Ed448 key"
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
    der = der if der is not None else certs.certificate_der(cert)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = cert.serial_number
    subject = cert.subject.rfc4514_string()
    return {
        "subject": subject,
        "issuer": subject if cert.issuer == cert.subject else cert.issuer.rfc4514_string(),
        "serial_number": serial,
        "not_before": certs.iso_utc(not_valid_before(cert)),
        "not_after": certs.iso_utc(not_valid_after(cert)),
        "status": certs.validity_status(cert, now),
        "days_remaining": days_remaining(cert, now),
        "fingerprints": {
            "sha1": certs.colon_hex(hashlib.sha1(der).digest()),
            "sha256": certs.colon_hex(hashlib.sha256(der).digest()),
        },
        "subject_alt_names": subject_alt_names(cert),
        "is_ca": _is_ca(cert),
        "self_signed": is_self_signed(cert),
        "signature_algorithm": _signature_algorithm(cert),
        "public_key": public_key_facts(cert),
    }


def entry_facts(entry, now: datetime.datetime | None = None) -> dict:
    """One entry as truststore_info reports it; a key entry also with its chain (never its key)."""
    facts = _entry_facts(entry, now)
    if entry.entry_type == PRIVATE_KEY:
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.apim.certificates.plugins.module_utils._keystore_report import chain_facts, entry_chain

        facts["chain"] = chain_facts(entry_chain(entry), now)
    return facts


def _entry_facts(entry, now: datetime.datetime | None = None) -> dict:
    facts = {"alias": entry.alias, "entry_type": entry.entry_type}
    if entry.certificate is None:
        facts.update(dict.fromkeys(_CERTIFICATE_FACTS))
        facts.update(java_error=None, unread_facts=None)
        return facts
    der = entry.certificate
    try:
        cert = certs.load_der_certificate(der)
    except ValueError as exc:
        facts.update(_facts_without_cryptography(der, now, exc))
        return facts
    facts.update(certificate_facts(cert, now, der=der))
    facts.update(java_error=certs.java_refusal(der), unread_facts=None)
    return facts


_CERTIFICATE_FACTS = (
    "subject", "issuer", "serial_number", "not_before", "not_after", "status", "days_remaining", "fingerprints",
    "subject_alt_names", "is_ca", "self_signed", "signature_algorithm", "public_key",
)


def _facts_without_cryptography(der: bytes, now, reason: ValueError) -> dict:
    """The facts of a certificate cryptography cannot read: what Java reads of it (subject, issuer, validity), its
    fingerprints, and why the rest is missing. A certificate Java refuses too is reported with Java's reason."""
    facts = dict.fromkeys(_CERTIFICATE_FACTS)
    facts["fingerprints"] = {"sha1": certs.colon_hex(hashlib.sha1(der).digest()),
                             "sha256": certs.colon_hex(hashlib.sha256(der).digest())}
    facts["unread_facts"] = f"cryptography cannot read this certificate ({reason})"
    facts["java_error"] = None
    try:
        subject, issuer, not_before, not_after = certs.java_judge(der)
    except ValueError as exc:
        facts["java_error"] = str(exc)
        return facts
    now = now or datetime.datetime.now(datetime.timezone.utc)
    facts.update(subject=subject, issuer=issuer, not_before=certs.iso_utc(not_before), not_after=certs.iso_utc(not_after),
                 status=certs.status_between(not_before, not_after, now),
                 days_remaining=(not_after - now) // datetime.timedelta(days=1), self_signed=subject == issuer)
    return facts
