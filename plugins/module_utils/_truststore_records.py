# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The truststore's records: what a store holds (Truststore, TruststoreEntry), what a user wants under an alias
(DesiredCertificate), what a plan does (Change, Plan) and what a run did (ConvergeResult, StoreTarget).

Plain classes on one Record base (not dataclasses: a module run pays about 0.4 ms to create each dataclass, every
run). Aliases follow Java: case-insensitive, kept lower-case. The codecs (_jks, _pkcs12, _jceks) build these; the
plan and apply are _truststore's.
"""

from __future__ import annotations

import hashlib

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError

STORE_TYPES = ("JKS", "JCEKS", "PKCS12")
TRUSTED_CERT = "trustedCertEntry"
PRIVATE_KEY = "PrivateKeyEntry"
SECRET_KEY = "SecretKeyEntry"


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
    """An alias as Java's keystores key it: alias.toLowerCase(Locale.ENGLISH) (JavaKeyStore.convertAlias, JceKeyStore,
    PKCS12KeyStore). The one place aliases are case-folded. Not str.lower(): Java picks the final sigma by word
    boundaries ("backend-Σ" is "backend-ς" in Java) and its Unicode is 13.0 (_java_lower)."""
    if alias.isascii():
        return alias.lower()
    from ansible_collections.apim.certificates.plugins.module_utils._java_lower import java_lower  # pylint: disable=import-outside-toplevel

    return java_lower(alias)


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
    content is not fully understood. raw: the file's bytes as loaded, to restore them. untrusted: DER certificates
    the file holds that Java does not make entries of (PKCS12 certificate bags without the trusted-key-usage
    attribute, outside any key entry's chain). kept: those PKCS12 bags as the file holds them (DER SafeBags), which a
    rewrite adds back unchanged. unreachable: JKS/JCEKS entries whose stored alias is not its own lower case, which
    Java loads but never finds (every lookup lower-cases the alias first): (alias of the entry before it or None,
    TruststoreEntry under the alias as stored, the entry's bytes), written back unchanged."""

    __slots__ = ("path", "store_type", "entries", "integrity_verified", "exists", "has_secret_keys", "opaque", "raw",
                 "untrusted", "kept", "unreachable")
    _hidden = ("raw",)
    _defaults = {"integrity_verified": True, "exists": True, "has_secret_keys": False, "opaque": None, "raw": None,
                 "untrusted": (), "kept": (), "unreachable": ()}

    def replace(self, **changes) -> "Truststore":
        return Truststore(**dict({name: getattr(self, name) for name in self.__slots__}, **changes))

    def fingerprints(self) -> dict:
        return {alias: entry.sha256 for alias, entry in self.entries.items()}

    def aliases_with(self, sha256: str) -> list:
        return [alias for alias, entry in self.entries.items() if entry.sha256 == sha256]


def describe(path: str | None, kind: str = "truststore") -> str:
    return f"{kind} {path}" if path else kind


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
            if entry is None and change.action == "removed" and store.unreachable:  # stored with upper case (_jks)
                entry = next((u[1] for u in reversed(store.unreachable) if normalize_alias(u[1].alias) == change.alias), None)
            if entry is not None:
                before[change.alias] = entry_summary(entry)
            if change.action in ("added", "replaced"):
                after[change.alias] = {"fingerprint": change.fingerprint, "subject": change.subject}
        return {"before": before, "after": after}


def entry_summary(entry: TruststoreEntry) -> dict:
    subject = None
    if entry.certificate is not None:
        try:
            subject = certs.describe_der(entry.certificate).subject
        except ValueError:
            subject = None
    return {"fingerprint": entry.sha256, "subject": subject}


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
