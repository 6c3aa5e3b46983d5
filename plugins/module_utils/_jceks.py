# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""JCEKS stores holding secret keys, read through pyjks (imported by _truststore only when one comes).

A secret-key entry is a serialized Java object that only pyjks knows how to skip; such a store is reported and
never rewritten.
"""

from __future__ import annotations

from ansible_collections.apim.certificates.plugins.module_utils._compat import MissingLibraryError
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import (
    PRIVATE_KEY,
    SECRET_KEY,
    TRUSTED_CERT,
    Truststore,
    TruststoreEntry,
    normalize_alias,
)

_jks = None
# JceKeyStore.engineLoad deserializes each secret key entry under a filter that admits exactly this class at depth 1;
# anything else fails the whole load ("Invalid secret key format").
_SEALED_FOR_KEY_PROTECTOR = "com.sun.crypto.provider.SealedObjectForKeyProtector"


def _pyjks():
    """Import pyjks on first use: it costs ~90 ms, and only JCEKS stores holding secret keys need it."""
    global _jks  # pylint: disable=global-statement
    if _jks is None:
        try:
            import jks  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise MissingLibraryError("pyjks", "20.0.0", "reading a JCEKS store that holds secret keys") from None
        _jks = jks
    return _jks


def parse_with_pyjks(data: bytes, password: str | None, store_type: str, what: str, path: str | None) -> Truststore:
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
            sealed = entry._encrypted  # pylint: disable=protected-access
            found = sealed.get_class().name if hasattr(sealed, "get_class") else type(sealed).__name__
            if found != _SEALED_FOR_KEY_PROTECTOR:
                raise TruststoreError(
                    f"{what}: Java cannot load this store: the secret key entry '{key}' is a serialized {found}, not the "
                    f"{_SEALED_FOR_KEY_PROTECTOR} JceKeyStore writes (keytool: 'Invalid secret key format')"
                )
            entries[key] = TruststoreEntry(key, SECRET_KEY, None, entry.timestamp)
    return Truststore(path, store_type, entries, integrity_verified=password is not None, has_secret_keys=True)
