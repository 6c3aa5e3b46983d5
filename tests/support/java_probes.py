"""Synthetic certificates, each varying one DER feature of a plain certificate, for the Java rules (_java_x509).

Each probe pins one rule of Java's CertificateFactory (or a neighbour on the same JDK code path): the corpus test
(tests/interop/test_certificate_corpus.py) hands them to a JVM and to the collection and requires the same verdict.
Signatures are random bytes: neither Java's CertificateFactory nor the collection verify a signature when reading.
generate() returns {name: (what it probes, DER)}.
"""

import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ansible_collections.apim.certificates.plugins.module_utils import _der


# ---- DER builder ----------------------------------------------------------------------------------------------
def length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content=b""):
    return bytes([tag]) + length(len(content)) + content


def seq(*items):
    return tlv(0x30, b"".join(items))


def set_(*items):
    return tlv(0x31, b"".join(items))


def oid(dotted):
    return _der._encode_oid(dotted)  # pylint: disable=protected-access


def integer(value):
    size = max(1, (value.bit_length() + 8) // 8) if value >= 0 else max(1, ((-value - 1).bit_length() + 8) // 8)
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def raw_int(raw):
    return tlv(0x02, raw)


NULL = tlv(0x05)


def bits(content, unused=0):
    return tlv(0x03, bytes([unused]) + content)


def octets(content):
    return tlv(0x04, content)


def utf8(text):
    return tlv(0x0C, text.encode())


def ia5(text):
    return tlv(0x16, text.encode() if isinstance(text, str) else text)


def explicit(n, content):
    return tlv(0xA0 + n, content)


def implicit(n, content, constructed=False):
    return tlv((0xA0 if constructed else 0x80) + n, content)


def boolean(value):
    return tlv(0x01, b"\xff" if value else b"\x00")


def name(*pairs):
    return seq(*[set_(seq(oid(o), v)) for o, v in pairs])


CN = "2.5.4.3"


def cn(text):
    return name((CN, utf8(text)))


def alg(dotted, params=None):
    return seq(oid(dotted), *([params] if params is not None else []))


SHA256_RSA = "1.2.840.113549.1.1.11"
SHA384_RSA = "1.2.840.113549.1.1.12"
PSS = "1.2.840.113549.1.1.10"
MGF1 = "1.2.840.113549.1.1.8"
SHA256 = "2.16.840.1.101.3.4.2.1"
EC_KEY = "1.2.840.10045.2.1"
P256 = "1.2.840.10045.3.1.7"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
SAN, IAN, NC, BC, KU = "2.5.29.17", "2.5.29.18", "2.5.29.30", "2.5.29.19", "2.5.29.15"


def pss_params(hash_oid=SHA256, mgf_oid=MGF1, mgf_hash=SHA256, salt=32, trailer=None, mgf_params=True, extra=b""):
    parts = [explicit(0, alg(hash_oid, NULL))]
    mgf = alg(mgf_oid, alg(mgf_hash, NULL)) if mgf_params else alg(mgf_oid)
    parts.append(explicit(1, mgf))
    if salt is not None:
        parts.append(explicit(2, integer(salt)))
    if trailer is not None:
        parts.append(explicit(3, integer(trailer)))
    return seq(*parts) + b"" if not extra else seq(*parts, extra)


RSA_KEY = rsa.generate_private_key(65537, 2048)
RSA_SPKI = RSA_KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
EC_PUB = ec.generate_private_key(ec.SECP256R1()).public_key()
EC_POINT = EC_PUB.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
EC_POINT_COMPRESSED = EC_PUB.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def ec_spki(params=oid(P256), point=EC_POINT, algorithm=EC_KEY):
    return seq(alg(algorithm, params) if params is not None else alg(algorithm), bits(point))


def other_curve(curve, curve_oid):
    point = ec.generate_private_key(curve).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return ec_spki(oid(curve_oid), point)


def rsa_spki(n, e, params=NULL):
    return seq(alg("1.2.840.113549.1.1.1", params), bits(seq(integer(n), integer(e))))


def ext(dotted, value, critical=None):
    return seq(oid(dotted), *([boolean(critical)] if critical is not None else []), octets(value))


def extensions(*exts):
    return explicit(3, seq(*exts))


def san_dns(text):
    return seq(implicit(2, text.encode()))


def cert(version=2, serial=0x1234, inner=None, outer=None, issuer=None, validity=None, subject=None, spki=None,
         tail=None, exts=None, sig=None):
    inner = inner if inner is not None else alg(SHA256_RSA, NULL)
    outer = outer if outer is not None else inner
    issuer = issuer if issuer is not None else cn("Probe CA")
    validity = validity if validity is not None else seq(tlv(0x17, b"240101000000Z"), tlv(0x17, b"340101000000Z"))
    subject = subject if subject is not None else cn("probe.example")
    spki = spki if spki is not None else RSA_SPKI
    fields = []
    if version is not None:
        fields.append(explicit(0, integer(version) if isinstance(version, int) else version))
    fields += [integer(serial) if isinstance(serial, int) else serial, inner, issuer, validity, subject, spki]
    if exts is None and version == 2:
        exts = [ext(BC, seq(), critical=True)]
    if exts:
        fields.append(extensions(*exts))
    if tail:
        fields.extend(tail)
    tbs = seq(*fields)
    return seq(tbs, outer, sig if sig is not None else bits(os.urandom(256)))


PROBES = {}


def probe(label, what, der):
    PROBES[label] = (what, der)


def build():
    probe("a00_baseline", "plain v3 RSA certificate, critical empty BasicConstraints", cert())
    # --- signature AlgorithmIdentifier: inner (TBSCertificate.signature) vs outer (Certificate.signatureAlgorithm)
    probe("a01_null_vs_absent", "inner sha256WithRSA with NULL, outer without parameters",
          cert(inner=alg(SHA256_RSA, NULL), outer=alg(SHA256_RSA)))
    probe("a02_oid_mismatch", "inner sha256WithRSA, outer sha384WithRSA",
          cert(inner=alg(SHA256_RSA, NULL), outer=alg(SHA384_RSA, NULL)))
    probe("a03_params_bytes_differ", "both RSASSA-PSS, same meaning, outer spells trailerField 1 explicitly",
          cert(inner=alg(PSS, pss_params()), outer=alg(PSS, pss_params(trailer=1))))
    probe("a04_pss_trailer2", "RSASSA-PSS (both) with trailerField 2", cert(inner=alg(PSS, pss_params(trailer=2))))
    probe("a05_pss_negative_salt", "RSASSA-PSS (both) with saltLength -1", cert(inner=alg(PSS, pss_params(salt=-1))))
    probe("a06_pss_mgf1_no_params", "RSASSA-PSS (both) with MGF1 lacking its hash AlgorithmIdentifier",
          cert(inner=alg(PSS, pss_params(mgf_params=False))))
    probe("a07_pss_unknown_hash", "RSASSA-PSS (both) with hashAlgorithm 1.2.3.4 (MGF1 with SHA-256)",
          cert(inner=alg(PSS, pss_params(hash_oid="1.2.3.4"))))
    probe("a08_pss_unknown_field", "RSASSA-PSS (both) with an extra [4] field",
          cert(inner=alg(PSS, pss_params(extra=explicit(4, integer(1))))))
    probe("a09_pss_inner_bad_only", "inner RSASSA-PSS with MGF 1.2.3.4, outer well-formed PSS",
          cert(inner=alg(PSS, pss_params(mgf_oid="1.2.3.4")), outer=alg(PSS, pss_params())))
    probe("a10_pss_mgf1_sha3", "RSASSA-PSS (both) with MGF1 over SHA3-256",
          cert(inner=alg(PSS, pss_params(mgf_hash="2.16.840.1.101.3.4.2.8"))))
    probe("a11_sigalg_oid_params", "sha256WithRSA (both) with an OID as parameters",
          cert(inner=alg(SHA256_RSA, oid("1.2.3.4"))))
    probe("a12_unknown_sigalg", "signature algorithm 1.2.3.4 (both), no parameters", cert(inner=alg("1.2.3.4")))
    probe("a13_ecdsa_params_same", "ecdsa-with-SHA256 (both) with an INTEGER parameter",
          cert(inner=alg(ECDSA_SHA256, integer(5))))
    probe("a14_sig_bits_unused", "signature BIT STRING with 3 unused bits",
          cert(sig=bits(os.urandom(255) + b"\x08", unused=3)))
    # --- subject public key
    probe("k01_ec_explicit", "EC key, parameters explicit (SEQUENCE) instead of a curve OID",
          cert(spki=ec_spki(seq(integer(1), seq(oid("1.2.840.10045.1.1"), integer(7)), seq(octets(b"\x00"), octets(b"\x07")),
                                octets(b"\x04" + b"\x01" * 64), integer(7)))))
    probe("k02_ec_unknown_curve", "EC key, curve OID 1.2.3.4", cert(spki=ec_spki(oid("1.2.3.4"))))
    probe("k03_ec_no_params", "EC key, AlgorithmIdentifier without parameters", cert(spki=ec_spki(None)))
    probe("k04_ec_null_params", "EC key, parameters NULL (implicitlyCA)", cert(spki=ec_spki(NULL)))
    probe("k05_ec_compressed", "EC P-256 key, compressed point", cert(spki=ec_spki(point=EC_POINT_COMPRESSED)))
    probe("k06_ec_short_point", "EC P-256 key, uncompressed point one byte short", cert(spki=ec_spki(point=EC_POINT[:-1])))
    probe("k07_ec_off_curve", "EC P-256 key, uncompressed point not on the curve",
          cert(spki=ec_spki(point=b"\x04" + b"\x01" * 64)))
    probe("k08_ec_secp256k1", "EC key on secp256k1", cert(spki=other_curve(ec.SECP256K1(), "1.3.132.0.10")))
    probe("k09_ec_brainpool", "EC key on brainpoolP256r1",
          cert(spki=other_curve(ec.BrainpoolP256R1(), "1.3.36.3.3.2.8.1.1.7")))
    probe("k10_ec_sect283k1", "EC key on sect283k1 (binary field), random 36+36-byte point", cert(spki=ec_spki(oid("1.3.132.0.16"), b"\x04" + os.urandom(72))))
    probe("k11_ec_secp192r1", "EC key on secp192r1 (P-192)", cert(spki=other_curve(ec.SECP192R1(), "1.2.840.10045.3.1.1")))
    n384 = int.from_bytes(b"\xc0" + os.urandom(47), "big") | 1
    probe("k12_rsa_384", "RSA key with a 384-bit modulus", cert(spki=rsa_spki(n384, 65537)))
    n512 = int.from_bytes(b"\xc0" + os.urandom(63), "big") | 1
    probe("k13_rsa_512", "RSA key with a 512-bit modulus", cert(spki=rsa_spki(n512, 65537)))
    n2048 = RSA_KEY.public_key().public_numbers().n
    probe("k14_rsa_e1", "RSA key with exponent 1", cert(spki=rsa_spki(n2048, 1)))
    probe("k15_rsa_e_big", "RSA key with exponent larger than the modulus", cert(spki=rsa_spki(n2048, n2048 + 2)))
    n4096 = int.from_bytes(b"\xc0" + os.urandom(511), "big") | 1
    probe("k16_rsa_4096_e65bit", "RSA 4096-bit key with a 65-bit exponent", cert(spki=rsa_spki(n4096, (1 << 64) + 1)))
    probe("k17_rsa_3072_e65bit", "RSA 3072-bit key with a 65-bit exponent",
          cert(spki=rsa_spki(int.from_bytes(b"\xc0" + os.urandom(383), "big") | 1, (1 << 64) + 1)))
    probe("k18_rsa_negative_n", "RSA key whose modulus INTEGER is negative",
          cert(spki=seq(alg("1.2.840.113549.1.1.1", NULL), bits(seq(raw_int(n2048.to_bytes(256, "big")), integer(65537))))))
    probe("k19_rsa_no_null", "rsaEncryption key AlgorithmIdentifier without NULL",
          cert(spki=rsa_spki(n2048, 65537, params=None)))
    probe("k20_rsa_16400", "RSA key with a 16400-bit modulus",
          cert(spki=rsa_spki(int.from_bytes(b"\xc0" + os.urandom(2049), "big") | 1, 65537)))
    probe("k21_ed25519_31", "Ed25519 key of 31 bytes", cert(spki=seq(alg("1.3.101.112"), bits(os.urandom(31)))))
    ed = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    probe("k22_ed25519_null", "Ed25519 key with NULL parameters", cert(spki=seq(alg("1.3.101.112", NULL), bits(ed))))
    probe("k23_unknown_key_alg", "public key algorithm 1.2.3.4 with garbage key bits",
          cert(spki=seq(alg("1.2.3.4"), bits(b"garbage"))))
    probe("k24_pss_key_bad_params", "RSASSA-PSS key whose parameters have MGF 1.2.3.4",
          cert(spki=seq(alg(PSS, pss_params(mgf_oid="1.2.3.4")), bits(seq(integer(n2048), integer(65537))))))
    probe("k25_rsa_trailing", "RSA key bits with trailing data after RSAPublicKey",
          cert(spki=seq(alg("1.2.840.113549.1.1.1", NULL), bits(seq(integer(n2048), integer(65537)) + b"\x00"))))
    probe("k26_dsa_bad_params", "DSA key with parameters (p, q, g) = (23, 11, 4) and y=2",
          cert(spki=seq(alg("1.2.840.10040.4.1", seq(integer(23), integer(11), integer(4))), bits(integer(2)))))
    probe("k27_x25519_31", "X25519 key of 31 bytes", cert(spki=seq(alg("1.3.101.110"), bits(os.urandom(31)))))
    probe("k28_ed448_56", "Ed448 key of 56 bytes", cert(spki=seq(alg("1.3.101.113"), bits(os.urandom(56)))))
    probe("k29_pss_key_no_params", "RSASSA-PSS key without parameters",
          cert(spki=seq(alg(PSS), bits(seq(integer(n2048), integer(65537))))))
    probe("k30_dh_key_garbage", "DiffieHellman (1.2.840.113549.1.3.1) key with garbage parameters and key",
          cert(spki=seq(alg("1.2.840.113549.1.3.1", seq(integer(23))), bits(b"\x01"))))
    probe("k31_dsa_no_params", "DSA key without parameters (inherited), y=2", cert(spki=seq(alg("1.2.840.10040.4.1"), bits(integer(2)))))
    probe("k32_ec_infinity", "EC P-256 key that is the point at infinity (single 00 byte)", cert(spki=ec_spki(point=b"\x00")))
    # --- names
    empty = seq()
    probe("n01_empty_subject_crit_san", "empty subject, critical SAN dNSName", cert(subject=empty, exts=[ext(SAN, san_dns("a.example"), True)]))
    probe("n02_empty_subject_noncrit_san", "empty subject, non-critical SAN", cert(subject=empty, exts=[ext(SAN, san_dns("a.example"))]))
    probe("n03_empty_subject_v3_no_ext", "empty subject, v3, no extensions field", cert(subject=empty, exts=[]))
    probe("n04_empty_subject_v1", "empty subject, v1", cert(version=None, subject=empty))
    probe("n05_empty_subject_no_san", "empty subject, v3, extensions without SAN", cert(subject=empty))
    probe("n06_empty_subject_empty_san", "empty subject, critical SAN that is an empty SEQUENCE",
          cert(subject=empty, exts=[ext(SAN, seq(), True)]))
    probe("n07_empty_issuer", "empty issuer", cert(issuer=empty))
    probe("n08_empty_subject_v2", "empty subject, v2, no extensions", cert(version=1, subject=empty))
    probe("n09_empty_subject_bad_crit_san", "empty subject, critical SAN whose URI has no scheme",
          cert(subject=empty, exts=[ext(SAN, seq(implicit(6, b"example.com")), True)]))
    probe("n10_empty_subject_unparseable_san", "empty subject, non-critical SAN whose URI has no scheme",
          cert(subject=empty, exts=[ext(SAN, seq(implicit(6, b"example.com")))]))
    # --- version and TBSCertificate layout
    probe("v01_version7_no_ext", "version INTEGER 7, no extensions", cert(version=7, exts=[]))
    probe("v02_version7_ext", "version INTEGER 7 with extensions", cert(version=7, exts=[ext(BC, seq(), True)]))
    probe("v03_v1_with_ext", "no version field (v1) with extensions", cert(version=None, exts=[ext(BC, seq(), True)]))
    probe("v04_v2_with_ext", "version 1 (v2) with extensions", cert(version=1, exts=[ext(BC, seq(), True)]))
    probe("v05_explicit_v1", "explicit version 0 ([0] INTEGER 0)", cert(version=0, exts=[]))
    probe("v06_v2_unique_ids", "v2 with issuer and subject unique identifiers", cert(version=1, exts=[],
          tail=[implicit(1, b"\x00\x01"), implicit(2, b"\x00\x02")]))
    probe("v07_v3_trailing_element", "v3, an extra NULL after the extensions", cert(tail=[NULL]))
    probe("v08_v3_other_instead_of_ext", "v3, an [4] element where extensions go", cert(exts=[], tail=[explicit(4, NULL)]))
    probe("v09_v1_trailing", "v1, an extra NULL after the public key", cert(version=None, exts=[], tail=[NULL]))
    probe("v10_version_negative", "version INTEGER -1, no extensions", cert(version=-1, exts=[]))
    probe("v11_empty_extensions", "v3 with [3] holding an empty SEQUENCE", cert(tail=[extensions()], exts=[]))
    probe("v12_serial_zero", "serial number 0", cert(serial=0))
    probe("v13_serial_negative", "serial number -5", cert(serial=-5))
    probe("v14_serial_nonminimal", "serial INTEGER with a leading 00 byte", cert(serial=raw_int(b"\x00\x05")))
    # --- validity

    def validity(a, b):
        return seq(a, b)
    later = tlv(0x17, b"340101000000Z")
    probe("t01_utc_no_seconds", "UTCTime without seconds", cert(validity=validity(tlv(0x17, b"2401010000Z"), later)))
    probe("t02_utc_offset", "UTCTime with +0100 offset", cert(validity=validity(tlv(0x17, b"240101000000+0100"), later)))
    probe("t03_gen_fraction", "GeneralizedTime with fractional seconds",
          cert(validity=validity(tlv(0x18, b"20240101000000.5Z"), later)))
    probe("t04_gen_before_2050", "GeneralizedTime in 2024", cert(validity=validity(tlv(0x18, b"20240101000000Z"), later)))
    probe("t05_gen_no_z", "GeneralizedTime without Z (local time)", cert(validity=validity(tlv(0x18, b"20240101000000"), later)))
    # --- extensions
    probe("e01_duplicate_unknown", "the same unknown non-critical extension twice",
          cert(exts=[ext("1.2.3.4", NULL), ext("1.2.3.4", NULL)]))
    probe("e02_san_uri_no_scheme_crit", "critical SAN URI 'example.com/path' (no scheme)",
          cert(exts=[ext(SAN, seq(implicit(6, b"example.com/path")), True)]))
    probe("e03_san_uri_no_scheme", "non-critical SAN URI 'example.com/path' (no scheme)",
          cert(exts=[ext(SAN, seq(implicit(6, b"example.com/path")))]))
    probe("e04_san_uri_underscore_host", "critical SAN URI 'http://exa_mple.com/'",
          cert(exts=[ext(SAN, seq(implicit(6, b"http://exa_mple.com/")), True)]))
    probe("e05_san_uri_bad_ipv6", "critical SAN URI 'http://[::1/'", cert(exts=[ext(SAN, seq(implicit(6, b"http://[::1/")), True)]))
    probe("e06_san_uri_space", "critical SAN URI 'http://a b/'", cert(exts=[ext(SAN, seq(implicit(6, b"http://a b/")), True)]))
    probe("e07_san_dns_underscore", "critical SAN dNSName '_srv.example.com'", cert(exts=[ext(SAN, san_dns("_srv.example.com"), True)]))
    probe("e08_san_dns_empty", "critical SAN dNSName ''", cert(exts=[ext(SAN, san_dns(""), True)]))
    probe("e09_san_email_empty", "critical SAN rfc822Name ''", cert(exts=[ext(SAN, seq(implicit(1, b"")), True)]))
    probe("e10_san_ip5", "critical SAN iPAddress of 5 bytes", cert(exts=[ext(SAN, seq(implicit(7, b"\x01\x02\x03\x04\x05")), True)]))
    probe("e11_san_ip8", "critical SAN iPAddress of 8 bytes", cert(exts=[ext(SAN, seq(implicit(7, b"\x0a\x00\x00\x00\xff\x00\x00\x00")), True)]))
    probe("e12_san_othername_unknown", "critical SAN otherName 1.2.3.4 [0] UTF8String",
          cert(exts=[ext(SAN, seq(implicit(0, oid("1.2.3.4") + explicit(0, utf8("x")), True)), True)]))
    probe("e13_san_email_trailing_at", "critical SAN rfc822Name 'user@'", cert(exts=[ext(SAN, seq(implicit(1, b"user@")), True)]))
    probe("e14_san_uri_bad_host_crit", "critical SAN URI 'http://-bad-.example/'",
          cert(exts=[ext(SAN, seq(implicit(6, b"http://-bad-.example/")), True)]))
    probe("e15_san_uri_no_host", "critical SAN URI 'urn:example:thing'", cert(exts=[ext(SAN, seq(implicit(6, b"urn:example:thing")), True)]))
    probe("e16_ian_uri_no_scheme_crit", "critical IssuerAltName URI 'example.com'",
          cert(exts=[ext(IAN, seq(implicit(6, b"example.com")), True)]))
    probe("e17_san_garbage_noncrit", "non-critical SAN whose value is not DER", cert(exts=[ext(SAN, b"\x30\x05\x82\x01")]))
    probe("e18_ku_garbage_noncrit", "non-critical KeyUsage that is an INTEGER", cert(exts=[ext(KU, integer(5))]))
    probe("e19_crit_false_explicit", "extension with critical BOOLEAN FALSE spelled out", cert(exts=[ext(BC, seq(), False)]))
    probe("e20_bc_negative_pathlen", "critical BasicConstraints cA TRUE pathLen -1",
          cert(exts=[ext(BC, seq(boolean(True), integer(-1)), True)]))
    probe("e21_bc_false_pathlen", "critical BasicConstraints cA FALSE pathLen 0 (FALSE spelled out)",
          cert(exts=[ext(BC, seq(boolean(False), integer(0)), True)]))
    probe("e22_unknown_critical_garbage", "critical unknown extension 1.2.3.4 with non-DER value", cert(exts=[ext("1.2.3.4", b"\xff\xff", True)]))
    probe("e23_aki_garbage_crit", "critical AuthorityKeyIdentifier whose value is not DER", cert(exts=[ext("2.5.29.35", b"\x30\x05\x80", True)]))
    probe("e24_san_dns_space", "critical SAN dNSName 'a b.example'", cert(exts=[ext(SAN, san_dns("a b.example"), True)]))
    probe("e25_san_dns_nonascii", "critical SAN dNSName with byte 0xE9", cert(exts=[ext(SAN, seq(implicit(2, b"caf\xe9.example")), True)]))
    probe("e26_eku_empty_crit", "critical ExtendedKeyUsage that is an empty SEQUENCE", cert(exts=[ext("2.5.29.37", seq(), True)]))
    probe("e27_san_empty_crit", "critical SAN that is an empty SEQUENCE (subject not empty)", cert(exts=[ext(SAN, seq(), True)]))
    probe("e28_san_empty_noncrit", "non-critical SAN that is an empty SEQUENCE", cert(exts=[ext(SAN, seq())]))
    probe("e29_san_uri_trailing_dot", "critical SAN URI 'http://example.com./'",
          cert(exts=[ext(SAN, seq(implicit(6, b"http://example.com./")), True)]))
    probe("e30_san_uri_bad_ipv6_literal", "critical SAN URI 'http://[1::2::3]/'",
          cert(exts=[ext(SAN, seq(implicit(6, b"http://[1::2::3]/")), True)]))
    probe("e31_san_uri_nonascii", "critical SAN URI 'http://caf\\xe9.example/' (byte 0xE9)",
          cert(exts=[ext(SAN, seq(implicit(6, b"http://caf\xe9.example/")), True)]))
    probe("e32_san_uri_percent_bad", "critical SAN URI 'http://example.com/%zz'",
          cert(exts=[ext(SAN, seq(implicit(6, b"http://example.com/%zz")), True)]))
    probe("e33_san_email_dot_domain", "critical SAN rfc822Name 'user@.'", cert(exts=[ext(SAN, seq(implicit(1, b"user@.")), True)]))
    probe("e34_san_dirname_empty", "critical SAN directoryName with an empty Name", cert(exts=[ext(SAN, seq(explicit(4, seq())), True)]))
    probe("e35_san_uri_crit_tag_constructed", "critical SAN URI with a constructed [6] tag",
          cert(exts=[ext(SAN, seq(implicit(6, ia5("http://a.example/"), constructed=True)), True)]))
    probe("e36_ku_crit_empty_bits", "critical KeyUsage BIT STRING with no bits", cert(exts=[ext(KU, bits(b""), True)]))
    probe("e37_san_x400_crit", "critical SAN x400Address [3] holding a SEQUENCE",
          cert(exts=[ext(SAN, seq(implicit(3, seq(), constructed=True)), True)]))
    probe("e38_san_edi_crit", "critical SAN ediPartyName [5] { partyName [1] 'x' }",
          cert(exts=[ext(SAN, seq(implicit(5, explicit(1, utf8("x")), constructed=True)), True)]))
    probe("e39_san_edi_noncrit", "non-critical SAN ediPartyName [5] { partyName [1] 'x' }",
          cert(exts=[ext(SAN, seq(implicit(5, explicit(1, utf8("x")), constructed=True)))]))
    # --- name constraints (critical unless said otherwise)

    def nc(permitted=None, excluded=None, critical=True):
        parts = []
        if permitted is not None:
            parts.append(implicit(0, b"".join(permitted), constructed=True))
        if excluded is not None:
            parts.append(implicit(1, b"".join(excluded), constructed=True))
        return [ext(BC, seq(boolean(True)), True), ext(NC, seq(*parts), True if critical else None)]

    def subtree(general_name, minimum=None, maximum=None):
        extra = b""
        if minimum is not None:
            extra += implicit(0, integer(minimum)[2:])
        if maximum is not None:
            extra += implicit(1, integer(maximum)[2:])
        return seq(general_name + extra)
    probe("c01_nc_dns_leading_dot", "name constraints dNSName '.example.com'", cert(exts=nc([subtree(implicit(2, b".example.com"))])))
    probe("c02_nc_uri_scheme", "name constraints URI 'https://example.com'", cert(exts=nc([subtree(implicit(6, b"https://example.com"))])))
    probe("c03_nc_uri_host", "name constraints URI 'example.com'", cert(exts=nc([subtree(implicit(6, b"example.com"))])))
    probe("c04_nc_uri_domain", "name constraints URI '.example.com'", cert(exts=nc([subtree(implicit(6, b".example.com"))])))
    probe("c05_nc_uri_bad_label", "name constraints URI '_x.example.com'", cert(exts=nc([subtree(implicit(6, b"_x.example.com"))])))
    probe("c06_nc_minimum1", "name constraints subtree with minimum 1", cert(exts=nc([subtree(implicit(2, b"example.com"), minimum=1)])))
    probe("c07_nc_maximum5", "name constraints subtree with maximum 5", cert(exts=nc([subtree(implicit(2, b"example.com"), maximum=5)])))
    probe("c08_nc_uri_scheme_noncrit", "non-critical name constraints URI 'https://example.com'",
          cert(exts=nc([subtree(implicit(6, b"https://example.com"))], critical=False)))
    probe("c09_nc_ip4_no_mask", "name constraints iPAddress of 4 bytes (no mask)", cert(exts=nc([subtree(implicit(7, b"\x0a\x00\x00\x00"))])))
    probe("c10_nc_email_domain", "name constraints rfc822Name '.example.com'", cert(exts=nc([subtree(implicit(1, b".example.com"))])))
    probe("c11_nc_email_at", "name constraints rfc822Name 'user@'", cert(exts=nc([subtree(implicit(1, b"user@"))])))
    probe("c12_nc_uri_empty", "name constraints URI ''", cert(exts=nc([subtree(implicit(6, b""))])))
    probe("c13_nc_empty", "name constraints with neither permitted nor excluded", cert(exts=nc()))
    probe("c14_nc_explicit_min0", "name constraints subtree with minimum 0 spelled out",
          cert(exts=nc([subtree(implicit(2, b"example.com"), minimum=0)])))
    probe("c15_nc_dirname", "name constraints directoryName CN=x", cert(exts=nc([subtree(explicit(4, cn("x")))])))
    probe("c17_nc_uri_path", "name constraints URI 'example.com/path'", cert(exts=nc([subtree(implicit(6, b"example.com/path"))])))
    probe("c18_nc_uri_port", "name constraints URI 'example.com:80' (parsed as scheme 'example.com')",
          cert(exts=nc([subtree(implicit(6, b"example.com:80"))])))
    probe("c19_nc_dns_underscore", "name constraints dNSName '_x.example.com'", cert(exts=nc([subtree(implicit(2, b"_x.example.com"))])))
    probe("c20_nc_email_dot", "name constraints rfc822Name '.'", cert(exts=nc([subtree(implicit(1, b"."))])))
    probe("c21_nc_ip5", "name constraints iPAddress of 5 bytes", cert(exts=nc([subtree(implicit(7, b"\x0a\x00\x00\x00\xff"))])))
    probe("c22_nc_othername", "name constraints otherName 1.2.3.4",
          cert(exts=nc([subtree(implicit(0, oid("1.2.3.4") + explicit(0, utf8("x")), True))])))
    probe("c16_nc_ip_noncontiguous", "name constraints iPAddress 10.0.0.0/255.0.255.0",
          cert(exts=nc([subtree(implicit(7, b"\x0a\x00\x00\x00\xff\x00\xff\x00"))])))


def ber_probes():
    """Encodings DER forbids but BER allows."""
    base = cert()
    # re-encode the issuer Name's outer SEQUENCE length in long form (0x81 nn) although it is < 128
    issuer = cn("Probe CA")
    long_issuer = bytes([0x30, 0x81, len(issuer) - 2]) + issuer[2:]
    probe("b01_long_form_length", "issuer Name SEQUENCE with a long-form length for a short length",
          cert(issuer=long_issuer))
    probe("b02_bool_true_01", "critical flag TRUE encoded as 0x01, not 0xFF",
          cert(exts=[seq(oid(BC), tlv(0x01, b"\x01"), octets(seq()))]))
    probe("b03_ku_padding_bits", "critical KeyUsage BIT STRING whose unused bits are not zero",
          cert(exts=[ext(KU, bits(b"\x87", unused=1), True)]))
    probe("b04_bc_bool_01", "critical BasicConstraints cA TRUE encoded as 0x01",
          cert(exts=[ext(BC, seq(tlv(0x01, b"\x01")), True)]))
    inner = base[4:] if base[1] == 0x82 else base[3:]
    probe("b05_indefinite_outer", "outer Certificate SEQUENCE with indefinite length (0x30 0x80 ... 00 00)",
          b"\x30\x80" + inner + b"\x00\x00")
    probe("b06_constructed_cn", "subject CN as a constructed UTF8String (BER)",
          cert(subject=name((CN, tlv(0x2C, utf8("pro") + utf8("be"))))))
    probe("b07_printable_bad_chars", "subject CN PrintableString holding '*' and '@'",
          cert(subject=name((CN, tlv(0x13, b"*.probe@example")))))
    probe("b08_ia5_in_cn_nonascii", "subject CN IA5String holding byte 0xE9", cert(subject=name((CN, tlv(0x16, b"caf\xe9")))))
    probe("b09_multi_valued_rdn", "subject RDN with two attributes (CN + O)",
          cert(subject=seq(set_(seq(oid(CN), utf8("a")), seq(oid("2.5.4.10"), utf8("b"))))))
    probe("b10_cn_too_long", "subject CN of 100 characters", cert(subject=cn("x" * 100)))
    probe("b11_country_3", "subject C of 3 characters", cert(subject=name(("2.5.4.6", tlv(0x13, b"USA")))))


def generate() -> dict:
    """{name: (what it probes, DER)} of every probe (built once per process)."""
    if not PROBES:
        build()
        ber_probes()
    return dict(PROBES)
