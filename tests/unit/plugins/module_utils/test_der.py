"""_der.summarize_certificate and _der.host_facts against cryptography, the judge: they may say "unsure" (None), never
something else.

endpoint_certificate stores certificates that _der fully understands without importing cryptography, and reports
their subject, issuer and validity from _der; a trust check of a certificate the store holds as presented reads its
validity and names (host_facts) from _der too. These tests hold it to cryptography's answers on real CA stores, on
certificates generated with every name and extension shape it claims to understand (and many it does not), and on
mutated DER (tests/unit/plugins/module_utils/test_properties.py): whenever _der answers, cryptography accepts the
same bytes and gives the same four facts.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import name as crypto_name
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.tests.support.pki import der, expired_cert, make_cert, not_valid_after, not_valid_before

UTC = datetime.timezone.utc
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "shared", "fixtures", "wso2")
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _host_facts_by_cryptography(cert) -> tuple:
    """What _der.host_facts() must give: validity, DNS names (None without the extension), IP addresses, last CN."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns, ips = sans.get_values_for_type(x509.DNSName), [ip.packed for ip in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = None, []
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return not_valid_before(cert), not_valid_after(cert), dns, ips, names[-1].value if names else None


def judged(data: bytes):
    """_der's summary, after checking it (and what a host name check reads, _der.host_facts) against cryptography.
    None when _der is unsure."""
    summary = _der.summarize_certificate(data)
    facts = _der.host_facts(data)
    assert (facts is None) == (summary is None), "host_facts and summarize_certificate answer the same certificates"
    if summary is not None:
        cert = certs.load_der_certificate(data)  # raises if cryptography refuses
        assert summary == (cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                           not_valid_before(cert), not_valid_after(cert))
        assert facts == _host_facts_by_cryptography(cert)
    return summary


def test_short_names_and_length_limits_are_cryptographys():
    # If a cryptography release changes how it writes names, this fails before any user sees two spellings.
    assert _der.NAME_SHORT_FORMS == {oid.dotted_string: short for oid, short in crypto_name._NAMEOID_TO_NAME.items()}  # pylint: disable=protected-access
    limits = getattr(crypto_name, "_NAMEOID_LENGTH_LIMIT", None)  # cryptography < 35 checks no lengths: _der defers anyway
    if limits is not None:
        assert _der._LENGTH_LIMITS == {oid.dotted_string: limits for oid, limits in limits.items()}  # pylint: disable=protected-access


def _bundle_ders(path: str) -> list:
    with open(path, encoding="ascii", errors="replace") as handle:
        text = handle.read()
    return [base64.b64decode(body) for body in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)]


@pytest.mark.skipif(not os.path.exists(SYSTEM_BUNDLE), reason=f"no system CA bundle at {SYSTEM_BUNDLE}")
def test_system_ca_bundle_agrees_with_cryptography():
    ders = _bundle_ders(SYSTEM_BUNDLE)
    answered = [d for d in ders if judged(d) is not None]
    assert len(answered) > len(ders) // 2  # most real roots are plain enough to be read without cryptography


def test_wso2_stock_truststore_agrees_with_cryptography():
    from ansible_collections.apim.certificates.plugins.module_utils._truststore import load_truststore  # pylint: disable=import-outside-toplevel

    path = os.path.join(SHARED, "apim-4.x-master", "all-in-one", "client-truststore.jks")
    if not os.path.exists(path):
        pytest.skip(f"WSO2 fixtures are not beside the project ({os.path.normpath(SHARED)} is absent)")
    store = load_truststore(path, "wso2carbon")
    answered = [e for e in store.entries.values() if judged(e.certificate) is not None]
    assert len(answered) > len(store.entries) // 2


def test_backend_certificates_take_the_fast_path():
    # What operators add: self-signed and private-CA certificates with the usual extensions, RSA and EC.
    ca, ca_key = make_cert("Private CA", ca=True)
    samples = [
        make_cert("orders.internal")[0],
        make_cert("pay.internal", key_kind="ec", sans=["pay.internal", "10.0.0.7", "::1"])[0],
        make_cert("leaf.internal", issuer=ca, issuer_key=ca_key)[0],
        ca,
        expired_cert()[0],
        make_cert("far.internal", not_after=datetime.datetime(2061, 1, 2, 3, 4, 5, tzinfo=UTC))[0],
    ]
    for cert in samples:
        summary = judged(der(cert))
        assert summary is not None, cert.subject
        assert summary[0] == cert.subject.rfc4514_string()


@pytest.mark.parametrize("value, written", [
    ("a,b+c", r"a\,b\+c"),
    ("#hash", r"\#hash"),
    (" lead", r"\ lead"),
    ("trail ", r"trail\ "),
    (" ", None),  # written differently by cryptography versions: _der defers
    ('q"<>;\\', r'q\"\<\>\;\\'),
    ("nul\x00", r"nul\00"),
    ("müller Ω", "müller Ω"),
])
def test_rfc4514_escaping(value, written):
    cert = _cert(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, value), x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
    summary = judged(der(cert))
    if written is None:
        assert summary is None
    else:
        assert summary[0] == f"CN=x,O={written}"


def test_outside_its_scope_it_defers_to_cryptography():
    multi = x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "a"),
                                                       x509.NameAttribute(NameOID.ORGANIZATION_NAME, "b")])])
    bmp = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bmp", _type=crypto_name._ASN1Type.BMPString)])  # pylint: disable=protected-access
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(
        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier("http://ca.test/ca.crt"))])
    policies = x509.CertificatePolicies([x509.PolicyInformation(ObjectIdentifier("2.23.140.1.2.1"), None)])
    for cert in (_cert(multi), _cert(bmp), _cert(extensions=[(aia, False)]), _cert(extensions=[(policies, False)])):
        assert _der.summarize_certificate(der(cert)) is None
        certs.read_certificates(der(cert))  # still read, through cryptography


def test_not_a_certificate_is_none():
    for data in (b"", b"\x30", b"\x30\x00", b"\x30\x81\x05hello", b"garbage", der(make_cert()[0]) + b"\x00"):
        assert _der.summarize_certificate(data) is None


# --- generated certificates -------------------------------------------------------------------------------------

KEYS = {
    "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "p256": ec.generate_private_key(ec.SECP256R1()),
    "p384": ec.generate_private_key(ec.SECP384R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
}


def _cert(subject=None, *, issuer=None, key="rsa", extensions=(), not_before=None, not_after=None, serial=None):
    subject = subject if subject is not None else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gen.test")])
    private = KEYS[key]
    not_before = not_before or datetime.datetime(2025, 1, 1, tzinfo=UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer if issuer is not None else subject)
               .public_key(private.public_key()).serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after or not_before + datetime.timedelta(days=400)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    algorithm = None if key == "ed25519" else hashes.SHA256()
    return builder.sign(private, algorithm)


SPECIAL = "\\\"+,;<># =\x00 \u00e9\u4e2d\U0001f600"
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(SPECIAL), min_size=1, max_size=20)
PRINTABLE_STRING = crypto_name._ASN1Type.PrintableString  # pylint: disable=protected-access
PRINTABLE = st.text(alphabet="ABCXYZabcxyz0189 '()+,-./:=?", min_size=1, max_size=12)
ATTRIBUTE = st.one_of(
    st.builds(lambda v: x509.NameAttribute(NameOID.COMMON_NAME, v), TEXT.filter(lambda v: len(v.encode()) <= 64)),
    st.builds(x509.NameAttribute,
              st.sampled_from([NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.LOCALITY_NAME,
                               NameOID.STATE_OR_PROVINCE_NAME, NameOID.STREET_ADDRESS, NameOID.USER_ID,
                               ObjectIdentifier("1.2.3.4.5.6")]), TEXT),
    st.builds(lambda v: x509.NameAttribute(NameOID.COUNTRY_NAME, v), st.text(alphabet="ABCDEFGZ", min_size=2, max_size=2)),
    st.builds(x509.NameAttribute, st.sampled_from([NameOID.DOMAIN_COMPONENT, NameOID.EMAIL_ADDRESS]),
              st.text(alphabet="abcxyz019.-@", min_size=1, max_size=15)),
    st.builds(lambda v: x509.NameAttribute(NameOID.SERIAL_NUMBER, v), PRINTABLE),
    st.builds(lambda v: x509.NameAttribute(NameOID.ORGANIZATION_NAME, v, _type=PRINTABLE_STRING), PRINTABLE),
)
NAME = st.lists(ATTRIBUTE, max_size=6).map(x509.Name)
DNS = st.text(alphabet="abcxyz019.-*", min_size=1, max_size=20)
GENERAL_NAME = st.one_of(
    st.builds(x509.DNSName, DNS),
    st.builds(lambda i: x509.IPAddress(ipaddress.ip_address(i)), st.integers(0, 2**32 - 1) | st.integers(2**32, 2**128 - 1)),
    st.builds(x509.RFC822Name, st.builds(lambda a, b: f"{a}@{b}", DNS, DNS)),
    st.builds(x509.UniformResourceIdentifier, st.builds(lambda a: f"https://{a}/x", DNS)),
)


def _extension(draw_key: str):
    public = KEYS[draw_key].public_key()
    return st.one_of(
        st.builds(lambda ca, length: x509.BasicConstraints(ca=ca, path_length=length if ca else None),
                  st.booleans(), st.none() | st.integers(0, 300)),
        st.builds(lambda bits: x509.KeyUsage(*bits[:4], bits[4], bits[5], bits[6], bits[4] and bits[7], bits[4] and bits[8]),
                  st.lists(st.booleans(), min_size=9, max_size=9)),
        st.builds(x509.ExtendedKeyUsage, st.lists(st.sampled_from([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH,
                                                                   ObjectIdentifier("1.3.6.1.4.1.99999.1")]), min_size=1, max_size=3, unique=True)),
        st.builds(x509.SubjectAlternativeName, st.lists(GENERAL_NAME, min_size=1, max_size=4)),
        st.just(x509.SubjectKeyIdentifier.from_public_key(public)),
        st.just(x509.AuthorityKeyIdentifier.from_issuer_public_key(public)),
        st.just(x509.CRLDistributionPoints([
            x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.test/a.crl")], None, None, None)])),
    )


@st.composite
def generated(draw):
    key = draw(st.sampled_from(sorted(KEYS)))
    extensions = draw(st.lists(st.tuples(_extension(key), st.booleans()), max_size=5,
                               unique_by=lambda item: type(item[0]).__name__))
    start = draw(st.datetimes(min_value=datetime.datetime(1951, 1, 1), max_value=datetime.datetime(2090, 1, 1))).replace(microsecond=0)
    days = draw(st.integers(1, 40000))
    subject = draw(NAME)
    issuer = draw(st.none() | NAME)
    try:
        return _cert(subject, issuer=issuer, key=key, extensions=extensions, not_before=start.replace(tzinfo=UTC),
                     not_after=start.replace(tzinfo=UTC) + datetime.timedelta(days=days))
    except ValueError:  # a combination cryptography will not build (e.g. an empty issuer with some keys)
        return None


@settings(max_examples=3000 if os.environ.get("APIM_LONG_TESTS") == "1" else 300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated())
def test_generated_certificates_agree_with_cryptography(cert):
    if cert is not None:
        judged(der(cert))


def test_plain_generated_certificates_are_answered():
    # The common shapes must be answered, or endpoint_certificate silently loses its fast path.
    public = KEYS["p384"].public_key()
    cert = _cert(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LK"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "WSO2"),
                            x509.NameAttribute(NameOID.COMMON_NAME, "gw.internal")]), key="p384", extensions=[
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(True, False, True, False, False, True, True, False, False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName([x509.DNSName("gw.internal"), x509.IPAddress(ipaddress.ip_address("10.1.2.3"))]), False),
        (x509.SubjectKeyIdentifier.from_public_key(public), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False),
    ])
    assert judged(der(cert)) == ("CN=gw.internal,O=WSO2,C=LK", "CN=gw.internal,O=WSO2,C=LK",
                                 datetime.datetime(2025, 1, 1, tzinfo=UTC), datetime.datetime(2026, 2, 5, tzinfo=UTC))
    for key in KEYS:
        assert judged(der(_cert(key=key))) is not None


def test_every_single_byte_change_is_read_as_cryptography_reads_it_or_deferred():
    # Exhaustive rather than sampled: each byte of two certificates (every extension _der reads, an RSA and an EC key)
    # flipped bit by bit, set to FF, deleted, or preceded by a zero byte. About 25,000 variants.
    public = KEYS["p256"].public_key()
    rich = _cert(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LK"), x509.NameAttribute(NameOID.COMMON_NAME, "m, #1")]),
                 key="p256", extensions=[
                     (x509.BasicConstraints(ca=True, path_length=1), True),
                     (x509.KeyUsage(True, False, False, False, True, True, True, True, True), True),
                     (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
                     (x509.SubjectAlternativeName([x509.DNSName("m.test"), x509.IPAddress(ipaddress.ip_address("::2"))]), False),
                     (x509.SubjectKeyIdentifier.from_public_key(public), False),
                     (x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False)])
    answered = 0
    for original in (der(rich), der(make_cert("plain.test")[0])):
        for index in range(len(original)):
            variants = [bytes([original[index] ^ (1 << bit)]) for bit in range(8)] + [b"\xff", b"", original[index:index + 1] + b"\x00"]
            for replacement in variants:
                answered += judged(original[:index] + replacement + original[index + 1:]) is not None
    assert answered > 5000  # mutations inside names, keys and signatures are still answered (and checked)
