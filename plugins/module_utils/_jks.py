# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""JKS and JCEKS, the collection's own codec (one layout but for the magic number; no JRE, no pyjks).

Key entries are kept in their encrypted form, never decrypted, and written back byte for byte; aliases are Java's
modified UTF-8; the integrity hash is Java's (SHA-1 over the password, a fixed salt and the content). A JCEKS store
holding secret keys (serialized Java objects) is handed to _jceks (pyjks), and is then read-only.
"""

from __future__ import annotations

import hashlib
import struct
import time

from ansible_collections.apim.certificates.plugins.module_utils._errors import TruncatedStoreError, TruststoreError
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import (
    PRIVATE_KEY,
    TRUSTED_CERT,
    Truststore,
    TruststoreEntry,
    describe,
    normalize_alias,
)

MAGIC = {"JKS": b"\xfe\xed\xfe\xed", "JCEKS": b"\xce\xce\xce\xce"}
_WHITENING = b"Mighty Aphrodite"


class _SecretKeyFound(Exception):
    """A JCEKS secret-key entry: a serialized Java object, which only pyjks knows how to skip."""


def _java_utf_decode(raw: bytes) -> str:
    """Java's modified UTF-8: NUL as C0 80, characters beyond the BMP as two 3-byte surrogates."""
    if b"\xc0" not in raw and b"\xed" not in raw:
        return raw.decode("utf-8")  # no encoded NUL, no surrogate: plain UTF-8 (nearly every alias)
    text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    return text.encode("utf-16", "surrogatepass").decode("utf-16")


def _read_jks(data: bytes, store_type: str) -> tuple:
    """([(tag, alias, timestamp, payload, offset)], end offset) of a JKS/JCEKS store; struct.error when truncated."""
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
        start = pos
        tag = struct.unpack_from(">I", data, pos)[0]
        alias, pos = utf(pos + 4)
        timestamp = struct.unpack_from(">q", data, pos)[0]
        pos += 8
        if tag == 2:
            cert_type, pos = utf(pos)
            der, pos = blob(pos)
            entries.append((tag, alias, timestamp, (cert_type, der), start))
        elif tag == 1:
            protected, pos = blob(pos)
            links = struct.unpack_from(">I", data, pos)[0]
            pos += 4
            chain = []
            for _link in range(links):
                cert_type, pos = utf(pos)
                der, pos = blob(pos)
                chain.append((cert_type, der))
            entries.append((tag, alias, timestamp, (protected, tuple(chain)), start))
        elif tag == 3 and store_type == "JCEKS":
            raise _SecretKeyFound()
        else:
            raise TruststoreError(f"unknown {store_type} entry tag {tag}")
    return entries, pos


def parse_jks(data: bytes, password: str | None, store_type: str, what: str, path: str | None) -> Truststore:
    try:
        raw_entries, end = _read_jks(data, store_type)
    except _SecretKeyFound:
        from ansible_collections.apim.certificates.plugins.module_utils._jceks import parse_with_pyjks  # pylint: disable=import-outside-toplevel

        return parse_with_pyjks(data, password, store_type, what, path)
    except struct.error:
        raise TruncatedStoreError(f"{what} is corrupt or truncated ({store_type}: the data ends inside an entry)") from None
    except (TruststoreError, UnicodeError) as exc:
        raise TruststoreError(f"{what}: {exc}") from None
    # Java reads the 20-byte hash that follows the entries and ignores anything after it (JavaKeyStore.engineLoad,
    # JceKeyStore.engineLoad: dis.readFully(actual) on a 20-byte array), as keytool and pyjks do.
    digest = data[end:end + 20]
    if len(digest) != 20:
        raise TruncatedStoreError(f"{what} is corrupt or truncated ({store_type}: the integrity hash is missing or damaged)")
    if password is not None:
        expected = hashlib.sha1(password.encode("utf-16-be") + _WHITENING + data[:end]).digest()
        if expected != digest:
            raise TruststoreError(f"{what}: wrong password (the {store_type} integrity check failed)")
    entries, unreachable, previous = {}, [], None
    for index, (tag, alias, timestamp, payload, offset) in enumerate(raw_entries):
        key = normalize_alias(alias)
        # The same alias twice: Java's engineLoad puts both into its table, and the later one is what it keeps.
        if tag == 2:
            entry = TruststoreEntry(key, TRUSTED_CERT, payload[1], timestamp)
        else:
            protected, chain = payload
            entry = TruststoreEntry(key, PRIVATE_KEY, chain[0][1] if chain else None, timestamp, chain=chain, protected_key=protected)
        if key != alias:
            # Stored by another tool with upper case: engineLoad keeps the alias as stored, every lookup lower-cases
            # it first (convertAlias), so Java lists it but never finds it. Kept as it is, byte for byte.
            entry.alias = alias
            following = raw_entries[index + 1][4] if index + 1 < len(raw_entries) else end
            unreachable.append((previous, entry, data[offset:following]))
            continue
        entries[key] = entry
        previous = key
    return Truststore(path, store_type, entries, integrity_verified=password is not None, unreachable=tuple(unreachable))


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


_GONE = object()  # the entry an unreachable one followed is no longer there: it goes last


def serialize_jks(store: Truststore, password: str) -> bytes:
    out = bytearray(MAGIC[store.store_type])
    out += struct.pack(">II", 2, len(store.entries) + len(store.unreachable))
    now = int(time.time() * 1000)
    kept = {}
    for previous, _entry, raw in store.unreachable:  # each after the entry it followed, as it was
        kept.setdefault(previous if previous is None or previous in store.entries else _GONE, []).append(raw)
    out += b"".join(kept.get(None, ()))
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
                f"{describe(store.path)} holds {entry.entry_type} '{alias}', which this collection does not rewrite; "
                "keep certificates and keys in separate stores"
            )
        if kept and alias in kept:
            out += b"".join(kept[alias])
    out += b"".join(kept.get(_GONE, ()))
    digest = hashlib.sha1(password.encode("utf-16-be") + _WHITENING + bytes(out)).digest()
    return bytes(out) + digest
