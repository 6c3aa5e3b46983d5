# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What Java's CertificateFactory makes of a certificate: refused (and why), or accepted and described.

A JKS, JCEKS or PKCS12 store is loaded by Java through CertificateFactory.getInstance("X.509"): one certificate it
refuses makes keytool and the gateway refuse the whole store. So before a certificate is stored, the collection
decides as Java would, here, without a JVM. cryptography is not the judge: it refuses certificates Java accepts
(an x400Address name, an empty ExtendedKeyUsage, a BER length, ...) and accepts some Java refuses (explicit EC
parameters, RSA-PSS with another mask generator, mismatched signature algorithms, ...).

The rules follow OpenJDK 17 (checked against 17.0.15's classes; docs/java-rules.md lists each with its source):
sun.security.x509.X509CertImpl.parse (outer and inner AlgorithmIdentifier must be equal),
X509CertInfo.parse/verifyCert (version, unique identifiers, empty issuer and subject), AlgorithmId (parameters of
RSASSA-PSS, EC and DSA), X509Key/RSAPublicKeyImpl/ECPublicKeyImpl/EdDSAPublicKeyImpl (public keys),
CertificateExtensions (duplicates; a critical extension that does not parse), GeneralName/URIName/RFC822Name/
IPAddressName and NameConstraintsExtension. tests/interop/test_certificate_corpus.py holds the rules to Java's
answers over cryptography's test vectors and generated certificates.

Only the certificates _der's strict reader does not fully understand come here: that reader's certificates are a
subset of what Java accepts (a unit test keeps it so). This module is imported on that rare path only.
"""

from __future__ import annotations

import datetime
import ipaddress
import re

from ansible_collections.apim.certificates.plugins.module_utils import _der


class JavaRefusal(ValueError):
    """Java's CertificateFactory refuses the certificate; the message is Java's reason."""


class _Bad(ValueError):
    """DER that Java's DerValue cannot read at all."""


# --- BER, as Java's DerValue reads it ---------------------------------------------------------------------------


def _tlv(data: bytes, pos: int, end: int) -> tuple:
    """(tag, content start, content end, element start): _der's walker in its BER mode (long forms, leading zeros),
    as Java's DerValue reads. Indefinite lengths are refused: Java re-encodes such a certificate, so its fingerprint
    would change."""
    if pos + 2 <= end:
        if data[pos] & 0x1F == 0x1F:
            raise JavaRefusal("Tag number over 30 is not supported")
        if data[pos + 1] == 0x80:
            raise _Bad("an indefinite length (BER): Java would store it re-encoded, under another fingerprint")
    try:
        tag, start, stop = _der.tlv(data, pos, end, strict=False)
    except _der.Unsure as exc:
        raise _Bad(str(exc)) from None
    return tag, start, stop, pos


def _children(data: bytes, start: int, end: int) -> list:
    out, pos = [], start
    while pos < end:
        element = _tlv(data, pos, end)
        out.append(element)
        pos = element[2]
    return out


def _oid(data: bytes, element) -> str:
    if element[0] != 0x06:
        raise _Bad("an OBJECT IDENTIFIER was expected")
    try:
        return _der.oid(data[element[1]:element[2]])
    except (ValueError, IndexError):
        raise _Bad("a malformed OBJECT IDENTIFIER") from None


def _integer(raw: bytes) -> int:
    """An INTEGER's value (two's complement, as DerValue.getInteger and getBigInteger read it)."""
    return int.from_bytes(raw, "big", signed=True) if raw else 0


# --- AlgorithmIdentifier (AlgorithmId) --------------------------------------------------------------------------

_PSS = "1.2.840.113549.1.1.10"
_MGF1 = "1.2.840.113549.1.1.8"
_PSS_DIGESTS = {"1.3.14.3.2.26"} | {f"2.16.840.1.101.3.4.2.{n}" for n in range(1, 11)}
_EC = "1.2.840.10045.2.1"
_DSA = "1.2.840.10040.4.1"
_RSA = "1.2.840.113549.1.1.1"
_DH = "1.2.840.113549.1.3.1"
_EDDSA_XDH = {"1.3.101.112": 32, "1.3.101.113": 57, "1.3.101.110": 32, "1.3.101.111": 56}
# sun.security.util.CurveDB (JDK 17): OID -> field size in bits. Any other curve: "Unknown named curve".
_CURVE_ARCS = (
    ("1.2.840.10045.3.0", ((5, 191), (6, 191), (7, 191), (11, 239), (12, 239), (13, 239), (18, 359), (20, 431))),
    ("1.2.840.10045.3.1", ((1, 192), (2, 192), (3, 192), (4, 239), (5, 239), (6, 239), (7, 256))),
    ("1.3.132.0", ((1, 163), (2, 163), (3, 239), (4, 113), (5, 113), (6, 112), (7, 112), (8, 160), (9, 160),
                   (10, 256), (15, 163), (16, 283), (17, 283), (22, 131), (23, 131), (24, 193), (25, 193), (26, 233),
                   (27, 233), (28, 128), (29, 128), (30, 160), (31, 192), (32, 224), (33, 224), (34, 384), (35, 521),
                   (36, 409), (37, 409), (38, 571), (39, 571))),
    ("1.3.36.3.3.2.8.1.1", ((1, 160), (3, 192), (5, 224), (7, 256), (9, 320), (11, 384), (13, 512))),
)
_CURVES = {f"{prefix}.{arc}": bits for prefix, arcs in _CURVE_ARCS for arc, bits in arcs}


def _algorithm(data: bytes, element) -> tuple:
    """(OID, parameters as their encoded bytes or None): AlgorithmId.parse, where an empty NULL means none."""
    if element[0] != 0x30:
        raise _Bad("an AlgorithmIdentifier was expected")
    parts = _children(data, element[1], element[2])
    if not parts:
        raise _Bad("an empty AlgorithmIdentifier")
    dotted = _oid(data, parts[0])
    if len(parts) > 2:
        raise JavaRefusal("Invalid AlgorithmIdentifier: extra data")
    params = None
    if len(parts) == 2:
        tag, start, end, _begin = parts[1]
        if tag == 0x05:
            if end != start:
                raise JavaRefusal("invalid NULL")
        else:
            params = data[parts[1][3]:end]
    _check_parameters(dotted, params)
    return dotted, params


def _check_parameters(dotted: str, params: bytes | None) -> None:
    """AlgorithmId.decodeParams: parameters the JDK has AlgorithmParameters for must decode."""
    if params is None:
        return
    if dotted == _PSS:
        _check_pss(params)
    elif dotted == _EC:
        _curve(params)
    elif dotted == _DSA:
        _tag, start, end, _begin = _tlv(params, 0, len(params))
        values = _children(params, start, end)
        if _tag != 0x30 or len(values) != 3 or any(v[0] != 0x02 for v in values):
            raise JavaRefusal("DSA parameters are not SEQUENCE { p, q, g }")


def _check_pss(params: bytes) -> None:
    """sun.security.rsa.PSSParameters.engineInit."""
    tag, start, end, _begin = _tlv(params, 0, len(params))
    if tag != 0x30:
        raise JavaRefusal("Invalid encoded PSSParameters")
    for field, f_start, f_end, _begin in _children(params, start, end):
        if field not in (0xA0, 0xA1, 0xA2, 0xA3):
            raise JavaRefusal("Invalid encoded PSSParameters")
        inner = _children(params, f_start, f_end)
        if len(inner) != 1:
            raise JavaRefusal("Invalid encoded PSSParameters")
        if field == 0xA0:
            _algorithm(params, inner[0])
        elif field == 0xA1:
            mgf, mgf_params = _algorithm(params, inner[0])
            if mgf != _MGF1:
                raise JavaRefusal("Only MGF1 mgf is supported")
            if mgf_params is None:
                raise JavaRefusal("Missing MGF1 parameters")
            digest = _algorithm(mgf_params, _tlv(mgf_params, 0, len(mgf_params)))[0]
            if digest not in _PSS_DIGESTS:
                raise JavaRefusal(f"Unrecognized message digest algorithm {digest}")
        else:
            if inner[0][0] != 0x02:
                raise JavaRefusal("Invalid encoded PSSParameters")
            value = _integer(params[inner[0][1]:inner[0][2]])
            if field == 0xA2 and not 0 <= value < 2 ** 31:
                raise JavaRefusal(f"Negative value for saltLength: {value}" if value < 0 else "saltLength too large")
            if field == 0xA3 and value != 1:
                raise JavaRefusal(f"Unsupported trailerField value {value}")


def _curve(params: bytes | None) -> int:
    """Field size of a named curve Java knows (sun.security.util.ECParameters.engineInit)."""
    if params is None:
        raise JavaRefusal("EC domain parameters must be encoded in the algorithm identifier")
    element = _tlv(params, 0, len(params))
    if element[0] != 0x06:
        raise JavaRefusal("Only named ECParameters supported")
    dotted = _oid(params, element)
    if dotted not in _CURVES:
        raise JavaRefusal(f"Unknown named curve: {dotted}")
    return _CURVES[dotted]


# --- SubjectPublicKeyInfo (X509Key and the JDK's key factories) -------------------------------------------------


def _check_key(data: bytes, element) -> None:
    parts = _children(data, element[1], element[2])
    if element[0] != 0x30 or len(parts) != 2 or parts[1][0] != 0x03:
        raise _Bad("a SubjectPublicKeyInfo was expected")
    dotted, params = _algorithm(data, parts[0])
    bits = data[parts[1][1]:parts[1][2]]
    if not bits:
        raise _Bad("an empty BIT STRING")
    key = bits[1:]
    if dotted in (_RSA, _PSS):
        _check_rsa_key(key)
    elif dotted == _EC:
        size = (_curve(params) + 7) // 8
        if len(key) != 1 + 2 * size or key[0] != 0x04:
            raise JavaRefusal("subject key, java.security.spec.InvalidKeySpecException: "
                              "Only uncompressed point format supported" if key[:1] in (b"\x02", b"\x03")
                              else "subject key, java.security.spec.InvalidKeySpecException: Point does not match field size")
    elif dotted == _DH:
        try:
            element = _tlv(key, 0, len(key))
        except _Bad:
            element = None
        if element is None or element[0] != 0x02 or element[2] != len(key):
            raise JavaRefusal("subject key, java.security.spec.InvalidKeySpecException: Inappropriate key specification")
    elif dotted in _EDDSA_XDH and len(key) != _EDDSA_XDH[dotted]:
        raise JavaRefusal(f"subject key, java.security.spec.InvalidKeySpecException: key length is {len(key)}, "
                          f"key length must be {_EDDSA_XDH[dotted]}")


def _check_rsa_key(key: bytes) -> None:
    """RSAPublicKeyImpl: SEQUENCE { n, e } and nothing after it; RSAKeyFactory.checkKeyLengths; checkExponentRange."""
    try:
        tag, start, end, _begin = _tlv(key, 0, len(key))
        values = _children(key, start, end)
    except _Bad:
        raise JavaRefusal("subject key, Invalid RSA public key") from None
    if tag != 0x30 or end != len(key) or len(values) != 2 or any(v[0] != 0x02 for v in values):
        raise JavaRefusal("subject key, Invalid RSA public key")
    modulus = int.from_bytes(key[values[0][1]:values[0][2]], "big")
    exponent = int.from_bytes(key[values[1][1]:values[1][2]], "big")
    length = (modulus.bit_length() + 7) & ~7
    if length < 512:
        raise JavaRefusal("subject key, RSA keys must be at least 512 bits long")
    if length > 16384:
        raise JavaRefusal("subject key, RSA keys must be no longer than 16384 bits")
    if modulus.bit_length() > 3072 and exponent.bit_length() > 64:
        raise JavaRefusal("subject key, RSA exponents can be no longer than 64 bits if modulus is greater than 3072 bits")
    if exponent >= modulus:
        raise JavaRefusal("subject key, exponent is larger than modulus")
    if exponent < 3:
        raise JavaRefusal("subject key, exponent must be at least 3")


# --- names --------------------------------------------------------------------------------------------------------

_STRING_CODECS = {0x0C: "utf-8", 0x13: "latin-1", 0x16: "latin-1", 0x14: "latin-1", 0x1A: "latin-1",
                  0x1E: "utf-16-be", 0x1C: "utf-32-be"}


def _name(data: bytes, element) -> str:
    """A Name as an RFC 4514 string; values that are not strings as #hex (RFC 4514, 2.4)."""
    if element[0] != 0x30:
        raise _Bad("a Name was expected")
    rdns = []
    for tag, start, end, _begin in _children(data, element[1], element[2]):
        if tag != 0x31:
            raise _Bad("a RelativeDistinguishedName was expected")
        parts = []
        for a_tag, a_start, a_end, _begin in _children(data, start, end):
            fields = _children(data, a_start, a_end)
            if a_tag != 0x30 or len(fields) != 2:
                raise _Bad("an AttributeTypeAndValue was expected")
            dotted = _oid(data, fields[0])
            v_tag, v_start, v_end, _begin = fields[1]
            codec = _STRING_CODECS.get(v_tag)
            if codec:
                text = _der._escape(data[v_start:v_end].decode(codec, "replace")) if v_end > v_start else ""
            else:
                text = "#" + data[fields[1][3]:v_end].hex()
            parts.append(f"{_der.NAME_SHORT_FORMS.get(dotted, dotted)}={text}")
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns))


_TIME = re.compile(r"^(\d{10})(\d{2})?(\.\d+)?(Z|[+-]\d{4})$")


def _time(data: bytes, element) -> datetime.datetime:
    """UTCTime YYMMDDhhmm[ss] or GeneralizedTime YYYYMMDDhhmm[ss[.f]], then Z or +-hhmm (sun.security.util.DerValue)."""
    tag, start, end, _begin = element
    text = data[start:end].decode("latin-1")
    if tag == 0x17:
        match = _TIME.match(text)
        if not match or match.group(3):
            raise JavaRefusal(f"Parse UTC time, invalid format: {text!r}")
        year = int(text[:2])
        year += 1900 if year >= 50 else 2000
        rest = match.group(1)[2:]
    elif tag == 0x18:
        match = _TIME.match(text[2:]) if len(text) > 2 else None
        if not match or not text[:2].isdigit():
            raise JavaRefusal(f"Parse Generalized time, invalid format: {text!r}")
        year = int(text[:4])
        rest = match.group(1)[2:]
    else:
        raise _Bad("a time was expected")
    zone = match.group(4)
    try:
        moment = datetime.datetime(year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]),
                                   int(match.group(2) or 0), tzinfo=datetime.timezone.utc)
    except ValueError:
        raise JavaRefusal(f"Parse time, invalid value: {text!r}") from None
    if zone != "Z":
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        moment = moment - offset if zone[0] == "+" else moment + offset
    return moment


# --- GeneralName (sun.security.x509.GeneralName and its name classes) ------------------------------------------

_CONSTRUCTED = {0, 3, 4, 5}
_DNS_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*)$")
_URI_FORBIDDEN = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]|%(?![0-9A-Fa-f]{2})')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# RFC 2396 hostname: java.net.URI parses an authority as server-based only when its host is one (or an IPv4 address),
# else as registry-based, and URIName checks the host of a server-based authority only.
_RFC2396_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def _strict_dns(name: str) -> bool:
    """DNSName(String): non-empty labels of letters, digits and hyphens, each starting with a letter or digit."""
    return bool(name) and all(_DNS_LABEL.match(label) for label in name.split("."))


def _check_uri(text: str, constraint: bool) -> None:
    if _URI_FORBIDDEN.search(text):
        raise JavaRefusal(f"invalid URI name{' constraint' if constraint else ''}:{text}")
    if constraint:
        if _SCHEME.match(text):
            raise JavaRefusal(f"invalid URI name constraint (should not include scheme):{text}")
        host = text[1:] if text.startswith(".") else text
        if not _strict_dns(host):
            raise JavaRefusal(f"invalid URI name constraint:{text}")
        return
    if not _SCHEME.match(text):
        raise JavaRefusal(f"URI name must include scheme:{text}")
    rest = text.split(":", 1)[1]
    if not rest.startswith("//"):
        return
    authority = re.split(r"[/?#]", rest[2:], 1)[0]
    host = authority.rsplit("@", 1)[-1]
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:host.index("]")])
        except (ValueError, IndexError):
            raise JavaRefusal(f"invalid URI name (host portion is not a valid IPv6 address):{text}") from None
        return
    host = re.sub(r":\d*$", "", host)
    if _IPV4.match(host):
        return
    if _RFC2396_HOST.match(host):  # a server-based authority: URIName checks its host
        if not _strict_dns(host):
            raise JavaRefusal(f"invalid URI name (host portion is not a valid DNS name, IPv4 address, or IPv6 address):{text}")


def _check_general_name(data: bytes, element, constraint: bool) -> None:
    tag, start, end, _begin = element
    number, constructed = tag & 0x1F, bool(tag & 0x20)
    if tag & 0xC0 != 0x80 or number > 8 or constructed != (number in _CONSTRUCTED):
        raise JavaRefusal("Invalid encoding of GeneralName")
    value = data[start:end]
    if number == 1:
        text = value.decode("latin-1")
        domain = text.split("@", 1)[1] if "@" in text else text
        if not text:
            raise JavaRefusal("RFC822Name may not be null or empty")
        if not domain or domain == ".":
            raise JavaRefusal(f"RFC822Name may not end with @ or be only '.': {text}")
    elif number == 7 and len(value) not in (4, 8, 16, 32):
        raise JavaRefusal("Invalid IPAddress: the address is neither 4, 8, 16 nor 32 bytes")
    elif number == 6:
        _check_uri(value.decode("latin-1"), constraint)


def _general_names(data: bytes, start: int, end: int) -> list:
    tag, n_start, n_end, _begin = _tlv(data, start, end)
    names = _children(data, n_start, n_end)
    if tag != 0x30:
        raise JavaRefusal("Invalid encoding for GeneralNames")
    if not names:
        raise JavaRefusal("No data available in passed DER encoded value.")
    for name in names:
        _check_general_name(data, name, constraint=False)
    return names


def _name_constraints(data: bytes, start: int, end: int) -> None:
    tag, c_start, c_end, _begin = _tlv(data, start, end)
    if tag != 0x30:
        raise JavaRefusal("Invalid encoding for NameConstraintsExtension")
    for s_tag, s_start, s_end, _begin in _children(data, c_start, c_end):
        if s_tag not in (0xA0, 0xA1):
            raise JavaRefusal("Invalid encoding for NameConstraintsExtension")
        for t_tag, t_start, t_end, _begin in _children(data, s_start, s_end):
            parts = _children(data, t_start, t_end)
            if t_tag != 0x30 or not parts:
                raise JavaRefusal("Invalid encoding for GeneralSubtree")
            _check_general_name(data, parts[0], constraint=True)


def _one_element(tag: int):
    """A parser for an extension Java knows whose value must be one element with this tag, well-formed throughout."""
    def check(data: bytes, start: int, end: int) -> None:
        element = _tlv(data, start, end)
        if element[0] != tag or element[2] != end:
            raise JavaRefusal("the extension value is not what its type requires")
        _walk(data, element)
    return check


def _walk(data: bytes, element) -> None:
    """Every element inside a constructed one must be well-formed (Java's DerValue parses them)."""
    if element[0] & 0x20:
        for child in _children(data, element[1], element[2]):
            _walk(data, child)


# sun.security.x509.OIDMap: the extensions Java parses. GeneralName-bearing ones follow its name rules; for the others
# only their outer structure is checked (a critical one that does not parse refuses the certificate).
_CHECKED_EXTENSIONS = {"2.5.29.17": _general_names, "2.5.29.18": _general_names, "2.5.29.30": _name_constraints}
_CHECKED_EXTENSIONS.update({dotted: _one_element(0x30) for dotted in (
    "2.5.29.16", "2.5.29.19", "2.5.29.28", "2.5.29.29", "2.5.29.31", "2.5.29.32", "2.5.29.33", "2.5.29.35",
    "2.5.29.36", "2.5.29.37", "2.5.29.46", "1.3.6.1.5.5.7.1.1", "1.3.6.1.5.5.7.1.11")})
_CHECKED_EXTENSIONS.update({"2.5.29.14": _one_element(0x04), "2.5.29.15": _one_element(0x03),
                            "2.5.29.20": _one_element(0x02), "2.5.29.21": _one_element(0x0A),
                            "2.5.29.27": _one_element(0x02), "2.5.29.54": _one_element(0x02),
                            "2.16.840.1.113730.1.1": _one_element(0x03)})


def _extensions(data: bytes, element) -> dict:
    """OID -> (critical, parsed) of each extension: CertificateExtensions.init. A critical extension that does not
    parse refuses the certificate; a non-critical one is set aside (parsed False), as Java does."""
    seq = _children(data, element[1], element[2])
    if len(seq) != 1 or seq[0][0] != 0x30:
        raise _Bad("Extensions were expected")
    found = {}
    for tag, start, end, _begin in _children(data, seq[0][1], seq[0][2]):
        fields = _children(data, start, end)
        if tag != 0x30 or len(fields) not in (2, 3) or fields[-1][0] != 0x04:
            raise _Bad("an Extension was expected")
        dotted = _oid(data, fields[0])
        critical = len(fields) == 3 and fields[1][0] == 0x01 and any(data[fields[1][1]:fields[1][2]])
        if dotted in found:
            raise JavaRefusal("Duplicate extensions not allowed")
        parsed = True
        check = _CHECKED_EXTENSIONS.get(dotted)
        if check is not None:
            try:
                check(data, fields[-1][1], fields[-1][2])
            except (JavaRefusal, _Bad) as exc:
                if critical:
                    raise JavaRefusal(str(exc)) from None
                parsed = False
        found[dotted] = (critical, parsed, fields[-1])
    return found


# --- the certificate ------------------------------------------------------------------------------------------------


def judge(der: bytes) -> tuple:
    """(subject, issuer, not_before, not_after) of a certificate Java's CertificateFactory accepts.

    JavaRefusal (a ValueError) with Java's reason when it refuses it; ValueError when it is no certificate at all.
    """
    try:
        return _judge(der)
    except _Bad as exc:
        raise ValueError(f"not DER Java reads as a certificate: {exc}") from None
    except IndexError:
        raise ValueError("not DER Java reads as a certificate") from None


def _judge(der: bytes) -> tuple:
    tag, start, end, _begin = _tlv(der, 0, len(der))
    if tag != 0x30 or end != len(der):
        raise _Bad("a Certificate SEQUENCE was expected")
    outer = _children(der, start, end)
    if len(outer) < 3 or [e[0] for e in outer[:3]] != [0x30, 0x30, 0x03]:
        raise _Bad("a Certificate was expected")
    if len(outer) > 3:
        raise JavaRefusal(f"signed overrun, bytes = {end - outer[2][2]}")
    outer_algorithm = _algorithm(der, outer[1])
    fields = _children(der, outer[0][1], outer[0][2])
    version = 0
    if fields and fields[0][0] == 0xA0:
        inner = _children(der, fields[0][1], fields[0][2])
        if len(inner) != 1 or inner[0][0] != 0x02:
            raise _Bad("a version was expected")
        version = _integer(der[inner[0][1]:inner[0][2]])
        fields = fields[1:]
    if len(fields) < 6 or [f[0] for f in fields[:6]] != [0x02, 0x30, 0x30, 0x30, 0x30, 0x30]:
        raise _Bad("a TBSCertificate was expected")
    _serial, signature, issuer, validity, subject, key = fields[:6]
    inner_algorithm = _algorithm(der, signature)
    issuer_name = _name(der, issuer)
    if not _children(der, issuer[1], issuer[2]):
        raise JavaRefusal("Empty issuer DN not allowed in X509Certificates")
    times = _children(der, validity[1], validity[2])
    if len(times) != 2:
        raise _Bad("a Validity was expected")
    not_before, not_after = _time(der, times[0]), _time(der, times[1])
    subject_name = _name(der, subject)
    subject_empty = not _children(der, subject[1], subject[2])
    if version == 0 and subject_empty:
        raise JavaRefusal("Empty subject DN not allowed in v1 certificate")
    _check_key(der, key)
    rest = fields[6:]
    if rest and version == 0:
        raise JavaRefusal("no more data allowed for version 1 certificate")
    while rest and rest[0][0] in (0x81, 0xA1):
        rest = rest[1:]
    while rest and rest[0][0] in (0x82, 0xA2):
        rest = rest[1:]
    if rest:
        if version != 2:
            raise JavaRefusal("Extensions not allowed in v2 certificate")
        extensions = _extensions(der, rest[0]) if rest[0][0] == 0xA3 else None
        if subject_empty:
            _check_empty_subject(extensions)
    if outer_algorithm != inner_algorithm:
        raise JavaRefusal("Signature algorithm mismatch")
    return subject_name, issuer_name, not_before, not_after


def _check_empty_subject(extensions) -> None:
    """X509CertInfo.verifyCert: an empty subject needs a critical, parsed, non-empty SubjectAlternativeName."""
    prefix = "X.509 Certificate is incomplete: subject field is empty, and "
    if extensions is None:
        raise JavaRefusal(prefix + "certificate has no extensions")
    san = extensions.get("2.5.29.17")
    if san is None or not san[1]:
        raise JavaRefusal(prefix + "SubjectAlternativeName extension is absent")
    if not san[0]:
        raise JavaRefusal("X.509 Certificate is incomplete: SubjectAlternativeName extension MUST be marked critical "
                          "when subject field is empty")
