"""What the collection does on old managed-node libraries (docs/managed-nodes.md).

These run in `make unit` (pinned, newest libraries) and in `make unit-floor` (cryptography 3.4.8, tomlkit 0.9.2).
The fallbacks are exercised on both: a proxy hides the newer attributes from the code under test.
"""

from __future__ import annotations

import datetime
import os
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.apim.certificates.plugins.module_utils import _compat
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profiles as sp
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profiles_load as sp_load
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils import _wso2_config as wso2_config
from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError, TruststoreError
from ansible_collections.apim.certificates.tests.support import FIXTURES
from ansible_collections.apim.certificates.tests.support.pki import cryptography_has, make_cert

pytestmark = pytest.mark.floor
UTC = datetime.timezone.utc


class OldCertificate:
    """A cryptography Certificate as cryptography < 40 / < 42 shows it: no verify_directly_issued_by, no *_utc."""

    _HIDDEN = ("verify_directly_issued_by", "not_valid_before_utc", "not_valid_after_utc")

    def __init__(self, cert):
        self._cert = cert

    def __getattr__(self, name):
        if name in self._HIDDEN:
            raise AttributeError(name)
        if name in ("not_valid_before", "not_valid_after"):  # naive UTC, as old versions return them
            value = getattr(self._cert, f"{name}_utc", None) or getattr(self._cert, name)
            return value.replace(tzinfo=None)
        return getattr(self._cert, name)


def _issued(issuer_key, subject_key, sign_with=None):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.test")])
    now = datetime.datetime.now(UTC)
    issuer = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(issuer_key.public_key())
              .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
              .sign(issuer_key, None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf.test")]))
            .issuer_name(name).public_key(subject_key.public_key()).serial_number(2)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    if sign_with is not None:
        leaf = sign_with(leaf, issuer_key)
    else:
        leaf = leaf.sign(issuer_key, None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    return issuer, leaf


def _pss(builder, key):
    if not hasattr(padding, "PSS") or "rsa_padding" not in builder.sign.__code__.co_varnames:
        pytest.skip("this cryptography cannot sign a certificate with RSASSA-PSS (needs 41.0)")
    return builder.sign(key, hashes.SHA256(), rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), 32))


RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
ED = ed25519.Ed25519PrivateKey.generate()


@pytest.mark.parametrize("issuer_key, sign_with", [(RSA, None), (EC, None), (ED, None), (RSA, _pss)],
                         ids=["rsa-pkcs1", "ecdsa", "ed25519", "rsa-pss"])
def test_signatures_are_checked_without_verify_directly_issued_by(issuer_key, sign_with):
    issuer, leaf = _issued(issuer_key, EC, sign_with)
    _compat.verify_issued_by(OldCertificate(leaf), issuer)  # does not raise
    other, _unused = _issued(rsa.generate_private_key(public_exponent=65537, key_size=2048) if issuer_key is RSA else
                             ec.generate_private_key(ec.SECP256R1()) if issuer_key is EC else
                             ed25519.Ed25519PrivateKey.generate(), EC)
    with pytest.raises(Exception):  # noqa: B017 - InvalidSignature or ValueError: not the issuer
        _compat.verify_issued_by(OldCertificate(leaf), other)


def test_validity_is_aware_utc_without_the_utc_attributes():
    cert, _key = make_cert("dates.test", days=10)
    old = OldCertificate(cert)
    assert _compat.not_valid_before(old).tzinfo is not None
    assert _compat.not_valid_after(old) == _compat.not_valid_after(cert)
    assert _compat.not_valid_after(old) - _compat.not_valid_before(old) > datetime.timedelta(days=9)


def test_a_pkcs12_operation_the_library_cannot_do_names_library_versions_and_operation(tmp_path):
    path = str(tmp_path / "store.p12")
    desired = [ts.DesiredCertificate("a", "present", make_cert("p12.test")[0])]
    if cryptography_has("pkcs12_write"):
        assert ts.converge_truststore(path, "pw", desired, store_type="PKCS12", create=True).changed
        return
    with pytest.raises(_compat.MissingLibraryError) as info:
        ts.converge_truststore(path, "pw", desired, store_type="PKCS12", create=True, check_mode=True)
    text = str(info.value)
    assert "cryptography >= 45.0.0" in text and "writing a PKCS12 truststore" in text
    assert f"found cryptography {_compat.library_version('cryptography')}" in text
    assert text.startswith("Failed to import the required Python library")  # Ansible's missing_required_lib wording
    assert not os.path.exists(path)


def test_a_missing_library_message_names_what_was_found():
    error = _compat.MissingLibraryError("pyjks", "20.0.0", "reading a JCEKS store that holds secret keys", found=None)
    assert "(pyjks >= 20.0.0)" in str(error) and "reading a JCEKS store that holds secret keys" in str(error)
    assert ("found pyjks" in str(error)) == (_compat.library_version("jks") is not None) or "found no pyjks" in str(error)


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason=f"WSO2's real files are not at {FIXTURES} (../shared absent)")
def test_toml_values_without_unwrap_equal_the_standard_reading():
    tomllib = wso2_config.tomllib_module()
    if tomllib is None:
        pytest.skip("no tomllib (Python < 3.11) to compare with")
    import tomlkit  # pylint: disable=import-outside-toplevel

    for folder, _dirs, files in os.walk(FIXTURES):
        for name in files:
            if name.endswith(".toml"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text = handle.read()
                document = tomlkit.parse(text)
                if document.as_string() == text:  # where tomlkit reads the file right, its values are the same
                    assert _compat.toml_values(document) == tomllib.loads(text), name


SPLIT = "endpointCertificate-test-deployment.toml"


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason=f"WSO2's real files are not at {FIXTURES} (../shared absent)")
def test_without_tomllib_a_file_tomlkit_misreads_is_refused_and_left_alone(tmp_path, monkeypatch):
    """Ubuntu 22.04: Python 3.10 (no tomllib) with tomlkit 0.9.2. WSO2's sample with split arrays of tables."""
    import tomlkit  # pylint: disable=import-outside-toplevel

    path = tmp_path / "deployment.toml"
    shutil.copy(os.path.join(FIXTURES, "apim-4.x-master", "samples", SPLIT), path)
    before = path.read_bytes()
    monkeypatch.setattr(wso2_config, "tomllib_module", lambda: None)
    monkeypatch.setattr(sp_load, "tomllib_module", lambda: None)
    request = sp.Request.from_params({"path": str(path), "interval": 120000})
    if tomlkit.parse(before.decode()).as_string() == before.decode():
        assert sp.converge(request).plan.changed  # a tomlkit that reads it right edits it
        return
    with pytest.raises(GatewayConfigError, match=r"tomlkit cannot reproduce this file byte for byte .*0\.15\.2"):
        sp.converge(request)
    assert path.read_bytes() == before


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason=f"WSO2's real files are not at {FIXTURES} (../shared absent)")
def test_with_tomllib_the_same_file_is_edited_whatever_the_tomlkit(tmp_path):
    if wso2_config.tomllib_module() is None:
        pytest.skip("no tomllib (Python < 3.11)")
    path = tmp_path / "deployment.toml"
    shutil.copy(os.path.join(FIXTURES, "apim-4.x-master", "samples", SPLIT), path)
    before = path.read_text()
    assert sp.converge(sp.Request.from_params({"path": str(path), "interval": 120000})).plan.changed
    after = path.read_text()
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert changed == ["interval = 120000"] or all("interval" in line or line.startswith("[") for line in changed)
    assert wso2_config.tomllib_module().loads(after)["resource"]["access_control"] == wso2_config.tomllib_module().loads(before)["resource"]["access_control"]


# --- PKCS12 below cryptography 36 (no load_pkcs12): the collection's own reader, and _open_only ---------------------
# Not skipped on the floor (the floor marker exempts these from conftest's PKCS12 gate). On a newer cryptography,
# load_pkcs12 is hidden from _pkcs12 as cryptography < 36 lacks it, so both runs take the same path.


@pytest.fixture
def before_36(monkeypatch):
    """_pkcs12 as it runs on cryptography < 36.0: pkcs12_reader() raises MissingLibraryError."""
    from ansible_collections.apim.certificates.plugins.module_utils import _pkcs12  # pylint: disable=import-outside-toplevel

    if cryptography_has("pkcs12_read"):
        def missing():
            raise _compat.MissingLibraryError("cryptography", "36.0.0", "reading a PKCS12 truststore (pkcs12.load_pkcs12)")

        monkeypatch.setattr(_pkcs12, "pkcs12_reader", missing)


def _keyed_pkcs12(path) -> tuple:
    """A key entry with its certificate and an unrelated CA, as every cryptography from 3.0 writes it (3.4.8: 3DES and
    a SHA-1 MAC; newer: PBES2 with AES): written by serialize_key_and_certificates, which exists on the floor."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12  # pylint: disable=import-outside-toplevel

    (leaf, key), ca = make_cert("p12-floor-leaf.test", key_kind="ec"), make_cert("P12 Floor CA", ca=True)[0]
    data = pkcs12.serialize_key_and_certificates(b"Key-Entry", key, leaf, [ca], BestAvailableEncryption(b"floor-pass"))
    path.write_bytes(data)
    return leaf, ca, data


def _with_indefinite_length(data: bytes) -> bytes:
    """The same PFX with its authSafe's [0] in BER's indefinite length (as some Windows and NSS versions write it): a
    layout the collection's reader leaves to cryptography's; the MAC, over the content, still verifies."""
    from ansible_collections.apim.certificates.plugins.module_utils import _der  # pylint: disable=import-outside-toplevel

    def encode(tag, content):
        size = len(content)
        if size < 0x80:
            return bytes((tag, size)) + content
        length = size.to_bytes((size.bit_length() + 7) // 8, "big")
        return bytes((tag, 0x80 | len(length))) + length + content

    _tag, start, end = _der.tlv(data, 0, len(data))
    version, info, mac = _der.children(data, start, end)
    oid, wrapped = _der.children(data, info[1], info[2])
    return encode(0x30, data[start:version[2]] + encode(0x30, data[info[1]:oid[2]] + b"\xa0\x80" + data[wrapped[1]:wrapped[2]] + b"\x00\x00")
                  + data[info[2]:mac[2]])


def test_a_pkcs12_store_is_listed_without_load_pkcs12(tmp_path, before_36):  # pylint: disable=unused-argument,redefined-outer-name
    from ansible_collections.apim.certificates.plugins.module_utils import _info  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.pki import der, sha256  # pylint: disable=import-outside-toplevel

    path = tmp_path / "keyed.p12"
    leaf, ca, _data = _keyed_pkcs12(path)
    result, warnings = _info.report(path=str(path), password="floor-pass")
    assert [(e["alias"], e["entry_type"], e["fingerprints"]["sha256"]) for e in result["entries"]] == [("key-entry", ts.PRIVATE_KEY, sha256(leaf))]
    assert [u["fingerprint"] for u in result["untrusted_certificates"]] == [sha256(ca)]
    assert any("Java does not trust" in w for w in warnings)
    store = ts.load_truststore(str(path), "floor-pass", open_only=True)  # ssl_profile's check: the same reader
    assert store.opaque is None and store.entries["key-entry"].chain == (("X.509", der(leaf)),)
    with pytest.raises(TruststoreError, match=r"wrong password \(the PKCS12 MAC or encryption does not verify with it\)"):
        ts.load_truststore(str(path), "not-the-pass")
    with pytest.raises(TruststoreError, match="can only be read with its password; give password"):
        ts.load_truststore(str(path), None)


@pytest.mark.filterwarnings("ignore:PKCS#12 bundle could not be parsed as DER")  # cryptography >= 44 says so, and reads it
def test_a_pkcs12_layout_the_own_reader_leaves_to_cryptography_is_only_opened(tmp_path, before_36):  # pylint: disable=unused-argument,redefined-outer-name
    path = tmp_path / "ber.p12"
    _leaf, _ca, data = _keyed_pkcs12(tmp_path / "der.p12")
    path.write_bytes(_with_indefinite_length(data))
    # ssl_profile's validate_stores: it opens with its password (load_key_and_certificates, on every cryptography)
    store = ts.load_truststore(str(path), "floor-pass", open_only=True)
    assert store.entries == {} and "needs cryptography >= 36.0.0" in store.opaque
    with pytest.raises(TruststoreError, match="wrong password, or the PKCS12 data is corrupt"):
        ts.load_truststore(str(path), "not-the-pass", open_only=True)
    # truststore_info and endpoint_certificate need its entries: the library and version are named
    with pytest.raises(_compat.MissingLibraryError) as info:
        ts.load_truststore(str(path), "floor-pass")
    assert "cryptography >= 36.0.0" in str(info.value) and "reading a PKCS12 truststore" in str(info.value)
    assert "floor-pass" not in str(info.value)
