from __future__ import annotations

import datetime

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _trustcheck as tc
from ansible_collections.apim.certificates.tests.support.pki import expired_cert, make_cert

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
