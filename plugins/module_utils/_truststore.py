# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Java truststores (JKS, JCEKS, PKCS12) as a map alias -> entry, read and written without a JRE.

JKS and JCEKS (one layout but for the magic number) are read and written by this module's own codec:
key entries are kept in their encrypted form, never decrypted, and written back byte for byte; aliases are
Java's modified UTF-8. pyjks is used only for JCEKS stores that hold secret keys (serialized Java objects),
which are then read-only. PKCS12 is read through cryptography plus a walk of the unencrypted bags (where Java
keeps key entries), and written through cryptography's serialize_java_truststore, which adds the attribute Java
needs to see a trusted entry; a PKCS12 store holding anything but trusted certificates is never rewritten.

Aliases follow Java: case-insensitive, kept lower-case.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import os
import struct
import time

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import (
    ApimCertificatesError,
    CertificateError,
    TruststoreError,
)
from ansible_collections.apim.certificates.plugins.module_utils._fileio import lock_directory, read_bytes, write_atomic

try:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, NoEncryption, pkcs12
except ImportError:  # pragma: no cover
    pass

STORE_TYPES = ("JKS", "JCEKS", "PKCS12")
TRUSTED_CERT = "trustedCertEntry"
PRIVATE_KEY = "PrivateKeyEntry"
SECRET_KEY = "SecretKeyEntry"

_MAGIC = {"JKS": b"\xfe\xed\xfe\xed", "JCEKS": b"\xce\xce\xce\xce"}
_WHITENING = b"Mighty Aphrodite"

_jks = None


def _pyjks():
    """Import pyjks on first use: it costs ~90 ms, and only JCEKS stores holding secret keys need it."""
    global _jks  # pylint: disable=global-statement
    if _jks is None:
        try:
            import jks  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise TruststoreError(
                "the Python library pyjks is required to read JKS and JCEKS truststores; install it with 'pip install pyjks'"
            ) from None
        _jks = jks
    return _jks


def normalize_store_type(value: str | None) -> str:
    """'auto' (or None) stays 'auto'; JKS/JCEKS/PKCS12 in any case are accepted; 'p12'/'pfx' mean PKCS12."""
    if value is None:
        return "auto"
    text = str(value).strip().upper()
    if text == "AUTO":
        return "auto"
    if text in ("P12", "PFX", "PKCS#12"):
        text = "PKCS12"
    if text not in STORE_TYPES:
        raise TruststoreError(f"store_type '{value}' is not one of auto, JKS, JCEKS, PKCS12")
    return text


def normalize_alias(alias: str) -> str:
    """Java treats aliases case-insensitively and JKS/JCEKS store them lower-case."""
    return alias.lower()


@dataclasses.dataclass
class TruststoreEntry:
    alias: str
    entry_type: str
    certificate: bytes | None  # DER of the trusted certificate, or the first of a key entry's chain
    timestamp: int | None = None  # milliseconds since the epoch, as JKS records it
    chain: tuple = ()  # key entries: ((cert type, DER), ...)
    protected_key: bytes | None = None  # key entries: the encrypted key, written back as read

    @property
    def sha256(self) -> str | None:
        if self.certificate is None:
            return None
        return certs.colon_hex(hashlib.sha256(self.certificate).digest())


@dataclasses.dataclass
class Truststore:
    path: str | None
    store_type: str
    entries: dict  # alias -> TruststoreEntry, in file order
    integrity_verified: bool = True
    exists: bool = True
    has_secret_keys: bool = False
    opaque: str | None = None  # why this store must not be rewritten, when its content is not fully understood
    raw: bytes | None = dataclasses.field(default=None, repr=False)  # the file's bytes as loaded, to restore them

    def fingerprints(self) -> dict:
        return {alias: entry.sha256 for alias, entry in self.entries.items()}

    def aliases_with(self, sha256: str) -> list:
        return [alias for alias, entry in self.entries.items() if entry.sha256 == sha256]


def detect_store_type(data: bytes) -> str | None:
    if data[:4] == _MAGIC["JKS"]:
        return "JKS"
    if data[:4] == _MAGIC["JCEKS"]:
        return "JCEKS"
    if data[:1] == b"\x30":
        return "PKCS12"
    return None


def _describe(path: str | None, kind: str = "truststore") -> str:
    return f"{kind} {path}" if path else kind


def parse_truststore(data: bytes, password: str | None, store_type: str = "auto", path: str | None = None,
                     kind: str = "truststore") -> Truststore:
    """Parse a store's bytes. password None skips JKS/JCEKS integrity checking (read-only use)."""
    what = _describe(path, kind)
    declared = normalize_store_type(store_type)
    if not data:
        raise TruststoreError(f"{what} is empty (0 bytes): not a JKS, JCEKS or PKCS12 store")
    found = detect_store_type(data)
    if found is None:
        raise TruststoreError(
            f"{what} is not a Java keystore: its first bytes (0x{data[:4].hex()}) are neither JKS (FEEDFEED), "
            "JCEKS (CECECECE) nor PKCS12 (DER)"
        )
    if declared != "auto" and declared != found:
        raise TruststoreError(f"{what}: store_type is {declared} but the file is a {found} store")
    if found == "PKCS12":
        return _parse_pkcs12(data, password, what, path)
    return _parse_jks(data, password, found, what, path)


class _SecretKeyFound(Exception):
    """A JCEKS secret-key entry: a serialized Java object, which only pyjks knows how to skip."""


def _java_utf_decode(raw: bytes) -> str:
    """Java's modified UTF-8: NUL as C0 80, characters beyond the BMP as two 3-byte surrogates."""
    if b"\xc0" not in raw and b"\xed" not in raw:
        return raw.decode("utf-8")  # no encoded NUL, no surrogate: plain UTF-8 (nearly every alias)
    text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    return text.encode("utf-16", "surrogatepass").decode("utf-16")


def _read_jks(data: bytes, store_type: str) -> tuple:
    """([(tag, alias, timestamp, payload)], end offset) of a JKS/JCEKS store; struct.error when truncated."""
    version = struct.unpack_from(">I", data, 4)[0]
    if version != 2:
        raise TruststoreError(f"unsupported {store_type} version {version} (expected 2)")
    count = struct.unpack_from(">I", data, 8)[0]
    pos = 12
    entries = []

    def utf(at):
        length = struct.unpack_from(">H", data, at)[0]
        if at + 2 + length > len(data):
            raise struct.error("truncated string")
        return _java_utf_decode(data[at + 2:at + 2 + length]), at + 2 + length

    def blob(at):
        length = struct.unpack_from(">I", data, at)[0]
        if at + 4 + length > len(data):
            raise struct.error("truncated data")
        return data[at + 4:at + 4 + length], at + 4 + length

    for _index in range(count):
        tag = struct.unpack_from(">I", data, pos)[0]
        alias, pos = utf(pos + 4)
        timestamp = struct.unpack_from(">q", data, pos)[0]
        pos += 8
        if tag == 2:
            cert_type, pos = utf(pos)
            der, pos = blob(pos)
            entries.append((tag, alias, timestamp, (cert_type, der)))
        elif tag == 1:
            protected, pos = blob(pos)
            links = struct.unpack_from(">I", data, pos)[0]
            pos += 4
            chain = []
            for _link in range(links):
                cert_type, pos = utf(pos)
                der, pos = blob(pos)
                chain.append((cert_type, der))
            entries.append((tag, alias, timestamp, (protected, tuple(chain))))
        elif tag == 3 and store_type == "JCEKS":
            raise _SecretKeyFound()
        else:
            raise TruststoreError(f"unknown {store_type} entry tag {tag}")
    return entries, pos


def _parse_jks(data: bytes, password: str | None, store_type: str, what: str, path: str | None) -> Truststore:
    try:
        raw_entries, end = _read_jks(data, store_type)
    except _SecretKeyFound:
        return _parse_jks_with_pyjks(data, password, store_type, what, path)
    except struct.error:
        raise TruststoreError(f"{what} is corrupt or truncated ({store_type}: the data ends inside an entry)") from None
    except (TruststoreError, UnicodeError) as exc:
        raise TruststoreError(f"{what}: {exc}") from None
    digest = data[end:end + 20]
    if len(data) - end != 20:
        raise TruststoreError(f"{what} is corrupt or truncated ({store_type}: the integrity hash is missing or damaged)")
    if password is not None:
        expected = hashlib.sha1(password.encode("utf-16-be") + _WHITENING + data[:end]).digest()
        if expected != digest:
            raise TruststoreError(f"{what}: wrong password (the {store_type} integrity check failed)")
    entries = {}
    for tag, alias, timestamp, payload in raw_entries:
        key = normalize_alias(alias)
        if key in entries:
            raise TruststoreError(f"{what} is corrupt: alias '{key}' appears twice")
        if tag == 2:
            entries[key] = TruststoreEntry(key, TRUSTED_CERT, payload[1], timestamp)
        else:
            protected, chain = payload
            entries[key] = TruststoreEntry(
                key, PRIVATE_KEY, chain[0][1] if chain else None, timestamp, chain=chain, protected_key=protected
            )
    return Truststore(path, store_type, entries, integrity_verified=password is not None)


def _parse_jks_with_pyjks(data: bytes, password: str | None, store_type: str, what: str, path: str | None) -> Truststore:
    """JCEKS stores holding secret keys: pyjks parses the serialized Java objects (the store is then read-only)."""
    jks = _pyjks()
    try:
        keystore = jks.KeyStore.loads(data, password, try_decrypt_keys=False)
    except jks.util.KeystoreSignatureException:
        raise TruststoreError(f"{what}: wrong password (the {store_type} integrity check failed)") from None
    except Exception as exc:  # noqa: BLE001 - pyjks raises assorted errors on malformed secret-key blobs
        raise TruststoreError(f"{what} is corrupt or truncated ({store_type}: {type(exc).__name__})") from None
    entries = {}
    for alias, entry in keystore.entries.items():
        key = normalize_alias(alias)
        if isinstance(entry, jks.TrustedCertEntry):
            entries[key] = TruststoreEntry(key, TRUSTED_CERT, bytes(entry.cert), entry.timestamp)
        elif isinstance(entry, jks.PrivateKeyEntry):
            chain = tuple((ctype, bytes(der)) for ctype, der in entry.cert_chain)
            entries[key] = TruststoreEntry(key, PRIVATE_KEY, chain[0][1] if chain else None, entry.timestamp,
                                           chain=chain, protected_key=bytes(entry._encrypted))  # pylint: disable=protected-access
        else:
            entries[key] = TruststoreEntry(key, SECRET_KEY, None, entry.timestamp)
    return Truststore(path, store_type, entries, integrity_verified=password is not None, has_secret_keys=True)


_OID_DATA = "1.2.840.113549.1.7.1"
_OID_FRIENDLY_NAME = "1.2.840.113549.1.9.20"
_BAG_KINDS = {
    "1.2.840.113549.1.12.10.1.1": "key",
    "1.2.840.113549.1.12.10.1.2": "key",
    "1.2.840.113549.1.12.10.1.3": "cert",
    "1.2.840.113549.1.12.10.1.4": "crl",
    "1.2.840.113549.1.12.10.1.5": "secret",
    "1.2.840.113549.1.12.10.1.6": "nested",
}


def _tlv(data: bytes, pos: int, end: int) -> tuple:
    """(tag, content start, content end) of the DER element at pos; ValueError when it is not DER."""
    if pos + 2 > end:
        raise ValueError("truncated")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise ValueError("indefinite or oversized length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise ValueError("truncated")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int):
    pos = start
    while pos < end:
        tag, inner, after = _tlv(data, pos, end)
        yield tag, inner, after
        pos = after


def _oid(raw: bytes) -> str:
    parts, value = [], 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first] + parts[1:])


def _pkcs12_plain_bags(data: bytes) -> list:
    """(kind, friendly name) of every bag outside encrypted content: Java keeps private and secret keys there.

    Certificates usually sit in encrypted content; cryptography reads those. ValueError when data is not the DER
    PKCS12 layout this walk knows.
    """
    _tag, start, end = _tlv(data, 0, len(data))
    items = list(_children(data, start, end))
    _tag, ci_start, ci_end = items[1]  # authSafe ContentInfo
    ci = list(_children(data, ci_start, ci_end))
    _tag, wrapper_start, wrapper_end = ci[1]  # [0] EXPLICIT
    _tag, octets_start, octets_end = _tlv(data, wrapper_start, wrapper_end)
    _tag, safe_start, safe_end = _tlv(data, octets_start, octets_end)  # AuthenticatedSafe
    bags = []
    for _tag, info_start, info_end in _children(data, safe_start, safe_end):
        parts = list(_children(data, info_start, info_end))
        if _oid(data[parts[0][1]:parts[0][2]]) != _OID_DATA:
            continue  # encryptedData: not readable without decrypting
        _tag, w_start, w_end = _tlv(data, parts[1][1], parts[1][2])
        _tag, contents_start, contents_end = _tlv(data, w_start, w_end)
        for _bag_tag, bag_start, bag_end in _children(data, contents_start, contents_end):
            fields = list(_children(data, bag_start, bag_end))
            kind = _BAG_KINDS.get(_oid(data[fields[0][1]:fields[0][2]]), "unknown")
            name = None
            if len(fields) > 2:
                for _attr_tag, attr_start, attr_end in _children(data, fields[2][1], fields[2][2]):
                    attr = list(_children(data, attr_start, attr_end))
                    if _oid(data[attr[0][1]:attr[0][2]]) == _OID_FRIENDLY_NAME:
                        _vtag, v_start, v_end = next(_children(data, attr[1][1], attr[1][2]))
                        name = data[v_start:v_end].decode("utf-16-be", "replace")
            bags.append((kind, name))
    return bags


def _parse_pkcs12(data: bytes, password: str | None, what: str, path: str | None) -> Truststore:
    length = certs._der_element_length(data)  # pylint: disable=protected-access
    if length is None or length != len(data):
        raise TruststoreError(f"{what} is corrupt or truncated (PKCS12: the DER structure does not span the file)")
    if password is not None and "\x00" in password:
        raise TruststoreError(f"{what}: wrong password (a PKCS12 password cannot contain a NUL character)")
    secret = password.encode("utf-8") if password is not None else None
    try:
        bundle = pkcs12.load_pkcs12(data, secret)
    except ValueError:
        if password is None:
            raise TruststoreError(f"{what}: a PKCS12 store can only be read with its password; give password") from None
        raise TruststoreError(f"{what}: wrong password, or the PKCS12 data is corrupt") from None
    except Exception as exc:  # noqa: BLE001 - unsupported PKCS12 algorithms
        raise TruststoreError(f"{what}: cannot read this PKCS12 store ({type(exc).__name__}: {exc})") from None
    try:
        plain_bags = _pkcs12_plain_bags(data)
        opaque = None
    except (ValueError, IndexError, StopIteration):
        plain_bags, opaque = [], "its layout is not the DER one this collection can check for key entries"
    key_names = [normalize_alias(name or "") for kind, name in plain_bags if kind == "key"]
    if bundle.key is not None and not key_names:
        key_names = [normalize_alias((bundle.cert.friendly_name or b"1").decode("utf-8", "replace")) if bundle.cert else "1"]
    entries = {}
    named = {normalize_alias(c.friendly_name.decode("utf-8", "replace")): c for c in bundle.additional_certs if c.friendly_name}
    if bundle.cert is not None and bundle.cert.friendly_name:
        named.setdefault(normalize_alias(bundle.cert.friendly_name.decode("utf-8", "replace")), bundle.cert)
    for name in key_names:
        holder = named.get(name) or (bundle.cert if bundle.key is not None and len(key_names) == 1 else None)
        der = certs.certificate_der(holder.certificate) if holder is not None else None
        chain = ()
        if holder is bundle.cert and der is not None:
            chain = tuple([("X.509", der)] + [
                ("X.509", certs.certificate_der(extra.certificate)) for extra in bundle.additional_certs if extra.friendly_name is None
            ])
        entries[name] = TruststoreEntry(name, PRIVATE_KEY, der, None, chain=chain)
    has_secret = False
    for kind, name in plain_bags:
        if kind == "secret":
            has_secret = True
            alias = normalize_alias(name or f"secret-{len(entries) + 1}")
            entries[alias] = TruststoreEntry(alias, SECRET_KEY, None, None)
        elif kind in ("unknown", "crl", "nested"):
            opaque = opaque or f"it holds a PKCS12 {kind} bag this collection does not rewrite"
    unnamed = 0
    for extra in bundle.additional_certs:
        if extra.friendly_name is None:
            if bundle.key is not None:
                continue  # part of the key entry's chain
            unnamed += 1
            alias = f"unnamed-{unnamed}"
        else:
            alias = normalize_alias(extra.friendly_name.decode("utf-8", "replace"))
            if alias in entries:
                continue  # the certificate of a key entry
        entries[alias] = TruststoreEntry(alias, TRUSTED_CERT, certs.certificate_der(extra.certificate), None)
    return Truststore(path, "PKCS12", entries, integrity_verified=True, has_secret_keys=has_secret, opaque=opaque)


def load_truststore(path: str, password: str | None, store_type: str = "auto", missing_ok: bool = False,
                    kind: str = "truststore") -> Truststore:
    """Load the store at path. With missing_ok, a missing file is an empty store of store_type (JKS for auto)."""
    declared = normalize_store_type(store_type)
    try:
        data = read_bytes(path, kind)
    except ApimCertificatesError as exc:
        if missing_ok and "does not exist" in str(exc):
            return Truststore(path, "JKS" if declared == "auto" else declared, {}, exists=False)
        raise TruststoreError(str(exc)) from None
    store = parse_truststore(data, password, declared, path, kind)
    store.raw = data
    return store


def _java_utf(text: str) -> bytes:
    """Java's DataOutput.writeUTF: modified UTF-8 with a two-byte length."""
    if text.isascii() and "\x00" not in text:
        if len(text) > 0xFFFF:
            raise TruststoreError(f"alias '{text[:40]}...' is too long for a Java keystore")
        return struct.pack(">H", len(text)) + text.encode("ascii")  # nearly every alias: no per-character loop
    out = bytearray()
    for char in text:
        code = ord(char)
        if code == 0:
            out += b"\xc0\x80"
        elif code > 0xFFFF:
            code -= 0x10000
            for half in (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)):
                out += bytes((0xE0 | (half >> 12), 0x80 | ((half >> 6) & 0x3F), 0x80 | (half & 0x3F)))
        else:
            out += char.encode("utf-8")
    if len(out) > 0xFFFF:
        raise TruststoreError(f"alias '{text[:40]}...' is too long for a Java keystore")
    return struct.pack(">H", len(out)) + bytes(out)


_X509_UTF = _java_utf("X.509")


def _serialize_jks(store: Truststore, password: str) -> bytes:
    out = bytearray(_MAGIC[store.store_type])
    out += struct.pack(">II", 2, len(store.entries))
    now = int(time.time() * 1000)
    for alias, entry in store.entries.items():
        timestamp = entry.timestamp if entry.timestamp is not None else now
        if entry.entry_type == TRUSTED_CERT:
            out += struct.pack(">I", 2) + _java_utf(alias) + struct.pack(">q", timestamp)
            out += _X509_UTF + struct.pack(">I", len(entry.certificate)) + entry.certificate
        elif entry.entry_type == PRIVATE_KEY and entry.protected_key is not None:
            out += struct.pack(">I", 1) + _java_utf(alias) + struct.pack(">q", timestamp)
            out += struct.pack(">I", len(entry.protected_key)) + entry.protected_key
            out += struct.pack(">I", len(entry.chain))
            for cert_type, der in entry.chain:
                out += _java_utf(cert_type) + struct.pack(">I", len(der)) + der
        else:
            raise TruststoreError(
                f"{_describe(store.path)} holds {entry.entry_type} '{alias}', which this collection does not rewrite; "
                "keep certificates and keys in separate stores"
            )
    digest = hashlib.sha1(password.encode("utf-16-be") + _WHITENING + bytes(out)).digest()
    return bytes(out) + digest


def _serialize_pkcs12(store: Truststore, password: str) -> bytes:
    if store.opaque:
        raise TruststoreError(f"{_describe(store.path)} is not rewritten: {store.opaque}")
    if "\x00" in password:
        raise TruststoreError(f"{_describe(store.path)}: a PKCS12 password cannot contain a NUL character")
    bags = []
    for alias, entry in store.entries.items():
        if any(ord(char) > 0xFFFF for char in alias):
            raise TruststoreError(
                f"alias '{alias}' has characters outside the Basic Multilingual Plane, which a PKCS12 friendly name "
                f"does not keep ({_describe(store.path)}); use JKS or another alias"
            )
        if entry.entry_type != TRUSTED_CERT:
            raise TruststoreError(
                f"{_describe(store.path)} holds {entry.entry_type} '{alias}'; this collection rewrites PKCS12 stores "
                "only when they hold trusted certificates alone"
            )
        cert = certs._load_der_certificate(entry.certificate)  # pylint: disable=protected-access
        bags.append(pkcs12.PKCS12Certificate(cert, alias.encode("utf-8")))
    encryption = BestAvailableEncryption(password.encode("utf-8")) if password else NoEncryption()
    return pkcs12.serialize_java_truststore(bags, encryption)


def serialize_truststore(store: Truststore, password: str | None) -> bytes:
    if password is None:
        raise TruststoreError(f"{_describe(store.path)}: a password is required to write a truststore")
    if store.store_type in ("JKS", "JCEKS"):
        return _serialize_jks(store, password)
    return _serialize_pkcs12(store, password)


# --- planning -------------------------------------------------------------------------------------


@dataclasses.dataclass
class DesiredCertificate:
    """What the user wants under one alias: a certificate present, or the alias absent."""

    alias: str
    state: str = "present"
    certificate: object = None  # cryptography x509.Certificate when present
    source: str = "certificate"


@dataclasses.dataclass
class Change:
    alias: str
    action: str  # added, replaced, removed, unchanged
    fingerprint: str | None
    previous_fingerprint: str | None = None
    certificate: object = None
    subject: str | None = None
    not_after: str | None = None
    status: str | None = None

    def result(self) -> dict:
        return {
            "alias": self.alias,
            "action": self.action,
            "fingerprint": self.fingerprint,
            "previous_fingerprint": self.previous_fingerprint,
            "subject": self.subject,
            "not_after": self.not_after,
            "status": self.status,
        }


@dataclasses.dataclass
class Plan:
    changes: list
    warnings: list

    @property
    def changed(self) -> bool:
        return any(change.action != "unchanged" for change in self.changes)

    def results(self) -> list:
        return [change.result() for change in self.changes]

    def diff(self, store: Truststore) -> dict:
        """before/after as alias -> {fingerprint, subject}, for the aliases this plan touches."""
        before, after = {}, {}
        for change in self.changes:
            if change.action == "unchanged":
                continue
            entry = store.entries.get(change.alias)
            if entry is not None:
                before[change.alias] = _entry_summary(entry)
            if change.action in ("added", "replaced"):
                after[change.alias] = {"fingerprint": change.fingerprint, "subject": change.subject}
        return {"before": before, "after": after}


def _entry_summary(entry: TruststoreEntry) -> dict:
    subject = None
    if entry.certificate is not None:
        try:
            subject = certs._load_der_certificate(entry.certificate).subject.rfc4514_string()  # pylint: disable=protected-access
        except ValueError:
            subject = None
    return {"fingerprint": entry.sha256, "subject": subject}


def _describe_certificate(cert, now) -> dict:
    # Only what a change reports: certificate_facts() would also verify the signature and read every extension.
    return {
        "subject": cert.subject.rfc4514_string(),
        "not_after": certs._iso(cert.not_valid_after_utc),  # pylint: disable=protected-access
        "status": certs.validity_status(cert, now),
    }


def plan_changes(
    store: Truststore,
    desired: list,
    *,
    replace: bool = True,
    allow_expired: bool = False,
    now: datetime.datetime | None = None,
) -> Plan:
    """Compare desired aliases with the store. Pure: the store is not modified."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    changes, warnings = [], []
    seen = {}
    for item in desired:
        alias = normalize_alias(item.alias)
        if alias in seen:
            raise TruststoreError(f"alias '{item.alias}' is given twice ({seen[alias]} and {item.source}); aliases are case-insensitive")
        seen[alias] = item.source
        entry = store.entries.get(alias)
        if item.state == "absent":
            if entry is None:
                changes.append(Change(alias, "unchanged", None))
                continue
            if entry.entry_type != TRUSTED_CERT:
                raise TruststoreError(
                    f"alias '{alias}' in {_describe(store.path)} is a {entry.entry_type}, not a trusted certificate; "
                    "this module does not remove keys"
                )
            changes.append(Change(alias, "removed", None, previous_fingerprint=entry.sha256))
            continue

        cert = item.certificate
        der = certs.certificate_der(cert)
        sha256 = certs.sha256_fingerprint(der)
        facts = _describe_certificate(cert, now)
        status = facts["status"]
        # Byte comparison: hashing and formatting every entry's fingerprint cost 0.1 s on a 10,000-entry store.
        others = [other for other, stored in store.entries.items() if stored.certificate == der and other != alias]
        if others:
            warnings.append(
                f"the certificate for alias '{alias}' (SHA-256 {sha256}) is already in {_describe(store.path)} "
                f"under alias {', '.join(repr(o) for o in others)}"
            )
        if entry is not None and entry.sha256 == sha256:
            if status == "expired":
                warnings.append(f"the certificate under alias '{alias}' expired on {facts['not_after']}")
            changes.append(Change(alias, "unchanged", sha256, sha256, cert, **facts))
            continue
        if entry is not None and entry.entry_type != TRUSTED_CERT:
            raise TruststoreError(
                f"alias '{alias}' in {_describe(store.path)} is a {entry.entry_type}; "
                "refusing to replace a key entry with a certificate"
            )
        if entry is not None and not replace:
            warnings.append(
                f"alias '{alias}' holds a different certificate (SHA-256 {entry.sha256}); "
                "it was kept because replace is false"
            )
            changes.append(Change(alias, "unchanged", entry.sha256, entry.sha256))
            continue
        if status == "expired" and not allow_expired:
            raise CertificateError(
                f"{item.source}: the certificate for alias '{alias}' ({facts['subject']}) expired on "
                f"{facts['not_after']}; set allow_expired to store it anyway"
            )
        if status == "not_yet_valid":
            warnings.append(f"the certificate for alias '{alias}' is not valid before {certs.certificate_facts(cert, now)['not_before']}")
        action = "added" if entry is None else "replaced"
        changes.append(Change(alias, action, sha256, entry.sha256 if entry else None, cert, **facts))
    return Plan(changes, warnings)


def apply_plan(store: Truststore, plan: Plan) -> Truststore:
    """A new Truststore with the plan applied; replaced entries keep their place in the file."""
    entries = dict(store.entries)
    now = int(time.time() * 1000)
    for change in plan.changes:
        if change.action == "removed":
            entries.pop(change.alias, None)
        elif change.action in ("added", "replaced"):
            entries[change.alias] = TruststoreEntry(
                change.alias, TRUSTED_CERT, certs.certificate_der(change.certificate), now
            )
    return dataclasses.replace(store, entries=entries, exists=True)


def entry_facts(entry: TruststoreEntry, now: datetime.datetime | None = None) -> dict:
    """One entry as truststore_info reports it."""
    facts = {"alias": entry.alias, "entry_type": entry.entry_type}
    if entry.certificate is None:
        facts.update(dict.fromkeys((
            "subject", "issuer", "serial_number", "not_before", "not_after", "status",
            "days_remaining", "fingerprints", "subject_alt_names", "is_ca", "self_signed",
            "signature_algorithm", "public_key",
        )))
        return facts
    try:
        cert = certs._load_der_certificate(entry.certificate)  # pylint: disable=protected-access
    except ValueError:
        raise CertificateError(f"alias '{entry.alias}' holds data that is not a valid X.509 certificate") from None
    facts.update(certs.certificate_facts(cert, now, der=entry.certificate))
    return facts


# --- the read-modify-write every state-changing caller uses ---------------------------------------


@dataclasses.dataclass
class ConvergeResult:
    path: str
    store_type: str
    plan: Plan
    before: Truststore
    changed: bool
    created: bool = False
    backup_file: str | None = None
    role: str = "truststore"

    def diff(self) -> dict:
        diff = self.plan.diff(self.before)
        diff["before_header"] = diff["after_header"] = self.path
        return diff


@dataclasses.dataclass
class StoreTarget:
    """One store to converge: where it is, how to open it, and what it is for (reported back)."""

    path: str
    password: str | None
    store_type: str = "auto"
    role: str = "truststore"
    desired: list = dataclasses.field(default_factory=list)


def converge_truststores(
    targets: list,
    *,
    replace: bool = True,
    allow_expired: bool = False,
    create: bool = False,
    backup: bool = False,
    check_mode: bool = False,
) -> list:
    """Bring every target store to its desired aliases, all or nothing.

    Every store is locked (by directory, in a fixed order so two runs cannot deadlock), loaded and planned
    before anything is written; a store is written only when its plan changes it. If writing one store fails,
    the stores already written get their original bytes back, so a failed run leaves every file as it was.
    In check mode nothing is locked or written and the results predict what a real run would do.
    """
    for target in targets:
        if target.password is None:
            raise TruststoreError(f"{_describe(target.path)}: password is required to change a truststore")
    with contextlib.ExitStack() as stack:
        if not check_mode:
            directories = sorted({os.path.dirname(os.path.realpath(t.path)) for t in targets})
            for directory in directories:
                stack.enter_context(lock_directory(directory))
        results, pending = [], []
        for target in targets:
            store = load_truststore(target.path, target.password, target.store_type, missing_ok=True)
            if not store.exists and not create:
                raise TruststoreError(f"{_describe(target.path)} does not exist; set create to true to create it")
            plan = plan_changes(store, target.desired, replace=replace, allow_expired=allow_expired)
            result = ConvergeResult(target.path, store.store_type, plan, store, plan.changed,
                                    created=not store.exists and plan.changed, role=target.role)
            results.append(result)
            if plan.changed:
                pending.append((result, serialize_truststore(apply_plan(store, plan), target.password)))
        if check_mode:
            return results
        written = []
        try:
            for result, data in pending:
                original = None if result.created else result.before.raw
                result.backup_file = write_atomic(result.path, data, backup=backup and not result.created)
                written.append((result, original))
        except ApimCertificatesError:
            for result, original in reversed(written):
                _restore(result, original)
            raise
    return results


def _restore(result, original) -> None:
    with contextlib.suppress(OSError, ApimCertificatesError):
        if original is None:
            os.unlink(result.path)
        else:
            write_atomic(result.path, original)
        if result.backup_file:
            os.unlink(result.backup_file)
            result.backup_file = None


def converge_truststore(path: str, password: str | None, desired: list, *, store_type: str = "auto", **options) -> ConvergeResult:
    """converge_truststores for a single store."""
    return converge_truststores([StoreTarget(path, password, store_type, desired=desired)], **options)[0]
