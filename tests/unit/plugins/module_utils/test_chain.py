"""What to trust from a chain, and the pins it must match (_chain): issuer and root by verified signatures only, SPKI
pins as RFC 7469 and openssl compute them, and a named refusal for every bad input."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.apim.certificates.plugins.module_utils import _chain
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError
from ansible_collections.apim.certificates.tests.support.pki import der, make_cert, sha256


def _key():
    """A key of its own: make_cert reuses a few keys, and a pin or signature check must not pass by a shared key."""
    return ec.generate_private_key(ec.SECP256R1())


def _pki():
    root, root_key = make_cert("Rotation Root CA", ca=True, key=_key())
    inter, inter_key = make_cert("Rotation Issuing CA", ca=True, issuer=root, issuer_key=root_key, key=_key())
    leaf, leaf_key = make_cert("orders.test", issuer=inter, issuer_key=inter_key, sans=["orders.test"], key=_key())
    return root, inter, leaf, inter_key, leaf_key


def _spki(cert) -> str:
    key = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256/" + base64.b64encode(hashlib.sha256(key).digest()).decode()


def test_issuer_and_root_are_chosen_from_the_verified_path():
    root, inter, leaf, _ik, _lk = _pki()
    assert der(_chain.select([leaf, inter, root], "issuer", "t")[0]) == der(inter)
    assert der(_chain.select([leaf, inter, root], "root", "t")[0]) == der(root)
    # out of order, and without the root: the topmost CA the chain presents
    assert der(_chain.select([leaf, root, inter], "issuer", "t")[0]) == der(inter)
    assert der(_chain.select([leaf, inter], "root", "t")[0]) == der(inter)
    assert [der(c) for c in _chain.select([leaf, inter], "leaf", "t")] == [der(leaf)]
    assert len(_chain.select([leaf, inter, root], "all", "t")) == 3


def test_a_ca_merely_appended_is_never_the_issuer_nor_matches_a_pin():
    """OkHttp CVE-2016-2402: a certificate appended to a chain must not count."""
    _root, _inter, leaf, _ik, _lk = _pki()
    stranger, _sk = make_cert("Stranger CA", ca=True, key=_key())
    with pytest.raises(CertificateError, match="does not present the issuer of"):
        _chain.select([leaf, stranger], "issuer", "served")
    with pytest.raises(CertificateError, match=r"no certificate of the chain matches a pin.*not on the verified path"):
        _chain.check_pins([leaf, stranger], None, [_spki(stranger)], "served")
    with pytest.raises(CertificateError, match="matches a pin"):
        _chain.check_pins([leaf, stranger], sha256(stranger), None, "served")


def test_a_ca_with_the_right_name_but_another_key_is_refused():
    root, inter, leaf, _ik, _lk = _pki()
    forged, _fk = make_cert("Rotation Issuing CA", ca=True, issuer=root, issuer_key=_key(), key=_key())
    with pytest.raises(CertificateError, match="does not verify the signature"):
        _chain.select([leaf, forged], "issuer", "served")
    with pytest.raises(CertificateError):
        _chain.check_pins([leaf, forged], None, [_spki(forged)], "served")
    assert inter is not None


def test_a_self_signed_leaf_has_no_issuer_and_says_so():
    leaf, _key = make_cert("self.test")
    with pytest.raises(CertificateError, match="holds no CA.*self-signed"):
        _chain.select([leaf], "issuer", "served")
    assert _chain.leaf_only_warning([leaf], "self.test:443") is None


def test_an_issuer_that_is_not_a_ca_is_refused():
    root, root_key = make_cert("Root", ca=True)
    not_ca, not_ca_key = make_cert("Not A CA", issuer=root, issuer_key=root_key)  # basicConstraints cA=false
    leaf, _lk = make_cert("leaf.test", issuer=not_ca, issuer_key=not_ca_key)
    with pytest.raises(CertificateError, match="is not a CA"):
        _chain.select([leaf, not_ca, root], "issuer", "served")
    with pytest.raises(CertificateError, match="is not a CA"):
        _chain.select([leaf, not_ca, root], "root", "served")
    with pytest.raises(CertificateError):
        _chain.check_pins([leaf, not_ca, root], None, [_spki(not_ca)], "served")


def test_a_chain_longer_than_ten_is_refused():
    cert, key = make_cert("CA 0", ca=True)
    chain = [cert]
    for index in range(1, 12):
        cert, key = make_cert(f"CA {index}", ca=True, issuer=cert, issuer_key=key)
        chain.insert(0, cert)
    with pytest.raises(CertificateError, match="12 certificates; at most 10"):
        _chain.select(chain, "root", "served")


def test_spki_pins_match_the_leaf_or_a_verified_ca_in_both_forms():
    root, inter, leaf, _ik, _lk = _pki()
    chain = [leaf, inter, root]
    _chain.check_pins(chain, None, [_spki(leaf)], "t")
    _chain.check_pins(chain, None, ["sha256/" + "A" * 43 + "=", _spki(inter)], "t")  # a backup pin beside
    hexpin = base64.b64decode(_spki(root)[7:]).hex()
    _chain.check_pins(chain, None, [hexpin.upper()], "t")
    _chain.check_pins(chain, sha256(inter), None, "t")
    with pytest.raises(CertificateError) as failure:
        _chain.check_pins(chain, None, ["sha256/" + "A" * 43 + "="], "t")
    text = str(failure.value)
    # both sets: the pins given, and the chain's certificate and SPKI fingerprints
    assert "sha256/" + "A" * 43 + "=" in text and _spki(leaf) in text and _spki(inter) in text and sha256(leaf) in text


def test_a_key_rotation_under_an_spki_pin_is_refused_a_renewal_with_the_same_key_is_not():
    _root, inter, leaf, inter_key, leaf_key = _pki()
    renewed, _same = make_cert("orders.test", issuer=inter, issuer_key=inter_key, key=leaf_key)
    rotated, _new = make_cert("orders.test", issuer=inter, issuer_key=inter_key, key=ec.generate_private_key(ec.SECP256R1()))
    _chain.check_pins([renewed, inter], None, [_spki(leaf)], "t")
    with pytest.raises(CertificateError, match="matches a pin"):
        _chain.check_pins([rotated, inter], None, [_spki(leaf)], "t")


@pytest.mark.parametrize("pin", ["sha256/abc", "sha256/" + base64.b64encode(b"x" * 31).decode(), "a" * 63, "md5/xyz", ""])
def test_a_pin_that_is_no_sha256_is_named(pin):
    with pytest.raises(CertificateError, match=r"spki_pins item .* is not a SHA-256 SPKI pin"):
        _chain.parse_spki_pin(pin)


def test_the_leaf_only_warning_names_the_issuer():
    _root, inter, leaf, _ik, _lk = _pki()
    warning = _chain.leaf_only_warning([leaf, inter], "orders.test:443")
    assert "next renewal" in warning and "Rotation Issuing CA" in warning


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_spki_pin_is_the_one_openssl_computes(tmp_path):
    """The RFC 7469 recipe with openssl, on a certificate openssl made (not our code, not cryptography's builder)."""
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    str(key), "-out", str(crt), "-subj", "/CN=openssl.test", "-days", "2"], check=True, capture_output=True, timeout=60)
    pubkey = subprocess.run(["openssl", "x509", "-in", str(crt), "-pubkey", "-noout"], check=True, capture_output=True, timeout=60).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey, check=True, capture_output=True, timeout=60).stdout
    expected = "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()
    data = crt.read_bytes()
    from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # pylint: disable=import-outside-toplevel

    cert_der = certs.read_certificates(data, "openssl")[0].der
    assert _chain.spki_pin(_chain.spki_sha256(cert_der)) == expected
    _chain.check_pins(certs.read_certificates(data, "openssl"), None, [expected], "openssl")
