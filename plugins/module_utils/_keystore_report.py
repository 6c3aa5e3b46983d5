# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What truststore_info and gateway_trust report about key entries: the gateway's own certificates, never its keys.

A key entry is described by its alias, its chain (subject, issuer, fingerprint, expiry of each certificate) and its
key's type and size, read from the leaf certificate: nothing is decrypted. On a gateway node the keystores are the
ones the live SSL profiles present to backends (sslprofiles.xml's KeyStore of each profile); a warning comes before
the certificate a profile presents expires, since a backend that requires client certificates then refuses the
gateway.
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import PRIVATE_KEY


def chain_facts(ders, now: datetime.datetime | None = None) -> list:
    """[{subject, issuer, fingerprint, not_after, days_remaining}] of a chain's DER certificates."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    facts = []
    for der in ders:
        item = {"subject": None, "issuer": None, "fingerprint": certs.sha256_fingerprint(der), "not_after": None,
                "days_remaining": None}
        try:
            info = certs.describe_der(der)
        except ValueError:
            facts.append(item)
            continue
        item.update(subject=info.subject, issuer=info.issuer, not_after=certs.iso_utc(info.not_after),
                    days_remaining=(info.not_after - now) // datetime.timedelta(days=1))
        facts.append(item)
    return facts


def entry_chain(entry) -> list:
    """The DER certificates of a key entry's chain, leaf first."""
    if entry.chain:
        return [der for _type, der in entry.chain]
    return [entry.certificate] if entry.certificate is not None else []


def key_of_certificate(der: bytes):
    """{type, size} of the key a certificate certifies (what a key entry's key is), or None when unreadable."""
    from ansible_collections.apim.certificates.plugins.module_utils._facts import public_key_facts  # pylint: disable=import-outside-toplevel

    try:
        facts = public_key_facts(certs.load_der_certificate(der))
    except ValueError:
        return None
    return {"type": facts["type"], "size": facts["size"]}


def key_entry_facts(entry, now: datetime.datetime | None = None) -> dict:
    """{alias, chain, key, not_after, days_remaining} of a key entry."""
    chain = chain_facts(entry_chain(entry), now)
    leaf = chain[0] if chain else {}
    return {"alias": entry.alias, "chain": chain, "key": key_of_certificate(entry_chain(entry)[0]) if chain else None,
            "not_after": leaf.get("not_after"), "days_remaining": leaf.get("days_remaining")}


def key_entries(store, now: datetime.datetime | None = None) -> list:
    return [key_entry_facts(entry, now) for entry in store.entries.values() if entry.entry_type == PRIVATE_KEY]


def expiry_warnings(where: str, entries: list, within_days: int) -> list:
    """A warning for each key entry whose certificate has expired or expires within within_days."""
    found = []
    for item in entries:
        days = item["days_remaining"]
        if days is None or days >= within_days:
            continue
        subject = item["chain"][0]["subject"]
        state = f"expired on {item['not_after']}" if days < 0 else f"expires on {item['not_after']} ({days} days left)"
        found.append(
            f"{where}: the gateway's certificate '{subject}' (key entry '{item['alias']}') {state}; a backend that "
            "requires client certificates refuses it then: rotate it with apim.certificates.endpoint_keystore"
        )
    return found


def _password(ref):
    from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import SECRET_ALIAS_PREFIX  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import PROTECTED  # pylint: disable=import-outside-toplevel

    value = ref.password
    if value is None or value.startswith(SECRET_ALIAS_PREFIX) or PROTECTED.search(value):
        return None
    return value


def gateway_keystores(config, within_days: int = 30, now: datetime.datetime | None = None) -> tuple:
    """(keystores, warnings): each keystore a live sender profile presents, with its key entries.

    Read with the password sslprofiles.xml gives; a JKS or JCEKS keystore whose password is protected is read without
    verifying its integrity (nothing is decrypted either way), a PKCS12 one is skipped with a warning."""
    from ansible_collections.apim.certificates.plugins.module_utils._truststore import load_truststore  # pylint: disable=import-outside-toplevel

    now = now or datetime.datetime.now(datetime.timezone.utc)
    found, warnings = {}, []
    for profile in config.live_profiles:
        if profile.keystore is None:
            continue
        key = os.path.realpath(profile.keystore.path)
        servers = ",".join(profile.servers)
        if key in found:
            found[key]["profiles"].append(servers)
            continue
        item = {"path": profile.keystore.path, "profiles": [servers], "store_type": None, "integrity_verified": False,
                "key_entries": [], "error": None}
        found[key] = item
        try:
            store = load_truststore(profile.keystore.path, _password(profile.keystore), kind="keystore")
        except ApimCertificatesError as exc:
            item["error"] = str(exc)
            warnings.append(f"the keystore of the SSL profile '{servers}' cannot be read: {exc}")
            continue
        item.update(store_type=store.store_type, integrity_verified=store.integrity_verified, key_entries=key_entries(store, now))
    for item in found.values():
        where = f"keystore {item['path']} (SSL profile '{', '.join(item['profiles'])}')"
        warnings.extend(expiry_warnings(where, item["key_entries"], within_days))
    return list(found.values()), warnings
