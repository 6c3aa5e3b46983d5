# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What truststore_info reports: one store, or a gateway node's live and persistent stores, and trust checks."""

from __future__ import annotations

import datetime
import os

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.plugins.module_utils._endpoint import fetch_chain_der, parse_endpoint
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._gateway import resolve_gateway
from ansible_collections.apim.certificates.plugins.module_utils._trustcheck import check_held, check_trust, normalize_verifier
from ansible_collections.apim.certificates.plugins.module_utils._truststore import load_truststore
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import PRIVATE_KEY, normalize_alias


def store_report(store, *, aliases=None, expiring_within_days: int = 30, content: bool = False) -> dict:
    # imported here: the facts need cryptography, which a trust check alone (gateway_trust) mostly does not
    from ansible_collections.apim.certificates.plugins.module_utils._facts import entry_facts  # pylint: disable=import-outside-toplevel

    wanted = [normalize_alias(a) for a in aliases] if aliases is not None else None
    selected = [e for alias, e in store.entries.items() if wanted is None or alias in wanted]
    entries = []
    for entry in selected:
        facts = entry_facts(entry)
        if content:
            facts["pem"] = None
            if entry.certificate is not None:
                facts["pem"] = certs.pem_of_der(entry.certificate)
        entries.append(facts)
    by_fingerprint = {}
    for entry in store.entries.values():
        if entry.sha256 is not None:
            by_fingerprint.setdefault(entry.sha256, []).append(entry.alias)
    return {
        "path": store.path,
        "store_type": store.store_type,
        "integrity_verified": store.integrity_verified,
        "entries": entries,
        "count": len(entries),
        "expiring": [e["alias"] for e in entries if e["days_remaining"] is not None and e["days_remaining"] < expiring_within_days],
        "missing": [a for a in (wanted or []) if a not in store.entries],
        "duplicates": [{"fingerprint": fp, "aliases": names} for fp, names in by_fingerprint.items() if len(names) > 1],
        "untrusted_certificates": [_untrusted(der) for der in store.untrusted] + _unreachable(store),
    }


def _untrusted(der: bytes) -> dict:
    """A certificate a PKCS12 file holds that Java does not trust (no trusted-key-usage attribute, no key's chain)."""
    return {"subject": _subject(der), "fingerprint": certs.sha256_fingerprint(der),
            "reason": "a PKCS12 certificate bag without the trusted-key-usage attribute: Java keeps it out of the "
                      "store's entries and does not trust it (keytool -list does not show it)"}


def _unreachable(store) -> list:
    """JKS/JCEKS entries stored under an alias with upper case (by another tool): Java loads them, lists them in
    KeyStore.aliases(), but lower-cases every alias it looks up, so it never finds them and its TrustManager does not
    trust them; keytool -list fails on the whole store. The last one of an alias stored twice is the one Java keeps."""
    latest = {entry.alias: entry for _previous, entry, _raw in store.unreachable}
    return [{
        "subject": _subject(entry.certificate),
        "fingerprint": entry.sha256,
        "reason": f"{store.store_type} entry stored under the alias '{alias}', with upper case ({entry.entry_type}): Java lists "
                  f"it but looks every alias up lower-cased ('{normalize_alias(alias)}'), so it never finds it and does not "
                  f"trust it, and keytool -list, -delete and -changealias fail (\"Alias <{alias}> does not exist\")",
    } for alias, entry in latest.items()]


def _subject(der):
    if der is None:
        return None
    try:
        return certs.describe_der(der).subject
    except ValueError:
        return None


def _key_expiry_warnings(store, within_days: int) -> list:
    """A warning for each key entry of the store whose certificate expires within within_days (a keystore given by path)."""
    if not any(entry.entry_type == PRIVATE_KEY for entry in store.entries.values()):
        return []
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._keystore_report import expiry_warnings, key_entries

    return expiry_warnings(f"keystore {store.path}", key_entries(store), within_days)


def _password_warnings(store, password) -> list:
    if store.store_type == "PKCS12" and password and any(not 0x20 <= ord(char) < 0x7F for char in password):
        return [f"{store.path}: JDK 17 cannot open this PKCS12 store with its password, which has characters other than "
                "printable ASCII (keytool: 'keystore password was incorrect'); the gateway cannot load it"]
    return []


def java_warnings(report: dict) -> list:
    """A warning for each entry Java cannot read (keytool and the gateway refuse the whole store while it is there),
    and for the certificates of a PKCS12 file that Java does not trust."""
    warnings = [
        f"{report['path']}: alias '{e['alias']}' holds a certificate Java cannot read ({e['java_error']}): keytool and "
        "the gateway cannot load this store until it is removed (endpoint_certificate state=absent)"
        for e in report["entries"] if e.get("java_error")
    ]
    if report["store_type"] in ("JKS", "JCEKS"):
        warnings.extend(
            f"{report['path']}: {u['reason']}. endpoint_certificate keeps it as it is; to remove it, use state absent "
            f"for that alias, then add the certificate again under the lower-case alias"
            for u in report["untrusted_certificates"]
        )
    elif report["untrusted_certificates"]:
        warnings.append(
            f"{report['path']} holds {len(report['untrusted_certificates'])} certificate(s) Java does not trust (PKCS12 "
            "certificate bags without the trusted-key-usage attribute, as `openssl pkcs12 -export -nokeys` writes them): "
            "see untrusted_certificates; endpoint_certificate keeps them as they are; import them with keytool -importcert "
            "to trust them"
        )
    return warnings


def _anchors(store, ders=None) -> dict:
    """alias -> certificate, for every entry; with ders (the presented chain), only the entries that can anchor it (a
    certificate of the chain itself, or one whose subject is the issuer of one, compared as DER), so a check parses a
    few, not all."""
    wanted = None
    if ders is not None:
        issuers = {names[0] for names in map(_der.raw_names, ders) if names is not None}
        wanted = set(ders), issuers
    anchors = {}
    for alias, entry in store.entries.items():
        if entry.certificate is None:
            continue
        if wanted is not None and entry.certificate not in wanted[0]:
            names = _der.raw_names(entry.certificate)
            if names is not None and names[1] not in wanted[1]:
                continue
        try:
            anchors[alias] = certs.load_der_certificate(entry.certificate)
        except ValueError:
            continue  # cryptography cannot read it (truststore_info reports it): it cannot anchor this check
    return anchors


def trust_checks(endpoints: list, store_for, verifier: str, timeout: float, served=None) -> list:
    """For each endpoint: would the store that serves it trust what it presents now? served: {endpoint: [DER]}
    already fetched in this run (gateway_trust's drop filter), not asked again."""
    results = []
    for endpoint in endpoints:
        host, port = parse_endpoint(endpoint)
        store, profile = store_for(host, port)
        verdict = {"endpoint": endpoint, "host": host, "port": port, "profile": profile, "truststore": store.path,
                   "hostname_verifier": verifier}
        try:
            ders = (served or {}).get(endpoint) or fetch_chain_der(host, port, timeout)
        except ApimCertificatesError as exc:
            verdict.update(trusted=False, reason=str(exc), anchor=None, fingerprint=None, served_chain=[], served_leaf=None,
                           trusted_by=None)
            results.append(verdict)
            continue
        verdict["fingerprint"] = certs.sha256_fingerprint(ders[0])
        verdict["served_chain"] = [certs.sha256_fingerprint(der) for der in ders]
        verdict["served_leaf"] = _served_leaf(ders[0])
        # the usual case, decided from the DER: the store holds the presented certificate itself (the last alias
        # holding it, as build_path() finds it)
        held = [alias for alias, entry in store.entries.items() if entry.certificate == ders[0]]
        quick = check_held(ders[0], held[-1], host, verifier) if held else None
        if quick is not None:
            verdict.update(quick)
            results.append(_trusted_by(verdict, store, ders))
            continue
        try:
            chain = [certs.parse_certificates(der, f"certificate presented by {host}:{port}")[0] for der in ders]
        except ApimCertificatesError as exc:
            verdict.update(trusted=False, reason=str(exc), anchor=None)
        else:
            verdict.update(check_trust(chain, _anchors(store, ders), host, verifier))
            if not verdict["trusted"] and verdict["anchor"] is None:
                # no anchor among the byte-for-byte candidates: compare names as cryptography does, with every entry
                verdict.update(check_trust(chain, _anchors(store), host, verifier))
        results.append(_trusted_by(verdict, store, ders))
    return results


def _served_leaf(der: bytes) -> dict | None:
    """The served leaf's life: {subject, issuer, not_after, days_remaining} (None for a certificate neither reader reads)."""
    try:
        info = certs.describe_der(der)
    except (ValueError, ApimCertificatesError):
        return None
    now = datetime.datetime.now(datetime.timezone.utc)
    return {"subject": info.subject, "issuer": info.issuer, "not_after": certs.iso_utc(info.not_after),
            "days_remaining": (info.not_after - now) // datetime.timedelta(days=1)}


def _trusted_by(verdict: dict, store, ders: list) -> dict:
    """trusted_by: 'leaf' when the store trusts the endpoint through the served leaf itself (its next renewal breaks
    that trust), 'ca' through a CA, None when it does not trust it."""
    anchor = store.entries.get(verdict.get("anchor")) if verdict.get("trusted") else None
    verdict["trusted_by"] = None if anchor is None else ("leaf" if anchor.certificate == ders[0] else "ca")
    return verdict


def report(*, path=None, apim_home=None, password=None, store_type="auto", aliases=None, expiring_within_days=30,
           content=False, verify_endpoints=(), hostname_verifier=None, timeout=10.0) -> tuple:
    """(result, warnings) for truststore_info."""
    warnings = []
    options = {"aliases": aliases, "expiring_within_days": expiring_within_days, "content": content}
    if apim_home is None:
        store = load_truststore(path, password, store_type)
        if not store.integrity_verified:
            warnings.append(f"no password given: the integrity of {path} was not verified")
        result = store_report(store, **options)
        warnings.extend(java_warnings(result) + _password_warnings(store, password))
        warnings.extend(_key_expiry_warnings(store, expiring_within_days))
        verifier = normalize_verifier(hostname_verifier)
        result["trust_checks"] = trust_checks(list(verify_endpoints), lambda h, p: (store, None), verifier, timeout)
        return result, warnings

    config = resolve_gateway(apim_home)
    default = config.profile_for(None, None)
    loaded = {}

    def load(ref, role):
        key = os.path.realpath(ref.path)
        if key not in loaded:
            secret = password if password is not None else ref.require_password(f"the {role} truststore")
            loaded[key] = (load_truststore(ref.path, secret, store_type), [role])
        elif role not in loaded[key][1]:
            loaded[key][1].append(role)
        return loaded[key][0]

    live = load(default.truststore, "live")
    load(config.persistent_truststore, "persistent")
    listener = config.listener.truststore if config.listener is not None else None
    if listener is not None and os.path.realpath(listener.path) not in loaded:
        if password is None and listener.password is None:
            warnings.append(f"the listener's truststore {listener.path} was not read: its password is "
                            f"{'protected (' + listener.protected + ')' if listener.protected else 'not configured'}; give password")
        else:
            load(listener, "listener")
    stores, live_report = [], None
    for store, roles in loaded.values():
        item = store_report(store, **options)
        warnings.extend(java_warnings(item) + _password_warnings(store, password))
        item["role"] = "+".join(roles)
        item["used_by"] = config.families_of(store.path)
        if store is live:
            live_report = dict(item)  # the top level reports the live store: reuse it, do not compute its facts again
            del live_report["role"], live_report["used_by"]
        stores.append(item)
    result = live_report
    result["stores"] = stores
    result["gateway"] = {
        "apim_home": config.apim_home,
        "deployment_toml": config.deployment_toml,
        "sslprofiles_path": config.sslprofiles_path,
        "reload_within_ms": config.reload_within_ms,
        "hostname_verifier": config.hostname_verifier,
        "persistent_truststore": config.persistent_truststore.path,
        "profiles": [
            {"servers": p.servers, "truststore": p.truststore.path if p.truststore else None,
             "keystore": p.keystore.path if p.keystore else None}
            for p in config.live_profiles
        ],
        "listener": config.listener.facts() if config.listener is not None else None,
    }
    # the key pairs the sender profiles present to backends (mutual TLS), and a warning before they expire
    from ansible_collections.apim.certificates.plugins.module_utils._keystore_report import gateway_keystores  # pylint: disable=import-outside-toplevel

    result["keystores"], keystore_warnings = gateway_keystores(config, expiring_within_days)
    warnings.extend(keystore_warnings)
    verifier = normalize_verifier(hostname_verifier or config.hostname_verifier)

    def store_for(host, port):
        profile = config.profile_for(host, port)
        return load(profile.truststore, "live"), ",".join(profile.servers)

    result["trust_checks"] = trust_checks(list(verify_endpoints), store_for, verifier, timeout)
    return result, warnings
