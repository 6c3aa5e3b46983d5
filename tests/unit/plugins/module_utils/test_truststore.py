from __future__ import annotations

import os
import threading
import time

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import (
    CertificateError,
    LostWriteError,
    TruncatedStoreError,
    TruststoreError,
)
from ansible_collections.apim.certificates.plugins.module_utils._facts import entry_facts
from ansible_collections.apim.certificates.tests.support import FIXTURES
from ansible_collections.apim.certificates.tests.support.pki import cryptography_has, der, expired_cert, make_cert, sha256

PASSWORD = "s3cret-Store!"
CERTS = [make_cert(f"backend{i}.test")[0] for i in range(4)]
STOCK = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "client-truststore.jks")
KEYSTORE = os.path.join(FIXTURES, "carbon-kernel-4.9.x", "wso2carbon.jks")
needs_fixtures = pytest.mark.skipif(not os.path.exists(STOCK), reason=f"../shared/fixtures absent: {STOCK} not found")


def _present(alias, cert):
    return ts.DesiredCertificate(alias, "present", cert)


def _store_with(tmp_path, store_type, certs, name=None):
    path = str(tmp_path / (name or f"store.{store_type.lower()}"))
    ts.converge_truststore(path, PASSWORD, [_present(f"Alias{i}", c) for i, c in enumerate(certs)], store_type=store_type, create=True)
    return path


@pytest.mark.parametrize("store_type", ts.STORE_TYPES)
def test_round_trip_keeps_aliases_and_fingerprints(tmp_path, store_type):
    path = _store_with(tmp_path, store_type, CERTS)
    store = ts.load_truststore(path, PASSWORD)
    assert store.store_type == store_type
    assert store.fingerprints() == {f"alias{i}": sha256(c) for i, c in enumerate(CERTS)}
    assert all(e.entry_type == ts.TRUSTED_CERT for e in store.entries.values())
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("store_type", ts.STORE_TYPES)
def test_declared_type_must_match_the_bytes(tmp_path, store_type):
    path = _store_with(tmp_path, store_type, CERTS[:1])
    for other in ts.STORE_TYPES:
        if other == store_type:
            assert ts.load_truststore(path, PASSWORD, other.lower()).store_type == store_type
            continue
        with pytest.raises(TruststoreError) as info:
            ts.load_truststore(path, PASSWORD, other)
        assert f"store_type is {other} but the file is a {store_type} store" in str(info.value)


@pytest.mark.parametrize("store_type", ts.STORE_TYPES)
def test_wrong_password_is_named(tmp_path, store_type):
    path = _store_with(tmp_path, store_type, CERTS[:1])
    with pytest.raises(TruststoreError, match="wrong password") as info:
        ts.load_truststore(path, "not-the-password")
    assert "not-the-password" not in str(info.value)


@pytest.mark.parametrize("store_type", ts.STORE_TYPES)
@pytest.mark.parametrize("cut", [0.5, 0.9, -1])
def test_truncated_stores_are_refused(tmp_path, store_type, cut):
    path = _store_with(tmp_path, store_type, CERTS[:2])
    data = open(path, "rb").read()
    size = len(data) - 1 if cut == -1 else int(len(data) * cut)
    with open(path, "wb") as handle:
        handle.write(data[:size])
    with pytest.raises(TruststoreError, match="corrupt|truncated|wrong password"):
        ts.load_truststore(path, PASSWORD)
    if store_type != "PKCS12":
        with pytest.raises(TruststoreError, match="corrupt|truncated"):
            ts.load_truststore(path, None)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"hello world", "not a Java keystore"),
        (b"\xfe\xed\xfe\xed\x00\x00\x00\x07", "unsupported JKS version 7"),
        (b"\xfe\xed\xfe\xed\x00\x00\x00\x02\x00\x00\x00\x05", "corrupt or truncated"),
        (b"\x30\x82\x01\x00garbage", "corrupt or truncated"),
    ],
)
def test_not_a_store(tmp_path, content, message):
    path = tmp_path / "bad.jks"
    path.write_bytes(content)
    with pytest.raises(TruststoreError, match=message):
        ts.load_truststore(str(path), PASSWORD)


def test_missing_directory_and_dangling_link(tmp_path):
    with pytest.raises(TruststoreError, match="does not exist"):
        ts.load_truststore(str(tmp_path / "nope.jks"), PASSWORD)
    with pytest.raises(TruststoreError, match="is a directory"):
        ts.load_truststore(str(tmp_path), PASSWORD)
    link = tmp_path / "link.jks"
    link.symlink_to(tmp_path / "gone.jks")
    with pytest.raises(TruststoreError, match="dangling symbolic link"):
        ts.load_truststore(str(link), PASSWORD)


def test_jks_without_password_is_listed_but_not_verified(tmp_path):
    path = _store_with(tmp_path, "JKS", CERTS[:2])
    store = ts.load_truststore(path, None)
    assert store.integrity_verified is False
    assert len(store.entries) == 2


def test_pkcs12_without_password_says_so(tmp_path):
    path = _store_with(tmp_path, "PKCS12", CERTS[:1])
    with pytest.raises(TruststoreError, match="only be read with its password"):
        ts.load_truststore(path, None)


def test_plan_is_by_content_not_by_alias(tmp_path):
    path = _store_with(tmp_path, "JKS", CERTS[:2])
    store = ts.load_truststore(path, PASSWORD)
    plan = ts.plan_changes(store, [
        _present("ALIAS0", CERTS[0]),   # same cert, other case: unchanged
        _present("alias1", CERTS[2]),   # other cert: replaced
        _present("new", CERTS[3]),      # added
        ts.DesiredCertificate("gone", "absent"),  # not there: unchanged
    ])
    assert [(c.alias, c.action) for c in plan.changes] == [
        ("alias0", "unchanged"), ("alias1", "replaced"), ("new", "added"), ("gone", "unchanged"),
    ]
    assert plan.changes[1].previous_fingerprint == sha256(CERTS[1])
    assert plan.changed


def test_replace_false_keeps_and_warns(tmp_path):
    store = ts.load_truststore(_store_with(tmp_path, "JKS", CERTS[:1]), PASSWORD)
    plan = ts.plan_changes(store, [_present("alias0", CERTS[1])], replace=False)
    assert not plan.changed
    assert "replace is false" in plan.warnings[0]


def test_same_certificate_under_another_alias_warns(tmp_path):
    store = ts.load_truststore(_store_with(tmp_path, "JKS", CERTS[:1]), PASSWORD)
    plan = ts.plan_changes(store, [_present("copy", CERTS[0])])
    assert plan.changes[0].action == "added"
    assert "under alias 'alias0'" in plan.warnings[0]


def test_expired_is_refused_unless_allowed(tmp_path):
    store = ts.load_truststore(_store_with(tmp_path, "JKS", CERTS[:1]), PASSWORD)
    old, _unused_key = expired_cert()
    with pytest.raises(CertificateError, match="expired on .*allow_expired"):
        ts.plan_changes(store, [_present("old", old)])
    assert ts.plan_changes(store, [_present("old", old)], allow_expired=True).changes[0].action == "added"


def test_duplicate_aliases_in_one_request(tmp_path):
    store = ts.load_truststore(_store_with(tmp_path, "JKS", CERTS[:1]), PASSWORD)
    with pytest.raises(TruststoreError, match="given twice"):
        ts.plan_changes(store, [_present("Dup", CERTS[1]), _present("dup", CERTS[2])])


@pytest.mark.parametrize("store_type", ts.STORE_TYPES)
def test_converge_writes_once_and_then_never(tmp_path, store_type):
    path = _store_with(tmp_path, store_type, CERTS[:2])
    before = os.stat(path)
    desired = [_present("alias0", CERTS[0]), ts.DesiredCertificate("alias1", "absent"), _present("x", CERTS[3])]
    predicted = ts.converge_truststore(path, PASSWORD, desired, check_mode=True)
    assert predicted.changed and os.stat(path).st_mtime_ns == before.st_mtime_ns
    done = ts.converge_truststore(path, PASSWORD, desired)
    assert [c.action for c in done.plan.changes] == [c.action for c in predicted.plan.changes] == ["unchanged", "removed", "added"]
    after = os.stat(path)
    again = ts.converge_truststore(path, PASSWORD, desired)
    assert not again.changed
    assert os.stat(path).st_mtime_ns == after.st_mtime_ns and os.stat(path).st_ino == after.st_ino
    assert ts.load_truststore(path, PASSWORD).fingerprints() == {"alias0": sha256(CERTS[0]), "x": sha256(CERTS[3])}


def test_converge_missing_store_needs_create(tmp_path):
    with pytest.raises(TruststoreError, match="set create to true"):
        ts.converge_truststore(str(tmp_path / "new.jks"), PASSWORD, [_present("a", CERTS[0])])
    with pytest.raises(TruststoreError, match="set create to true"):
        ts.converge_truststore(str(tmp_path / "new.jks"), PASSWORD, [_present("a", CERTS[0])], check_mode=True)
    assert not (tmp_path / "new.jks").exists()


def test_converge_backup_keeps_the_old_bytes(tmp_path):
    path = _store_with(tmp_path, "JKS", CERTS[:1])
    old = open(path, "rb").read()
    result = ts.converge_truststore(path, PASSWORD, [_present("b", CERTS[1])], backup=True)
    assert result.backup_file and open(result.backup_file, "rb").read() == old
    assert PASSWORD not in result.backup_file


def test_jceks_differs_from_jks_only_in_magic(tmp_path):
    jks_path = _store_with(tmp_path, "JKS", CERTS[:2])
    jceks_path = _store_with(tmp_path, "JCEKS", CERTS[:2])
    jks_store = ts.load_truststore(jks_path, PASSWORD)
    jceks_store = ts.load_truststore(jceks_path, PASSWORD)
    assert jks_store.fingerprints() == jceks_store.fingerprints()
    assert open(jceks_path, "rb").read()[:4] == b"\xce\xce\xce\xce"


@needs_fixtures
def test_stock_wso2_truststore_round_trips_byte_for_byte():
    store = ts.load_truststore(STOCK, "wso2carbon")
    assert store.store_type == "JKS" and len(store.entries) == 146
    assert {"wso2carbon", "gateway_certificate_alias"} <= set(store.entries)
    assert ts.serialize_truststore(store, "wso2carbon") == open(STOCK, "rb").read()


@needs_fixtures
def test_key_entries_survive_a_rewrite_untouched(tmp_path):
    path = tmp_path / "wso2carbon.jks"
    path.write_bytes(open(KEYSTORE, "rb").read())
    ts.converge_truststore(str(path), "wso2carbon", [_present("backend", CERTS[0])])
    before = ts.load_truststore(KEYSTORE, "wso2carbon").entries["wso2carbon"]
    after = ts.load_truststore(str(path), "wso2carbon").entries["wso2carbon"]
    assert after.entry_type == ts.PRIVATE_KEY
    assert after.protected_key == before.protected_key and after.chain == before.chain
    with pytest.raises(TruststoreError, match="does not remove keys"):
        ts.plan_changes(ts.load_truststore(str(path), "wso2carbon"), [ts.DesiredCertificate("wso2carbon", "absent")])
    with pytest.raises(TruststoreError, match="refusing to replace a key entry"):
        ts.plan_changes(ts.load_truststore(str(path), "wso2carbon"), [_present("wso2carbon", CERTS[1])])


def test_entry_facts_use_the_public_names(tmp_path):
    if not cryptography_has("pkcs12_write"):
        pytest.skip("writing PKCS12 truststores needs cryptography >= 45.0.0 (this run is on the library floor)")
    store = ts.load_truststore(_store_with(tmp_path, "PKCS12", CERTS[:1]), PASSWORD)
    facts = entry_facts(store.entries["alias0"])
    assert set(facts) == {
        "alias", "entry_type", "subject", "issuer", "serial_number", "not_before", "not_after", "status",
        "days_remaining", "fingerprints", "subject_alt_names", "is_ca", "self_signed", "signature_algorithm", "public_key",
        "java_error", "unread_facts",
    }
    assert facts["java_error"] is None and facts["unread_facts"] is None
    assert facts["fingerprints"]["sha256"] == sha256(CERTS[0])
    assert der(CERTS[0]) == store.entries["alias0"].certificate


@pytest.mark.parametrize("value, expected", [("auto", "auto"), (None, "auto"), ("jks", "JKS"), ("Jceks", "JCEKS"), ("p12", "PKCS12"), ("PKCS12", "PKCS12")])
def test_store_type_names(value, expected):
    assert ts.normalize_store_type(value) == expected


def test_unknown_store_type():
    with pytest.raises(TruststoreError, match="'BKS' is not one of"):
        ts.normalize_store_type("BKS")


@needs_fixtures
def test_every_stock_root_is_reported_self_signed():
    """SHA-1 roots (DigiCert Global Root CA, ...) included: self-issued is decided without checking the signature."""
    store = ts.load_truststore(STOCK, "wso2carbon")
    facts = [entry_facts(entry) for entry in store.entries.values()]
    assert [f["alias"] for f in facts if not f["self_signed"]] == []
    assert any(f["signature_algorithm"] == "sha1WithRSAEncryption" for f in facts)


_WITHOUT_PYJKS = r"""
import sys
sys.modules["jks"] = None  # `import jks` now raises ImportError, as on a node without pyjks
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError
from ansible_collections.apim.certificates.tests.support.pki import make_cert, sha256
from cryptography.hazmat.primitives.serialization import pkcs12
certs = [make_cert(f"nopyjks{i}.test")[0] for i in range(2)]
# PKCS12 too where this cryptography writes it (45.0+); the library floor's run covers JKS and JCEKS
writable = [t for t in ts.STORE_TYPES if t != "PKCS12" or hasattr(pkcs12, "serialize_java_truststore")]
for store_type in writable:
    path = sys.argv[1] + "/store." + store_type.lower()
    ts.converge_truststore(path, "pw-123456", [ts.DesiredCertificate("a", "present", certs[0])], store_type=store_type, create=True)
    ts.converge_truststore(path, "pw-123456", [ts.DesiredCertificate("b", "present", certs[1]), ts.DesiredCertificate("a", "absent")])
    assert ts.load_truststore(path, "pw-123456").fingerprints() == {"b": sha256(certs[1])}, store_type
for keystore in sys.argv[2:]:
    assert ts.load_truststore(keystore, "wso2carbon").entries["wso2carbon"].entry_type == ts.PRIVATE_KEY
print("ok")
"""


def test_truststores_need_no_pyjks(tmp_path):
    """pyjks is optional: every store type is created, changed and read with `import jks` failing."""
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    from ansible_collections.apim.certificates.tests.support import COLLECTIONS  # pylint: disable=import-outside-toplevel

    keystores = [KEYSTORE] if os.path.exists(KEYSTORE) else []
    proc = subprocess.run([sys.executable, "-c", _WITHOUT_PYJKS, str(tmp_path), *keystores], capture_output=True, text=True,
                          check=False, env={**os.environ, "PYTHONPATH": COLLECTIONS}, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


# --- the gateway's own writer: it rewrites the live store in place, without our lock (issue 22, item 6) ---------


def _rewrite_in_place(path, data, chunk=512, pause=0.002):
    """What a gateway's CertificateMgtUtils does: new FileOutputStream(path) (truncate), then KeyStore.store."""
    with open(path, "r+b" if os.path.exists(path) else "wb") as handle:
        handle.truncate(0)
        for start in range(0, len(data), chunk):
            handle.write(data[start:start + chunk])
            handle.flush()
            time.sleep(pause)


@pytest.mark.parametrize("store_type", ts.STORE_TYPES)
def test_a_read_that_meets_the_gateway_mid_write_reads_again(tmp_path, store_type):
    path = _store_with(tmp_path, store_type, CERTS)
    data = open(path, "rb").read()
    stop = threading.Event()
    writes = []

    def gateway():  # ten in-place writes a second: far more often than Publisher events reach a gateway
        while not stop.wait(0.1):
            _rewrite_in_place(path, data, chunk=max(64, len(data) // 8))
            writes.append(1)

    writer = threading.Thread(target=gateway, daemon=True)
    writer.start()
    try:
        for _read in range(60):
            time.sleep(0.01)
            assert ts.load_truststore(path, PASSWORD).fingerprints() == {f"alias{i}": sha256(c) for i, c in enumerate(CERTS)}
    finally:
        stop.set()
        writer.join(10)
    assert len(writes) > 5, "the writer did not really overlap the reads"


def test_a_truncated_store_that_stays_truncated_is_named_after_a_short_wait(tmp_path):
    path = _store_with(tmp_path, "JKS", CERTS)
    data = open(path, "rb").read()
    with open(path, "wb") as handle:
        handle.write(data[:-7])
    started = time.monotonic()
    with pytest.raises(TruncatedStoreError, match=r"integrity hash is missing or damaged\) \(read 3 times over 0\.15 s"):
        ts.load_truststore(path, PASSWORD)
    assert time.monotonic() - started < 1.0


def test_jks_bytes_after_the_integrity_hash_are_ignored_as_java_does(tmp_path):
    path = _store_with(tmp_path, "JKS", CERTS[:2])
    with open(path, "ab") as handle:
        handle.write(b"\x00trailing bytes keytool ignores")
    assert ts.load_truststore(path, PASSWORD).fingerprints() == {f"alias{i}": sha256(c) for i, c in enumerate(CERTS[:2])}


def test_a_gateway_write_over_ours_is_a_failure_not_a_change(tmp_path, monkeypatch):
    path = _store_with(tmp_path, "JKS", CERTS[:1])
    old = open(path, "rb").read()
    real_write = ts.write_atomic

    def write_then_gateway(target, data, **kwargs):
        backup = real_write(target, data, **kwargs)
        _rewrite_in_place(target, old)  # a gateway that loaded the store before our rename stores its own copy
        return backup

    monkeypatch.setattr(ts, "write_atomic", write_then_gateway)
    with pytest.raises(LostWriteError, match="was rewritten by another process right after this run wrote it"):
        ts.converge_truststore(path, PASSWORD, [_present("new", CERTS[1])])
    assert open(path, "rb").read() == old


def test_a_gateway_write_that_keeps_our_change_is_not_a_failure(tmp_path, monkeypatch):
    path = _store_with(tmp_path, "JKS", CERTS[:1])
    real_write = ts.write_atomic

    def write_then_gateway(target, data, **kwargs):
        backup = real_write(target, data, **kwargs)
        # the gateway loads our store, adds an API client certificate and stores it in place
        store = ts.load_truststore(target, PASSWORD)
        plan = ts.plan_changes(store, [_present("production_client_-1234", CERTS[2])], replace=True)
        _rewrite_in_place(target, ts.serialize_truststore(ts.apply_plan(store, plan), PASSWORD))
        return backup

    monkeypatch.setattr(ts, "write_atomic", write_then_gateway)
    result = ts.converge_truststore(path, PASSWORD, [_present("new", CERTS[1])])
    assert result.changed
    assert set(ts.load_truststore(path, PASSWORD).fingerprints()) == {"alias0", "new", "production_client_-1234"}


def test_a_gateway_write_between_our_read_and_our_write_is_kept(tmp_path, monkeypatch):
    path = _store_with(tmp_path, "JKS", CERTS[:1])
    real_serialize = ts.serialize_truststore
    calls = []

    def serialize_while_gateway_writes(store, password):
        data = real_serialize(store, password)
        if not calls:  # the first plan: the gateway adds a client certificate before our rename
            current = ts.load_truststore(path, PASSWORD)
            plan = ts.plan_changes(current, [_present("production_client_-1234", CERTS[2])], replace=True)
            _rewrite_in_place(path, real_serialize(ts.apply_plan(current, plan), PASSWORD))
        calls.append(1)
        return data

    monkeypatch.setattr(ts, "serialize_truststore", serialize_while_gateway_writes)
    ts.converge_truststore(path, PASSWORD, [_present("new", CERTS[1])])
    assert len(calls) == 2, "the change was not planned again from the store the gateway wrote"
    assert set(ts.load_truststore(path, PASSWORD).fingerprints()) == {"alias0", "new", "production_client_-1234"}


def _handmade_jks(entries, password):
    """A JKS file written entry by entry (as a non-Java tool could): [(alias, der)], the alias bytes as given."""
    import hashlib
    import struct

    body = b"\xfe\xed\xfe\xed" + struct.pack(">II", 2, len(entries))
    for alias, cert_der in entries:
        raw = alias.encode("utf-8")
        body += struct.pack(">I", 2) + struct.pack(">H", len(raw)) + raw + struct.pack(">q", 0)
        body += struct.pack(">H", 5) + b"X.509" + struct.pack(">I", len(cert_der)) + cert_der
    return body + hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()


def test_a_jks_with_one_alias_twice_is_read_as_java_reads_it_the_later_entry_wins(tmp_path):
    path = tmp_path / "twice.jks"
    path.write_bytes(_handmade_jks([("backend", der(CERTS[0])), ("other", der(CERTS[1])), ("backend", der(CERTS[2]))], PASSWORD))
    store = ts.load_truststore(str(path), PASSWORD)
    assert store.fingerprints() == {"backend": sha256(CERTS[2]), "other": sha256(CERTS[1])}
    result = ts.converge_truststore(str(path), PASSWORD, [_present("new", CERTS[3])])
    assert result.changed
    assert ts.load_truststore(str(path), PASSWORD).fingerprints() == {
        "backend": sha256(CERTS[2]), "other": sha256(CERTS[1]), "new": sha256(CERTS[3])}
