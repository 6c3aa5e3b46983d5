"""JKS/JCEKS entries stored under an alias with upper case (by a tool other than keytool, which lower-cases).

Java's engineLoad keeps the alias as stored and every lookup lower-cases it first (JavaKeyStore.convertAlias,
JceKeyStore), so Java lists such an entry and never finds it: its TrustManager does not trust it, and keytool -list,
-delete and -changealias fail on it (tests/interop/test_alias_case.py shows this with keytool and a JVM). The
collection reports it, keeps it byte for byte in place on every rewrite, refuses to add a second entry next to it,
and removes it with state absent.
"""

from __future__ import annotations

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _info
from ansible_collections.apim.certificates.plugins.module_utils import _jks
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError
from ansible_collections.apim.certificates.tests.support.pki import der, make_cert, sha256

PASSWORD = "case-Store-1"
CERTS = [make_cert(f"case{i}.test")[0] for i in range(4)]


def _written_by_another_tool(tmp_path, store_type, aliases) -> str:
    """A store whose aliases are written as given, upper case included (the codec writes the dict's keys)."""
    entries = {alias: ts.TruststoreEntry(alias, ts.TRUSTED_CERT, der(CERTS[i]), 1700000000000 + i) for i, alias in enumerate(aliases)}
    path = str(tmp_path / f"mixed.{store_type.lower()}")
    with open(path, "wb") as handle:
        handle.write(_jks.serialize_jks(ts.Truststore(path, store_type, entries), PASSWORD))
    return path


def _entry_bytes(data: bytes, alias: str, following: str | None) -> bytes:
    start = data.index(b"\x00\x00\x00\x02" + len(alias).to_bytes(2, "big") + alias.encode())
    end = data.index(b"\x00\x00\x00\x02" + len(following).to_bytes(2, "big") + following.encode(), start) if following else len(data) - 20
    return data[start:end]


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_an_upper_case_alias_is_no_entry_and_is_reported(tmp_path, store_type):
    path = _written_by_another_tool(tmp_path, store_type, ["first", "MyBackend", "last"])
    store = ts.load_truststore(path, PASSWORD)
    assert list(store.entries) == ["first", "last"]
    assert [(previous, entry.alias, entry.sha256) for previous, entry, _raw in store.unreachable] == [("first", "MyBackend", sha256(CERTS[1]))]
    result, warnings = _info.report(path=path, password=PASSWORD)
    assert [e["alias"] for e in result["entries"]] == ["first", "last"] and result["count"] == 2
    (untrusted,) = result["untrusted_certificates"]
    assert untrusted["fingerprint"] == sha256(CERTS[1]) and untrusted["subject"].endswith("CN=case1.test")
    assert "'MyBackend'" in untrusted["reason"] and "'mybackend'" in untrusted["reason"] and "does not trust it" in untrusted["reason"]
    assert [w for w in warnings if "'MyBackend'" in w and "state absent" in w], warnings


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_a_rewrite_keeps_it_byte_for_byte_where_it_was(tmp_path, store_type):
    path = _written_by_another_tool(tmp_path, store_type, ["first", "MyBackend", "last"])
    with open(path, "rb") as handle:
        before = handle.read()
    raw = _entry_bytes(before, "MyBackend", "last")
    result = ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate("added", "present", CERTS[3])])
    assert [(c.alias, c.action) for c in result.plan.changes] == [("added", "added")]
    with open(path, "rb") as handle:
        after = handle.read()
    assert after.index(raw) == before.index(raw)  # after "first", as it was
    assert after[8:12] == (4).to_bytes(4, "big")  # the entry count holds it
    store = ts.load_truststore(path, PASSWORD)
    assert list(store.entries) == ["first", "last", "added"] and [u[1].alias for u in store.unreachable] == ["MyBackend"]
    # the entry it followed removed: it goes last, still byte for byte
    ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate("first", "absent")])
    with open(path, "rb") as handle:
        data = handle.read()
    assert data.index(raw) == len(data) - 20 - len(raw) and [u[1].alias for u in ts.load_truststore(path, PASSWORD).unreachable] == ["MyBackend"]


def test_a_second_entry_next_to_it_is_refused_and_state_absent_removes_it(tmp_path):
    path = _written_by_another_tool(tmp_path, "JKS", ["MyBackend", "other"])
    with open(path, "rb") as handle:
        before = handle.read()
    with pytest.raises(TruststoreError) as info:
        ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate("mybackend", "present", CERTS[3])])
    text = str(info.value)
    assert "'MyBackend'" in text and "second entry" in text and "state absent for alias 'mybackend'" in text
    with open(path, "rb") as handle:
        assert handle.read() == before
    store = ts.load_truststore(path, PASSWORD)
    plan = ts.plan_changes(store, [ts.DesiredCertificate("MYBACKEND", "absent")])
    assert [(c.alias, c.action, c.previous_fingerprint) for c in plan.changes] == [("mybackend", "removed", sha256(CERTS[0]))]
    assert plan.diff(store)["before"] == {"mybackend": {"fingerprint": sha256(CERTS[0]), "subject": "O=apim.certificates tests,CN=case0.test"}}
    assert any("'MyBackend'" in w for w in plan.warnings)
    ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate("mybackend", "absent")])
    after = ts.load_truststore(path, PASSWORD)
    assert list(after.entries) == ["other"] and after.unreachable == ()
    assert ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate("mybackend", "present", CERTS[0])]).changed
    assert ts.load_truststore(path, PASSWORD).fingerprints() == {"other": sha256(CERTS[1]), "mybackend": sha256(CERTS[0])}


def test_a_live_entry_with_an_upper_case_twin_is_changed_as_java_changes_it(tmp_path):
    """keytool -importcert -alias mybackend replaces the entry Java finds, and keeps the twin it cannot find."""
    path = _written_by_another_tool(tmp_path, "JKS", ["MyBackend", "mybackend"])
    result = ts.converge_truststore(path, PASSWORD, [ts.DesiredCertificate("mybackend", "present", CERTS[3])])
    assert [(c.alias, c.action) for c in result.plan.changes] == [("mybackend", "replaced")]
    store = ts.load_truststore(path, PASSWORD)
    assert store.fingerprints() == {"mybackend": sha256(CERTS[3])} and [u[1].alias for u in store.unreachable] == ["MyBackend"]
