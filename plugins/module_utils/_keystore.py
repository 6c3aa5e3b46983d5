# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What endpoint_keystore does, without Ansible: the gateway's own key pair in a keystore, by content.

load -> plan -> apply, under the folders' locks, all or nothing. A keystore is a _truststore_records.Truststore
(loaded by _truststore.load_truststore, so JKS and JCEKS go through _jks, which keeps every other entry byte for
byte); the key entry is protected by _key_protection (JKS, JCEKS) or written by _keystore_pkcs12 (PKCS12).

- Idempotent by content: an alias that holds the same chain (SHA-256 of every certificate, in order) and a key that
  opens with the key password and has the same public key is left alone, and the file is not rewritten.
- Whole-keystore validation before anything is written: Java's KeyManagerFactory (SunX509, the one the gateway's
  sender uses) opens every key entry of a keystore with the profile's one KeyPassword, so a JKS or JCEKS keystore
  whose other key entries do not open with key_password is refused (the gateway's reload would fail on it); the new
  bytes are parsed back and the key recovered from them before they are written.
- Gateway mode: the keystore of the SSL profile that serves the endpoint (the '*' profile without one), as
  sslprofiles.xml names it now and as deployment.toml keeps it, each file once; then sslprofiles.xml is touched so
  the sender reloads its profiles (keystores and truststores alike).

Secrets (the key, the passwords) are never in a result, a diff, a warning or a message.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import time

from ansible_collections.apim.certificates.plugins.module_utils import _key_material as material
from ansible_collections.apim.certificates.plugins.module_utils import _key_protection as protection
from ansible_collections.apim.certificates.plugins.module_utils import _keystore_pkcs12 as p12
from ansible_collections.apim.certificates.plugins.module_utils._compat import not_valid_after
from ansible_collections.apim.certificates.plugins.module_utils._desired import validate_alias
from ansible_collections.apim.certificates.plugins.module_utils._errors import (
    ApimCertificatesError,
    CertificateError,
    FileWriteError,
    LostWriteError,
    TruststoreError,
)
from ansible_collections.apim.certificates.plugins.module_utils._fileio import (
    lock_directory,
    read_bytes,
    write_atomic,
    write_problem,
)
from ansible_collections.apim.certificates.plugins.module_utils._truststore import load_truststore, parse_truststore
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import (
    PRIVATE_KEY,
    Record,
    TruststoreEntry,
    describe,
    normalize_alias,
    normalize_store_type,
)
from ansible_collections.apim.certificates.plugins.module_utils._jks import serialize_jks
from ansible_collections.apim.certificates.plugins.module_utils._keystore_report import chain_facts, entry_chain, key_of_certificate

KIND = "keystore"


class KeyRequest(Record):
    """What the user asked for under one alias: key_pair (a _key_material.KeyPair) present, or the alias absent."""

    __slots__ = ("alias", "state", "key_pair", "source")
    _defaults = {"state": "present", "key_pair": None, "source": "endpoint_keystore"}


class Options(Record):
    __slots__ = ("replace", "allow_expired", "create", "backup", "reload")
    _defaults = {"replace": True, "allow_expired": False, "create": False, "backup": False, "reload": True}


class KeystoreTarget(Record):
    """One keystore file to converge: where it is, how to open it, what it is for (reported back)."""

    __slots__ = ("path", "password", "key_password", "store_type", "role")
    _hidden = ("password", "key_password")
    _defaults = {"store_type": "auto", "role": "keystore"}


class KeyChange(Record):
    """What a plan does to the alias in one keystore. action: added, replaced, removed or unchanged."""

    __slots__ = ("alias", "action", "reason", "chain", "previous_chain", "key")
    _defaults = {"reason": None, "chain": (), "previous_chain": (), "key": None}

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    def result(self) -> dict:
        return {"alias": self.alias, "action": self.action, "reason": self.reason, "chain": list(self.chain),
                "previous_chain": list(self.previous_chain), "key": self.key}


class Outcome(Record):
    """A keystore after (or, in check mode, as predicted for) the run."""

    __slots__ = ("path", "role", "store_type", "before", "change", "created", "data", "backup_file")
    _hidden = ("data",)
    _defaults = {"created": False, "data": None, "backup_file": None}


# --- facts, never the key ----------------------------------------------------------------------------------------


def _summary(chain: list, key) -> dict:
    """What a diff shows of a key entry: per certificate the fingerprint, subject and expiry; the key's type and size."""
    return {"chain": [{"fingerprint": c["fingerprint"], "subject": c["subject"], "not_after": c["not_after"]} for c in chain],
            "key": key}


# --- plan --------------------------------------------------------------------------------------------------------


def _stored_key(store, entry, target):
    """The private key the entry holds (cryptography object), or raise protection.WrongKeyPassword."""
    if store.store_type == "PKCS12":
        key = p12.stored_key(store.raw, target.password) if store.raw else None
        if key is None:
            raise protection.WrongKeyPassword("the PKCS12 key entry does not open with the password")
        return key
    if entry.protected_key is None:
        raise protection.UnsupportedProtection("the key entry's protected key was not read")
    return material.load_pkcs8(protection.recover(entry.protected_key, target.key_password))


def _stored_key_facts(entry) -> dict | None:
    """{type, size} of an existing entry's key, from its certificate (nothing is decrypted for a report)."""
    ders = entry_chain(entry)
    return key_of_certificate(ders[0]) if ders else None


def validate_other_keys(store, alias: str, target) -> None:
    """Every other key entry of a JKS/JCEKS keystore must open with the key password (see the module docstring)."""
    if store.store_type == "PKCS12":
        return
    for name, entry in store.entries.items():
        if name == alias or entry.entry_type != PRIVATE_KEY:
            continue
        try:
            protection.recover(entry.protected_key or b"", target.key_password)
        except protection.WrongKeyPassword:
            raise TruststoreError(
                f"{describe(store.path, KIND)}: its key entry '{name}' does not open with key_password. Java's "
                "KeyManagerFactory opens every key entry of a keystore with the profile's one KeyPassword, so the "
                "gateway could not load this keystore (its whole SSL profile reload would fail): give every key entry "
                f"that key password (keytool -keypasswd -alias {name}), or remove it; nothing was written"
            ) from None
        except protection.UnsupportedProtection as exc:
            raise TruststoreError(f"{describe(store.path, KIND)}: key entry '{name}': {exc}; nothing was written") from None


def plan_key(store, request: KeyRequest, target, *, replace: bool = True, allow_expired: bool = False,
             now: datetime.datetime | None = None) -> tuple:
    """(KeyChange, warnings) for request in store. Pure: nothing is written."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    alias = normalize_alias(request.alias)
    warnings = []
    entry = store.entries.get(alias)
    where = describe(store.path, KIND)
    if entry is not None and entry.entry_type != PRIVATE_KEY:
        raise TruststoreError(
            f"alias '{alias}' in {where} is a {entry.entry_type}, not a key entry; endpoint_keystore manages key entries "
            "only (a trusted certificate is endpoint_certificate's): choose another alias"
        )
    previous = chain_facts(entry_chain(entry), now) if entry is not None else []
    if request.state == "absent":
        if entry is None:
            return KeyChange(alias, "unchanged"), warnings
        if store.store_type == "PKCS12" and len(store.entries) == 1:
            raise TruststoreError(
                f"{where}: alias '{alias}' is its only entry; removing it would leave an empty PKCS12 keystore, which "
                "cryptography cannot write and the gateway cannot use: delete the file instead (ansible.builtin.file "
                "state=absent) and point the profile at another keystore"
            )
        return KeyChange(alias, "removed", "state is absent", (), previous, _stored_key_facts(entry)), warnings

    pair = request.key_pair
    chain = chain_facts(pair.ders, now)
    key = material.key_facts(pair.key)
    leaf_end = not_valid_after(pair.chain[0])
    if leaf_end < now:
        if not allow_expired:
            raise CertificateError(
                f"{request.source}: the certificate for alias '{alias}' ({chain[0]['subject']}) expired on "
                f"{chain[0]['not_after']}; a backend refuses it: give a current certificate, or set allow_expired"
            )
        warnings.append(f"the certificate for alias '{alias}' expired on {chain[0]['not_after']}")
    for item, cert in zip(chain[1:], pair.chain[1:]):
        if not_valid_after(cert) < now:
            warnings.append(f"the CA certificate {item['subject']} of alias '{alias}' expired on {item['not_after']}")
    if entry is None:
        return KeyChange(alias, "added", "the alias is new", chain, (), key), warnings
    reason = None
    if entry_chain(entry) != list(pair.ders):
        reason = "the certificate chain differs"
    else:
        try:
            stored = _stored_key(store, entry, target)
        except protection.WrongKeyPassword:
            reason = "the key entry does not open with key_password"
        except (protection.UnsupportedProtection, ValueError) as exc:
            reason = f"the stored key cannot be read ({exc})"
        else:
            if material.public_key_der(stored) != material.public_key_der(pair.key):
                reason = "the private key differs"
    if reason is None:
        return KeyChange(alias, "unchanged", None, chain, previous, key), warnings
    if not replace:
        warnings.append(f"alias '{alias}' in {where} holds a different key entry ({reason}); it was kept because replace is false")
        return KeyChange(alias, "unchanged", None, previous, previous, _stored_key_facts(entry)), warnings
    return KeyChange(alias, "replaced", reason, chain, previous, key), warnings


# --- apply -------------------------------------------------------------------------------------------------------


def render(store, change: KeyChange, request: KeyRequest, target) -> bytes:
    """The keystore's new bytes with change applied; every other entry as it was."""
    alias = change.alias
    if store.store_type == "PKCS12":
        p12.check_rewritable(store, alias)
        if change.action == "removed":  # plan_key refuses removing the only entry: nothing else can be here
            raise TruststoreError(f"{describe(store.path, KIND)}: nothing would be left")
        return p12.serialize_keystore(alias, request.key_pair, target.password)
    entries = dict(store.entries)
    if change.action == "removed":
        entries.pop(alias, None)
    else:
        pair = request.key_pair
        protected = protection.protect(pair.pkcs8, target.key_password, store.store_type)
        entries[alias] = TruststoreEntry(alias, PRIVATE_KEY, pair.ders[0], int(time.time() * 1000),
                                         chain=tuple(("X.509", der) for der in pair.ders), protected_key=protected)
    return serialize_jks(store.replace(entries=entries, exists=True), target.password)


def verify_rendered(data: bytes, store, change: KeyChange, request: KeyRequest, target) -> None:
    """Parse the new bytes back and recover the key from them with the key password, as the gateway will."""
    what = describe(store.path, KIND)
    try:
        again = parse_truststore(data, target.password, store.store_type, store.path, KIND)
        entry = again.entries.get(change.alias)
        if change.action == "removed":
            ok = entry is None
        else:
            again.raw = data
            ok = (entry is not None and entry_chain(entry) == list(request.key_pair.ders)
                  and material.public_key_der(_stored_key(again, entry, target)) == material.public_key_der(request.key_pair.key))
    except ApimCertificatesError as exc:
        raise TruststoreError(f"{what}: the keystore this run made does not read back ({exc}); nothing was written") from None
    if not ok:
        raise TruststoreError(f"{what}: the keystore this run made does not hold the entry as planned; nothing was written")


# --- converge ----------------------------------------------------------------------------------------------------


def _check_passwords(target, store_type: str) -> None:
    what = describe(target.path, KIND)
    if target.password is None:
        raise TruststoreError(f"{what}: password is required to change a keystore (the KeyStore Password)")
    if store_type == "PKCS12":
        p12.check_passwords(target.path, target.password, target.key_password)
        return
    if target.key_password is None:
        raise TruststoreError(
            f"{what}: key_password is required for a {store_type} keystore: its key entry has a password of its own (the "
            "profile's KeyPassword, often the same as the store's password); give key_password"
        )


def _plan_target(target, request: KeyRequest, options: Options) -> tuple:
    store = load_truststore(target.path, target.password, target.store_type, missing_ok=True, kind=KIND)
    if not store.exists and not options.create:
        raise TruststoreError(f"{describe(target.path, KIND)} does not exist; set create to true to create it")
    if target.key_password is None and store.store_type == "PKCS12":
        target = KeystoreTarget(target.path, target.password, target.password, target.store_type, target.role)
    _check_passwords(target, store.store_type)
    change, warnings = plan_key(store, request, target, replace=options.replace, allow_expired=options.allow_expired)
    data = None
    if change.changed:
        if store.has_secret_keys:
            raise TruststoreError(
                f"{describe(target.path, KIND)} holds secret key entries, which this collection does not rewrite; keep "
                "the gateway's key pair in a keystore of its own"
            )
        validate_other_keys(store, change.alias, target)
        data = render(store, change, request, target)
        verify_rendered(data, store, change, request, target)
    outcome = Outcome(target.path, target.role, store.store_type, store, change,
                      created=not store.exists and change.changed, data=data)
    return outcome, warnings


def converge_keystores(targets: list, request: KeyRequest, options: Options, *, check_mode: bool = False) -> tuple:
    """(outcomes, warnings): every target keystore brought to request, all or nothing (a failed write restores the
    keystores already written). In check mode nothing is locked or written, and the same failures are raised."""
    warnings = []
    with contextlib.ExitStack() as stack:
        if not check_mode:
            for directory in sorted({os.path.dirname(os.path.realpath(t.path)) for t in targets}):
                stack.enter_context(lock_directory(directory))
        outcomes = []
        for target in targets:
            outcome, found = _plan_target(target, request, options)
            outcomes.append(outcome)
            warnings.extend(w for w in found if w not in warnings)
        pending = [o for o in outcomes if o.data is not None]
        for outcome in pending:
            problem = write_problem(outcome.path, KIND)
            if problem:
                raise FileWriteError(problem)
        if check_mode:
            return outcomes, warnings
        written = []
        try:
            for outcome in pending:
                original = None if outcome.created else outcome.before.raw
                outcome.backup_file = write_atomic(outcome.path, outcome.data, backup=options.backup and not outcome.created)
                written.append((outcome, original))
            for outcome in pending:
                try:
                    again = read_bytes(outcome.path, KIND)
                except ApimCertificatesError as exc:
                    raise LostWriteError(f"{describe(outcome.path, KIND)} was written, but cannot be read back: {exc}") from None
                if again != outcome.data:
                    raise LostWriteError(
                        f"{describe(outcome.path, KIND)} was rewritten by another process right after this run wrote it; "
                        "every keystore this run wrote was restored; run again"
                    )
        except ApimCertificatesError:
            for outcome, original in reversed(written):
                _restore(outcome, original)
            raise
    return outcomes, warnings


def _restore(outcome, original) -> None:
    with contextlib.suppress(OSError, ApimCertificatesError):
        if original is None:
            os.unlink(outcome.path)
        else:
            write_atomic(outcome.path, original)
        if outcome.backup_file:
            os.unlink(outcome.backup_file)
            outcome.backup_file = None


# --- gateway mode ------------------------------------------------------------------------------------------------


def _plain(value):
    """A password as sslprofiles.xml gives it, or None when it is protected (secure vault, $secret{}, $env{}...)."""
    from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import SECRET_ALIAS_PREFIX  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import PROTECTED  # pylint: disable=import-outside-toplevel

    if value is None or value.startswith(SECRET_ALIAS_PREFIX) or PROTECTED.search(value):
        return None
    return value


def gateway_targets(config, endpoint, password, key_password, store_type) -> tuple:
    """(targets, profile servers) for the keystore of the profile that serves endpoint ('*' without one)."""
    host = port = None
    if endpoint:
        from ansible_collections.apim.certificates.plugins.module_utils._endpoint import parse_endpoint  # pylint: disable=import-outside-toplevel

        host, port = parse_endpoint(endpoint)
    profile = config.profile_for(host, port)
    where = f"the SSL profile '{','.join(profile.servers)}'"
    if profile.keystore is None:
        raise TruststoreError(f"{where} in {config.sslprofiles_path} has no KeyStore; add one with apim.certificates.ssl_profile")
    targets = {}
    for role, ref in (("live", profile.keystore), ("persistent", config.persistent_keystore_for(profile))):
        key = os.path.realpath(ref.path)
        if key in targets:
            targets[key].role += f"+{role}"
            continue
        secret = password if password is not None else ref.require_password(f"the {role} keystore of {where}")
        key_secret = key_password if key_password is not None else _plain(ref.key_password)
        if key_password is None and ref.key_password and key_secret is None:
            raise TruststoreError(
                f"the key password of the {role} keystore of {where} ({ref.path}) is protected (secure vault or "
                "$secret{...}); give key_password"
            )
        declared = normalize_store_type(store_type)
        if declared == "auto" and not os.path.lexists(ref.path):
            declared = normalize_store_type(ref.store_type or "JKS")
        targets[key] = KeystoreTarget(ref.path, secret, key_secret, declared, role)
    return list(targets.values()), profile.servers


# --- the module's one call ---------------------------------------------------------------------------------------


def resolve_request(params: dict) -> KeyRequest:
    """The KeyRequest of endpoint_keystore's options (key material read and checked; nothing else)."""
    alias = validate_alias(params["alias"], strict=params.get("strict_alias", True))
    source = f"key pair for alias '{alias}'"
    if params.get("state", "present") == "absent":
        return KeyRequest(alias, "absent", None, source)
    key, given = material.read_key_input(
        private_key=params.get("private_key"), private_key_path=params.get("private_key_path"),
        private_key_passphrase=params.get("private_key_passphrase"), certificate=params.get("certificate"),
        certificate_path=params.get("certificate_path"), pkcs12=params.get("pkcs12"),
        pkcs12_path=params.get("pkcs12_path"), pkcs12_password=params.get("pkcs12_password"), source=source,
    )
    pair = material.key_pair(key, given, source, allow_incomplete=params.get("allow_incomplete_chain", False),
                             allow_ed25519=params.get("allow_ed25519", False))
    return KeyRequest(alias, "present", pair, source)


def manage(request: KeyRequest, options: Options, *, path=None, password=None, key_password=None, store_type="auto",
           apim_home=None, endpoint=None, check_mode=False) -> dict:
    """Do (or, in check mode, predict) what request asks. Returns the module's result, with warnings and diff."""
    config = None
    if apim_home is None:
        declared = normalize_store_type(store_type)
        targets = [KeystoreTarget(path, password, key_password, declared, "keystore")]
        servers = None
    else:
        from ansible_collections.apim.certificates.plugins.module_utils._gateway import resolve_gateway  # pylint: disable=import-outside-toplevel

        config = resolve_gateway(apim_home)
        targets, servers = gateway_targets(config, endpoint, password, key_password, store_type)
    outcomes, warnings = converge_keystores(targets, request, options, check_mode=check_mode)
    changed = any(o.change.changed for o in outcomes)
    first = next((o for o in outcomes if o.change.changed), outcomes[0])
    result = {"changed": changed, "store_type": first.store_type, "created": any(o.created for o in outcomes)}
    result.update(first.change.result())
    result["warnings"] = warnings
    result["diff"] = _diff(outcomes)
    backups = [o.backup_file for o in outcomes if o.backup_file]
    if backups:
        result["backup_file"] = backups[0]
        result["backup_files"] = backups
    if config is None:
        result["path"] = path
        return result
    result["profile"] = ",".join(servers)
    result["stores"] = [{"path": o.path, "role": o.role, "store_type": o.store_type, "changed": o.change.changed,
                         "created": o.created, "action": o.change.action} for o in outcomes]
    result["sslprofiles_path"] = config.sslprofiles_path
    result["reload_within_ms"] = config.reload_within_ms
    result["touched"] = None
    if changed and options.reload:
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.apim.certificates.plugins.module_utils._gateway import touch_profile
        from ansible_collections.apim.certificates.plugins.module_utils._profile_families import SENDER  # pylint: disable=import-outside-toplevel

        result["touched"] = touch_profile(config, SENDER, check_mode)
    return result


def _diff(outcomes: list) -> dict:
    before, after = {}, {}
    for outcome in outcomes:
        change = outcome.change
        if not change.changed:
            continue
        old = {change.alias: _summary(change.previous_chain, _stored_key_facts(outcome.before.entries[change.alias]))} \
            if change.alias in outcome.before.entries else {}
        new = {change.alias: _summary(change.chain, change.key)} if change.action != "removed" else {}
        if len(outcomes) == 1:
            before, after = old, new
        else:
            if old:
                before[outcome.path] = old
            if new:
                after[outcome.path] = new
    diff = {"before": before, "after": after}
    if len(outcomes) == 1:
        diff["before_header"] = diff["after_header"] = outcomes[0].path
    return diff
