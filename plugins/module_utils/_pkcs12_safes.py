# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bags of a PKCS12 file with their attributes, as Java's PKCS12KeyStore sees them (RFC 7292).

Java makes a certificate bag a trusted entry only when it carries Oracle's trusted-key-usage attribute
(2.16.840.1.113894.746875.1.1; PKCS12KeyStore.loadSafeContents); a bag without it only serves to build key chains.
cryptography's load_pkcs12 hides bag attributes and refuses a whole store when one certificate in it is one it
cannot parse (a DSA certificate JDK 17 wrote, with NULL signature parameters), so the collection reads the
structure itself: the MAC (the RFC 7292 appendix B key derivation, on hashlib), the encrypted SafeContents (PBES2
with PBKDF2 and AES or 3DES, or the PKCS#12 PBEs with 3DES or RC2, through cryptography's ciphers), and every bag.

About 200 lines of our own instead of a library: no maintained Python library exposes PKCS12 bag attributes.
Unsupported is raised for what it does not know (PBMAC1, RC4, an indefinite length); the caller then falls back to
cryptography's reader.

Writing stays cryptography's (serialize_java_truststore), which marks every certificate trusted. append_bags adds the
bags Java does not trust back to what it wrote, as they were read: the encrypted SafeContents is decrypted, extended
and encrypted again under a fresh salt and IV, and the MAC computed again under a fresh salt, with cryptography's
PBKDF2, AES and HMAC.
"""

from __future__ import annotations

import hashlib
import hmac

from ansible_collections.apim.certificates.plugins.module_utils import _der


class Unsupported(ValueError):
    """A PKCS12 layout or algorithm this reader does not know."""


class WrongPassword(ValueError):
    """The MAC does not verify, or the encrypted content does not decrypt, with the password given."""


TRUSTED_KEY_USAGE = "2.16.840.1.113894.746875.1.1"
_FRIENDLY_NAME = "1.2.840.113549.1.9.20"
_LOCAL_KEY_ID = "1.2.840.113549.1.9.21"
_DATA = "1.2.840.113549.1.7.1"
_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_X509_CERT = "1.2.840.113549.1.9.22.1"
BAG_KINDS = {
    "1.2.840.113549.1.12.10.1.1": "key",
    "1.2.840.113549.1.12.10.1.2": "shrouded_key",
    "1.2.840.113549.1.12.10.1.3": "cert",
    "1.2.840.113549.1.12.10.1.4": "crl",
    "1.2.840.113549.1.12.10.1.5": "secret",
    "1.2.840.113549.1.12.10.1.6": "nested",
}
_HASHES = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
           "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512",
           "2.16.840.1.101.3.4.2.5": "sha512_224", "2.16.840.1.101.3.4.2.6": "sha512_256"}
_HMACS = {"1.2.840.113549.2.7": "sha1", "1.2.840.113549.2.8": "sha224", "1.2.840.113549.2.9": "sha256",
          "1.2.840.113549.2.10": "sha384", "1.2.840.113549.2.11": "sha512",
          "1.2.840.113549.2.12": "sha512_224", "1.2.840.113549.2.13": "sha512_256"}
_PBES2, _PBKDF2 = "1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12"
_AES = {"2.16.840.1.101.3.4.1.2": 16, "2.16.840.1.101.3.4.1.22": 24, "2.16.840.1.101.3.4.1.42": 32}
_DES_EDE3 = "1.2.840.113549.3.7"
# pbeWithSHAAnd...: (cipher, key length)
_PKCS12_PBE = {"1.2.840.113549.1.12.1.3": ("3des", 24), "1.2.840.113549.1.12.1.4": ("3des", 16),
               "1.2.840.113549.1.12.1.5": ("rc2", 16), "1.2.840.113549.1.12.1.6": ("rc2", 5)}


class Bag:
    """One SafeBag: kind (BAG_KINDS values or "unknown"), the certificate's DER for a cert bag, its attributes, and
    the bag itself as the file holds it (der)."""

    __slots__ = ("kind", "certificate", "friendly_name", "local_key_id", "trusted", "der")

    def __init__(self, kind, certificate, friendly_name, local_key_id, trusted, der=None):
        self.kind = kind
        self.certificate = certificate
        self.friendly_name = friendly_name
        self.local_key_id = local_key_id
        self.trusted = trusted
        self.der = der


def _tlv(data: bytes, pos: int, end: int) -> tuple:
    try:
        return _der.tlv(data, pos, end, strict=False)
    except _der.Unsure as exc:
        raise Unsupported(f"PKCS12 DER: {exc}") from None


def _children(data: bytes, start: int, end: int) -> list:
    try:
        return _der.children(data, start, end, strict=False)
    except _der.Unsure as exc:
        raise Unsupported(f"PKCS12 DER: {exc}") from None


def _oid(data: bytes, element) -> str:
    if element[0] != 0x06:
        raise Unsupported("PKCS12 DER: an OBJECT IDENTIFIER was expected")
    return _der.oid(data[element[1]:element[2]])


def _octets(data: bytes, element) -> bytes:
    """An OCTET STRING's bytes, primitive or constructed (BER), or of an implicitly tagged one."""
    tag, start, end = element
    if tag & 0x20:
        return b"".join(_octets(data, child) for child in _children(data, start, end))
    return data[start:end]


def _integer(data: bytes, element) -> int:
    if element[0] != 0x02:
        raise Unsupported("PKCS12 DER: an INTEGER was expected")
    return int.from_bytes(data[element[1]:element[2]], "big", signed=True)


def _bmp_password(password: str) -> bytes:
    return password.encode("utf-16-be") + b"\x00\x00"  # as Java and OpenSSL: an empty password is the terminator alone


def pkcs12_kdf(password: str, salt: bytes, purpose: int, iterations: int, length: int, hash_name: str = "sha1") -> bytes:
    """RFC 7292 appendix B.2: purpose 1 key, 2 IV, 3 MAC key."""
    block = 128 if hash_name in ("sha384", "sha512", "sha512_224", "sha512_256") else 64
    diversifier = bytes([purpose]) * block
    secret = _bmp_password(password)

    def fill(value: bytes) -> bytes:
        if not value:
            return b""
        size = block * ((len(value) + block - 1) // block)
        return (value * (size // len(value) + 1))[:size]

    material = bytearray(fill(salt) + fill(secret))
    out = b""
    while len(out) < length:
        chunk = hashlib.new(hash_name, diversifier + bytes(material)).digest()
        for _round in range(iterations - 1):
            chunk = hashlib.new(hash_name, chunk).digest()
        out += chunk
        adder = int.from_bytes(fill(chunk), "big") + 1
        for offset in range(0, len(material), block):
            value = (int.from_bytes(material[offset:offset + block], "big") + adder) % (1 << (8 * block))
            material[offset:offset + block] = value.to_bytes(block, "big")
    return out[:length]


# RFC 2268's PITABLE, for RC2 with a 40-bit effective key (JDK 8's and older openssl's certificate encryption),
# which cryptography's RC2 (128-bit keys only, from 43 on) does not do. tests/unit/.../test_pkcs12_safes.py checks this
# RC2 against cryptography's on 128-bit keys and reads stores keytool wrote in the JDK 8 format.
_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32"
    "bd8f40eb86b77b0bf09521225c6b4e8254d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda46690757 27f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a"
    "961ad2715a1549744b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2e"
    "c5f3db47e5a59c770aa62068fe7fc1ad".replace(" ", "")
)


def _rc2_keys(key: bytes, effective_bits: int) -> list:
    """RFC 2268 section 2: the 64 16-bit subkeys."""
    table = bytearray(128)
    table[:len(key)] = key
    for i in range(len(key), 128):
        table[i] = _PITABLE[(table[i - 1] + table[i - len(key)]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    table[128 - t8] = _PITABLE[table[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        table[i] = _PITABLE[table[i + 1] ^ table[i + t8]]
    return [table[2 * i] | (table[2 * i + 1] << 8) for i in range(64)]


def _rc2_cbc_decrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RFC 2268 section 4 decryption, in CBC mode."""
    if len(data) % 8:
        raise WrongPassword("the encrypted content does not decrypt")
    keys = _rc2_keys(key, effective_bits)
    mask = 0xFFFF
    out, previous = bytearray(), iv
    for offset in range(0, len(data), 8):
        block = data[offset:offset + 8]
        r = [block[0] | block[1] << 8, block[2] | block[3] << 8, block[4] | block[5] << 8, block[6] | block[7] << 8]
        j = 63
        for round_ in range(16):
            if round_ in (5, 11):  # a reverse mashing round before the 6th and the 12th reverse mixing rounds
                for i in (3, 2, 1, 0):
                    r[i] = (r[i] - keys[r[i - 1] & 63]) & mask
            for i, shift in ((3, 5), (2, 3), (1, 2), (0, 1)):
                r[i] = ((r[i] >> shift) | (r[i] << (16 - shift))) & mask
                r[i] = (r[i] - keys[j] - (r[i - 1] & r[i - 2]) - (~r[i - 1] & r[i - 3])) & mask
                j -= 1
        plain = b"".join(value.to_bytes(2, "little") for value in r)
        out += bytes(a ^ b for a, b in zip(plain, previous))
        previous = block
    return bytes(out)


def _cipher(name: str, key: bytes, iv: bytes):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # pylint: disable=import-outside-toplevel

    if name == "aes":
        algorithm = algorithms.AES(key)
    else:
        try:
            from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit  # pylint: disable=import-outside-toplevel
        except ImportError:  # cryptography < 43 keeps 3DES with the others
            decrepit = algorithms
        algorithm = decrepit.TripleDES(key + key[:8] if len(key) == 16 else key)
    return Cipher(algorithm, modes.CBC(iv)).decryptor()


def _decrypt(data: bytes, algorithm, content: bytes, password: str) -> bytes:
    parts = _children(data, algorithm[1], algorithm[2])
    dotted = _oid(data, parts[0])
    params = _children(data, parts[1][1], parts[1][2]) if len(parts) > 1 else []
    if dotted == _PBES2:
        kdf, scheme = params
        kdf_parts = _children(data, kdf[1], kdf[2])
        if _oid(data, kdf_parts[0]) != _PBKDF2:
            raise Unsupported("PBES2 with a key derivation other than PBKDF2")
        kdf_params = _children(data, kdf_parts[1][1], kdf_parts[1][2])
        salt, iterations = _octets(data, kdf_params[0]), _integer(data, kdf_params[1])
        prf = "sha1"
        for extra in kdf_params[2:]:
            if extra[0] == 0x30:
                prf = _HMACS.get(_oid(data, _children(data, extra[1], extra[2])[0]))
                if prf is None:
                    raise Unsupported("PBKDF2 with an unknown PRF")
        scheme_parts = _children(data, scheme[1], scheme[2])
        cipher_oid, iv = _oid(data, scheme_parts[0]), _octets(data, scheme_parts[1])
        if cipher_oid in _AES:
            name, size = "aes", _AES[cipher_oid]
        elif cipher_oid == _DES_EDE3:
            name, size = "3des", 24
        else:
            raise Unsupported(f"PBES2 with cipher {cipher_oid}")
        key = hashlib.pbkdf2_hmac(prf, password.encode("utf-8"), salt, iterations, size)
    elif dotted in _PKCS12_PBE:
        name, size = _PKCS12_PBE[dotted]
        salt, iterations = _octets(data, params[0]), _integer(data, params[1])
        key = pkcs12_kdf(password, salt, 1, iterations, size)
        iv = pkcs12_kdf(password, salt, 2, iterations, 8)
    else:
        raise Unsupported(f"PKCS12 encryption {dotted}")
    if name == "rc2":
        plain = _rc2_cbc_decrypt(key, 8 * len(key), iv, content)
    else:
        decryptor = _cipher(name, key, iv)
        try:
            plain = decryptor.update(content) + decryptor.finalize()
        except ValueError:
            raise WrongPassword("the encrypted content does not decrypt") from None
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        raise WrongPassword("the encrypted content does not decrypt")
    return plain[:-pad]


def _verify_mac(data: bytes, mac_data, auth_safe: bytes, password: str) -> None:
    parts = _children(data, mac_data[1], mac_data[2])
    digest_info = _children(data, parts[0][1], parts[0][2])
    algorithm = _children(data, digest_info[0][1], digest_info[0][2])
    hash_name = _HASHES.get(_oid(data, algorithm[0]))
    if hash_name is None:
        raise Unsupported("a PKCS12 MAC algorithm this reader does not know (PBMAC1?)")
    expected = _octets(data, digest_info[1])
    salt = _octets(data, parts[1])
    iterations = _integer(data, parts[2]) if len(parts) > 2 else 1
    key = pkcs12_kdf(password, salt, 3, iterations, hashlib.new(hash_name).digest_size, hash_name)
    if not hmac.compare_digest(hmac.new(key, auth_safe, hash_name).digest(), expected):
        raise WrongPassword("the MAC does not verify")


def read_bags(data: bytes, password: str | None) -> list:
    """The bags in file order. password None: no MAC check, and only the bags outside encrypted content (where Java
    keeps key entries). WrongPassword, Unsupported, or ValueError/IndexError for DER that is not PKCS12."""
    _tag, start, end = _tlv(data, 0, len(data))
    pfx = _children(data, start, end)
    if _integer(data, pfx[0]) != 3:
        raise Unsupported("a PKCS12 version other than 3")
    content_info = _children(data, pfx[1][1], pfx[1][2])
    if _oid(data, content_info[0]) != _DATA:
        raise Unsupported("a PKCS12 file protected by public keys")
    auth_safe = _octets(data, _children(data, content_info[1][1], content_info[1][2])[0])
    if len(pfx) > 2 and password is not None:
        _verify_mac(data, pfx[2], auth_safe, password)
    bags = []
    _t, s_start, s_end = _tlv(auth_safe, 0, len(auth_safe))
    for _tag, info_start, info_end in _children(auth_safe, s_start, s_end):
        parts = _children(auth_safe, info_start, info_end)
        kind = _oid(auth_safe, parts[0])
        inner = _children(auth_safe, parts[1][1], parts[1][2])[0]
        if kind == _DATA:
            bags += _safe_contents(_octets(auth_safe, inner))
        elif kind == _ENCRYPTED_DATA:
            if password is None:
                continue
            encrypted = _children(auth_safe, inner[1], inner[2])
            eci = _children(auth_safe, encrypted[1][1], encrypted[1][2])
            plain = _decrypt(auth_safe, eci[1], _octets(auth_safe, eci[2]), password)
            bags += _safe_contents(plain)
        else:
            raise Unsupported(f"PKCS12 content of type {kind}")
    return bags


def _safe_contents(data: bytes) -> list:
    try:
        _tag, start, end = _tlv(data, 0, len(data))
    except Unsupported:
        raise WrongPassword("the decrypted content is not DER") from None
    bags = []
    bag_at = start
    for _bag_tag, bag_start, bag_end in _children(data, start, end):
        raw, bag_at = data[bag_at:bag_end], bag_end
        fields = _children(data, bag_start, bag_end)
        kind = BAG_KINDS.get(_oid(data, fields[0]), "unknown")
        certificate = friendly = key_id = None
        trusted = False
        if kind == "cert":
            cert_bag = _children(data, *_children(data, fields[1][1], fields[1][2])[0][1:])
            if _oid(data, cert_bag[0]) == _X509_CERT:
                certificate = _octets(data, _children(data, cert_bag[1][1], cert_bag[1][2])[0])
        if len(fields) > 2:
            for _attr_tag, attr_start, attr_end in _children(data, fields[2][1], fields[2][2]):
                attr = _children(data, attr_start, attr_end)
                dotted = _oid(data, attr[0])
                values = _children(data, attr[1][1], attr[1][2])
                if dotted == _FRIENDLY_NAME and values:
                    friendly = data[values[0][1]:values[0][2]].decode("utf-16-be", "replace")
                elif dotted == _LOCAL_KEY_ID and values:
                    key_id = _octets(data, values[0])
                elif dotted == TRUSTED_KEY_USAGE:
                    trusted = True
        bags.append(Bag(kind, certificate, friendly, key_id, trusted, raw))
    return bags


# --- adding bags to a PFX cryptography wrote ---------------------------------------------------------------------


def _encode(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _elements(data: bytes, start: int, end: int) -> list:
    """(tag, content start, content end, element start) of each element between start and end."""
    out, at = [], start
    for tag, content_start, content_end in _children(data, start, end):
        out.append((tag, content_start, content_end, at))
        at = content_end
    return out


def _raw(data: bytes, element) -> bytes:
    return data[element[3]:element[2]]


def _reencrypt(data: bytes, algorithm, plain: bytes, password: str) -> tuple:
    """(the AlgorithmIdentifier with a fresh salt and IV, plain encrypted under it): PBES2 with PBKDF2 and AES only,
    as cryptography writes it; Unsupported otherwise."""
    import os  # pylint: disable=import-outside-toplevel

    from cryptography.hazmat.primitives import hashes, padding  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC  # pylint: disable=import-outside-toplevel

    parts = _elements(data, algorithm[1], algorithm[2])
    if _oid(data, parts[0]) != _PBES2 or len(parts) != 2:
        raise Unsupported("re-encrypting PKCS12 content other than PBES2")
    kdf, scheme = _elements(data, parts[1][1], parts[1][2])
    kdf_parts = _elements(data, kdf[1], kdf[2])
    scheme_parts = _elements(data, scheme[1], scheme[2])
    if _oid(data, kdf_parts[0]) != _PBKDF2 or _oid(data, scheme_parts[0]) not in _AES:
        raise Unsupported("re-encrypting PKCS12 content other than PBES2 with PBKDF2 and AES")
    kdf_params = _elements(data, kdf_parts[1][1], kdf_parts[1][2])
    salt, iterations, iv = kdf_params[0], _integer(data, kdf_params[1]), scheme_parts[1]
    if salt[0] != 0x04 or iv[0] != 0x04:
        raise Unsupported("PBES2 parameters that are not plain OCTET STRINGs")
    prf = "sha1"
    for extra in kdf_params[2:]:
        if extra[0] == 0x30:
            prf = _HMACS.get(_oid(data, _children(data, extra[1], extra[2])[0]))
    if prf is None:
        raise Unsupported("PBKDF2 with an unknown PRF")
    new_salt, new_iv = os.urandom(salt[2] - salt[1]), os.urandom(iv[2] - iv[1])
    rebuilt = bytearray(data[algorithm[3]:algorithm[2]])
    for element, fresh in ((salt, new_salt), (iv, new_iv)):
        rebuilt[element[1] - algorithm[3]:element[2] - algorithm[3]] = fresh
    key = PBKDF2HMAC(getattr(hashes, prf.upper())(), _AES[_oid(data, scheme_parts[0])], new_salt,
                     iterations).derive(password.encode("utf-8"))
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(new_iv)).encryptor()
    return bytes(rebuilt), encryptor.update(padded) + encryptor.finalize()


def _new_mac(data: bytes, mac_data, auth_safe: bytes, password: str) -> bytes:
    """The MacData of auth_safe: the same digest and iterations, a fresh salt, the PKCS#12 MAC key (RFC 7292 B.2)."""
    import os  # pylint: disable=import-outside-toplevel

    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hmac as crypto_hmac  # pylint: disable=import-outside-toplevel

    parts = _elements(data, mac_data[1], mac_data[2])
    digest_info = _elements(data, parts[0][1], parts[0][2])
    hash_name = _HASHES.get(_oid(data, _children(data, digest_info[0][1], digest_info[0][2])[0]))
    if hash_name is None or parts[1][0] != 0x04:
        raise Unsupported("a PKCS12 MAC this writer does not know")
    iterations = _integer(data, parts[2]) if len(parts) > 2 else 1
    salt = os.urandom(parts[1][2] - parts[1][1])
    algorithm = getattr(hashes, hash_name.upper())()
    signer = crypto_hmac.HMAC(pkcs12_kdf(password, salt, 3, iterations, algorithm.digest_size, hash_name), algorithm)
    signer.update(auth_safe)
    digest = _encode(0x30, _raw(data, digest_info[0]) + _encode(0x04, signer.finalize()))
    return _encode(0x30, digest + _encode(0x04, salt) + b"".join(_raw(data, part) for part in parts[2:]))


def append_bags(data: bytes, password: str, extra: list) -> bytes:
    """data, a PFX that cryptography wrote, with the SafeBags extra (DER, as read from another file) added to the
    SafeContents that holds its certificates. Unsupported for another layout (then nothing is written)."""
    pfx = _elements(data, *_tlv(data, 0, len(data))[1:])
    content_info = _elements(data, pfx[1][1], pfx[1][2])
    octets = _elements(data, content_info[1][1], content_info[1][2])[0]
    if _oid(data, content_info[0]) != _DATA or octets[0] != 0x04:
        raise Unsupported("a PKCS12 layout other than the one cryptography writes")
    auth_safe = data[octets[1]:octets[2]]
    infos = _elements(auth_safe, *_tlv(auth_safe, 0, len(auth_safe))[1:])
    added = b"".join(extra)
    rebuilt, done = [], False
    for info in infos:
        parts = _elements(auth_safe, info[1], info[2])
        kind = _oid(auth_safe, parts[0])
        if done or kind not in (_DATA, _ENCRYPTED_DATA):
            rebuilt.append(_raw(auth_safe, info))
            continue
        inner = _elements(auth_safe, parts[1][1], parts[1][2])[0]
        if kind == _DATA:
            plain = _octets(auth_safe, inner[:3])
            _tag, start, end = _tlv(plain, 0, len(plain))
            body = _encode(0x04, _encode(0x30, plain[start:end] + added))
        else:
            encrypted = _elements(auth_safe, inner[1], inner[2])
            eci = _elements(auth_safe, encrypted[1][1], encrypted[1][2])
            plain = _decrypt(auth_safe, eci[1], _octets(auth_safe, eci[2][:3]), password)
            _tag, start, end = _tlv(plain, 0, len(plain))
            algorithm, cipher_text = _reencrypt(auth_safe, eci[1], _encode(0x30, plain[start:end] + added), password)
            content = _encode(0x30, _raw(auth_safe, eci[0]) + algorithm + _encode(0x80, cipher_text))
            body = _encode(0x30, _raw(auth_safe, encrypted[0]) + content)
        rebuilt.append(_encode(0x30, _raw(auth_safe, parts[0]) + _encode(0xA0, body)))
        done = True
    if not done:
        raise Unsupported("a PKCS12 file without a SafeContents to add bags to")
    new_auth_safe = _encode(0x30, b"".join(rebuilt))
    outer = _encode(0x30, _raw(data, content_info[0]) + _encode(0xA0, _encode(0x04, new_auth_safe)))
    mac = _new_mac(data, pfx[2], new_auth_safe, password) if len(pfx) > 2 else b""
    return _encode(0x30, _raw(data, pfx[0]) + outer + mac)
