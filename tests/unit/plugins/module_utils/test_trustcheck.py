from __future__ import annotations

import datetime

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _trustcheck as tc
from ansible_collections.apim.certificates.tests.support.pki import der, expired_cert, make_cert

ROOT, ROOT_KEY = make_cert("Test Root", ca=True)
MID, MID_KEY = make_cert("Test Intermediate", ca=True, issuer=ROOT, issuer_key=ROOT_KEY)
LEAF, _unused_key = make_cert("api.orders.example", issuer=MID, issuer_key=MID_KEY, sans=["api.orders.example", "*.pay.example", "10.0.0.5"])
SELF, _unused_key = make_cert("localhost", sans=["localhost"])
STRANGER, _unused_key = make_cert("stranger")


@pytest.mark.parametrize(
    "chain, anchors, trusted, anchor",
    [
        ([LEAF, MID], {"root": ROOT}, True, "root"),
        ([LEAF, MID, ROOT], {"root": ROOT}, True, "root"),
        ([LEAF], {"mid": MID}, True, "mid"),
        ([LEAF, MID], {"leaf": LEAF}, True, "leaf"),
        ([LEAF], {"root": ROOT}, False, None),  # intermediate not sent, not stored
        ([LEAF, MID], {"other": STRANGER}, False, None),
        ([SELF], {"self": SELF}, True, "self"),
        ([SELF], {}, False, None),
    ],
)
def test_path_building(chain, anchors, trusted, anchor):
    verdict = tc.check_trust(chain, anchors, "api.orders.example" if chain[0] is LEAF else "localhost", "AllowAll")
    assert verdict["trusted"] is trusted, verdict
    if trusted:
        assert verdict["anchor"] == anchor
    else:
        assert "PKIX path building would fail" in verdict["reason"]


def test_expired_certificate_on_the_path():
    old, _unused_key = expired_cert("localhost")
    verdict = tc.check_trust([old], {"old": old}, "localhost", "AllowAll")
    assert not verdict["trusted"] and "expired on" in verdict["reason"]


@pytest.mark.parametrize(
    "host, verifier, ok",
    [
        ("api.orders.example", "Strict", True),
        ("API.Orders.Example", "Default", True),
        ("a.pay.example", "Strict", True),
        ("a.b.pay.example", "Strict", False),
        ("a.b.pay.example", "Default", True),
        ("pay.example", "Default", False),
        ("10.0.0.5", "Strict", True),
        ("10.0.0.6", "Default", False),
        ("other.example", "Default", False),
        ("other.example", "AllowAll", True),
        ("localhost", "DefaultAndLocalhost", True),
        ("localhost", "Default", False),
        ("127.0.0.1", "DefaultAndLocalhost", True),
        ("other.example", "DefaultAndLocalhost", False),
    ],
)
def test_hostname_verifiers(host, verifier, ok):
    verdict = tc.check_trust([LEAF, MID], {"root": ROOT}, host, verifier)
    assert verdict["trusted"] is ok, verdict
    if not ok:
        assert "HostnameVerifier" in verdict["reason"] or "IP addresses" in verdict["reason"]


def test_not_yet_valid():
    now = datetime.datetime.now(datetime.timezone.utc)
    future, _unused_key = make_cert("localhost", not_before=now + datetime.timedelta(days=2), not_after=now + datetime.timedelta(days=20))
    verdict = tc.check_trust([future], {"f": future}, "localhost", "AllowAll")
    assert not verdict["trusted"] and "not valid before" in verdict["reason"]


@pytest.mark.parametrize("given, name", [(None, "DefaultAndLocalhost"), ("strict", "Strict"), ("AllowAll", "AllowAll"), ("weird", "Default")])
def test_verifier_names(given, name):
    assert tc.normalize_verifier(given) == name


# --- check_held: the verdict from the DER, without cryptography, when the store holds the presented certificate ---

NOW = datetime.datetime.now(datetime.timezone.utc)
HELD_CERTS = {
    "leaf": LEAF,  # DNS, wildcard and IP names
    "self": SELF,
    "stranger": STRANGER,  # no alternative names: the CN decides
    "expired": expired_cert("localhost")[0],
    "future": make_cert("localhost", not_before=NOW + datetime.timedelta(days=2), not_after=NOW + datetime.timedelta(days=20))[0],
    "ip-only": make_cert("10.1.1.1", sans=["10.1.1.1", "::1"])[0],
}
HOSTS = ("api.orders.example", "API.Orders.Example", "a.pay.example", "a.b.pay.example", "pay.example", "10.0.0.5",
         "10.0.0.6", "localhost", "127.0.0.1", "::1", "stranger", "other.example", "10.1.1.1", "STRANGER")


@pytest.mark.parametrize("name", sorted(HELD_CERTS))
@pytest.mark.parametrize("verifier", tc.VERIFIERS)
def test_check_held_agrees_with_check_trust(name, verifier):
    # When the store holds the presented leaf itself, check_held() must say what check_trust() (cryptography) says
    # whenever it answers, and it answers for every trusted case of these plain certificates.
    cert = HELD_CERTS[name]
    for host in HOSTS:
        full = tc.check_trust([cert], {"other": STRANGER, name: cert}, host, verifier)
        quick = tc.check_held(der(cert), name, host, verifier)
        if quick is None:
            assert not full["trusted"], (host, full)  # a refusal is worded by check_trust
        else:
            assert quick == full, (host, quick, full)
        if full["trusted"]:
            assert quick is not None, (host, "the DER fast path was not taken")


def test_check_held_defers_what_der_does_not_read():
    assert tc.check_held(b"\x30\x03\x02\x01\x01", "x", "localhost", "AllowAll") is None


_HELD_WITHOUT_CRYPTOGRAPHY = r"""
import sys, types
sys.modules["cryptography"] = None  # any import of cryptography now raises ImportError
from ansible_collections.apim.certificates.plugins.module_utils._info import trust_checks
leaf = open(sys.argv[1], "rb").read()
store = types.SimpleNamespace(path="/store.jks", entries={"backend": types.SimpleNamespace(certificate=leaf)})
verdicts = trust_checks([f"https://localhost:{sys.argv[2]}/orders"], lambda host, port: (store, "*"), "Strict", 10)
print(verdicts[0]["trusted"], verdicts[0]["anchor"], verdicts[0]["reason"])
"""


def test_a_trust_check_of_a_held_certificate_imports_no_cryptography(tmp_path):
    # gateway_trust checks every declared endpoint on every node, in every run: the usual case (the store holds what
    # the backend presents) is decided without importing cryptography.x509, the largest import of a no-change run.
    import os  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    from ansible_collections.apim.certificates.tests.support import COLLECTIONS  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.servers import https_server  # pylint: disable=import-outside-toplevel

    backend, key = make_cert("localhost", sans=["localhost"])
    (tmp_path / "leaf.der").write_bytes(der(backend))
    with https_server(backend, key) as port:
        proc = subprocess.run([sys.executable, "-c", _HELD_WITHOUT_CRYPTOGRAPHY, str(tmp_path / "leaf.der"), str(port)],
                              capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": COLLECTIONS}, timeout=60)
    assert proc.returncode == 0 and proc.stdout.split() == ["True", "backend", "None"], proc.stdout + proc.stderr
