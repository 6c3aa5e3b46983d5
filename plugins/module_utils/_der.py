# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DER, read without cryptography: a TLV walker, and the plain X.509 certificates a change needs to describe.

summarize_certificate() reads what adding a certificate reports (subject, issuer, validity) from the certificates
it fully understands: strict DER throughout, the usual RSA, EC and EdDSA algorithms, names of UTF8String,
PrintableString or IA5String attributes, and only the extensions self-signed and private-CA backend certificates
carry (key identifiers, basic constraints, key usage, extended key usage, DNS/IP/e-mail alternative names).
For anything else it returns None and the caller asks cryptography, which then decides. It never accepts what
cryptography refuses, and its subject and issuer strings are cryptography's rfc4514_string(): both are checked
against cryptography in the unit tests, over real CA stores, generated certificates and mutated DER.

This spares an endpoint_certificate task importing cryptography.x509 (about 25 ms, more than the rest of the task)
when all it does is store a certificate it was given.
"""

from __future__ import annotations

import datetime


class Unsure(ValueError):
    """The bytes are not something this reader fully understands: let cryptography decide."""


def tlv(data: bytes, pos: int, end: int, strict: bool = True) -> tuple:
    """(tag, content start, content end) of the element at pos. ValueError (Unsure) when it is not DER.

    strict also refuses what DER forbids but BER allows: a long length form for a short length, or leading zero
    bytes in a length. PKCS12 files, which Java writes in DER but others may not, are walked with strict=False.
    """
    if pos + 2 > end:
        raise Unsure("truncated")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise Unsure("multi-byte tag")
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise Unsure("indefinite or oversized length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if strict and (data[pos] == 0 or length < 0x80):
            raise Unsure("non-minimal length")
        pos += count
    if pos + length > end:
        raise Unsure("truncated")
    return tag, pos, pos + length


def children(data: bytes, start: int, end: int, strict: bool = True) -> list:
    """The elements between start and end, which must be exactly filled by them."""
    out = []
    pos = start
    while pos < end:
        element = tlv(data, pos, end, strict)
        out.append(element)
        pos = element[2]
    return out


def oid(raw: bytes) -> str:
    """Dotted form of an OBJECT IDENTIFIER's content. Unsure when it is not minimally encoded."""
    if not raw or raw[-1] & 0x80:
        raise Unsure("bad OID")
    parts, value, fresh = [], 0, True
    for byte in raw:
        if fresh and byte == 0x80:
            raise Unsure("non-minimal OID arc")
        value = (value << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first] + parts[1:])


def _encode_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1]] + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return bytes((0x06, len(body))) + bytes(body)


def _algorithm(dotted: str, params: bytes = b"") -> bytes:
    body = _encode_oid(dotted) + params
    return bytes((0x30, len(body))) + body


_NULL = b"\x05\x00"
_SIGNATURE_ALGORITHMS = frozenset(
    [_algorithm(f"1.2.840.113549.1.1.{n}", _NULL) for n in (5, 11, 12, 13, 14)]  # sha1/256/384/512/224 with RSA
    + [_algorithm(f"1.2.840.10045.4.3.{n}") for n in (1, 2, 3, 4)]  # ECDSA with SHA-224/256/384/512
    + [_algorithm("1.3.101.112"), _algorithm("1.3.101.113")]  # Ed25519, Ed448
)
_KEY_ALGORITHMS = frozenset(
    [_algorithm("1.2.840.113549.1.1.1", _NULL)]  # rsaEncryption
    + [_algorithm("1.2.840.10045.2.1", _encode_oid(c)) for c in ("1.2.840.10045.3.1.7", "1.3.132.0.34", "1.3.132.0.35")]
    + [_algorithm("1.3.101.112"), _algorithm("1.3.101.113")]
)

_KEY_RSA = _algorithm("1.2.840.113549.1.1.1", _NULL)
_KEY_EDDSA = {_algorithm("1.3.101.112"): 32, _algorithm("1.3.101.113"): 57}

# RFC 4514 short names, exactly those cryptography's rfc4514_string() uses (a unit test compares the two tables).
NAME_SHORT_FORMS = {
    "2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C",
    "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}
# Attributes whose length cryptography checks (it warns or refuses outside these bounds, in UTF-8 bytes).
_LENGTH_LIMITS = {"2.5.4.3": (1, 64), "2.5.4.6": (2, 2), "1.3.6.1.4.1.311.60.2.1.3": (2, 2)}
_PRINTABLE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
_ESCAPED = {"\\": "\\\\", '"': '\\"', "+": "\\+", ",": "\\,", ";": "\\;", "<": "\\<", ">": "\\>", "\x00": "\\00"}


def _escape(value: str) -> str:
    """An attribute value in an RFC 4514 string (section 2.4), as cryptography writes it."""
    if not value:
        return ""
    if value == " ":
        # cryptography before 35 writes a lone space with two backslashes, later versions with one: not ours to choose
        raise Unsure("a value of one space")
    text = "".join(_ESCAPED.get(char, char) for char in value)
    if text[0] == "#" or (text[0] == " " and len(text) > 1):
        text = "\\" + text
    if text[-1] == " ":
        text = text[:-1] + "\\ "
    return text


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x0C:  # UTF8String
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Unsure("bad UTF8String") from None
    if tag == 0x13 and all(b in _PRINTABLE for b in raw):  # PrintableString
        return raw.decode("ascii")
    if tag == 0x16 and raw.isascii():  # IA5String
        return raw.decode("ascii")
    raise Unsure("attribute value type")


def _attributes(data: bytes, start: int, end: int) -> list:
    """(dotted OID, value) of each attribute of a Name (RDNSequence content), in the order of the DER: single-valued
    RDNs of the string types _string() reads, within cryptography's length limits; else Unsure."""
    found = []
    for tag, set_start, set_end in children(data, start, end):
        attributes = children(data, set_start, set_end)
        if tag != 0x31 or len(attributes) != 1 or attributes[0][0] != 0x30:
            raise Unsure("multi-valued or malformed RDN")
        parts = children(data, attributes[0][1], attributes[0][2])
        if len(parts) != 2 or parts[0][0] != 0x06:
            raise Unsure("malformed attribute")
        dotted = oid(data[parts[0][1]:parts[0][2]])
        value = _string(parts[1][0], data[parts[1][1]:parts[1][2]])
        limits = _LENGTH_LIMITS.get(dotted)
        if limits and not limits[0] <= len(value.encode("utf-8")) <= limits[1]:
            raise Unsure("attribute length")
        found.append((dotted, value))
    return found


def name_string(data: bytes, start: int, end: int) -> str:
    """A Name (RDNSequence content) as RFC 4514: last RDN first, one attribute per RDN."""
    return ",".join(f"{NAME_SHORT_FORMS.get(dotted, dotted)}={_escape(value)}"
                    for dotted, value in reversed(_attributes(data, start, end)))


def _time(tag: int, raw: bytes) -> datetime.datetime:
    text = raw.decode("ascii", "replace")
    if tag == 0x17 and len(text) == 13:  # UTCTime YYMMDDHHMMSSZ
        digits, year = text[:12], None
    elif tag == 0x18 and len(text) == 15:  # GeneralizedTime YYYYMMDDHHMMSSZ, which RFC 5280 keeps for 2050 on
        digits, year = text[2:14], int(text[:4]) if text[:4].isdigit() else None
        if year is None or year < 2050:
            raise Unsure("GeneralizedTime before 2050")
    else:
        raise Unsure("time format")
    if not (digits.isdigit() and digits.isascii() and text.endswith("Z")):
        raise Unsure("time format")
    if year is None:
        year = int(digits[:2])
        year += 1900 if year >= 50 else 2000
    try:
        return datetime.datetime(year, int(digits[2:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:10]),
                                 int(digits[10:12]), tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Unsure("time value") from None


def _integer(raw: bytes, positive: bool) -> int:
    if not raw or (len(raw) > 1 and ((raw[0] == 0 and raw[1] < 0x80) or (raw[0] == 0xFF and raw[1] >= 0x80))):
        raise Unsure("non-minimal INTEGER")
    value = int.from_bytes(raw, "big", signed=True)
    if value < (1 if positive else 0):
        raise Unsure("INTEGER out of range")
    return value


def _only(data: bytes, start: int, end: int, tag: int) -> tuple:
    """The single element filling start..end, which must have this tag."""
    elements = children(data, start, end)
    if len(elements) != 1 or elements[0][0] != tag:
        raise Unsure("unexpected structure")
    return elements[0]


def _bits(raw: bytes) -> int:
    """The bits of a DER BIT STRING used as a named bit list (trailing zero bits removed), bit 0 first."""
    if len(raw) < 2 or raw[0] > 7 or raw[-1] == 0 or raw[-1] & ((1 << raw[0]) - 1) or not raw[-1] & (1 << raw[0]):
        raise Unsure("BIT STRING")
    value = 0
    for index, byte in enumerate(raw[1:]):
        for bit in range(8):
            if byte & (0x80 >> bit):
                value |= 1 << (index * 8 + bit)
    return value


def _check_extension(dotted: str, data: bytes, start: int, end: int) -> None:
    tag, inner, stop = _only(data, start, end, data[start] if start < end else -1)
    if dotted == "2.5.29.14":  # subject key identifier
        if tag != 0x04:
            raise Unsure("SKI")
    elif dotted == "2.5.29.35":  # authority key identifier: the key identifier alone
        _only(data, inner, stop, 0x80)
        if tag != 0x30:
            raise Unsure("AKI")
    elif dotted == "2.5.29.19":  # basic constraints
        fields = children(data, inner, stop)
        if tag != 0x30 or len(fields) > 2 or (fields and data[fields[0][1]:fields[0][2]] != b"\xff") or (
                fields and fields[0][0] != 0x01):
            raise Unsure("basic constraints")
        if len(fields) == 2:
            if fields[1][0] != 0x02:
                raise Unsure("basic constraints")
            _integer(data[fields[1][1]:fields[1][2]], positive=False)
    elif dotted == "2.5.29.15":  # key usage
        if tag != 0x03:
            raise Unsure("key usage")
        usage = _bits(data[inner:stop])
        if usage >> 9 or (usage & 0x180 and not usage & 0x10):  # encipher/decipher only need key agreement
            raise Unsure("key usage")
    elif dotted == "2.5.29.37":  # extended key usage
        purposes = children(data, inner, stop)
        if tag != 0x30 or not purposes or any(p[0] != 0x06 for p in purposes):
            raise Unsure("extended key usage")
        for _tag, p_start, p_end in purposes:
            oid(data[p_start:p_end])
    elif dotted == "2.5.29.17":  # subject alternative name
        names = children(data, inner, stop)
        if tag != 0x30 or not names:
            raise Unsure("subject alternative name")
        for name_tag, n_start, n_end in names:
            value = data[n_start:n_end]
            if name_tag == 0x87:
                if len(value) not in (4, 16):
                    raise Unsure("IP address")
            elif name_tag not in (0x81, 0x82) or not value or not all(0x20 <= b < 0x7F for b in value):
                raise Unsure("general name")  # URIs too: Java's rules for them (java.net.URI) are _java_x509's
            elif name_tag == 0x81 and value.split(b"@", 1)[-1] in (b"", b"."):
                raise Unsure("e-mail name Java refuses")
    else:
        raise Unsure("extension")


def _extensions(data: bytes, start: int, end: int) -> dict:
    """dotted OID -> (start, end) of each extension's value, once each is checked."""
    seen = {}
    _tag, seq_start, seq_end = _only(data, start, end, 0x30)
    extensions = children(data, seq_start, seq_end)
    if not extensions:
        raise Unsure("empty extensions")
    for tag, ext_start, ext_end in extensions:
        fields = children(data, ext_start, ext_end)
        if tag != 0x30 or len(fields) not in (2, 3) or fields[0][0] != 0x06 or fields[-1][0] != 0x04:
            raise Unsure("extension")
        if len(fields) == 3 and (fields[1][0] != 0x01 or data[fields[1][1]:fields[1][2]] != b"\xff"):
            raise Unsure("critical flag")  # DER: TRUE is FF, FALSE is left out
        dotted = oid(data[fields[0][1]:fields[0][2]])
        if dotted in seen:
            raise Unsure("duplicate extension")
        seen[dotted] = (fields[-1][1], fields[-1][2])
        _check_extension(dotted, data, fields[-1][1], fields[-1][2])
    return seen


def summarize_certificate(der: bytes) -> tuple | None:
    """(subject, issuer, not_before, not_after) of a certificate this reader fully understands, else None.

    None means "ask cryptography": the bytes may be a valid certificate outside this reader's scope, or no
    certificate at all. Subject and issuer are RFC 4514 strings; the times are aware UTC datetimes.
    """
    try:
        return _read(der)[:4]
    except (Unsure, IndexError):
        return None


def host_facts(der: bytes) -> tuple | None:
    """(not_before, not_after, dns_names, ip_addresses, common_name) of a certificate this reader fully understands
    (as summarize_certificate()), else None: what a host name check reads.

    dns_names is None when the certificate has no subject alternative name extension, else its DNS names (a list);
    ip_addresses are its IP address names as 4- or 16-byte values; common_name is the subject's last CN attribute
    (Synapse's first in RFC 2253 order), or None.
    """
    try:
        _subject, _issuer, not_before, not_after, subject, extensions = _read(der)
        names = [value for dotted, value in _attributes(der, subject[1], subject[2]) if dotted == "2.5.4.3"]
        dns_names, addresses = None, []
        if "2.5.29.17" in extensions:  # its names were checked by _check_extension: printable ASCII, 4/16-byte IPs
            _seq, names_start, names_end = _only(der, *extensions["2.5.29.17"], 0x30)
            general_names = children(der, names_start, names_end)
            dns_names = [der[s:e].decode("ascii") for tag, s, e in general_names if tag == 0x82]
            addresses = [der[s:e] for tag, s, e in general_names if tag == 0x87]
        return not_before, not_after, dns_names, addresses, names[-1] if names else None
    except (Unsure, IndexError):
        return None


_POINT_SIZES = {"1.2.840.10045.3.1.7": 65, "1.3.132.0.34": 97, "1.3.132.0.35": 133}


def _check_key_bits(algorithm: bytes, key: bytes) -> None:
    """The public key as Java's key factories take it (else Unsure, and _java_x509 decides): RSA SEQUENCE { n, e }
    of 512 to 16384 bits with 3 <= e < n; an uncompressed EC point of the curve's size; EdDSA keys of 32 or 57 bytes."""
    if algorithm == _KEY_RSA:
        _tag, start, end = tlv(key, 0, len(key))
        values = children(key, start, end)
        if _tag != 0x30 or end != len(key) or len(values) != 2 or any(v[0] != 0x02 for v in values):
            raise Unsure("RSA key")
        modulus = _integer(key[values[0][1]:values[0][2]], positive=True)
        exponent = _integer(key[values[1][1]:values[1][2]], positive=True)
        if not 512 <= modulus.bit_length() <= 16384 or not 3 <= exponent < modulus or \
                (modulus.bit_length() > 3072 and exponent.bit_length() > 64):
            raise Unsure("RSA key size or exponent")
    elif algorithm in _KEY_EDDSA:
        if len(key) != _KEY_EDDSA[algorithm]:
            raise Unsure("EdDSA key length")
    else:  # EC: the curve's OID ends the algorithm identifier
        curve = oid(algorithm[algorithm.rindex(b"\x06", 0, len(algorithm) - 2) + 2:])
        if key[:1] != b"\x04" or len(key) != _POINT_SIZES.get(curve):
            raise Unsure("EC point")


def _read(der: bytes) -> tuple:
    """(subject, issuer, not_before, not_after, subject's (tag, start, end), {extension OID: value span}); Unsure for
    anything this reader does not fully understand."""
    tag, start, end = tlv(der, 0, len(der))
    if tag != 0x30 or end != len(der):
        raise Unsure("not one SEQUENCE")
    parts = children(der, start, end)
    if [p[0] for p in parts] != [0x30, 0x30, 0x03]:
        raise Unsure("not a certificate")
    (_t, tbs_start, tbs_end), (_a, alg_start, alg_end), (_s, sig_start, sig_end) = parts
    algorithm = der[alg_start - 2:alg_end] if alg_end - alg_start < 0x80 else None  # short length: 2-byte header
    if algorithm not in _SIGNATURE_ALGORITHMS or sig_end - sig_start < 2 or der[sig_start] != 0:
        raise Unsure("signature algorithm")
    fields = children(der, tbs_start, tbs_end)
    version = 0
    if fields[0][0] == 0xA0:
        _vt, v_start, v_end = _only(der, fields[0][1], fields[0][2], 0x02)
        version = _integer(der[v_start:v_end], positive=True)
        if version not in (1, 2):
            raise Unsure("version")
        fields = fields[1:]
    if len(fields) < 6 or [f[0] for f in fields[:6]] != [0x02, 0x30, 0x30, 0x30, 0x30, 0x30]:
        raise Unsure("tbsCertificate")
    serial, signature, issuer, validity, subject, key_info = fields[:6]
    if len(der[serial[1]:serial[2]]) > 20:
        raise Unsure("serial number")
    _integer(der[serial[1]:serial[2]], positive=True)
    if der[signature[1] - 2:signature[2]] != algorithm:
        raise Unsure("signature algorithms differ")
    times = children(der, validity[1], validity[2])
    if len(times) != 2:
        raise Unsure("validity")
    not_before = _time(times[0][0], der[times[0][1]:times[0][2]])
    not_after = _time(times[1][0], der[times[1][1]:times[1][2]])
    key_parts = children(der, key_info[1], key_info[2])
    if len(key_parts) != 2 or key_parts[1][0] != 0x03 or key_parts[1][2] - key_parts[1][1] < 2 or der[key_parts[1][1]] != 0:
        raise Unsure("public key")
    key_algorithm = key_parts[0]
    if key_algorithm[0] != 0x30 or key_algorithm[2] - key_algorithm[1] >= 0x80 or \
            der[key_algorithm[1] - 2:key_algorithm[2]] not in _KEY_ALGORITHMS:
        raise Unsure("public key algorithm")
    _check_key_bits(der[key_algorithm[1] - 2:key_algorithm[2]], der[key_parts[1][1] + 1:key_parts[1][2]])
    if subject[1] == subject[2] or issuer[1] == issuer[2]:
        raise Unsure("empty subject or issuer")  # Java's rules for those: _java_x509
    rest = fields[6:]
    extensions = {}
    if rest:
        if len(rest) != 1 or rest[0][0] != 0xA3 or version != 2:
            raise Unsure("unique identifiers or misplaced extensions")
        extensions = _extensions(der, rest[0][1], rest[0][2])
    return (name_string(der, subject[1], subject[2]), name_string(der, issuer[1], issuer[2]), not_before, not_after,
            subject, extensions)


def raw_names(der: bytes):
    """(issuer, subject) of a certificate as their DER bytes, or None when the bytes cannot be walked."""
    try:
        _tag, start, end = tlv(der, 0, len(der), strict=False)
        tbs = children(der, start, end, strict=False)[0]
        fields = children(der, tbs[1], tbs[2], strict=False)
        if fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        issuer, subject = fields[2], fields[4]
        return der[issuer[1]:issuer[2]], der[subject[1]:subject[2]]
    except (ValueError, IndexError):
        return None


def serial_number(der: bytes):
    """The certificate's serialNumber as a decimal string (x509-certificate-exporter's serial_number label), or None
    when der is not the DER this module reads."""
    try:
        _tag, start, end = tlv(der, 0, len(der))
        _tag, tbs_start, tbs_end = tlv(der, start, end)
        fields = children(der, tbs_start, tbs_end)
    except (Unsure, ValueError, IndexError):
        return None
    position = 1 if fields and fields[0][0] == 0xA0 else 0  # [0] EXPLICIT version, then serialNumber
    if position >= len(fields) or fields[position][0] != 0x02:
        return None
    _serial_tag, first, last = fields[position]
    return str(int.from_bytes(der[first:last], "big", signed=True))


def spki(der: bytes):
    """The certificate's SubjectPublicKeyInfo, header included (what an RFC 7469 pin hashes), or None when the bytes
    cannot be walked."""
    try:
        _tag, start, end = tlv(der, 0, len(der), strict=False)
        tbs = children(der, start, end, strict=False)[0]
        header = tbs[1]
        fields = []
        for element in children(der, tbs[1], tbs[2], strict=False):
            fields.append((header, element))
            header = element[2]
        if fields[0][1][0] == 0xA0:  # [0] version
            fields = fields[1:]
        key_start, (tag, _content, key_end) = fields[5]
        return der[key_start:key_end] if tag == 0x30 else None
    except (ValueError, IndexError):
        return None
