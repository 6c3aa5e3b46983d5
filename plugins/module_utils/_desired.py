# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turning what a user asked for (alias + content, file or endpoint) into DesiredCertificate items."""

from __future__ import annotations

import re

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError
from ansible_collections.apim.certificates.plugins.module_utils._fileio import read_bytes
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import DesiredCertificate, normalize_alias

MAX_ALIAS_LENGTH = 30  # what the API-M Publisher accepts
_WHITESPACE = re.compile(r"\s")


def validate_alias(alias, strict: bool = True) -> str:
    """API-M's rules (1-30 characters, no spaces) when strict; Java's (non-empty) otherwise."""
    if alias is None or not str(alias).strip():
        raise CertificateError("alias is empty; give a name of 1 to 30 characters")
    alias = str(alias)
    if alias != alias.strip():
        raise CertificateError(f"alias '{alias}' starts or ends with white space")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in alias):
        raise CertificateError(f"alias {alias!r} contains a control character")
    if strict:
        if len(alias) > MAX_ALIAS_LENGTH:
            raise CertificateError(
                f"alias '{alias}' is {len(alias)} characters long; API-M allows at most {MAX_ALIAS_LENGTH} "
                "(set strict_alias to false to allow it)"
            )
        if _WHITESPACE.search(alias):
            raise CertificateError(f"alias '{alias}' contains white space, which API-M does not allow (set strict_alias to false to allow it)")
    return alias


def chain_aliases(alias: str, count: int) -> list:
    """The aliases a chain of count certificates is stored under: alias, alias-1, alias-2, ..."""
    return [alias] + [f"{alias}-{index}" for index in range(1, count)]


def load_certificate_input(*, certificate=None, certificate_path=None, source: str) -> list:
    """Certificates from content or from a file on this host."""
    if certificate_path is not None:
        data = read_bytes(certificate_path, "certificate file")
        return certs.read_certificates(data, f"{source} (certificate_path {certificate_path})")
    return certs.read_certificates(certificate, source)


def desired_items(
    alias: str,
    state: str,
    certificates: list | None,
    *,
    chain: str = "all",
    tenant_id: int | None = None,
    source: str = "certificate",
) -> list:
    """DesiredCertificate items for one requested alias. chain 'leaf' keeps the first certificate only."""
    base = normalize_alias(alias)
    if tenant_id is not None:
        base = f"{base}_{tenant_id}"
    if state == "absent":
        return [DesiredCertificate(base, "absent", None, source)]
    chosen = certificates[:1] if chain == "leaf" else certificates
    return [
        DesiredCertificate(name, "present", cert, source)
        for name, cert in zip(chain_aliases(base, len(chosen)), chosen)
    ]
