# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PKCS12 truststores: read as Java's PKCS12KeyStore reads them, written as Java does.

Reading goes through the collection's own reader of the bags and their attributes (_pkcs12_safes), which decides
trust as Java does (the trusted-key-usage attribute). Where that reader does not know a layout or algorithm,
cryptography's load_pkcs12 reads the store instead, and the bags outside encrypted content (where Java keeps key
entries, which load_pkcs12 does not report) are still walked, so a store holding keys or bags this collection does
not know is reported and never rewritten. Writing goes through cryptography's serialize_java_truststore, which adds
the attribute Java needs to see a trusted entry; the certificate bags Java does not trust are then added back as they
were read (_pkcs12_safes.append_bags), so a rewrite changes nothing Java trusts but the change itself. Imported by
_truststore only when a PKCS12 store comes.
"""

from __future__ import annotations

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.plugins.module_utils import _pkcs12_safes
from ansible_collections.apim.certificates.plugins.module_utils._compat import MissingLibraryError, pkcs12_reader, pkcs12_writer
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruncatedStoreError, TruststoreError
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import (
    PRIVATE_KEY,
    SECRET_KEY,
    TRUSTED_CERT,
    Truststore,
    TruststoreEntry,
    describe,
    normalize_alias,
)


def _open_only(data: bytes, secret: bytes | None, what: str, path: str | None) -> Truststore:
    """Check that a PKCS12 store opens with its password, on a cryptography too old to list it (< 36.0).

    ssl_profile's validate_stores needs no more: a keystore or truststore that opens is one the gateway can load.
    The store comes back opaque and without entries; it is never rewritten.
    """
    from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel

    try:
        pkcs12.load_key_and_certificates(data, secret)
    except ValueError:
        raise TruststoreError(f"{what}: wrong password, or the PKCS12 data is corrupt") from None
    except Exception as exc:  # noqa: BLE001 - unsupported PKCS12 algorithms
        raise TruststoreError(f"{what}: cannot read this PKCS12 store ({type(exc).__name__}: {exc})") from None
    return Truststore(path, "PKCS12", {}, integrity_verified=True,
                      opaque="it was only opened: listing a PKCS12 store needs cryptography >= 36.0.0")


def parse_pkcs12(data: bytes, password: str | None, what: str, path: str | None, open_only: bool = False) -> Truststore:
    """The entries of a PKCS12 store. open_only: the caller only needs to know that it opens with password
    (works on every cryptography; the result then has no entries when cryptography cannot list them)."""
    length = certs.der_element_length(data)
    if length is not None and length > len(data):
        raise TruncatedStoreError(f"{what} is corrupt or truncated (PKCS12: the data ends before its DER structure does)")
    if length is None or length != len(data):
        raise TruststoreError(f"{what} is corrupt or truncated (PKCS12: the DER structure does not span the file)")
    if password is not None and "\x00" in password:
        raise TruststoreError(f"{what}: wrong password (a PKCS12 password cannot contain a NUL character)")
    if password is not None:
        try:
            bags = _pkcs12_safes.read_bags(data, password)
        except _pkcs12_safes.WrongPassword:
            raise TruststoreError(f"{what}: wrong password (the PKCS12 MAC or encryption does not verify with it)") from None
        except _pkcs12_safes.Unsupported:
            pass  # cryptography's reader below
        except (ValueError, IndexError):
            raise TruststoreError(f"{what} is corrupt (not the PKCS12 structure)") from None
        else:
            return _store_from_bags(bags, path)
    secret = password.encode("utf-8") if password is not None else None
    try:
        pkcs12 = pkcs12_reader()
    except MissingLibraryError:
        if open_only and password is not None:
            return _open_only(data, secret, what, path)
        if password is None:  # with it, the collection's own reader lists the store on this cryptography too
            raise TruststoreError(f"{what}: a PKCS12 store can only be read with its password; give password") from None
        raise
    try:
        bundle = pkcs12.load_pkcs12(data, secret)
    except ValueError:
        if password is None:
            raise TruststoreError(f"{what}: a PKCS12 store can only be read with its password; give password") from None
        raise TruststoreError(f"{what}: wrong password, or the PKCS12 data is corrupt") from None
    except Exception as exc:  # noqa: BLE001 - unsupported PKCS12 algorithms
        raise TruststoreError(f"{what}: cannot read this PKCS12 store ({type(exc).__name__}: {exc})") from None
    try:  # the bags outside encrypted content, where Java keeps key entries, which load_pkcs12 does not report
        plain_bags = [("key" if bag.kind == "shrouded_key" else bag.kind, bag.friendly_name)
                      for bag in _pkcs12_safes.read_bags(data, None)]
        opaque = None
    except (ValueError, IndexError):
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


def _store_from_bags(bags: list, path: str | None) -> Truststore:
    """The entries Java's PKCS12KeyStore makes of these bags (engineLoad, loadSafeContents): a certificate bag is a
    trusted entry only with the trusted-key-usage attribute; a shrouded key bag is a key entry, its chain the
    certificate with its localKeyId and then their issuers; a secret bag a secret key entry; an entry without a
    friendly name is named by a counter ("1", "2", ...) shared by all of them, in bag order; the same alias twice
    keeps the later entry. Certificate bags without the attribute are no entry: they are kept in `chain_only`."""
    entries, chain_only, opaque, counter = {}, [], None, [0]
    has_secret = False

    def name_of(bag) -> str:
        if bag.friendly_name is not None:
            return normalize_alias(bag.friendly_name)
        counter[0] += 1
        return str(counter[0])

    certificates = [bag for bag in bags if bag.kind == "cert" and bag.certificate is not None]
    for bag in bags:
        if bag.kind == "cert":
            if bag.certificate is None:
                opaque = opaque or "it holds a PKCS12 certificate bag that is not X.509"
            elif bag.trusted:
                alias = name_of(bag)
                entries[alias] = TruststoreEntry(alias, TRUSTED_CERT, bag.certificate, None)
            else:
                chain_only.append(bag.certificate)
        elif bag.kind == "shrouded_key":
            alias = name_of(bag)
            chain = _key_chain(bag, certificates)
            entries[alias] = TruststoreEntry(alias, PRIVATE_KEY, chain[0][1] if chain else None, None, chain=tuple(chain))
        elif bag.kind == "secret":
            has_secret = True
            alias = name_of(bag)
            entries[alias] = TruststoreEntry(alias, SECRET_KEY, None, None)
        else:
            opaque = opaque or f"it holds a PKCS12 {bag.kind.replace('_', ' ')} bag this collection does not rewrite"
    keyed = {der for entry in entries.values() for _type, der in entry.chain}
    untrusted = [der for der in chain_only if der not in keyed]
    kept = [bag.der for bag in bags if bag.kind == "cert" and bag.certificate is not None and not bag.trusted
            and bag.certificate not in keyed]
    return Truststore(path, "PKCS12", entries, integrity_verified=True, has_secret_keys=has_secret, opaque=opaque,
                      untrusted=tuple(untrusted), kept=tuple(kept))


def _key_chain(key_bag, certificates: list) -> list:
    """[("X.509", DER)] of a key entry: the certificate with the key's localKeyId, then each one's issuer."""
    leaf = next((bag.certificate for bag in certificates if key_bag.local_key_id is not None
                 and bag.local_key_id == key_bag.local_key_id), None)
    if leaf is None:
        return []
    raw_names = _der.raw_names
    chain, seen = [leaf], {leaf}
    while len(chain) < 10:
        names = raw_names(chain[-1])
        if names is None or names[0] == names[1]:
            break
        issuer = next((bag.certificate for bag in certificates if bag.certificate not in seen
                       and (raw_names(bag.certificate) or (None, None))[1] == names[0]), None)
        if issuer is None:
            break
        chain.append(issuer)
        seen.add(issuer)
    return [("X.509", der) for der in chain]


def serialize_pkcs12(store: Truststore, password: str) -> bytes:
    if store.opaque:
        raise TruststoreError(f"{describe(store.path)} is not rewritten: {store.opaque}")
    if len(store.untrusted) > len(store.kept):  # read by cryptography's reader, which does not give the bags
        raise TruststoreError(
            f"{describe(store.path)} is not rewritten: it holds {len(store.untrusted)} certificate(s) that Java does not "
            "trust (certificate bags without the trusted-key-usage attribute), which this collection cannot keep as they "
            "are. Import them with keytool -importcert to trust them, or convert the store with keytool -importkeystore"
        )
    if not password.isascii() or any(not 0x20 <= ord(char) < 0x7F for char in password):
        raise TruststoreError(
            f"{describe(store.path)}: JDK 17 cannot open a PKCS12 store whose password has characters other than "
            "printable ASCII (keytool: 'keystore password was incorrect'); use an ASCII password or a JKS store"
        )
    if "\x00" in password:
        raise TruststoreError(f"{describe(store.path)}: a PKCS12 password cannot contain a NUL character")
    pkcs12 = pkcs12_writer()
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, NoEncryption  # pylint: disable=import-outside-toplevel

    bags = []
    for alias, entry in store.entries.items():
        if any(ord(char) > 0xFFFF for char in alias):
            raise TruststoreError(
                f"alias '{alias}' has characters outside the Basic Multilingual Plane, which a PKCS12 friendly name "
                f"does not keep ({describe(store.path)}); use JKS or another alias"
            )
        if entry.entry_type != TRUSTED_CERT:
            raise TruststoreError(
                f"{describe(store.path)} holds {entry.entry_type} '{alias}'; this collection rewrites PKCS12 stores "
                "only when they hold trusted certificates alone"
            )
        try:
            cert = certs.load_der_certificate(entry.certificate)
        except ValueError as exc:
            raise TruststoreError(
                f"{describe(store.path)}: alias '{alias}' holds a certificate Java reads but cryptography cannot ({exc}), "
                "and PKCS12 stores are written through cryptography; use a JKS or JCEKS store for it"
            ) from None
        bags.append(pkcs12.PKCS12Certificate(cert, alias.encode("utf-8")))
    if not bags:
        raise TruststoreError(
            f"{describe(store.path)} would hold no trusted certificate, and cryptography does not write an empty PKCS12 "
            "truststore; keep one certificate in it, or delete the file"
        )
    encryption = BestAvailableEncryption(password.encode("utf-8")) if password else NoEncryption()
    data = pkcs12.serialize_java_truststore(bags, encryption)
    if store.kept:
        # the certificate bags Java does not trust, added back as they were read: still untrusted, still listed by openssl
        try:
            data = _pkcs12_safes.append_bags(data, password, list(store.kept))
        except (ValueError, IndexError) as exc:
            raise TruststoreError(
                f"{describe(store.path)} is not rewritten: its {len(store.kept)} certificate bag(s) that Java does not trust "
                f"cannot be kept as they are ({exc})"
            ) from None
    return data
