"""The HostnameVerifier model, cross-checked: truststore_info's trust check (_trustcheck.check_hostname) and the gateway
stand-in (tests/standin/GatewayStandin.java, which follows Synapse's ClientSSLSetupHandler verifiers) must give the
verdict the rules of ../shared/docs/synapse-reload.md give, on every case of the table.

The stand-in checks a certificate file and a host name without a connection (GET /check-host); it relies on the JDK
for parsing: the SAN types and their text (X509Certificate.getSubjectAlternativeNames), the subject's first CN in
RFC 2253 order (X500Principal, LdapName) and IPv6 literals (InetAddress, no name lookup).
"""

from __future__ import annotations

import datetime
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ansible_collections.apim.certificates.plugins.module_utils._trustcheck import check_hostname
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import _key, make_cert, pem
from ansible_collections.apim.certificates.tests.support.standin import Standin, classes_or_skip

pytestmark = pytest.mark.java

S, D, DL, A = "Strict", "Default", "DefaultAndLocalhost", "AllowAll"


def cert_with(cns=("backend.test",), sans=()):
    """A certificate whose subject holds the given CNs in this DER order, and the given SANs (none: no extension)."""
    if len(cns) == 1:
        return make_cert(cns[0], sans=list(sans))[0]
    key = _key("rsa", 0)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=30)))
    return builder.sign(key, hashes.SHA256())


# (case id, CNs, SANs, host, {verifier: expected pass}); a verifier not listed: as Default unless AllowAll (always passes).
CASES = [
    # wildcards at depth
    ("wildcard-one-label", ["x"], ["*.a.example.com"], "x.a.example.com", {S: True, D: True, DL: True}),
    ("wildcard-two-labels-deep", ["x"], ["*.a.example.com"], "y.x.a.example.com", {S: False, D: True, DL: True}),
    ("wildcard-does-not-cover-its-base", ["x"], ["*.a.example.com"], "a.example.com", {S: False, D: False, DL: False}),
    ("wildcard-over-two-labels-is-literal", ["x"], ["*.example"], "x.example", {S: False, D: False, DL: False}),
    ("wildcard-not-in-the-first-label", ["x"], ["api.*.example.com"], "api.x.example.com", {S: False, D: False, DL: False}),
    ("partial-wildcard-first-label", ["x"], ["api*.example.com"], "api1.example.com", {S: True, D: True, DL: True}),
    ("partial-wildcard-wrong-prefix", ["x"], ["api*.example.com"], "web1.example.com", {S: False, D: False, DL: False}),
    ("wildcard-in-cn-at-depth", ["*.a.example.com"], [], "y.x.a.example.com", {S: False, D: True, DL: True}),
    # *.co.uk-style wildcards: refused by Strict only
    ("country-2ld-wildcard", ["x"], ["*.co.uk"], "shop.co.uk", {S: False, D: True, DL: True}),
    ("country-2ld-wildcard-org", ["x"], ["*.org.nz"], "shop.org.nz", {S: False, D: True, DL: True}),
    ("country-wildcard-not-a-2ld", ["x"], ["*.example.uk"], "shop.example.uk", {S: True, D: True, DL: True}),
    # exact names, case
    ("exact-dns-san", ["x"], ["backend.example.com"], "backend.example.com", {S: True, D: True, DL: True}),
    ("case-insensitive", ["x"], ["Backend.Example.com"], "backend.EXAMPLE.com", {S: True, D: True, DL: True}),
    ("trailing-dot-is-another-name", ["x"], ["backend.example.com"], "backend.example.com.", {S: False, D: False, DL: False}),
    # IP SANs
    ("ip-san", ["x"], ["10.1.2.3"], "10.1.2.3", {S: True, D: True, DL: True}),
    ("ip-san-other-address", ["x"], ["10.1.2.3"], "10.1.2.4", {S: False, D: False, DL: False}),
    ("ipv6-san-other-spelling", ["x"], ["2001:db8::1"], "2001:db8:0:0:0:0:0:1", {S: True, D: True, DL: True}),
    ("ip-host-not-matched-by-dns-san", ["x"], ["10.1.2.3.example.com"], "10.1.2.3", {S: False, D: False, DL: False}),
    # CN fallback only without a SAN of the host's type
    ("cn-only", ["backend.test"], [], "backend.test", {S: True, D: True, DL: True}),
    ("cn-ignored-when-dns-sans-exist", ["backend.test"], ["other.test"], "backend.test", {S: False, D: False, DL: False}),
    ("cn-used-when-only-ip-sans-exist", ["backend.test"], ["10.1.2.3"], "backend.test", {S: True, D: True, DL: True}),
    ("cn-ip-used-when-only-dns-sans-exist", ["10.1.2.3"], ["backend.test"], "10.1.2.3", {S: True, D: True, DL: True}),
    ("cn-ip-ignored-when-ip-sans-exist", ["10.1.2.3"], ["10.9.9.9"], "10.1.2.3", {S: False, D: False, DL: False}),
    ("first-cn-is-the-most-specific", ["outer.test", "inner.test"], [], "inner.test", {S: True, D: True, DL: True}),
    ("other-cns-are-not-used", ["outer.test", "inner.test"], [], "outer.test", {S: False, D: False, DL: False}),
    # localhost under DefaultAndLocalhost
    ("localhost", ["x"], ["other.test"], "localhost", {S: False, D: False, DL: True}),
    ("localhost-any-case", ["x"], ["other.test"], "LocalHost", {S: False, D: False, DL: True}),
    ("localhost-localdomain", ["x"], ["other.test"], "localhost.localdomain", {S: False, D: False, DL: True}),
    ("loopback-ipv4", ["x"], ["other.test"], "127.0.0.1", {S: False, D: False, DL: True}),
    ("loopback-ipv6", ["x"], ["other.test"], "::1", {S: False, D: False, DL: True}),
    ("other-loopback-is-not-localhost", ["x"], ["other.test"], "127.0.0.2", {S: False, D: False, DL: False}),
]
VERIFIERS = (S, D, DL, A)


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    classes = classes_or_skip()
    base = tmp_path_factory.mktemp("crosscheck")
    node = make_gateway_node(str(base / "wso2am"))
    with Standin(node["home"], base / "standin", interval_ms=60000, classes=classes) as running:
        yield running


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crosscheck-certs")
    files = {}
    for case_id, cns, sans, _host, _expected in CASES:
        cert = cert_with(cns, sans)
        path = os.path.join(str(folder), f"{case_id}.pem")
        with open(path, "w", encoding="ascii") as handle:
            handle.write(pem(cert))
        files[case_id] = (path, cert)
    return files


@pytest.mark.parametrize("case_id, cns, sans, host, expected", CASES, ids=[c[0] for c in CASES])
def test_the_collection_and_the_gateway_agree_on_host_names(standin, cert_files, case_id, cns, sans, host, expected):
    path, cert = cert_files[case_id]
    verdicts = {}
    for verifier in VERIFIERS:
        want = True if verifier == A else expected[verifier]
        gateway = standin.check_host(path, host, verifier)
        assert gateway["verifier"] == verifier
        collection = check_hostname(cert, host, verifier) is None
        verdicts[verifier] = (want, gateway["ok"], collection)
    wrong = {v: f"rules say {w}, stand-in {g}, _trustcheck {c}" for v, (w, g, c) in verdicts.items() if not w == g == c}
    assert not wrong, f"{case_id} (host {host}, CNs {cns}, SANs {sans}): {wrong}"


def test_the_gateway_reports_why_a_host_name_fails(standin, cert_files):
    path, _cert = cert_files["cn-ignored-when-dns-sans-exist"]
    result = standin.check_host(path, "backend.test", "Strict")
    assert not result["ok"] and "doesn't match any of the subject alternative names: [other.test]" in result["error"]
    assert standin.check_host(path, "backend.test", "something-else")["verifier"] == "Default"
