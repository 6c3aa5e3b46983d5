"""Stores keytool wrote, judged by the collection -- and then changed by it and judged by keytool again.

keytool -importcert fills a new store of each type (and a PKCS12 store in the legacy format JDK 8 wrote:
RC2-40 certificate encryption, SHA-1 MAC). truststore_info must report what keytool lists; endpoint_certificate
must add one more certificate so that keytool, given the store password, lists every entry: keytool checks the
store's integrity with that password, so a successful list is also the integrity check.

The tests at the end guard against bugs that keytool-made stores revealed in plugins/.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest

from ansible_collections.apim.certificates.plugins.module_utils._truststore import (
    DesiredCertificate,
    converge_truststore,
    load_truststore,
)
from ansible_collections.apim.certificates.tests.interop.helpers import (
    ENDPOINT,
    INFO,
    SUFFIX,
    in_parallel,
    info_entries,
    keytool_entries,
    keytool_import_cert,
    ok,
    plugin_bug,
    run_tasks,
    snapshot,
)
from ansible_collections.apim.certificates.tests.support.java import keytool, keytool_listing, needs_java

pytestmark = [needs_java, pytest.mark.java]

PASSWORD = "keytool-made-pass"

ROWS = {
    "JKS": ("JKS", ()),
    "JCEKS": ("JCEKS", ()),
    "PKCS12": ("PKCS12", ()),
    # what JDK 8 wrote (RC2-40 certificate encryption, SHA-1 MAC): truststores carried over from older gateways
    "PKCS12-legacy-JDK8-format": ("PKCS12", ("-J-Dkeystore.pkcs12.legacy",)),
}
IMPORTED = ("Keytool-RSA", "keytool-ec", "Keytool-Root-CA")  # keytool is given these aliases, mixed case and not


def _imported(certs) -> dict:
    return dict(zip(IMPORTED, (certs.rsa, certs.ec, certs.root)))


@dataclasses.dataclass
class Record:
    before: object = None  # keytool's listing of the store it made
    info_result: object = None  # truststore_info on that store
    add_result: object = None  # endpoint_certificate adding one certificate to it
    after: object = None  # keytool's listing after that


@pytest.fixture(scope="module")
def made_by_keytool(tmp_path_factory, certs) -> dict:
    """row -> Record. The stores are built concurrently; one playbook reads and extends all of them."""
    tmp = tmp_path_factory.mktemp("keytool-made")
    paths = {row: str(tmp / f"{row}.{SUFFIX[ROWS[row][0]]}") for row in ROWS}
    files = {alias: cert.write(tmp) for alias, cert in _imported(certs).items()}

    def build(row):
        store_type, jvm_options = ROWS[row]
        for alias, cert_file in files.items():
            keytool_import_cert(paths[row], PASSWORD, alias, cert_file, store_type, *jvm_options)

    in_parallel(*[functools.partial(build, row) for row in ROWS])
    copies = {row: snapshot(path, "before") for row, path in paths.items()}
    tasks = []
    for path in paths.values():
        tasks += [
            (INFO, {"path": path, "password": PASSWORD}),
            (ENDPOINT, {"path": path, "password": PASSWORD, "alias": "Added-By-Module", "certificate": certs.extra.pem}),
        ]
    results, *befores = in_parallel(
        functools.partial(run_tasks, tmp, *tasks),
        *[functools.partial(keytool_listing, copy, PASSWORD) for copy in copies.values()],
    )
    afters = in_parallel(*[functools.partial(keytool_listing, path, PASSWORD) for path in paths.values()])
    return {
        row: Record(before, results[2 * index], results[2 * index + 1], after)
        for index, (row, before, after) in enumerate(zip(ROWS, befores, afters))
    }


@pytest.mark.parametrize("row", list(ROWS))
def test_truststore_info_reports_what_keytool_wrote(made_by_keytool, certs, row):
    store_type = ROWS[row][0]
    record = made_by_keytool[row]
    assert record.before.store_type == store_type
    assert keytool_entries(record.before) == {
        alias.lower(): ("trustedCertEntry", cert.sha256) for alias, cert in _imported(certs).items()
    }
    info = ok(record.info_result)
    assert info["store_type"] == store_type
    assert info["integrity_verified"] is True
    assert info_entries(info) == keytool_entries(record.before)


@pytest.mark.parametrize("row", list(ROWS))
def test_endpoint_certificate_extends_a_keytool_store_that_keytool_still_opens(made_by_keytool, certs, row):
    store_type = ROWS[row][0]
    record = made_by_keytool[row]
    result = ok(record.add_result)
    assert result.changed
    assert result["store_type"] == store_type
    assert result["results"][0]["action"] == "added"

    # keytool opens the changed store with the same password (its integrity check), detects the same type,
    # and lists the originals unchanged (type, SHA-256, creation date) plus the new entry
    after = record.after
    assert after.store_type == store_type
    assert len(after.entries) == len(IMPORTED) + 1
    for alias, entry in record.before.entries.items():
        assert after.entries[alias] == entry, alias
    assert keytool_entries(after)["added-by-module"] == ("trustedCertEntry", certs.extra.sha256)


# --- regressions: bugs these tests found in plugins/ (fixed) ------------------------------------------------------


def test_pkcs12_secret_key_entry_is_neither_hidden_nor_dropped(tmp_path, certs):
    path = str(tmp_path / "with-secret-key.p12")
    keytool("-genseckey", "-alias", "session-key", "-keyalg", "AES", "-keysize", "128", "-keystore", path,
            "-storetype", "PKCS12", password=PASSWORD)
    keytool_import_cert(path, PASSWORD, "backend", certs.rsa.write(tmp_path), "PKCS12")

    try:
        converge_truststore(path, PASSWORD, [DesiredCertificate("new-backend", "present", certs.extra.cert)])
    except Exception:  # noqa: BLE001 - refusing to rewrite a store with keys is an acceptable outcome
        pass
    listing = keytool_listing(path, PASSWORD)
    with plugin_bug():
        assert "session-key" in listing.entries, "converge_truststore (endpoint_certificate's writer) dropped the secret key"
        assert listing.entries["session-key"].entry_type == "SecretKeyEntry"
        assert load_truststore(path, PASSWORD).entries["session-key"].entry_type == "SecretKeyEntry"


def test_pkcs12_with_two_private_keys_is_reported_as_keytool_lists_it(tmp_path):
    path = str(tmp_path / "two-keys.p12")
    for alias in ("first-key", "second-key"):
        keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-dname", f"CN={alias}", "-keystore", path,
                "-storetype", "PKCS12", password=PASSWORD)
    listing = keytool_listing(path, PASSWORD)
    assert {alias: entry.entry_type for alias, entry in listing.entries.items()} == {
        "first-key": "PrivateKeyEntry", "second-key": "PrivateKeyEntry",
    }
    with plugin_bug():
        store = load_truststore(path, PASSWORD)
        assert {alias: (e.entry_type, e.sha256) for alias, e in store.entries.items()} == keytool_entries(listing)


@pytest.mark.parametrize("writer", ["keytool", "collection"])
@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_alias_outside_the_basic_multilingual_plane(tmp_path, certs, store_type, writer):
    path = str(tmp_path / f"emoji-alias.{SUFFIX[store_type]}")
    alias = "backend-\U0001F680"
    if writer == "keytool":
        keytool_import_cert(path, PASSWORD, alias, certs.rsa.write(tmp_path), store_type)
    else:
        converge_truststore(path, PASSWORD, [DesiredCertificate(alias, "present", certs.rsa.cert)],
                            store_type=store_type, create=True)
    assert keytool_entries(keytool_listing(path, PASSWORD)) == {alias: ("trustedCertEntry", certs.rsa.sha256)}
    with plugin_bug():
        store = load_truststore(path, PASSWORD)
        assert store.fingerprints() == {alias: certs.rsa.sha256}
