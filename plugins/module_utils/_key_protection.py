# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How JKS and JCEKS protect a private key entry with its key password, without a JRE and without pyjks.

Both wrap the key's PKCS#8 PrivateKeyInfo in a PKCS#8 EncryptedPrivateKeyInfo; they differ in the algorithm.

- JKS: Sun's proprietary key protection, OID 1.3.6.1.4.1.42.2.17.1.1 (the JDK's sun.security.provider.KeyProtector).
  A 20-byte random salt; a keystream of SHA-1 digests, the first SHA-1(password || salt), each next one
  SHA-1(password || previous digest); the key XOR the keystream; then SHA-1(password || key) as an integrity check.
  The password is UTF-16BE (Java chars, two bytes each). Stored as salt || encrypted key || check. It is the only
  algorithm Java's JKS KeyStore reads and writes for a key entry, so nothing else can be used; it is weak (it
  relies on the store file's protection), which is why the gateway's keystore must stay mode 0600/0640.
- JCEKS: PBEWithMD5AndTripleDES, OID 1.3.6.1.4.1.42.2.19.1 (the JDK's com.sun.crypto.provider.KeyProtector with
  PBES1Core for DESede). PBE parameters: an 8-byte salt and an iteration count (the JDK writes 200000 and refuses
  more than 5000000); key and IV from two MD5 chains, one per salt half (a half equal to the other is first
  rearranged as the JDK does), 24 bytes of DESede key and an 8-byte IV; DESede-CBC with PKCS#5 padding. The
  password is ASCII (the JDK's PBEKey refuses anything else). TripleDES comes from cryptography.

``protect`` and ``recover`` are the only entry points; ``recover`` raises WrongKeyPassword when the password does not
open the key (JKS: the integrity check fails; JCEKS: the padding or the PKCS#8 structure is wrong), and
UnsupportedProtection for an algorithm neither store type writes.
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError

JKS_KEY_PROTECTOR = "1.3.6.1.4.1.42.2.17.1.1"
JCEKS_KEY_PROTECTOR = "1.3.6.1.4.1.42.2.19.1"
JCEKS_ITERATIONS = 200000  # com.sun.crypto.provider.KeyProtector's default (jdk.jceks.iterationCount)
JCEKS_MAX_ITERATIONS = 5000000  # the JDK refuses more when it reads a key
_SHA1_SIZE = 20


class WrongKeyPassword(TruststoreError):
    """The key password does not open this key entry."""


class UnsupportedProtection(TruststoreError):
    """A key entry protected by an algorithm this collection does not read."""


# --- DER, just what an EncryptedPrivateKeyInfo needs ------------------------------------------------------


def _tlv(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes((tag, length)) + body
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + body


def _oid(dotted: str) -> bytes:
    parts = [int(part) for part in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.insert(0, 0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(chunk)
    return _tlv(0x06, bytes(body))


def _integer(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return _tlv(0x02, raw)


def _encrypted_private_key_info(algorithm: str, params: bytes, encrypted: bytes) -> bytes:
    return _tlv(0x30, _tlv(0x30, _oid(algorithm) + params) + _tlv(0x04, encrypted))


def _parse_encrypted_private_key_info(blob: bytes) -> tuple:
    """(algorithm OID, raw parameters element or b'', encrypted bytes)."""
    try:
        tag, start, end = _der.tlv(blob, 0, len(blob), strict=False)
        if tag != 0x30:
            raise ValueError("not a SEQUENCE")
        parts = _der.children(blob, start, end, strict=False)
        if len(parts) != 2:
            raise ValueError("not two elements")
        (alg_tag, alg_start, alg_end), (data_tag, data_start, data_end) = parts
        if alg_tag != 0x30 or data_tag != 0x04:
            raise ValueError("no AlgorithmIdentifier or OCTET STRING")
        header = _der.children(blob, alg_start, alg_end, strict=False)
        oid_tag, oid_start, oid_end = header[0]
        if oid_tag != 0x06:
            raise ValueError("no algorithm OID")
        algorithm = _der.oid(blob[oid_start:oid_end])
        params = b""
        if len(header) > 1:
            params = blob[oid_end:alg_end]
        return algorithm, params, blob[data_start:data_end]
    except (ValueError, IndexError):
        raise UnsupportedProtection("the key entry is not a PKCS#8 EncryptedPrivateKeyInfo (corrupt)") from None


def _pkcs8_is_well_formed(data: bytes) -> bool:
    """A PrivateKeyInfo's outer shape: SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING key, ... }."""
    try:
        tag, start, end = _der.tlv(data, 0, len(data), strict=False)
        if tag != 0x30 or end != len(data):
            return False
        parts = _der.children(data, start, end, strict=False)
        return len(parts) >= 3 and parts[0][0] == 0x02 and parts[1][0] == 0x30 and parts[2][0] == 0x04
    except (ValueError, IndexError):
        return False


# --- JKS: sun.security.provider.KeyProtector ---------------------------------------------------------------


def _jks_password(password: str) -> bytes:
    # KeyProtector: each char as two bytes, high byte first (what UTF-16BE gives for BMP characters and surrogates)
    return password.encode("utf-16-be", "surrogatepass")


def _jks_keystream_xor(secret: bytes, salt: bytes, data: bytes) -> bytes:
    out = bytearray(len(data))
    digest = salt
    for offset in range(0, len(data), _SHA1_SIZE):
        digest = hashlib.sha1(secret + digest).digest()
        block = data[offset:offset + _SHA1_SIZE]
        out[offset:offset + len(block)] = bytes(a ^ b for a, b in zip(block, digest))
    return bytes(out)


def _jks_protect(pkcs8: bytes, password: str, salt: bytes | None = None) -> bytes:
    secret = _jks_password(password)
    salt = salt if salt is not None else os.urandom(_SHA1_SIZE)
    encrypted = salt + _jks_keystream_xor(secret, salt, pkcs8) + hashlib.sha1(secret + pkcs8).digest()
    # AlgorithmId without parameters: the JDK encodes them as NULL
    return _encrypted_private_key_info(JKS_KEY_PROTECTOR, b"\x05\x00", encrypted)


def _jks_recover(encrypted: bytes, password: str) -> bytes:
    if len(encrypted) < 2 * _SHA1_SIZE:
        raise UnsupportedProtection("the JKS key entry is too short (corrupt)")
    secret = _jks_password(password)
    salt, body, check = encrypted[:_SHA1_SIZE], encrypted[_SHA1_SIZE:-_SHA1_SIZE], encrypted[-_SHA1_SIZE:]
    plain = _jks_keystream_xor(secret, salt, body)
    if hashlib.sha1(secret + plain).digest() != check:
        raise WrongKeyPassword("the key password does not open this key entry")
    return plain


# --- JCEKS: com.sun.crypto.provider.KeyProtector, PBEWithMD5AndTripleDES (PBES1Core, DESede) -------------------


def _jceks_password(password: str) -> bytes:
    if any(not 0x20 <= ord(char) <= 0x7E for char in password):
        raise TruststoreError(
            "a JCEKS key password must be printable ASCII (Java's PBEKey refuses anything else: 'Password is not "
            "ASCII'); use an ASCII key password, or a JKS or PKCS12 keystore"
        )
    return password.encode("ascii")


def _jceks_key_and_iv(secret: bytes, salt: bytes, iterations: int) -> tuple:
    halves = [bytearray(salt[:4]), bytearray(salt[4:])]
    if halves[0] == halves[1]:
        # PBES1Core.deriveCipherKey: equal halves are rearranged with its index slip (salt[3-1] = tmp), which gives
        # [s3, s0, s1, s3]; Java keystores must keep reading keys protected that way.
        first = halves[0]
        halves[0] = bytearray((first[3], first[0], first[1], first[3]))
    derived = b""
    for half in halves:
        digest = bytes(half)
        for _round in range(iterations):
            digest = hashlib.md5(digest + secret).digest()
        derived += digest
    return derived[:24], derived[24:]


def _triple_des_cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes  # pylint: disable=import-outside-toplevel

    from ansible_collections.apim.certificates.plugins.module_utils._compat import triple_des  # pylint: disable=import-outside-toplevel

    cipher = Cipher(triple_des()(key), modes.CBC(iv))
    context = cipher.encryptor() if encrypt else cipher.decryptor()
    return context.update(data) + context.finalize()


def _jceks_params(salt: bytes, iterations: int) -> bytes:
    return _tlv(0x30, _tlv(0x04, salt) + _integer(iterations))


def _jceks_protect(pkcs8: bytes, password: str, salt: bytes | None = None, iterations: int = JCEKS_ITERATIONS) -> bytes:
    secret = _jceks_password(password)
    salt = salt if salt is not None else os.urandom(8)
    key, iv = _jceks_key_and_iv(secret, salt, iterations)
    pad = 8 - len(pkcs8) % 8
    encrypted = _triple_des_cbc(key, iv, pkcs8 + bytes((pad,)) * pad, encrypt=True)
    return _encrypted_private_key_info(JCEKS_KEY_PROTECTOR, _jceks_params(salt, iterations), encrypted)


def _jceks_recover(params: bytes, encrypted: bytes, password: str) -> bytes:
    secret = _jceks_password(password)
    try:
        tag, start, end = _der.tlv(params, 0, len(params), strict=False)
        (salt_tag, salt_start, salt_end), (count_tag, count_start, count_end) = _der.children(params, start, end, strict=False)
        if tag != 0x30 or salt_tag != 0x04 or count_tag != 0x02:
            raise ValueError("PBE parameters")
        salt = params[salt_start:salt_end]
        iterations = int.from_bytes(params[count_start:count_end], "big")
    except (ValueError, IndexError):
        raise UnsupportedProtection("the JCEKS key entry's PBE parameters are corrupt") from None
    if len(salt) != 8 or not 0 < iterations <= JCEKS_MAX_ITERATIONS or not encrypted or len(encrypted) % 8:
        raise UnsupportedProtection(
            f"the JCEKS key entry's PBE parameters are not what Java reads (salt of {len(salt)} bytes, "
            f"{iterations} iterations, {len(encrypted)} bytes of data)"
        )
    key, iv = _jceks_key_and_iv(secret, salt, iterations)
    plain = _triple_des_cbc(key, iv, encrypted, encrypt=False)
    pad = plain[-1]
    if not 1 <= pad <= 8 or plain[-pad:] != bytes((pad,)) * pad or not _pkcs8_is_well_formed(plain[:-pad]):
        raise WrongKeyPassword("the key password does not open this key entry")
    return plain[:-pad]


# --- the entry points ---------------------------------------------------------------------------------------------


def protect(pkcs8: bytes, password: str, store_type: str) -> bytes:
    """The protected key (an EncryptedPrivateKeyInfo) a JKS or JCEKS key entry stores for this PKCS#8 key."""
    if store_type == "JKS":
        return _jks_protect(pkcs8, password)
    if store_type == "JCEKS":
        return _jceks_protect(pkcs8, password)
    raise TruststoreError(f"{store_type} keystores do not use a JKS or JCEKS key protector")


def recover(protected: bytes, password: str) -> bytes:
    """The PKCS#8 PrivateKeyInfo of a JKS or JCEKS key entry (either algorithm, as JceKeyStore also reads JKS's)."""
    algorithm, params, encrypted = _parse_encrypted_private_key_info(protected)
    if algorithm == JKS_KEY_PROTECTOR:
        return _jks_recover(encrypted, password)
    if algorithm == JCEKS_KEY_PROTECTOR:
        return _jceks_recover(params, encrypted, password)
    raise UnsupportedProtection(f"the key entry is protected with algorithm {algorithm}, which JKS and JCEKS do not write")


def protection_algorithm(protected: bytes) -> str:
    return _parse_encrypted_private_key_info(protected)[0]
