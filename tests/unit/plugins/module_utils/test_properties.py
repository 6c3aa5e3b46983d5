"""Property-based tests (hypothesis) of the library's parsers, stores and deployment.toml edits.

- Random bytes (and mutations of real certificates, stores and files) given as a certificate, a truststore (with and
  without password, every store_type), a deployment.toml or an sslprofiles.xml never raise anything but the
  collection's own errors (ApimCertificatesError subclasses): a module turns those into a clean failure, anything
  else into a crash.
- Random certificate sets round-trip through every store type with identical aliases and fingerprints.
- Random valid deployment.toml documents edited by ssl_profile's library keep every key and comment the request does
  not own, byte for byte, and get exactly the requested values.

Each property runs a modest number of examples by default; its `_long` twin (marked slow, skipped unless
APIM_LONG_TESTS=1) runs many more. Known bugs are strict xfails with the failing input pinned by @example.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import string
import tempfile
import textwrap

import pytest
from cryptography import x509
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _der
from ansible_collections.apim.certificates.plugins.module_utils import _desired
from ansible_collections.apim.certificates.plugins.module_utils import _gateway as gw
from ansible_collections.apim.certificates.plugins.module_utils import _info
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profiles as sp
from ansible_collections.apim.certificates.plugins.module_utils import _sslprofiles_xml as sslprofiles_xml
from ansible_collections.apim.certificates.plugins.module_utils import _wso2_config as wso2_config
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError, TruststoreError
from ansible_collections.apim.certificates.plugins.module_utils._facts import certificate_facts
from ansible_collections.apim.certificates.tests.support.pki import cryptography_has, der, make_cert, not_valid_after, not_valid_before, pem

try:
    import tomllib  # an independent TOML reader to judge the library's output
except ImportError:  # pragma: no cover - Python < 3.11
    tomllib = None

LONG = os.environ.get("APIM_LONG_TESTS") == "1"
EXAMPLES, LONG_EXAMPLES = 60, 2000


def _settings(examples: int, shrink: bool = True):
    phases = list(Phase) if shrink else [Phase.explicit, Phase.generate]
    return settings(max_examples=examples, deadline=None, database=None, print_blob=True, phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


def twins(*strategies, examples=EXAMPLES, pinned=(), xfail: str | None = None):
    """A property as two tests: the default one and its long variant (slow; skipped unless APIM_LONG_TESTS=1).

    xfail: a known bug, shown by a pinned example; the property then runs without shrinking (a strict xfail needs no
    minimal example) and has no long variant (None).
    """

    def build(body):
        def make(count):
            test = given(*strategies)(body)
            for args in pinned:
                test = example(*args)(test)
            test = _settings(count, shrink=not xfail)(test)
            if xfail:
                test = pytest.mark.xfail(strict=True, reason=xfail)(test)
            return test

        if xfail:
            return make(examples), None
        slow = pytest.mark.slow(pytest.mark.skipif(not LONG, reason="long variant: run with APIM_LONG_TESTS=1 (make reliability-long)")(
            make(LONG_EXAMPLES)))
        return make(examples), slow

    return build


def toml_loads(text: str) -> dict:
    if tomllib is not None:
        return tomllib.loads(text)
    import tomlkit  # pylint: disable=import-outside-toplevel

    return tomlkit.parse(text).unwrap()


@pytest.fixture(scope="module")
def scratch():
    folder = tempfile.mkdtemp(prefix="apim-properties-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _our_errors_only(call):
    """Run call; return its value, or None when it raised one of the collection's own errors."""
    try:
        return call()
    except ApimCertificatesError:
        return None


# === inputs ===================================================================================================

CA, CA_KEY = make_cert("Properties CA", ca=True)
POOL = [make_cert(f"pool{i}.test", key_kind="ec" if i % 2 else "rsa")[0] for i in range(6)]
POOL += [make_cert("leaf.pool.test", issuer=CA, issuer_key=CA_KEY)[0], CA]
SAMPLE_DERS = [der(c) for c in POOL[:3]] + [der(CA)]


def _extension_rich_ders() -> list:
    """Certificates carrying every extension _der reads, so that mutations reach each of its checks."""
    import datetime  # pylint: disable=import-outside-toplevel
    import ipaddress  # pylint: disable=import-outside-toplevel

    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # pylint: disable=import-outside-toplevel

    _cert, key = make_cert("rich.pool.test", key_kind="ec")
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LK"), x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "pool"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rich, Inc. <#1>"), x509.NameAttribute(NameOID.COMMON_NAME, "rich")])
    start = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
    built = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
             .serial_number(4242).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
             .add_extension(x509.BasicConstraints(ca=True, path_length=2), critical=True)
             .add_extension(x509.KeyUsage(True, False, False, False, True, True, True, True, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
             .add_extension(x509.SubjectAlternativeName([x509.DNSName("rich.pool.test"), x509.RFC822Name("a@b.test"),
                                                         x509.UniformResourceIdentifier("https://rich.test/"),
                                                         x509.IPAddress(ipaddress.ip_address("10.9.8.7"))]), critical=False)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
             .sign(key, hashes.SHA384()))
    return [der(built)]


EXTENSION_DERS = _extension_rich_ders()
PASSWORD = "Pr0perty-pw"


def _store_bytes(store_type: str) -> bytes:
    folder = tempfile.mkdtemp()
    try:
        path = os.path.join(folder, "s")
        ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate(f"a{i}", "present", c) for i, c in enumerate(POOL[:3])],
                               store_type=store_type, create=True)
        with open(path, "rb") as handle:
            return handle.read()
    finally:
        shutil.rmtree(folder)


def _key_entry_jks() -> bytes:
    import jks  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat  # pylint: disable=import-outside-toplevel

    cert, key = make_cert("key.pool.test")
    entry = jks.PrivateKeyEntry.new("key", [der(cert)], key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()), "pkcs8")
    return jks.KeyStore.new("jks", [entry, jks.TrustedCertEntry.new("trusted", der(POOL[0]))]).saves(PASSWORD)


WRITABLE_TYPES = ["JKS", "JCEKS"] + (["PKCS12"] if cryptography_has("pkcs12_write") else [])
SAMPLE_STORES = {t: _store_bytes(t) for t in WRITABLE_TYPES}
try:
    SAMPLE_STORES["JKS-with-key"] = _key_entry_jks()
except ImportError:  # pyjks makes this sample; the library floor run has no pyjks (the collection does not need it)
    pass


def pem_of(label: str, data: bytes) -> str:
    return f"-----BEGIN {label}-----\n" + "\n".join(textwrap.wrap(base64.b64encode(data).decode(), 64)) + f"\n-----END {label}-----\n"


def malformed_subject_der() -> bytes:
    """An intact DER certificate whose subject and issuer CN are not UTF-8: cryptography loads it and fails later."""
    cert, _key = make_cert("zzzzzz.malformed.test")
    data = bytearray(der(cert))
    for index in [m.start() for m in re.finditer(b"zzzzzz", bytes(data))]:
        data[index] = 0xFF
    return bytes(data)


MUTATION = st.tuples(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]),
                     st.integers(min_value=0, max_value=1 << 20), st.binary(min_size=1, max_size=8))


def mutate(data: bytes, operations) -> bytes:
    out = bytearray(data)
    for kind, position, chunk in operations:
        if not out:
            break
        at = position % len(out)
        if kind == "flip":
            out[at] ^= chunk[0] or 1
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = chunk
        elif kind == "delete":
            del out[at:at + len(chunk)]
        else:
            out[at:at + len(chunk)] = chunk
    return bytes(out)


def mutated(samples) -> st.SearchStrategy:
    return st.builds(mutate, st.sampled_from(samples), st.lists(MUTATION, min_size=1, max_size=4))


PEM_LABELS = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE", "PKCS7", "CMS", "CERTIFICATE REQUEST",
              "PRIVATE KEY", "RSA PRIVATE KEY", "PUBLIC KEY", "X"]
CERT_INPUTS = st.one_of(
    st.binary(max_size=1500),
    st.text(max_size=300),
    st.binary(max_size=600).map(lambda b: b"\x30" + b),
    mutated(SAMPLE_DERS),
    mutated(SAMPLE_DERS).map(lambda d: pem_of("CERTIFICATE", d)),
    mutated([pem(c).encode() for c in POOL[:2]] + [(pem(POOL[6]) + pem(CA)).encode()]),
    st.builds(lambda label, body, end: f"-----BEGIN {label}-----\n{body}\n-----END {end}-----\n",
              st.sampled_from(PEM_LABELS), st.text(alphabet=string.ascii_letters + string.digits + "+/=\n \t", max_size=200),
              st.sampled_from(PEM_LABELS)),
)


# === certificates ===============================================================================================


def _parse_certificates_raises_only_our_errors(data):
    found = _our_errors_only(lambda: certs.parse_certificates(data, "the input"))
    if found is not None:
        assert found and all(isinstance(c, x509.Certificate) for c in found)


test_parse_certificates_raises_only_our_errors, test_parse_certificates_raises_only_our_errors_long = \
    twins(CERT_INPUTS)(_parse_certificates_raises_only_our_errors)


def _read_certificates_agrees_with_parse_certificates(data):
    """read_certificates (endpoint_certificate's reader, cryptography-free where _der can) accepts and refuses what
    parse_certificates (cryptography, where Java accepts too) does, with the same message, and describes what it
    accepts identically; beyond that it only accepts certificates Java accepts and cryptography cannot read."""
    outcomes = []
    for reader in (certs.parse_certificates, certs.read_certificates):
        try:
            found = reader(data, "the input")
        except ApimCertificatesError as exc:
            outcomes.append(("refused", str(exc)))
        else:
            outcomes.append(("read", [(i.der, i.subject, i.issuer, i.not_before, i.not_after) for i in map(certs.certificate_info, found)]))
    if outcomes[0][0] == "refused" and outcomes[1][0] == "read":
        for der, *_facts in outcomes[1][1]:
            assert certs.java_refusal(der) is None
            with pytest.raises(ValueError):
                certs.load_der_certificate(der)
        return
    assert outcomes[0] == outcomes[1]


test_read_certificates_agrees_with_parse_certificates, test_read_certificates_agrees_with_parse_certificates_long = \
    twins(CERT_INPUTS)(_read_certificates_agrees_with_parse_certificates)


def _der_reader_never_contradicts_cryptography(data):
    summary = _der.summarize_certificate(data)
    if summary is not None:
        cert = certs.load_der_certificate(data)  # must not refuse what _der read
        assert summary == (cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), not_valid_before(cert), not_valid_after(cert))


test_der_reader_never_contradicts_cryptography, test_der_reader_never_contradicts_cryptography_long = \
    twins(mutated(SAMPLE_DERS + EXTENSION_DERS), examples=400)(_der_reader_never_contradicts_cryptography)


def _accepted_certificates_can_be_described(data):
    found = _our_errors_only(lambda: certs.parse_certificates(data, "the input")) or []
    for cert in found:
        _our_errors_only(lambda cert=cert: certificate_facts(cert))  # what the modules report and plan with


test_accepted_certificates_can_be_described, _no_long_variant = twins(
    CERT_INPUTS, pinned=[(malformed_subject_der(),)])(_accepted_certificates_can_be_described)


# === truststores ================================================================================================


def _rehash(data: bytes, password: str) -> bytes:
    """A mutated JKS/JCEKS body with a correct integrity hash, so the parser is exercised past the password check."""
    if len(data) < 32 or data[:4] not in (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce"):
        return data
    body = data[:-20]
    return body + hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()


STORE_INPUTS = st.one_of(
    st.binary(max_size=1500),
    st.binary(max_size=400).map(lambda b: b"\xfe\xed\xfe\xed" + b),
    st.binary(max_size=400).map(lambda b: b"\xce\xce\xce\xce\x00\x00\x00\x02" + b),
    st.binary(max_size=400).map(lambda b: b"\x30\x82" + b),
    mutated(list(SAMPLE_STORES.values())),
    mutated([SAMPLE_STORES[k] for k in ("JKS", "JCEKS", "JKS-with-key") if k in SAMPLE_STORES]).map(lambda d: _rehash(d, PASSWORD)),
)
# No NUL in generated passwords: see test_a_pkcs12_password_with_a_nul_is_our_error (a known bug).
PASSWORD_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
PASSWORDS = st.one_of(st.none(), st.just(PASSWORD), PASSWORD_TEXT)
STORE_TYPES = st.sampled_from(["auto", "JKS", "JCEKS", "PKCS12"])


def _parse_truststore_raises_only_our_errors(data, password, store_type):
    store = _our_errors_only(lambda: ts.parse_truststore(data, password, store_type, "/x/store"))
    if store is not None:
        assert store.store_type in ts.STORE_TYPES
        assert all(isinstance(alias, str) and entry.alias == alias for alias, entry in store.entries.items())


test_parse_truststore_raises_only_our_errors, test_parse_truststore_raises_only_our_errors_long = \
    twins(STORE_INPUTS, PASSWORDS, STORE_TYPES)(_parse_truststore_raises_only_our_errors)


def _parsed_stores_can_be_extended_and_written(data, store_type):
    """What endpoint_certificate does with a store it could open: plan an addition, serialize, read it back."""
    store = _our_errors_only(lambda: ts.parse_truststore(data, PASSWORD, store_type, "/x/store"))
    if store is None:
        return
    plan = _our_errors_only(lambda: ts.plan_changes(store, [ts.DesiredCertificate("added-one", "present", POOL[5])]))
    if plan is None:
        return
    written = _our_errors_only(lambda: ts.serialize_truststore(ts.apply_plan(store, plan), PASSWORD))
    if written is None:
        return
    again = ts.parse_truststore(written, PASSWORD, store.store_type)
    assert again.fingerprints() == {**store.fingerprints(), "added-one": certs.sha256_fingerprint(der(POOL[5]))}


test_parsed_stores_can_be_extended_and_written, test_parsed_stores_can_be_extended_and_written_long = \
    twins(STORE_INPUTS, STORE_TYPES)(_parsed_stores_can_be_extended_and_written)


def _store_with(der_bytes: bytes) -> bytes:
    store = ts.parse_truststore(SAMPLE_STORES["JKS"], PASSWORD)
    store.entries["odd"] = ts.TruststoreEntry("odd", ts.TRUSTED_CERT, der_bytes, 0)
    return ts.serialize_truststore(store, PASSWORD)


def _opened_stores_can_be_reported(data, password):
    """What truststore_info does with a store it could open."""
    store = _our_errors_only(lambda: ts.parse_truststore(data, password, "auto", "/x/store"))
    if store is not None:
        _our_errors_only(lambda: _info.store_report(store, content=True))


test_opened_stores_can_be_reported, _no_long_variant = twins(
    STORE_INPUTS, st.sampled_from([None, PASSWORD]), pinned=[(_store_with(malformed_subject_der()), PASSWORD)]
)(_opened_stores_can_be_reported)


# --- round trip ---

ALIASES = st.text(min_size=1, max_size=24).filter(lambda a: _our_errors_only(lambda: _desired.validate_alias(a, strict=False)) is not None)


@st.composite
def certificate_sets(draw):
    chosen = draw(st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=len(POOL), unique=True))
    wanted = {}
    for index in chosen:
        alias = ts.normalize_alias(draw(ALIASES))
        wanted.setdefault(alias, POOL[index])
    return wanted


def _certificate_sets_round_trip(scratch, wanted, store_type, password):
    if store_type == "PKCS12":  # see test_pkcs12_keeps_an_alias_outside_the_bmp (a known bug)
        assume(all(ord(ch) <= 0xFFFF for alias in wanted for ch in alias))
    path = os.path.join(scratch, f"round-trip.{store_type.lower()}")
    if os.path.exists(path):
        os.unlink(path)
    desired = [ts.DesiredCertificate(alias, "present", cert) for alias, cert in wanted.items()]
    if store_type == "PKCS12" and any(not 0x20 <= ord(ch) < 0x7F for ch in password):
        # JDK 17 cannot open such a store (PBEKey: "Password is not ASCII"): refused, nothing written
        with pytest.raises(TruststoreError, match="JDK 17 cannot open a PKCS12 store whose password"):
            ts.converge_truststore(path, password, desired, store_type=store_type, create=True)
        assert not os.path.exists(path)
        return
    result = ts.converge_truststore(path, password, desired, store_type=store_type, create=True)
    assert result.changed and result.created
    expected = {alias: certs.sha256_fingerprint(der(cert)) for alias, cert in wanted.items()}
    for declared in ("auto", store_type):
        loaded = ts.load_truststore(path, password, declared)
        assert loaded.store_type == store_type
        assert loaded.fingerprints() == expected
    stat_before = os.stat(path)
    assert not ts.converge_truststore(path, password, desired, store_type=store_type).changed
    assert os.stat(path).st_ino == stat_before.st_ino, "an unchanged store was rewritten"


test_certificate_sets_round_trip_through_every_store_type, test_certificate_sets_round_trip_through_every_store_type_long = \
    twins(certificate_sets(), st.sampled_from(WRITABLE_TYPES),
          st.one_of(PASSWORD_TEXT, st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)),
          examples=40)(_certificate_sets_round_trip)


def test_a_pkcs12_password_with_a_nul_is_our_error():
    with pytest.raises(ApimCertificatesError):
        ts.parse_truststore(SAMPLE_STORES["PKCS12"], "Pr0perty\x00-pw", "auto", "/x/store.p12")


def test_pkcs12_refuses_an_alias_outside_the_bmp(scratch):
    """cryptography cannot read such a friendly name back (it would come back unnamed and be added on every run):
    the write is refused with a clear message instead, and nothing is created. JKS and JCEKS keep such aliases."""
    path = os.path.join(scratch, "emoji.p12")
    desired = [ts.DesiredCertificate("backend-\U0001F680", "present", POOL[0])]
    with pytest.raises(ts.TruststoreError, match="outside the Basic Multilingual Plane"):
        ts.converge_truststore(path, PASSWORD, desired, store_type="PKCS12", create=True)
    assert not os.path.exists(path)


# === deployment.toml and sslprofiles.xml loaders =================================================================

TOML_FRAGMENTS = ["[", "]", "[[", "]]", "\n", "\r\n", " ", "=", " = ", "#", '"', "'", '"""', "'''", ",", "{", "}", ".",
                  "truststore", "keystore", "tls", "password", "ssl_profile", "custom", "servers", "interval",
                  "transport.passthru_https.sender.ssl_profile", "keystore.ssl_profile.custom", "1", "600000", "true",
                  '"x"', "'y'", "\\", "\\u00e9", "1979-05-27T07:32:00Z", "\t", "é", "\x00", "\x7f"]
TOML_TEXT = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(TOML_FRAGMENTS), max_size=60).map("".join),
                      st.binary(max_size=300))


def _write(scratch, name, data) -> str:
    path = os.path.join(scratch, name)
    with open(path, "wb") as handle:
        handle.write(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def _toml_loaders_raise_only_our_errors(scratch, data):
    home = os.path.join(scratch, "home")
    conf = os.path.join(home, "repository", "conf")
    os.makedirs(conf, exist_ok=True)
    path = _write(conf, "deployment.toml", data)
    _our_errors_only(lambda: wso2_config.load_toml(path))
    _our_errors_only(lambda: gw.resolve_gateway(home))  # then the (missing) sslprofiles.xml: our error too
    request = sp.Request.from_params({"path": path, "interval": 120000, "validate_stores": False})
    current = _our_errors_only(lambda: sp.Current.load_toml(request))
    if current is not None:
        _our_errors_only(lambda: sp.plan_changes(current, request))


test_toml_loaders_raise_only_our_errors, test_toml_loaders_raise_only_our_errors_long = \
    twins(TOML_TEXT)(_toml_loaders_raise_only_our_errors)

XML_NAMES = ["parameter", "profile", "servers", "KeyStore", "TrustStore", "Location", "Type", "Password", "KeyPassword", "x"]


@st.composite
def xml_documents(draw, depth=0):
    name = draw(st.sampled_from(XML_NAMES))
    attributes = draw(st.sampled_from(["", ' name="customSSLProfiles"', ' novalidatecert="true"',
                                       ' xmlns:svns="http://org.wso2.securevault/configuration" svns:secretAlias="a"']))
    text = draw(st.text(alphabet=string.printable + "é&<>", max_size=20).map(lambda t: t.replace("<", "&lt;").replace("&", "&amp;")))
    children = draw(st.lists(xml_documents(depth + 1), max_size=3)) if depth < 3 else []
    return f"<{name}{attributes}>{text}{''.join(children)}</{name}>"


XML_TEXT = st.one_of(
    st.binary(max_size=300),
    xml_documents(),
    xml_documents().map(lambda x: '<?xml version="1.0" encoding="ISO-8859-1"?>\n' + x),
    st.tuples(xml_documents(), st.integers(min_value=0, max_value=200)).map(lambda p: p[0][: p[1]]),
    st.sampled_from(["<!DOCTYPE x [<!ENTITY a 'b'>]><parameter>&a;</parameter>",
                     '<parameter><profile><servers>*</servers><TrustStore><Location/></TrustStore></profile></parameter>']),
)


def _sslprofiles_loaders_raise_only_our_errors(scratch, data):
    path = _write(scratch, "sslprofiles.xml", data)
    profiles = _our_errors_only(lambda: gw.live_profiles(path, "/opt/wso2am"))
    assert profiles is None or all(p.servers for p in profiles)
    _our_errors_only(lambda: sslprofiles_xml.read_sslprofiles(path))


test_sslprofiles_loaders_raise_only_our_errors, test_sslprofiles_loaders_raise_only_our_errors_long = \
    twins(XML_TEXT)(_sslprofiles_loaders_raise_only_our_errors)

BUG_XML_ENCODING = ("BUG: plugins/module_utils/_sslprofiles_xml.py read_sslprofiles (then two readers) catch "
                    "ET.ParseError only; an XML declaration naming an unknown encoding makes ElementTree raise LookupError")


@pytest.mark.parametrize("encoding", ["ISO-885-1", "UTF-9"])
def test_sslprofiles_with_an_unknown_encoding_raise_only_our_errors(scratch, encoding):
    _sslprofiles_loaders_raise_only_our_errors(scratch, f'<?xml version="1.0" encoding="{encoding}"?>\n<parameter/>')


# === ssl_profile's edits of valid deployment.toml documents ======================================================
#
# A document is a list of units (a unit: the text of one statement or header, line ending included), each tagged:
#   ("free",)            not owned by the request: must come out byte for byte, in order
#   ("kv", path)         a key/value whose full path is path: exempt when the request sets that path
#   ("entry", index)     part of [[keystore.ssl_profile.custom]] entry index: exempt when the request changes it
# Every comment carries a unique marker (c<N>), so where comments end up can be checked.

BARE_KEYS = ["name", "enabled", "port", "url", "user", "pool-size", "timeout_ms", "x1", "list", "nested", "alias",
             "hostname", "node_ip", "mode"]
QUOTED_KEYS = ['"quoted key"', "'literal.key'", '"ünï"']
STRING_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)


def basic_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


TRICKY_LINES = ["[truststore]", 'password = "fake"', "[[keystore.ssl_profile.custom]]", "# not a comment", "key = 'v'", ""]


@st.composite
def values(draw, depth=0):
    kind = draw(st.sampled_from(["int", "bool", "float", "basic", "literal", "ml-basic", "ml-literal", "date", "array",
                                 "inline"] if depth == 0 else ["int", "basic", "literal", "bool"]))
    if kind == "int":
        return str(draw(st.integers(min_value=-10**12, max_value=10**12)))
    if kind == "bool":
        return draw(st.sampled_from(["true", "false"]))
    if kind == "float":
        return draw(st.sampled_from(["3.14", "-0.5e3", "1_000.5", "inf", "-inf"]))  # nan: see test_a_nan_value_...
    if kind == "basic":
        return basic_string(draw(STRING_TEXT))
    if kind == "literal":
        return "'" + draw(st.text(alphabet=string.ascii_letters + " .,:;[]#=\"\\", max_size=12)) + "'"
    if kind == "ml-basic":
        lines = draw(st.lists(st.sampled_from(TRICKY_LINES), min_size=1, max_size=3))
        return '"""\n' + "\n".join(lines).replace("\\", "\\\\").replace('"', '\\"') + '"""'
    if kind == "ml-literal":
        return "'''\n" + "\n".join(draw(st.lists(st.sampled_from(TRICKY_LINES), min_size=1, max_size=3))) + "'''"
    if kind == "date":
        return draw(st.sampled_from(["1979-05-27T07:32:00Z", "1979-05-27", "07:32:00", "1979-05-27T00:32:00.999999-07:00"]))
    if kind == "array":
        items = draw(st.lists(values(depth + 1), max_size=3))
        if draw(st.booleans()):
            return "[" + ", ".join(items) + "]"
        return "[\n" + "".join(f"    {item},  # {draw(markers)}\n" for item in items) + "]"
    keys = draw(st.lists(st.sampled_from(BARE_KEYS), max_size=3, unique=True))
    return "{ " + ", ".join(f"{k} = {draw(values(depth + 1))}" for k in keys) + " }"


class _Marker:
    """Unique comment markers within one generated document."""

    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        return f"c{self.count}"


markers = st.shared(st.builds(_Marker), key="markers").map(lambda m: m())


@st.composite
def comment(draw):
    return f"{draw(st.sampled_from(['', '  ', chr(9)]))}# {draw(markers)} {draw(st.text(alphabet=string.printable.strip(), max_size=15))}"


@st.composite
def kv_line(draw, key: str, value: str):
    separator = draw(st.sampled_from([" = ", "=", "  =  ", " =\t"]))
    indent = draw(st.sampled_from(["", "", "  ", "\t"]))
    trailing = f"  # {draw(markers)}" if draw(st.booleans()) else ""
    return f"{indent}{key}{separator}{value}{trailing}"


@st.composite
def free_section(draw, header: str):
    units = [(header, ("free",))]
    for key in draw(st.lists(st.sampled_from(BARE_KEYS + QUOTED_KEYS), max_size=4, unique=True)):
        units.append((draw(kv_line(key, draw(values()))), ("free",)))
        if draw(st.integers(0, 3)) == 0:
            units.append((draw(comment()), ("free",)))
    return units


STORE_FIELD_VALUES = {"file_name": st.sampled_from(["client-truststore.jks", "wso2carbon.jks", "t.p12"]),
                      "type": st.sampled_from(["JKS", "jks", "PKCS12", "JCEKS"]),
                      "password": STRING_TEXT, "key_password": STRING_TEXT, "location": STRING_TEXT}


def _string_value(draw, field):
    text = draw(STORE_FIELD_VALUES[field])
    if draw(st.booleans()) and "'" not in text and not re.search(r"[\x00-\x1f\x7f]", text):
        return f"'{text}'"
    return basic_string(text)


@st.composite
def owned_store_section(draw, table: tuple, fields: tuple):
    """[truststore] / [keystore.tls] as a table, or as dotted keys at the root (returned with where='root')."""
    chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True))
    extra = draw(st.lists(st.sampled_from(["alias", "name", "enabled"]), max_size=2, unique=True))
    form = draw(st.sampled_from(["table", "table", "root-dotted"]))
    units = []
    if form == "table":
        units.append((f"[{'.'.join(table)}]", ("free",)))
        prefix = ""
    else:
        prefix = ".".join(table) + "."
    for field in chosen:
        units.append((draw(kv_line(prefix + field, _string_value(draw, field))), ("kv", table + (field,))))
        if draw(st.integers(0, 3)) == 0:
            units.append((draw(comment()), ("free",)))
    for key in extra:
        units.append((draw(kv_line(prefix + key, draw(values()))), ("free",)))
    return form, units


@st.composite
def interval_section(draw):
    value = draw(st.integers(min_value=1, max_value=10**9))
    rendered = str(value) if draw(st.booleans()) else f'"{value}"'
    form = draw(st.sampled_from(["table", "parent-dotted", "absent"]))
    path = ("transport", "passthru_https", "sender", "ssl_profile", "interval")
    if form == "absent":
        return []
    if form == "table":
        return [("[transport.passthru_https.sender.ssl_profile]", ("free",)), (draw(kv_line("interval", rendered)), ("kv", path))]
    return [("[transport.passthru_https.sender]", ("free",)), (draw(kv_line("ssl_profile.interval", rendered)), ("kv", path)),
            (draw(kv_line("parameters.HostnameVerifier", '"AllowAll"')), ("free",))]


@st.composite
def custom_entry(draw, index: int):
    tag = ("entry", index)
    units = [("[[keystore.ssl_profile.custom]]", tag), (f'servers = "h{index}.internal:443"', tag)]
    subtables = draw(st.booleans())
    for store, fields in (("truststore", ("location", "type", "password")), ("keystore", ("location", "type", "password", "key_password"))):
        chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True))
        if subtables and chosen:
            continue
        for field in chosen:
            units.append((draw(kv_line(f"{store}.{field}", _string_value(draw, field))), tag))
            if draw(st.integers(0, 4)) == 0:
                units.append((draw(comment()), tag))
    if subtables:
        for store in ("truststore", "keystore"):
            units.append((f"[keystore.ssl_profile.custom.{store}]", tag))
            for field in draw(st.lists(st.sampled_from(("location", "type", "password")), min_size=1, max_size=3, unique=True)):
                units.append((draw(kv_line(field, _string_value(draw, field))), tag))
    return units


@st.composite
def toml_documents(draw):
    """(text, units, number of custom entries): a valid deployment.toml-like document and how it was built."""
    sections = []
    root = [(draw(kv_line(k, draw(values()))), ("free",)) for k in draw(st.lists(st.sampled_from(BARE_KEYS), max_size=2, unique=True))]
    for store_table, fields in ((("truststore",), ("file_name", "type", "password")),
                                (("keystore", "tls"), ("file_name", "type", "password", "key_password"))):
        if draw(st.booleans()):
            form, units = draw(owned_store_section(store_table, fields))
            (root.extend(units) if form == "root-dotted" else sections.append(units))
    sections.append(draw(interval_section()))
    for header in draw(st.lists(st.sampled_from(["[server]", "[apim.cors]", "[database.apim_db]", "[keystore]",
                                                 "[keystore.primary]", "[transport.https.properties]"]), max_size=3, unique=True)):
        sections.append(draw(free_section(header)))
    for _index in range(draw(st.integers(0, 2))):
        sections.append(draw(free_section("[[apim.gateway.environment]]")))
    entries = draw(st.integers(0, 3))
    sections += [draw(custom_entry(i)) for i in range(entries)]
    order = draw(st.permutations(range(len(sections))))
    units = list(root)
    if units and draw(st.booleans()):
        units.insert(0, (draw(comment()), ("free",)))
    for position in order:
        if draw(st.booleans()):
            units.append(("", ("free",)))
        if draw(st.integers(0, 3)) == 0:
            units.append((draw(comment()), ("free",)))
        units.extend(sections[position])
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    final = draw(st.sampled_from([newline, newline, ""]))
    units = [(text + newline, tag) for text, tag in units]
    if units:
        units[-1] = (units[-1][0][: -len(newline)] + final, units[-1][1])
    text = "".join(u for u, _tag in units)
    try:
        toml_loads(text)
    except Exception:  # noqa: BLE001 - a rare invalid combination: let hypothesis draw another one
        assume(False)
    return text, units, entries


@st.composite
def requests(draw, entries: int):
    params = {"validate_stores": False, "live": False}
    if draw(st.booleans()):
        params["interval"] = draw(st.integers(min_value=60000, max_value=10**9))
    for option, fields in (("truststore", ("file_name", "type", "password")), ("keystore", ("file_name", "type", "password", "key_password"))):
        chosen = draw(st.lists(st.sampled_from(fields), max_size=2, unique=True))
        if chosen:
            params[option] = {f: draw(STORE_FIELD_VALUES[f].filter(lambda v: v.strip())) for f in chosen}
    customs = []
    for index in draw(st.lists(st.integers(0, max(entries - 1, 0)), max_size=entries, unique=True)) if entries else []:
        if draw(st.booleans()):
            customs.append({"servers": f"h{index}.internal:443", "state": "absent"})
        else:
            customs.append({"servers": f"h{index}.internal:443", "truststore": {"password": draw(STRING_TEXT)}})
    for number in range(draw(st.integers(0, 2))):
        customs.append({"servers": f"new{number}.internal:{8000 + number}",
                        "keystore": {"location": "/k.p12", "type": "PKCS12", "password": draw(STRING_TEXT)},
                        "truststore": {"location": draw(STRING_TEXT.filter(lambda v: v.strip())), "password": draw(STRING_TEXT)}})
    if customs:
        params["custom_profiles"] = customs
        params["exclusive"] = draw(st.integers(0, 4)) == 0
    return params


@st.composite
def edits(draw):
    text, units, entries = draw(toml_documents())
    return text, units, entries, draw(requests(entries))


WSO2_DEFAULTS = {
    ("truststore", "file_name"): "client-truststore.jks", ("truststore", "type"): "JKS", ("truststore", "password"): "wso2carbon",
    ("keystore", "tls", "file_name"): "wso2carbon.jks", ("keystore", "tls", "type"): "JKS",
    ("keystore", "tls", "password"): "wso2carbon", ("keystore", "tls", "key_password"): "wso2carbon",
}
# Refusals that are legitimate for a valid file (the module fails cleanly and writes nothing); any other error is a bug.
ALLOWED_REFUSALS = re.compile(r"is written as an inline value|tomlkit cannot reproduce this file|must not be empty")


def _prune(value):
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _pop(document: dict, path: tuple) -> None:
    node = document
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _get(document: dict, path: tuple, default=None):
    node = document
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _expected_customs(old: list, params: dict) -> list:
    out = [json.loads(json.dumps(entry, default=str)) for entry in old]
    listed = set()
    for item in params.get("custom_profiles", []):
        listed.add(item["servers"])
        match = [e for e in out if e["servers"] == item["servers"]]
        if item.get("state") == "absent":
            out = [e for e in out if e["servers"] != item["servers"]]
        elif match:
            match[0].setdefault("truststore", {})["password"] = item["truststore"]["password"]
        else:
            keystore = dict(item["keystore"])
            keystore.setdefault("key_password", keystore["password"])
            out.append({"servers": item["servers"], "keystore": keystore,
                        "truststore": {"type": "JKS", **item["truststore"]}})
    if params.get("exclusive"):
        out = [e for e in out if e["servers"] in listed]
    return out


def _ssl_profile_edits_keep_what_they_do_not_own(scratch, edit):
    text, units, _entries, params = edit
    path = _write(scratch, "deployment.toml", text)
    params = dict(params, path=path)
    try:
        request = sp.Request.from_params(params)
        plan = sp.plan_changes(sp.Current.load_toml(request), request)
    except ApimCertificatesError as exc:
        if "is not valid TOML" in str(exc):
            # tomlkit (the dependency) rejects a few layouts TOML allows, e.g. [keystore] after [keystore.tls] and
            # [[keystore.ssl_profile.custom]]: a clean refusal, nothing written. Only tomlkit may be the reason.
            with pytest.raises(Exception):  # noqa: B017 - whatever tomlkit raises
                __import__("tomlkit").parse(text)
            return
        assert ALLOWED_REFUSALS.search(str(exc)), f"ssl_profile refused a valid deployment.toml: {exc}"
        return
    new_text = plan.new_text
    old, new = toml_loads(text), toml_loads(new_text)  # the result is valid TOML for an independent reader

    # 1. the requested values, and nothing else, changed
    # (compared as WSO2 reads them: asking for the value an absent key has by default writes nothing)
    owned = []
    if "interval" in params:
        path_ = ("transport", "passthru_https", "sender", "ssl_profile", "interval")
        owned.append(path_)
        assert int(str(_get(new, path_, 600000))) == params["interval"]
    for option, table in (("truststore", ("truststore",)), ("keystore", ("keystore", "tls"))):
        for field, value in params.get(option, {}).items():
            owned.append(table + (field,))
            written = _get(new, table + (field,), WSO2_DEFAULTS[table + (field,)])
            assert (str(written).upper() == value.upper()) if field == "type" else (written == value)
    custom = ("keystore", "ssl_profile", "custom")
    expected_customs = _expected_customs(_get(old, custom, []), params)
    got_customs = _get(new, custom, [])
    for entry in expected_customs + got_customs:
        for store in ("truststore", "keystore"):
            if isinstance(entry.get(store), dict) and "type" in entry[store]:
                entry[store]["type"] = str(entry[store]["type"]).upper()
    assert got_customs == expected_customs
    for path_ in owned + [custom]:
        _pop(old, path_)
        _pop(new, path_)
    assert _prune(new) == _prune(old), "a key the request does not own changed"

    # 2. every unit the request does not own is still there, byte for byte, in order
    changed_entries = set()
    for item in params.get("custom_profiles", []):
        match = re.fullmatch(r"h(\d+)\.internal:443", item["servers"])
        if match:
            changed_entries.add(int(match.group(1)))
    if params.get("exclusive"):
        changed_entries = {tag[1] for _u, tag in units if tag[0] == "entry"}
    position = 0
    for unit, tag in units:
        if tag[0] == "kv" and tag[1] in owned:
            continue
        if tag[0] == "entry" and tag[1] in changed_entries:
            continue
        if not unit.strip():
            continue  # a blank line: removing a profile also removes the blank line before it
        found = new_text.find(unit, position)
        line = unit.rstrip("\r\n")
        if found < 0 and new_text.endswith(line) and len(new_text) - len(line) >= position:
            found = len(new_text) - len(line)  # now the last line of a file without a final newline: kept so
        elif found < 0 and unit == line:
            found = new_text.find(line, position)  # was the last line: an appended table gives it a line ending
        assert found >= 0, f"lost or moved: {unit!r}"
        position = found + len(line)

    # 3. every comment outside a changed entry survives
    kept_markers = set(re.findall(r"# (c\d+)\b", new_text))
    for unit, tag in units:
        if tag[0] == "entry" and tag[1] in changed_entries:
            continue
        for marker in re.findall(r"# (c\d+)\b", unit):
            assert marker in kept_markers, f"comment {marker} was lost"


test_ssl_profile_edits_keep_what_they_do_not_own, test_ssl_profile_edits_keep_what_they_do_not_own_long = \
    twins(edits(), examples=80)(_ssl_profile_edits_keep_what_they_do_not_own)


BUG_NAN = ("BUG: plugins/module_utils/_ssl_profiles.py _verify compared the re-parsed document with != ; a float nan "
           "anywhere in deployment.toml is never equal to itself, so every ssl_profile run on such a file (even one "
           "with nothing to change) fails with 'the planned edit would change more than the SSL profile keys'")


def test_a_nan_value_elsewhere_does_not_block_edits(scratch):
    path = _write(scratch, "nan.toml", '[apim.throttling]\nratio = nan\n\n[truststore]\npassword = "old"\n')
    for params in ({}, {"truststore": {"password": "new"}}):
        request = sp.Request.from_params(dict(params, path=path, validate_stores=False))
        sp.plan_changes(sp.Current.load_toml(request), request)


def test_the_edit_generator_covers_the_owned_layouts():
    """The document generator produces each layout the editor must handle (a guard against a weak strategy)."""
    seen = set()

    @_settings(150)
    @given(toml_documents())
    def sample(document):
        text = document[0]
        for name, pattern in (("interval table", r"^\[transport\.passthru_https\.sender\.ssl_profile\]"),
                              ("interval dotted", r"ssl_profile\.interval"), ("truststore table", r"^\[truststore\]"),
                              ("truststore dotted", r"^truststore\.\w+\s*="), ("custom dotted", r"^truststore\.location"),
                              ("custom sub-table", r"^\[keystore\.ssl_profile\.custom\.truststore\]"),
                              ("crlf", r"\r\n"), ("multi-line string", '"""|\'\'\''), ("inline table", r"= \{ ")):
            if re.search(pattern, text, re.MULTILINE):
                seen.add(name)

    sample()
    assert len(seen) >= 8, seen
