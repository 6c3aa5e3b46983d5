# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What to trust from a chain a backend serves (or a user gives), and the pins it must match.

A backend's routine renewal replaces its leaf under the same CA: trusting the leaf breaks the gateway at every
renewal, trusting the CA that signed it does not. So a chain is read as a verified path first: from the leaf up,
each next certificate is one the chain presents whose subject is the current one's issuer and whose key verifies
its signature (at most MAX_CHAIN certificates). Only certificates on that path can be trusted as the issuer or the
root, and only they can match a pin: a certificate merely appended to a chain never does (OkHttp's
CVE-2016-2402). Pins are the certificate's SHA-256 (the option fingerprint) or its SubjectPublicKeyInfo's SHA-256
(RFC 7469: ``sha256/<base64>``, or 64 hex digits), which survives a renewal that keeps the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError
from ansible_collections.apim.certificates.plugins.module_utils._trustcheck import MAX_PATH as MAX_CHAIN, issued_by

_HEX = re.compile(r"[0-9A-Fa-f]{64}")


def spki_sha256(der: bytes) -> bytes | None:
    """SHA-256 of a certificate's SubjectPublicKeyInfo (DER), or None when it cannot be found."""
    key = _der.spki(der)
    return hashlib.sha256(key).digest() if key is not None else None


def spki_pin(digest: bytes) -> str:
    """The RFC 7469 form of an SPKI SHA-256."""
    return "sha256/" + base64.b64encode(digest).decode("ascii")


def parse_spki_pin(value) -> bytes:
    """An SPKI pin as its 32 bytes: ``sha256/<base64>`` (RFC 7469) or 64 hex digits (colons optional)."""
    text = str(value).strip()
    if text.lower().startswith("sha256/"):
        try:
            digest = base64.b64decode(text[7:], validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) == 32:
            return digest
    else:
        hexdigits = re.sub(r"[\s:]", "", text)
        if _HEX.fullmatch(hexdigits):
            return bytes.fromhex(hexdigits)
    raise CertificateError(
        f"spki_pins item '{value}' is not a SHA-256 SPKI pin: give sha256/<base64 of 32 bytes> (RFC 7469, as "
        "'openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64' prints it) "
        "or 64 hex digits")


class Link:
    """One certificate of a verified path: its place in the chain, its DER and facts, and whether it is a CA
    (basicConstraints cA)."""

    __slots__ = ("index", "der", "subject", "issuer", "is_ca", "sha256", "spki")

    def __init__(self, chain: list, index: int, loaded=None):
        cert = chain[index]
        self.index = index
        self.der = certs.certificate_der(cert)
        info = certs.certificate_info(cert)
        self.subject, self.issuer = info.subject, info.issuer
        self.is_ca = _is_ca(loaded) if loaded is not None else None
        self.sha256 = certs.sha256_fingerprint(self.der)
        digest = spki_sha256(self.der)
        self.spki = spki_pin(digest) if digest is not None else None

    def describe(self) -> str:
        return f"'{self.subject}' (SHA-256 {self.sha256}, SPKI {self.spki or 'unreadable'})"


def _x509(der: bytes):
    try:
        return certs.load_der_certificate(der)
    except (ValueError, CertificateError):
        return None  # a certificate only Java reads: it cannot be shown to sign or be signed here


def _is_ca(cert) -> bool:
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def is_ca_certificate(der: bytes):
    """True for a CA certificate (basicConstraints cA), False for any other, None when cryptography cannot read it."""
    cert = _x509(der)
    return None if cert is None else _is_ca(cert)


def verified_path(chain: list, source: str) -> tuple:
    """(path, note): the Links from the leaf up, each signed by the next; note says why the path stops where it does
    (None when it ends at a self-signed certificate)."""
    if len(chain) > MAX_CHAIN:
        raise CertificateError(f"{source}: the chain has {len(chain)} certificates; at most {MAX_CHAIN} are accepted "
                               "(Java's path building stops there too)")
    loaded = [_x509(certs.certificate_der(cert)) for cert in chain]
    path = [Link(chain, 0, loaded[0])]
    current, remaining = loaded[0], list(range(1, len(chain)))
    if current is None:
        return path, f"{path[0].describe()} cannot be read to verify its issuer's signature"
    while not issued_by(current, current):  # up to a self-signed certificate
        named = [i for i in remaining if loaded[i] is not None and loaded[i].subject == current.issuer]
        nxt = next((i for i in named if issued_by(current, loaded[i])), None)
        if nxt is None:
            issuer = current.issuer.rfc4514_string()
            if named:
                return path, f"the chain presents '{issuer}', but its key does not verify the signature of '{path[-1].subject}'"
            return path, f"the chain does not present the issuer of '{path[-1].subject}' ('{issuer}')"
        remaining.remove(nxt)
        path.append(Link(chain, nxt, loaded[nxt]))
        current = loaded[nxt]
    return path, None


def select(chain: list, mode: str, source: str) -> list:
    """The certificates to store for mode: the chain as given (all), its first (leaf), or from its verified path the
    certificate that signed the leaf (issuer) or the topmost one (root)."""
    if mode == "all":
        return list(chain)
    if mode == "leaf":
        return list(chain[:1])
    path, note = verified_path(chain, source)
    if len(path) == 1:
        if note is None:
            raise CertificateError(f"{source}: the chain holds no CA: {path[0].describe()} is self-signed, so there is no "
                                   f"issuer to trust; use chain (trust) leaf for it")
        raise CertificateError(f"{source}: cannot trust the {mode}: {note}. Give the CA's certificate with certificate "
                               "or certificate_path, or trust the leaf")
    chosen = path[1] if mode == "issuer" else path[-1]
    for link in path[1:path.index(chosen) + 1]:
        if not link.is_ca:
            raise CertificateError(f"{source}: {link.describe()} signed the chain but is not a CA (its basicConstraints "
                                   "do not say cA=true), and Java does not accept it as an issuer; nothing was written")
    return [chain[chosen.index]]


def parse_pins(fingerprint, spki_pins) -> tuple:
    """({certificate SHA-256}, {SPKI pin, RFC 7469 form}); a malformed pin is a CertificateError naming it."""
    wanted_certs = {certs.normalize_fingerprint(fingerprint)} if fingerprint else set()
    return wanted_certs, {spki_pin(parse_spki_pin(pin)) for pin in (spki_pins or [])}


def check_pins(chain: list, fingerprint, spki_pins, source: str) -> None:
    """Refuse a chain whose verified path (the leaf and the CAs that verifiably signed up from it) matches none of the
    pins: the certificate SHA-256 (fingerprint) and the SPKI pins. Names both sets when it refuses."""
    if not fingerprint and not spki_pins:
        return
    wanted_certs, wanted_keys = parse_pins(fingerprint, spki_pins)
    leaf = Link(chain, 0)
    if leaf.sha256 in wanted_certs or leaf.spki in wanted_keys:
        return  # the usual case: no path to build, no cryptography to load
    path, _note = verified_path(chain, source)
    trusted = [path[0]]
    for link in path[1:]:
        if not link.is_ca:
            break
        trusted.append(link)
    if any(link.sha256 in wanted_certs or link.spki in wanted_keys for link in trusted):
        return
    pins = [f"fingerprint {pin}" for pin in sorted(wanted_certs)] + [f"spki_pins {pin}" for pin in sorted(wanted_keys)]
    served = "; ".join(("leaf " if index == 0 else "CA ") + link.describe() for index, link in enumerate(trusted))
    extra = len(chain) - len(trusted)
    more = f" ({extra} more presented certificate(s) are not on the verified path and cannot match)" if extra else ""
    raise CertificateError(f"{source}: no certificate of the chain matches a pin. Pins: {', '.join(pins)}. "
                           f"Verified chain: {served}{more}. Nothing was written")


def leaf_only_warning(chain: list, where: str) -> str | None:
    """The warning for trusting a CA-issued leaf only (None for a self-signed one, whose renewal changes it anyway)."""
    try:
        path, _note = verified_path(chain, where)
    except CertificateError:
        return None  # too long: select() or the trust check names it
    if len(path) < 2 or not path[1].is_ca:
        return None
    return (f"{where}: only the leaf '{path[0].subject}' is trusted, and the next renewal of it breaks trust; trust its "
            f"issuer '{path[1].subject}' (chain: issuer) to keep trust across renewals")
