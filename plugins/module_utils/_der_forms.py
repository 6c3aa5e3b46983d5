# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DER input that is not one plain certificate: a PKCS#7 bundle (its certificates, leaf first), or a key or a CSR
(named for the error message). Through cryptography, and imported by _certificates only on these rare paths: a
module that only stores certificates neither imports cryptography nor compiles this code.
"""

from __future__ import annotations

import warnings

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - callers report the missing library (HAS_CRYPTOGRAPHY) first
    x509 = None


def what_is_der(der: bytes) -> str | None:
    """Name a DER structure that is not a certificate, for the error message."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

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


def pkcs7_certificates(der: bytes) -> list:
    """The certificates of a PKCS#7 bundle (DER), leaf first. ValueError when der is not one."""
    from cryptography.hazmat.primitives.serialization import pkcs7  # pylint: disable=import-outside-toplevel  # 4 ms: email

    return _leaf_first(list(pkcs7.load_der_pkcs7_certificates(der)))
