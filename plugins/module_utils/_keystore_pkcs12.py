# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PKCS12 keystores holding the gateway's key pair: read the key entry and write it, through cryptography.

cryptography writes a PKCS12 file with one key, its certificate and the CA certificates of its chain
(pkcs12.serialize_key_and_certificates, in every cryptography from 3.4.8); Java's PKCS12KeyStore reads that as one
PrivateKeyEntry named by the friendly name, its chain built from the certificates. It cannot write a second key entry
or trusted certificate entries beside it, so a PKCS12 keystore is rewritten only when the managed alias is its one
entry (or it has none); anything else is refused with what to do. The one password protects the key and the file
(cryptography has no separate key password, and keytool ignores one for PKCS12): key_password, when given, must be
the store's password. The entries themselves are listed by _pkcs12 (through _truststore.load_truststore).
"""

from __future__ import annotations

from ansible_collections.apim.certificates.plugins.module_utils._compat import pkcs12_key_writer
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import describe


def check_passwords(path: str | None, password: str, key_password: str | None) -> None:
    if key_password is not None and key_password != password:
        raise TruststoreError(
            f"{describe(path, 'keystore')}: a PKCS12 keystore has one password for the store and its keys (keytool "
            "ignores a different -keypass, and the gateway's KeyPassword must then be the same): give key_password equal "
            "to password, or leave it out"
        )
    if any(not 0x20 <= ord(char) < 0x7F for char in password):
        raise TruststoreError(
            f"{describe(path, 'keystore')}: JDK 17 cannot open a PKCS12 store whose password has characters other than "
            "printable ASCII (keytool: 'keystore password was incorrect'); use an ASCII password or a JKS keystore"
        )


def check_rewritable(store, alias: str) -> None:
    """Refuse a PKCS12 keystore that holds anything but the managed alias (cryptography cannot write it back)."""
    if store.opaque:
        raise TruststoreError(f"{describe(store.path, 'keystore')} is not rewritten: {store.opaque}")
    others = [name for name in store.entries if name != alias]
    if others or store.untrusted:
        what = ", ".join(f"'{name}' ({store.entries[name].entry_type})" for name in others)
        if store.untrusted:
            what = ", ".join(filter(None, [what, f"{len(store.untrusted)} certificate(s) outside any entry"]))
        raise TruststoreError(
            f"{describe(store.path, 'keystore')} holds {what} besides alias '{alias}'; a PKCS12 keystore is written "
            "through cryptography, which writes one key entry and nothing else, so the others would be lost. Keep the "
            "gateway's key pair in a keystore of its own, or convert this one to JKS (keytool -importkeystore "
            "-deststoretype JKS) and point the profile at it"
        )


def stored_key(raw: bytes, password: str):
    """The private key a PKCS12 keystore holds (its one key entry), or None when it has none."""
    from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel

    try:
        return pkcs12.load_key_and_certificates(raw, password.encode("utf-8"))[0]
    except Exception:  # noqa: BLE001 - a key this cryptography cannot decrypt: treated as a different key
        return None


def serialize_keystore(alias: str, key_pair, password: str) -> bytes:
    """A PKCS12 keystore holding key_pair under alias, protected by password."""
    pkcs12 = pkcs12_key_writer()
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption  # pylint: disable=import-outside-toplevel

    if not password:
        raise TruststoreError("a PKCS12 keystore needs a password (the gateway's KeyStore Password)")
    return pkcs12.serialize_key_and_certificates(alias.encode("utf-8"), key_pair.key, key_pair.chain[0],
                                                 key_pair.chain[1:] or None, BestAvailableEncryption(password.encode("utf-8")))
