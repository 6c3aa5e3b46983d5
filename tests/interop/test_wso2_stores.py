"""WSO2's own stores, as shipped (copied unchanged into ../shared/fixtures/wso2, password wso2carbon).

- API-M 4.x's client-truststore.jks (146 trusted certificates): truststore_info reports what keytool lists;
  endpoint_certificate adds a backend certificate to a copy and keytool then lists 147 entries, the 146
  originals unchanged, creation dates included.
- carbon-kernel's wso2carbon.jks, a keystore whose PrivateKeyEntry 'wso2carbon' is the server's TLS key:
  after endpoint_certificate adds a trusted certificate to a copy, keytool still lists the key entry with the
  same certificate, exports that certificate, signs a certificate request with the key (which it can only do
  after decrypting the key with its password) and copies the key into a PKCS12 store.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apim.certificates.tests.interop.helpers import (
    ENDPOINT,
    FIXTURES,
    INFO,
    in_parallel,
    info_entries,
    keytool_entries,
    ok,
    plugin_bug,
    run_tasks,
)
from ansible_collections.apim.certificates.tests.support.java import keytool, keytool_listing, needs_java
from ansible_collections.apim.certificates.tests.support.pki import sha256

pytestmark = [needs_java, pytest.mark.java]

PASSWORD = "wso2carbon"
APIM_TRUSTSTORE = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "client-truststore.jks")
CARBON_KEYSTORE = os.path.join(FIXTURES, "carbon-kernel-4.9.x", "wso2carbon.jks")
KEY_ALIAS = "wso2carbon"
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def unmasked(entries: dict) -> dict:
    """Ansible returns a string equal to a no_log value (the password) as MASK; WSO2's password is also an alias."""
    return {PASSWORD if alias == MASK else alias: value for alias, value in entries.items()}


def _require(path):
    if not os.path.isfile(path):
        pytest.skip(f"../shared/fixtures absent: {path} does not exist")
    return path


def _writable_copy(source, directory) -> str:
    copy = os.path.join(str(directory), os.path.basename(source))
    shutil.copyfile(source, copy)  # the fixtures are read-only; a gateway's stores are not
    os.chmod(copy, 0o640)
    return copy


@dataclasses.dataclass
class TruststoreRecord:
    original: object  # keytool's listing of the fixture
    info_original: object  # truststore_info on the fixture
    add_result: object  # endpoint_certificate on a copy
    info_copy: object  # truststore_info on the changed copy
    copy: object  # keytool's listing of the changed copy


@pytest.fixture(scope="module")
def apim_truststore(tmp_path_factory, certs) -> TruststoreRecord:
    source = _require(APIM_TRUSTSTORE)
    tmp = tmp_path_factory.mktemp("wso2-truststore")
    copy = _writable_copy(source, tmp)
    results, original = in_parallel(
        functools.partial(
            run_tasks, tmp,
            (INFO, {"path": source, "password": PASSWORD}),
            (ENDPOINT, {"path": copy, "password": PASSWORD, "alias": "Orders-Backend", "certificate": certs.extra.pem}),
            (INFO, {"path": copy, "password": PASSWORD}),
        ),
        functools.partial(keytool_listing, source, PASSWORD),
    )
    return TruststoreRecord(original, results[0], results[1], results[2], keytool_listing(copy, PASSWORD))


def test_truststore_info_reports_wso2_truststore_as_keytool_lists_it(apim_truststore):
    original = apim_truststore.original
    assert original.store_type == "JKS"
    assert len(original.entries) == 146
    assert {entry.entry_type for entry in original.entries.values()} == {"trustedCertEntry"}
    assert {"wso2carbon", "gateway_certificate_alias"} <= set(original.entries)

    info = ok(apim_truststore.info_original)
    assert info["store_type"] == "JKS"
    assert info["integrity_verified"] is True
    assert info["count"] == 146
    assert unmasked(info_entries(info)) == keytool_entries(original)


def test_truststore_info_reports_the_alias_that_equals_the_password(apim_truststore):
    aliases = {entry["alias"] for entry in ok(apim_truststore.info_original)["entries"]}
    with plugin_bug():
        assert MASK not in aliases
        assert "wso2carbon" in aliases


def test_endpoint_certificate_adds_to_wso2_truststore_keeping_the_146_originals(apim_truststore, certs):
    result = ok(apim_truststore.add_result)
    assert result.changed
    assert result["results"][0]["action"] == "added"

    original, changed = apim_truststore.original, apim_truststore.copy
    assert changed.store_type == "JKS"
    assert len(changed.entries) == 147
    for alias, entry in original.entries.items():
        assert changed.entries[alias] == entry, alias  # type, SHA-256 and creation date unchanged
    assert keytool_entries(changed)["orders-backend"] == ("trustedCertEntry", certs.extra.sha256)
    assert unmasked(info_entries(apim_truststore.info_copy)) == keytool_entries(changed)


@dataclasses.dataclass
class KeystoreRecord:
    directory: str
    original: object  # keytool's listing of the fixture
    add_result: object
    copy_path: str
    copy: object  # keytool's listing of the changed copy
    exported: object  # keytool -exportcert of the key entry's certificate from the copy
    certreq: object  # keytool -certreq signed with the key from the copy
    imported: object  # keytool -importkeystore of the key entry into a PKCS12 store


@pytest.fixture(scope="module")
def carbon_keystore(tmp_path_factory, certs) -> KeystoreRecord:
    source = _require(CARBON_KEYSTORE)
    tmp = tmp_path_factory.mktemp("wso2-keystore")
    copy = _writable_copy(source, tmp)
    results, original = in_parallel(
        functools.partial(
            run_tasks, tmp,
            (ENDPOINT, {"path": copy, "password": PASSWORD, "alias": "payments-backend", "certificate": certs.rsa.pem}),
        ),
        functools.partial(keytool_listing, source, PASSWORD),
    )
    key_password = {"KT_KEYPASS": PASSWORD}
    exported_file, csr_file, p12_file = (os.path.join(str(tmp), name) for name in ("key-cert.pem", "wso2carbon.csr", "key.p12"))
    listing, exported, certreq, imported = in_parallel(
        functools.partial(keytool_listing, copy, PASSWORD),
        functools.partial(keytool, "-exportcert", "-rfc", "-alias", KEY_ALIAS, "-keystore", copy,
                          "-file", exported_file, password=PASSWORD, check=False),
        functools.partial(keytool, "-certreq", "-alias", KEY_ALIAS, "-keystore", copy, "-file", csr_file,
                          "-keypass:env", "KT_KEYPASS", password=PASSWORD, secrets=key_password, check=False),
        functools.partial(keytool, "-importkeystore", "-noprompt", "-srckeystore", copy, "-srcalias", KEY_ALIAS,
                          "-srcstorepass:env", "KT_KEYPASS", "-srckeypass:env", "KT_KEYPASS",
                          "-destkeystore", p12_file, "-deststoretype", "PKCS12", "-deststorepass:env", "KT_KEYPASS",
                          secrets=key_password, check=False),
    )
    return KeystoreRecord(str(tmp), original, results[0], copy, listing, exported, certreq, imported)


def _read(path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def test_wso2carbon_keystore_keeps_its_private_key_entry_when_a_certificate_is_added(carbon_keystore, certs):
    original = carbon_keystore.original
    assert original.entries[KEY_ALIAS].entry_type == "PrivateKeyEntry"

    result = ok(carbon_keystore.add_result)
    assert result.changed
    assert result["results"][0]["action"] == "added"

    changed = carbon_keystore.copy
    assert changed.store_type == "JKS"
    assert len(changed.entries) == len(original.entries) + 1
    for alias, entry in original.entries.items():
        assert changed.entries[alias] == entry, alias  # the key entry too: type, certificate, chain length, date
    assert keytool_entries(changed)["payments-backend"] == ("trustedCertEntry", certs.rsa.sha256)


def test_wso2carbon_key_entry_certificate_is_exported_unchanged(carbon_keystore):
    run = carbon_keystore.exported
    assert run.returncode == 0, run.stdout + run.stderr
    cert = x509.load_pem_x509_certificate(_read(os.path.join(carbon_keystore.directory, "key-cert.pem")))
    assert sha256(cert) == carbon_keystore.original.entries[KEY_ALIAS].sha256


def test_wso2carbon_private_key_still_decrypts_and_signs(carbon_keystore):
    run = carbon_keystore.certreq
    assert run.returncode == 0, run.stdout + run.stderr
    csr = x509.load_pem_x509_csr(_read(os.path.join(carbon_keystore.directory, "wso2carbon.csr")))
    cert = x509.load_pem_x509_certificate(_read(os.path.join(carbon_keystore.directory, "key-cert.pem")))
    assert csr.is_signature_valid  # signed by the private key keytool decrypted with the key password
    assert csr.public_key() == cert.public_key()  # ... which is the key of the entry's certificate


def test_wso2carbon_private_key_is_copied_by_importkeystore(carbon_keystore):
    run = carbon_keystore.imported
    assert run.returncode == 0, run.stdout + run.stderr
    key, cert, unused_cas = pkcs12.load_key_and_certificates(
        _read(os.path.join(carbon_keystore.directory, "key.p12")), PASSWORD.encode()
    )
    assert key is not None and cert is not None
    assert key.public_key() == cert.public_key()
    assert sha256(cert) == carbon_keystore.original.entries[KEY_ALIAS].sha256
