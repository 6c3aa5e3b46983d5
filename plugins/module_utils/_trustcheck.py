# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Would the gateway trust this backend now? The checks a JVM's PKIX trust manager and Synapse's host name
verifier make, run against the certificates a truststore holds.

- The chain builds from the presented leaf to a certificate the store holds (the leaf itself counts, as in Java).
- Every certificate on the path, up to the trust anchor, is within its validity period.
- The host name matches, as the gateway's HostnameVerifier setting says: Strict (a wildcard covers one label),
  Default (a wildcard may cover several), DefaultAndLocalhost (Default, and localhost always passes), AllowAll.
"""

from __future__ import annotations

import datetime
import ipaddress

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.plugins.module_utils._compat import verify_issued_by

# cryptography is imported by the functions that take its certificate objects, not here: check_held() decides the
# usual case (the endpoint presents a certificate the store holds as it is) from the DER, and importing
# cryptography.x509 costs more than the rest of that check (docs/performance.md, "Fleet cost").

VERIFIERS = ("Strict", "Default", "DefaultAndLocalhost", "AllowAll")
MAX_PATH = 10  # certificates on a path, as far as a chain is followed (by build_path here and by _chain)
_LOCALHOST = {"localhost", "localhost.localdomain", "127.0.0.1", "::1"}


def normalize_verifier(value: str | None) -> str:
    if value is None:
        return "DefaultAndLocalhost"
    for name in VERIFIERS:
        if str(value).strip().lower() == name.lower():
            return name
    return "Default"  # Synapse falls back to its default verifier for unknown values


def issued_by(cert, issuer) -> bool:
    """Whether issuer signed cert: names match and issuer's key verifies the signature (never raises)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        verify_issued_by(cert, issuer)
    except Exception:  # noqa: BLE001 - wrong signature or unsupported algorithm: not the issuer
        return False
    return True


def build_path(chain: list, anchors: dict) -> tuple:
    """(path, anchor_alias) from the leaf to a stored certificate, or (None, reason)."""
    by_der = {certs.certificate_der(cert): alias for alias, cert in anchors.items()}
    path = [chain[0]]
    intermediates = list(chain[1:])
    for _attempt in range(MAX_PATH):
        current = path[-1]
        alias = by_der.get(certs.certificate_der(current))
        if alias is not None:
            return path, alias
        for anchor_alias, anchor in anchors.items():
            if issued_by(current, anchor):
                return path + [anchor], anchor_alias
        nxt = next((c for c in intermediates if issued_by(current, c)), None)
        if nxt is None:
            return None, (
                f"no certificate in the truststore issued '{current.subject.rfc4514_string()}' "
                f"(issuer '{current.issuer.rfc4514_string()}'): PKIX path building would fail"
            )
        intermediates.remove(nxt)
        path.append(nxt)
    return None, f"the presented chain is longer than {MAX_PATH} certificates"


# Second-level labels under a two-letter country code that Strict refuses a wildcard for (*.co.uk, *.org.nz, ...).
_BAD_COUNTRY_2LDS = frozenset(("ac", "co", "com", "ed", "edu", "go", "gouv", "gov", "info", "lg", "ne", "net", "or", "org"))


def _hostname_matches(pattern: str, host: str, strict: bool) -> bool:
    """Synapse's rule (httpclient 4's AbstractVerifier): a wildcard counts at the end of the first label of a name with
    at least three labels (``*.a.com``, ``api*.a.com``); Strict wants as many labels as the name has and refuses
    wildcards over a country's second-level domain. Names compare case-insensitively, trailing dots included."""
    pattern, host = pattern.lower(), host.lower()
    parts = pattern.split(".")
    while parts and not parts[-1]:
        parts.pop()  # as Java's String.split drops trailing empty strings
    country_2ld = len(parts) == 3 and len(parts[2]) == 2 and parts[1] in _BAD_COUNTRY_2LDS
    if not (len(parts) >= 3 and parts[0].endswith("*") and not (strict and country_2ld)):
        return pattern == host
    prefix, suffix = parts[0][:-1], pattern[len(parts[0]):]
    if not (host.startswith(prefix) and host[len(prefix):].endswith(suffix)):
        return False
    return not strict or host.count(".") == pattern.count(".")


def _first_common_name(cert) -> str | None:
    """The CN Synapse reads: the first in RFC 2253 order, which is the last (most specific) in the subject."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    names = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return names[-1].value if names else None


def check_hostname(cert, host: str, verifier: str) -> str | None:
    """None when host passes verifier for cert (a cryptography certificate), else the reason."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = sans.get_values_for_type(x509.DNSName)
        ips = sans.get_values_for_type(x509.IPAddress)
    except x509.ExtensionNotFound:
        dns_names, ips = None, []
    return hostname_problem(dns_names, ips, _first_common_name(cert), host, verifier)


def hostname_problem(dns_names, ips: list, common_name, host: str, verifier: str) -> str | None:
    """None when host passes verifier for a certificate with these names, else the reason. dns_names is None when the
    certificate has no subject alternative names; ips are ipaddress objects."""
    verifier = normalize_verifier(verifier)
    if verifier == "AllowAll":
        return None
    if verifier == "DefaultAndLocalhost" and host.lower() in _LOCALHOST:
        return None
    strict = verifier == "Strict"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        # An IP address is checked against the IP SANs; the first CN only when there is none.
        if ips:
            if address in ips:
                return None
            return f"{host} is not among the certificate's IP addresses ({', '.join(map(str, ips))})"
        try:
            if common_name and ipaddress.ip_address(common_name) == address:
                return None
        except ValueError:
            pass
        if common_name and _hostname_matches(common_name, host, strict):
            return None
        return (f"{host} is not among the certificate's IP addresses (none) and does not match its common name "
                f"({common_name or 'none'}) under the {verifier} HostnameVerifier")
    else:
        names = dns_names or ([common_name] if common_name else [])
    if any(_hostname_matches(name, host, strict) for name in names):
        return None
    return f"host name {host} does not match the certificate ({', '.join(names) or 'no names'}) under the {verifier} HostnameVerifier"


def check_held(leaf: bytes, held: str, host: str, verifier: str, now: datetime.datetime | None = None) -> dict | None:
    """The verdict check_trust() gives when the presented leaf (DER) is itself the stored certificate of alias held,
    worked out from the DER without cryptography: {trusted, reason, anchor} when it is trusted, else None (and for
    a certificate the DER reader does not fully understand), so that check_trust() words why not."""
    facts = _der.host_facts(leaf)
    if facts is None:
        return None
    not_before, not_after, dns_names, addresses, common_name = facts
    if certs.status_between(not_before, not_after, now) != "active":
        return None
    if hostname_problem(dns_names, [ipaddress.ip_address(raw) for raw in addresses], common_name, host, verifier):
        return None
    return {"trusted": True, "reason": None, "anchor": held}


def check_trust(chain: list, anchors: dict, host: str, verifier: str, now: datetime.datetime | None = None) -> dict:
    """The verdict for one endpoint: {trusted, reason, anchor}."""
    from ansible_collections.apim.certificates.plugins.module_utils._facts import certificate_facts  # pylint: disable=import-outside-toplevel

    now = now or datetime.datetime.now(datetime.timezone.utc)
    path, found = build_path(chain, anchors)
    if path is None:
        return {"trusted": False, "reason": found, "anchor": None}
    for cert in path:
        status = certs.validity_status(cert, now)
        if status != "active":
            facts = certificate_facts(cert, now)
            when = facts["not_after"] if status == "expired" else facts["not_before"]
            word = "expired on" if status == "expired" else "is not valid before"
            return {"trusted": False, "reason": f"'{facts['subject']}' {word} {when}", "anchor": found}
    mismatch = check_hostname(chain[0], host, verifier)
    if mismatch:
        return {"trusted": False, "reason": mismatch, "anchor": found}
    return {"trusted": True, "reason": None, "anchor": found}
