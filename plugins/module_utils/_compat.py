# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the node's Python libraries can do, found by trying the feature, never by comparing version strings.

Gateway nodes run the Python libraries their distribution ships (docs/managed-nodes.md): cryptography from 3.4.8
(Ubuntu 22.04) and tomlkit from 0.9.2. Everything works there except the few operations that truly need a newer
library; those raise MissingLibraryError, whose message follows Ansible's missing_required_lib() and names the
library, the version needed, the version found and the operation.

| feature | first cryptography with it | used for | without it |
|---|---|---|---|
| Certificate.not_valid_before_utc/_after_utc | 42.0 | validity | the naive not_valid_* read as UTC |
| Certificate.verify_directly_issued_by | 40.0 | trust checks | the issuer's public key verifies the signature |
| pkcs12.load_pkcs12 (friendly names) | 36.0 | reading PKCS12 stores | MissingLibraryError |
| pkcs12.serialize_java_truststore | 45.0 | writing PKCS12 stores | MissingLibraryError |
| hazmat.decrepit TripleDES | 43.0 | JCEKS key entries | primitives' TripleDES (removed in 48.0) |

tomlkit's ``unwrap()`` (0.11.0) is replaced by ``toml_values``, which works on every tomlkit from 0.9.
"""

from __future__ import annotations

import datetime
import sys

from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError

_UTC = datetime.timezone.utc
DOCS_HINT = "docs/managed-nodes.md lists the OS packages per distribution"


def library_version(name: str) -> str | None:
    """The installed version of a library, or None when it cannot be imported (for messages only)."""
    try:
        module = __import__(name)
    except ImportError:
        return None
    return str(getattr(module, "__version__", "unknown version"))


class MissingLibraryError(ApimCertificatesError):
    """An operation needs a newer (or any) version of a Python library than the node's Python has."""

    def __init__(self, library: str, needed: str, operation: str, found: str | None = None):
        self.library = library
        self.needed = needed
        self.operation = operation
        self.found = found if found is not None else library_version(library.split("[")[0])
        have = f"{library} {self.found}" if self.found else f"no {library}"
        import platform  # pylint: disable=import-outside-toplevel  # only on this error path
        super().__init__(
            f"Failed to import the required Python library ({library} >= {needed}) on {platform.node()}'s Python "
            f"{sys.executable}. This is required for {operation}; found {have}. Install {library} >= {needed} for that "
            "Python (an OS package where the distribution has one, or a virtualenv: then point "
            f"ansible_python_interpreter at it); {DOCS_HINT}."
        )


# --- cryptography -------------------------------------------------------------------------------------


def not_valid_before(cert) -> datetime.datetime:
    """The start of the validity period, timezone-aware UTC, on every cryptography version."""
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:
        value = cert.not_valid_before.replace(tzinfo=_UTC)
    return value


def not_valid_after(cert) -> datetime.datetime:
    """The end of the validity period, timezone-aware UTC, on every cryptography version."""
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=_UTC)
    return value


def pkcs12_reader():
    """cryptography's pkcs12 module when it can read a store with its friendly names (load_pkcs12, 36.0)."""
    try:
        from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError("cryptography", "36.0.0", "reading a PKCS12 truststore") from None
    if not hasattr(pkcs12, "load_pkcs12"):
        raise MissingLibraryError("cryptography", "36.0.0", "reading a PKCS12 truststore (pkcs12.load_pkcs12)")
    return pkcs12


def pkcs12_writer():
    """cryptography's pkcs12 module when it can write a truststore Java sees (serialize_java_truststore, 45.0)."""
    try:
        from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel
    except ImportError:
        pkcs12 = None
    if not hasattr(pkcs12, "serialize_java_truststore"):
        raise MissingLibraryError(
            "cryptography", "45.0.0",
            "writing a PKCS12 truststore (pkcs12.serialize_java_truststore); JKS and JCEKS truststores need no more "
            "than cryptography 3.4.8",
        )
    return pkcs12


def triple_des():
    """cryptography's TripleDES cipher class (JCEKS key entries): in hazmat.decrepit from 43.0, in primitives before
    (where 48.0 removes it)."""
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES  # pylint: disable=import-outside-toplevel
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES  # pylint: disable=import-outside-toplevel
    return TripleDES


def pkcs12_key_writer():
    """cryptography's pkcs12 module for writing a PKCS12 keystore (serialize_key_and_certificates, in 3.4.8 already)."""
    try:
        from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel
    except ImportError:
        pkcs12 = None
    if not hasattr(pkcs12, "serialize_key_and_certificates"):
        raise MissingLibraryError("cryptography", "3.4.8", "writing a PKCS12 keystore (pkcs12.serialize_key_and_certificates)")
    return pkcs12


def verify_issued_by(cert, issuer) -> None:
    """Raise when cert's signature was not made by issuer's key (cryptography's own check where it has one)."""
    verify = getattr(cert, "verify_directly_issued_by", None)
    if verify is not None:
        verify(issuer)
        return
    # cryptography < 40: verify the signature with the issuer's public key, by key type.
    # pylint: disable-next=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

    if cert.issuer != issuer.subject:
        raise ValueError("issuer name mismatch")
    key = issuer.public_key()
    signature, data, digest = cert.signature, cert.tbs_certificate_bytes, cert.signature_hash_algorithm
    if isinstance(key, rsa.RSAPublicKey):
        if cert.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10":  # RSASSA-PSS
            # The salt length is in the algorithm parameters, which old cryptography does not expose: the usual
            # one (the digest's size) first, then any.
            for salt in (digest.digest_size, padding.PSS.MAX_LENGTH):
                try:
                    key.verify(signature, data, padding.PSS(mgf=padding.MGF1(digest), salt_length=salt), digest)
                    return
                except Exception:  # noqa: BLE001 - InvalidSignature: try the next salt length
                    continue
            raise ValueError("invalid RSASSA-PSS signature")
        key.verify(signature, data, padding.PKCS1v15(), digest)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(digest))
    elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        key.verify(signature, data)
    elif isinstance(key, dsa.DSAPublicKey):
        key.verify(signature, data, digest)
    else:
        raise ValueError(f"unsupported issuer key type {type(key).__name__}")


# --- tomlkit ------------------------------------------------------------------------------------------


def toml_values(item):
    """Plain Python values (dict, list, str, int, float, bool, datetime) of a tomlkit document or item.

    tomlkit's own unwrap() exists only from 0.11.0; this works from 0.9 on. tomlkit's items subclass the plain
    types (its Bool is a real bool from 0.9 on), so converting by type is enough.
    """
    if isinstance(item, dict):
        return {str(key): toml_values(value) for key, value in item.items()}
    if isinstance(item, list):
        return [toml_values(value) for value in item]
    if isinstance(item, bool):
        return bool(item)
    if isinstance(item, str):
        return str(item)
    if isinstance(item, int):
        return int(item)
    if isinstance(item, float):
        return float(item)
    if isinstance(item, datetime.datetime):
        return datetime.datetime(item.year, item.month, item.day, item.hour, item.minute, item.second,
                                 item.microsecond, item.tzinfo)
    if isinstance(item, datetime.date):
        return datetime.date(item.year, item.month, item.day)
    if isinstance(item, datetime.time):
        return datetime.time(item.hour, item.minute, item.second, item.microsecond, item.tzinfo)
    value = getattr(item, "value", item)
    return value if value is not item else item
