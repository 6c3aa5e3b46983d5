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
The PKCS12 code (_pkcs12) and the pyjks reader (_jceks) are imported only when such a store comes: a module compiles
its module_utils on every run, so code a task does not use still costs it.

Aliases follow Java: case-insensitive, kept lower-case.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import struct
import time

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import (
    ApimCertificatesError,
    CertificateError,
    FileWriteError,
    TruststoreError,
)
from ansible_collections.apim.certificates.plugins.module_utils._fileio import lock_directory, read_bytes, write_atomic, write_problem

STORE_TYPES = ("JKS", "JCEKS", "PKCS12")
TRUSTED_CERT = "trustedCertEntry"
PRIVATE_KEY = "PrivateKeyEntry"
SECRET_KEY = "SecretKeyEntry"

_MAGIC = {"JKS": b"\xfe\xed\xfe\xed", "JCEKS": b"\xce\xce\xce\xce"}
_WHITENING = b"Mighty Aphrodite"


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


class Record:
    """Base of this collection's plain record classes: repr and equality over __slots__.

    Not dataclasses: a module run pays about 0.4 ms to create each dataclass, every run. The fields are __slots__,
    in order; _defaults gives the optional ones (a callable is a factory, e.g. list). _hidden fields stay out of
    repr (passwords, file contents).
    """

    __slots__ = ()
    _defaults: dict = {}
    _hidden = ()

    def __init__(self, *args, **kwargs):
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} arguments")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{type(self).__name__}() got an unexpected or repeated argument '{name}'")
            values[name] = value
        for name in names:
            if name not in values:
                if name not in self._defaults:
                    raise TypeError(f"{type(self).__name__}() is missing argument '{name}'")
                default = self._defaults[name]
                values[name] = default() if callable(default) else default
            setattr(self, name, values[name])

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__ if name not in self._hidden)
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None


class TruststoreEntry(Record):
    """certificate: DER of the trusted certificate, or the first of a key entry's chain. timestamp: milliseconds
    since the epoch, as JKS records it. Key entries: chain ((cert type, DER), ...) and protected_key (the encrypted
    key, written back as read)."""

    __slots__ = ("alias", "entry_type", "certificate", "timestamp", "chain", "protected_key")
    _hidden = ("protected_key",)

    def __init__(self, alias: str, entry_type: str, certificate: bytes | None, timestamp: int | None = None,
                 chain: tuple = (), protected_key: bytes | None = None):
        self.alias = alias
        self.entry_type = entry_type
        self.certificate = certificate
        self.timestamp = timestamp
        self.chain = chain
        self.protected_key = protected_key

    @property
    def sha256(self) -> str | None:
        if self.certificate is None:
            return None
        return certs.colon_hex(hashlib.sha256(self.certificate).digest())


class Truststore(Record):
    """entries: alias -> TruststoreEntry, in file order. opaque: why this store must not be rewritten, when its
    content is not fully understood. raw: the file's bytes as loaded, to restore them."""

    __slots__ = ("path", "store_type", "entries", "integrity_verified", "exists", "has_secret_keys", "opaque", "raw")
    _hidden = ("raw",)
    _defaults = {"integrity_verified": True, "exists": True, "has_secret_keys": False, "opaque": None, "raw": None}

    def replace(self, **changes) -> "Truststore":
        return Truststore(**dict({name: getattr(self, name) for name in self.__slots__}, **changes))

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


def describe(path: str | None, kind: str = "truststore") -> str:
    return f"{kind} {path}" if path else kind


def parse_truststore(data: bytes, password: str | None, store_type: str = "auto", path: str | None = None,
                     kind: str = "truststore", open_only: bool = False) -> Truststore:
    """Parse a store's bytes. password None skips JKS/JCEKS integrity checking (read-only use).

    open_only: the caller only needs to know that the store opens with password (see _pkcs12.parse_pkcs12)."""
    what = describe(path, kind)
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
        from ansible_collections.apim.certificates.plugins.module_utils._pkcs12 import parse_pkcs12  # pylint: disable=import-outside-toplevel

        return parse_pkcs12(data, password, what, path, open_only=open_only)
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
        from ansible_collections.apim.certificates.plugins.module_utils._jceks import parse_with_pyjks  # pylint: disable=import-outside-toplevel

        return parse_with_pyjks(data, password, store_type, what, path)
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


def load_truststore(path: str, password: str | None, store_type: str = "auto", missing_ok: bool = False,
                    kind: str = "truststore", open_only: bool = False) -> Truststore:
    """Load the store at path. With missing_ok, a missing file is an empty store of store_type (JKS for auto)."""
    declared = normalize_store_type(store_type)
    try:
        data = read_bytes(path, kind)
    except ApimCertificatesError as exc:
        if missing_ok and "does not exist" in str(exc):
            return Truststore(path, "JKS" if declared == "auto" else declared, {}, exists=False)
        raise TruststoreError(str(exc)) from None
    store = parse_truststore(data, password, declared, path, kind, open_only=open_only)
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
                f"{describe(store.path)} holds {entry.entry_type} '{alias}', which this collection does not rewrite; "
                "keep certificates and keys in separate stores"
            )
    digest = hashlib.sha1(password.encode("utf-16-be") + _WHITENING + bytes(out)).digest()
    return bytes(out) + digest


def serialize_truststore(store: Truststore, password: str | None) -> bytes:
    if password is None:
        raise TruststoreError(f"{describe(store.path)}: a password is required to write a truststore")
    if store.store_type in ("JKS", "JCEKS"):
        return _serialize_jks(store, password)
    from ansible_collections.apim.certificates.plugins.module_utils._pkcs12 import serialize_pkcs12  # pylint: disable=import-outside-toplevel

    return serialize_pkcs12(store, password)


# --- planning -------------------------------------------------------------------------------------


class DesiredCertificate(Record):
    """What the user wants under one alias: a certificate present, or the alias absent.

    certificate (when present): a _certificates.CertificateInfo, or a cryptography Certificate.
    """

    __slots__ = ("alias", "state", "certificate", "source")
    _defaults = {"state": "present", "certificate": None, "source": "certificate"}


class Change(Record):
    """What a plan does to one alias. action: added, replaced, removed or unchanged."""

    __slots__ = ("alias", "action", "fingerprint", "previous_fingerprint", "certificate", "subject", "not_after", "status")
    _defaults = {"previous_fingerprint": None, "certificate": None, "subject": None, "not_after": None, "status": None}

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


class Plan(Record):
    __slots__ = ("changes", "warnings")

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
            subject = certs.describe_der(entry.certificate).subject
        except ValueError:
            subject = None
    return {"fingerprint": entry.sha256, "subject": subject}


def _describe_certificate(info, now) -> dict:
    # Only what a change reports (certificate_facts() would read every extension, through cryptography).
    return {
        "subject": info.subject,
        "not_after": certs.iso_utc(info.not_after),
        "status": certs.status_between(info.not_before, info.not_after, now),
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
                    f"alias '{alias}' in {describe(store.path)} is a {entry.entry_type}, not a trusted certificate; "
                    "this module does not remove keys"
                )
            changes.append(Change(alias, "removed", None, previous_fingerprint=entry.sha256))
            continue

        cert = certs.certificate_info(item.certificate)
        der = cert.der
        sha256 = certs.sha256_fingerprint(der)
        facts = _describe_certificate(cert, now)
        status = facts["status"]
        # Byte comparison: hashing and formatting every entry's fingerprint cost 0.1 s on a 10,000-entry store.
        others = [other for other, stored in store.entries.items() if stored.certificate == der and other != alias]
        if others:
            warnings.append(
                f"the certificate for alias '{alias}' (SHA-256 {sha256}) is already in {describe(store.path)} "
                f"under alias {', '.join(repr(o) for o in others)}"
            )
        if entry is not None and entry.sha256 == sha256:
            if status == "expired":
                warnings.append(f"the certificate under alias '{alias}' expired on {facts['not_after']}")
            changes.append(Change(alias, "unchanged", sha256, sha256, cert, **facts))
            continue
        if entry is not None and entry.entry_type != TRUSTED_CERT:
            raise TruststoreError(
                f"alias '{alias}' in {describe(store.path)} is a {entry.entry_type}; "
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
            warnings.append(f"the certificate for alias '{alias}' is not valid before {certs.iso_utc(cert.not_before)}")
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
    return store.replace(entries=entries, exists=True)


# --- the read-modify-write every state-changing caller uses ---------------------------------------


class ConvergeResult(Record):
    __slots__ = ("path", "store_type", "plan", "before", "changed", "created", "backup_file", "role")
    _defaults = {"created": False, "backup_file": None, "role": "truststore"}

    def diff(self) -> dict:
        diff = self.plan.diff(self.before)
        diff["before_header"] = diff["after_header"] = self.path
        return diff


class StoreTarget(Record):
    """One store to converge: where it is, how to open it, and what it is for (reported back)."""

    __slots__ = ("path", "password", "store_type", "role", "desired")
    _hidden = ("password",)
    _defaults = {"store_type": "auto", "role": "truststore", "desired": list}


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
            raise TruststoreError(f"{describe(target.path)}: password is required to change a truststore")
    with contextlib.ExitStack() as stack:
        if not check_mode:
            directories = sorted({os.path.dirname(os.path.realpath(t.path)) for t in targets})
            for directory in directories:
                stack.enter_context(lock_directory(directory))
        results, pending = [], []
        for target in targets:
            store = load_truststore(target.path, target.password, target.store_type, missing_ok=True)
            if not store.exists and not create:
                raise TruststoreError(f"{describe(target.path)} does not exist; set create to true to create it")
            plan = plan_changes(store, target.desired, replace=replace, allow_expired=allow_expired)
            result = ConvergeResult(target.path, store.store_type, plan, store, plan.changed,
                                    created=not store.exists and plan.changed, role=target.role)
            results.append(result)
            if plan.changed:
                pending.append((result, serialize_truststore(apply_plan(store, plan), target.password)))
        # Every store this run would write must be writable by this account, checked before anything is written,
        # in check mode too: an audit must report the failure the real run would hit.
        for result, _data in pending:
            problem = write_problem(result.path, "truststore")
            if problem:
                raise FileWriteError(problem)
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
