# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Java truststores (JKS, JCEKS, PKCS12) read, changed and written without a JRE: the truststore service.

A store is a map alias -> entry (_truststore_records). This module detects a store's type and hands its bytes to
the codec: JKS and JCEKS to _jks (the collection's own), PKCS12 to _pkcs12 (cryptography), JCEKS stores holding
secret keys to _jceks (pyjks, through _jks). PKCS12 and pyjks are imported only when such a store comes: a module
compiles its module_utils on every run, so code a task does not use still costs it. Then: ``plan_changes`` (by
content, not by alias), ``apply_plan``, and ``converge_truststores``, the locked read-modify-write of one or more
stores that restores what it wrote when a later write fails.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import time

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import (
    ApimCertificatesError,
    CertificateError,
    FileWriteError,
    LostWriteError,
    TruncatedStoreError,
    TruststoreError,
)
from ansible_collections.apim.certificates.plugins.module_utils._fileio import lock_directory, read_bytes, write_atomic, write_problem
from ansible_collections.apim.certificates.plugins.module_utils._jks import MAGIC, parse_jks, serialize_jks
# The records are this service's vocabulary: callers use them through here (ts.DesiredCertificate, ts.TRUSTED_CERT...).
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import (  # noqa: F401  # pylint: disable=unused-import
    PRIVATE_KEY,
    SECRET_KEY,
    STORE_TYPES,
    TRUSTED_CERT,
    Change,
    ConvergeResult,
    DesiredCertificate,
    Plan,
    Record,
    StoreTarget,
    Truststore,
    TruststoreEntry,
    describe,
    normalize_alias,
    normalize_store_type,
)


def detect_store_type(data: bytes) -> str | None:
    if data[:4] == MAGIC["JKS"]:
        return "JKS"
    if data[:4] == MAGIC["JCEKS"]:
        return "JCEKS"
    if data[:1] == b"\x30":
        return "PKCS12"
    return None


def parse_truststore(data: bytes, password: str | None, store_type: str = "auto", path: str | None = None,
                     kind: str = "truststore", open_only: bool = False) -> Truststore:
    """Parse a store's bytes. password None skips JKS/JCEKS integrity checking (read-only use).

    open_only: the caller only needs to know that the store opens with password (see _pkcs12.parse_pkcs12)."""
    what = describe(path, kind)
    declared = normalize_store_type(store_type)
    if not data:
        raise TruncatedStoreError(f"{what} is empty (0 bytes): not a JKS, JCEKS or PKCS12 store")
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
    return parse_jks(data, password, found, what, path)


def load_truststore(path: str, password: str | None, store_type: str = "auto", missing_ok: bool = False,
                    kind: str = "truststore", open_only: bool = False) -> Truststore:
    """Load the store at path. With missing_ok, a missing file is an empty store of store_type (JKS for auto)."""
    declared = normalize_store_type(store_type)
    if missing_ok and not os.path.lexists(path):
        return Truststore(path, "JKS" if declared == "auto" else declared, {}, exists=False)
    waited, reads, previous, since = 0.0, 0, None, 0.0
    for pause in TRUNCATED_READ_PAUSES + (None,):
        try:
            data = read_bytes(path, kind)
        except ApimCertificatesError as exc:
            raise TruststoreError(str(exc)) from None
        reads += 1
        try:
            store = parse_truststore(data, password, declared, path, kind, open_only=open_only)
        except TruncatedStoreError as exc:
            # A running gateway rewrites its live store in place (new FileOutputStream, then KeyStore.store): a
            # read can meet it half-written. Read again while the file is still changing, a bounded number of
            # times; a file that stays the same for STEADY_AFTER seconds is truncated, not being written.
            if data != previous:
                previous, since = data, waited
            if pause is None or waited - since >= STEADY_AFTER:
                raise TruncatedStoreError(
                    f"{exc} (read {reads} times over {waited:.2f} s; if a running gateway was writing it, run again; "
                    "otherwise restore it from a backup)"
                ) from None
            time.sleep(pause)
            waited += pause
            continue
        store.raw = data
        return store
    raise AssertionError("unreachable")  # pragma: no cover


# Pauses between the reads of a store that comes out truncated (at most 1.5 s in all; a gateway's in-place write of a
# store takes milliseconds), and how long it must stay the same to be called truncated rather than being written.
TRUNCATED_READ_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.75)
STEADY_AFTER = 0.15


def serialize_truststore(store: Truststore, password: str | None) -> bytes:
    if password is None:
        raise TruststoreError(f"{describe(store.path)}: a password is required to write a truststore")
    if store.store_type in ("JKS", "JCEKS"):
        return serialize_jks(store, password)
    from ansible_collections.apim.certificates.plugins.module_utils._pkcs12 import serialize_pkcs12  # pylint: disable=import-outside-toplevel

    return serialize_pkcs12(store, password)


# --- planning -------------------------------------------------------------------------------------


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
        unreachable = [u[1] for u in store.unreachable if normalize_alias(u[1].alias) == alias] if store.unreachable else ()
        if item.state == "absent":
            if unreachable:
                entry = _remove_unreachable(store, alias, entry, unreachable, warnings)
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
        if entry is None and unreachable:
            raise TruststoreError(
                f"{describe(store.path)} holds an entry stored under the alias '{unreachable[-1].alias}', with upper case, "
                f"which Java cannot look up: it lower-cases every alias it looks for ('{alias}') but keeps the stored one, so "
                f"keytool -list, -delete and -changealias fail on it (\"Alias <{unreachable[-1].alias}> does not exist\") and "
                f"the gateway does not trust it. Adding '{alias}' would put a second entry next to it. Remove it first "
                f"(state absent for alias '{alias}' removes it as stored, which keytool cannot), then add the certificate"
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


def _remove_unreachable(store: Truststore, alias: str, entry, unreachable: list, warnings: list):
    """state absent for alias, where JKS/JCEKS entries are stored under an upper-case form of it (Java never finds them):
    they are removed with it. The entry that stands for the removal (the live one, else the last stored one)."""
    keys = [u for u in unreachable if u.entry_type != TRUSTED_CERT]
    if keys:
        raise TruststoreError(
            f"alias '{keys[-1].alias}' in {describe(store.path)} is a {keys[-1].entry_type}, not a trusted certificate; "
            "this module does not remove keys"
        )
    warnings.append(
        f"{describe(store.path)}: removing {len(unreachable)} entry(ies) stored under the alias "
        f"{', '.join(repr(u.alias) for u in unreachable)}, with upper case, which Java cannot look up or trust"
    )
    return entry if entry is not None else unreachable[-1]


def apply_plan(store: Truststore, plan: Plan) -> Truststore:
    """A new Truststore with the plan applied; replaced entries keep their place in the file."""
    entries = dict(store.entries)
    now = int(time.time() * 1000)
    removed = set()
    for change in plan.changes:
        if change.action == "removed":
            entries.pop(change.alias, None)
            removed.add(change.alias)
        elif change.action in ("added", "replaced"):
            entries[change.alias] = TruststoreEntry(
                change.alias, TRUSTED_CERT, certs.certificate_der(change.certificate), now
            )
    if store.unreachable and removed:
        kept = tuple(u for u in store.unreachable if normalize_alias(u[1].alias) not in removed)
        return store.replace(entries=entries, exists=True, unreachable=kept)
    return store.replace(entries=entries, exists=True)


# --- the read-modify-write every state-changing caller uses ---------------------------------------


# --- the read-modify-write every state-changing caller uses ---------------------------------------


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
        for _attempt in range(PLAN_ATTEMPTS):
            results, pending = _plan_targets(targets, replace=replace, allow_expired=allow_expired, create=create)
            # Another process (a running gateway writing its live store in place) may have changed a store since
            # it was read: plan again from what is there now rather than write over that change.
            if check_mode or all(_unchanged_since_read(result) for result, _data, _target in pending):
                break
        else:
            raise TruststoreError(
                f"{', '.join(describe(r.path) for r, _d, _t in pending)} kept changing while this run planned its "
                f"change ({PLAN_ATTEMPTS} attempts): another process is writing it; nothing was written, run again"
            )
        # Every store this run would write must be writable by this account, checked before anything is written,
        # in check mode too: an audit must report the failure the real run would hit.
        for result, _data, _target in pending:
            problem = write_problem(result.path, "truststore")
            if problem:
                raise FileWriteError(problem)
        if check_mode:
            return results
        written = []
        try:
            for result, data, _target in pending:
                original = None if result.created else result.before.raw
                result.backup_file = write_atomic(result.path, data, backup=backup and not result.created)
                written.append((result, original))
        except ApimCertificatesError:
            for result, original in reversed(written):
                _restore(result, original)
            raise
        for result, data, target in pending:
            _confirm_written(result, data, target, replace=replace, allow_expired=allow_expired)
    return results


# How often converge_truststores plans again when a store changed under it between its read and its write.
PLAN_ATTEMPTS = 3


def _plan_targets(targets, *, replace: bool, allow_expired: bool, create: bool) -> tuple:
    """(results, pending) for targets: every store loaded and planned; pending holds (result, new bytes, target)."""
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
            pending.append((result, serialize_truststore(apply_plan(store, plan), target.password), target))
    return results, pending


def _unchanged_since_read(result) -> bool:
    if not result.before.exists:
        return not os.path.lexists(result.path)
    try:
        return read_bytes(result.path, "truststore") == result.before.raw
    except ApimCertificatesError:
        return False


def _confirm_written(result, data: bytes, target, **plan_options) -> None:
    """Read a store back after writing it: a running gateway that loaded it before our rename may have written its
    own copy over ours (it rewrites the live store in place and does not share our lock). A store that no longer
    holds the change is a failure, never "changed"; one rewritten with the change still in it is fine."""
    try:
        again = read_bytes(result.path, "truststore")
    except ApimCertificatesError as exc:
        raise LostWriteError(f"{describe(result.path)} was written, but cannot be read back: {exc}") from None
    if again == data:
        return
    try:
        store = load_truststore(result.path, target.password, target.store_type)
        still = not plan_changes(store, target.desired, **plan_options).changed
    except ApimCertificatesError:
        still = False
    if not still:
        raise LostWriteError(
            f"{describe(result.path)} was rewritten by another process right after this run wrote it, and no longer "
            f"holds this run's change ({len(result.plan.changes)} change(s) lost): a running gateway rewrites its live "
            "store when a Publisher or revision event reaches it. Nothing else was rolled back; run again"
        )


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
