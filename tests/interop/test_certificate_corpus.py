"""What Java accepts, we accept; what Java cannot read, we never write (issue 22): a corpus nobody on this project made.

The corpus: every certificate in cryptography's own test vectors (the pinned ``cryptography_vectors`` package: PEM
blocks and DER files under ``x509/``), and the synthetic certificates of tests/support/java_probes.py, each varying
one DER feature. A JVM (tests/support/java/CertJudge.java: CertificateFactory, then a JKS store round trip) is the
judge. For every certificate the collection's reader must give Java's verdict, never a traceback; then every
certificate Java accepts is stored through endpoint_certificate in JKS, JCEKS and PKCS12 stores, which keytool must
load and list exactly as truststore_info does, and every certificate Java refuses must be refused by
endpoint_certificate with Java's reason, the store unchanged.

The judge counts a certificate that Java reads but would store re-encoded (BER with an indefinite length: the store
would hold it under another fingerprint than the one the user gave) as refused, and so does the collection.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.tests.interop.helpers import INFO, ENDPOINT, info_entries, keytool_entries, ok, run_tasks
from ansible_collections.apim.certificates.tests.support import java_probes
from ansible_collections.apim.certificates.tests.support.java import java_judge, keytool, keytool_listing, needs_java

pytestmark = needs_java

PASSWORD = "corpus-Store-pw1"
_PEM = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----\r?\n?(.*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----", re.DOTALL)
_HEADER = re.compile(rb"^[A-Za-z-]+:.*$", re.MULTILINE)


def _vector_certificates() -> dict:
    try:
        import cryptography_vectors  # pylint: disable=import-outside-toplevel
    except ImportError:
        pytest.skip("cryptography_vectors is not installed (requirements-test.txt pins it): make venv")
    root = os.path.join(os.path.dirname(cryptography_vectors.__file__), "x509")
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                data = handle.read()
            label = os.path.relpath(path, root)
            if b"-----BEGIN " in data:
                for index, match in enumerate(_PEM.finditer(data)):
                    try:
                        der = base64.b64decode(b"".join(_HEADER.sub(b"", match.group(1)).split()), validate=True)
                    except (binascii.Error, ValueError):
                        continue
                    found.setdefault(der, f"{label}#{index}")
            elif data[:1] == b"\x30":
                length = certs.der_element_length(data)
                if length is not None and length <= len(data):
                    found.setdefault(data[:length], label)
    return {label: der for der, label in found.items()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """label -> (DER, Java's verdict, Java's detail) for every certificate of the corpus."""
    ders = _vector_certificates()
    ders.update({f"probe:{name}": der for name, (_what, der) in java_probes.generate().items()})
    verdicts = java_judge(ders, str(tmp_path_factory.mktemp("judge")))
    return {label: (der, *verdicts[label]) for label, der in ders.items()}


def _ours(der: bytes) -> tuple:
    try:
        found = certs.read_certificates(der, "certificate")
    except ApimCertificatesError as exc:
        return "REFUSE", str(exc)
    return "ACCEPT", found


def test_the_collection_gives_javas_verdict_on_every_certificate(corpus):
    accepted = sum(1 for _der, verdict, _detail in corpus.values() if verdict == "ACCEPT")
    assert len(corpus) > 1500 and 500 < accepted < len(corpus), (len(corpus), accepted)
    differences = []
    for label, (der, verdict, detail) in sorted(corpus.items()):
        ours, found = _ours(der)  # anything but our own error is a traceback: the test fails on it
        if ours == verdict:
            if ours == "ACCEPT":
                assert len(found) == 1 and found[0].der == der, label
                assert hashlib.sha256(der).hexdigest() == detail, f"{label}: Java stores other bytes"
            continue
        differences.append(f"{label}: Java {verdict} ({detail}), the collection {ours} ({found if ours == 'REFUSE' else ''})")
    assert not differences, f"{len(differences)} verdicts differ from Java's:\n" + "\n".join(differences)


def test_java_refusals_are_named_with_javas_reason(corpus):
    """Where cryptography reads a certificate that Java refuses, the collection's message carries Java's reason."""
    checked = 0
    for label, (der, verdict, detail) in corpus.items():
        if verdict != "REFUSE":
            continue
        try:
            certs.load_der_certificate(der)
        except ValueError:
            continue
        checked += 1
        ours, message = _ours(der)
        assert ours == "REFUSE" and "Java cannot read this certificate" in message, f"{label}: {message}"
    assert checked >= 10


def _store_batches(corpus):
    """Java-accepted certificates in batches for endpoint_certificate (PKCS12 only those cryptography reads: it writes
    PKCS12 through cryptography)."""
    accepted = [(label, der) for label, (der, verdict, _d) in sorted(corpus.items()) if verdict == "ACCEPT"]
    readable = []
    for label, der in accepted:
        try:
            certs.load_der_certificate(der)
            readable.append((label, der))
        except ValueError:
            pass
    return accepted, readable


def test_every_certificate_java_accepts_is_stored_and_keytool_lists_it_as_truststore_info_does(corpus, tmp_path):
    accepted, readable = _store_batches(corpus)
    assert len(readable) < len(accepted), "the corpus has no certificate that only Java reads"
    tasks, stores = [], {}
    for store_type, batch in (("JKS", accepted), ("JCEKS", accepted), ("PKCS12", readable)):
        path = str(tmp_path / f"corpus.{store_type.lower()}")
        items = [{"alias": f"c{index}", "certificate": certs.pem_of_der(der)} for index, (_label, der) in enumerate(batch)]
        stores[store_type] = (path, {f"c{index}": der for index, (_label, der) in enumerate(batch)})
        tasks.append((ENDPOINT, {"path": path, "password": PASSWORD, "store_type": store_type, "create": True,
                                 "allow_expired": True, "certificates": items}))
        tasks.append((INFO, {"path": path, "password": PASSWORD}))
    results = run_tasks(tmp_path, *tasks)
    for (store_type, (path, wanted)), added, info in zip(stores.items(), results[0::2], results[1::2]):
        ok(added)
        expected = {alias: ("trustedCertEntry", certs.sha256_fingerprint(der)) for alias, der in wanted.items()}
        assert keytool_entries(keytool_listing(path, PASSWORD, store_type)) == expected, store_type
        assert info_entries(info) == expected, store_type
        assert not info.get("warnings"), info.get("warnings")
        unread = [e for e in info["entries"] if e["unread_facts"]]
        assert all(e["subject"] is not None and e["java_error"] is None for e in unread)
        if store_type != "PKCS12":
            assert unread, "no entry was reported from the DER alone"


def test_every_certificate_java_refuses_is_refused_by_endpoint_certificate_with_the_store_unchanged(corpus, tmp_path):
    refused = []
    for label, (der, verdict, _detail) in sorted(corpus.items()):
        if verdict != "REFUSE":
            continue
        try:
            certs.load_der_certificate(der)
        except ValueError:
            continue  # cryptography refuses it too: the library-level test covers it
        refused.append((label, der))
    path = str(tmp_path / "refusals.jks")
    seed = corpus[sorted(label for label, v in corpus.items() if v[1] == "ACCEPT")[0]][0]
    tasks = [(ENDPOINT, {"path": path, "password": PASSWORD, "create": True, "allow_expired": True, "alias": "seed",
                         "certificate": certs.pem_of_der(seed)})]
    tasks += [(ENDPOINT, {"path": path, "password": PASSWORD, "alias": f"r{index}", "allow_expired": True,
                          "certificate": certs.pem_of_der(der)}) for index, (_label, der) in enumerate(refused)]
    results = run_tasks(tmp_path, *tasks)
    ok(results[0])
    before = open(path, "rb").read()
    for (label, _der), result in zip(refused, results[1:]):
        assert result.failed, f"{label} was stored though Java refuses it"
        assert "Java cannot read this certificate" in result["msg"], f"{label}: {result['msg']}"
        assert "Traceback" not in str(result), label
    assert open(path, "rb").read() == before
    assert list(keytool_listing(path, PASSWORD, "JKS").entries) == ["seed"]


def test_stores_keytool_made_with_certificates_only_java_reads_are_listed_as_keytool_lists_them(corpus, tmp_path):
    """keytool imports certificates Java reads and cryptography does not (an x400Address or EDIPartyName name, an
    empty ExtendedKeyUsage, a BER length...): truststore_info lists them as keytool does, with no traceback, and
    endpoint_certificate adds to such a store with every entry kept."""
    only_java = []
    for label, (der, verdict, _detail) in sorted(corpus.items()):
        if verdict != "ACCEPT" or label.startswith("probe:"):
            continue
        try:
            certs.load_der_certificate(der)
        except ValueError:
            only_java.append((label, der))
    assert any("x400address" in label for label, _der in only_java), "the corpus lost its x400Address certificate"
    tasks = []
    for store_type in ("JKS", "PKCS12"):
        path = str(tmp_path / f"keytool-made.{store_type.lower()}")
        for index, (_label, der) in enumerate(only_java):
            cert_file = tmp_path / f"only-java-{index}.der"
            cert_file.write_bytes(der)
            keytool("-importcert", "-noprompt", "-alias", f"Only-Java-{index}", "-file", str(cert_file),
                    "-keystore", path, "-storetype", store_type, password=PASSWORD)
        tasks.append((INFO, {"path": path, "password": PASSWORD}))
    results = run_tasks(tmp_path, *tasks)
    for store_type, info in zip(("JKS", "PKCS12"), results):
        path = str(tmp_path / f"keytool-made.{store_type.lower()}")
        assert info_entries(info) == keytool_entries(keytool_listing(path, PASSWORD, store_type)), store_type
        assert all(e["unread_facts"] and e["subject"] for e in info["entries"]), store_type
    path = str(tmp_path / "keytool-made.jks")
    before = keytool_entries(keytool_listing(path, PASSWORD, "JKS"))
    one_more = {"path": path, "password": PASSWORD, "alias": "one-more", "certificate": certs.pem_of_der(only_java[0][1]),
                "allow_expired": True, "strict_alias": False}
    ok(run_tasks(tmp_path, (ENDPOINT, one_more))[0])
    after = keytool_entries(keytool_listing(path, PASSWORD, "JKS"))
    assert {alias: after[alias] for alias in before} == before
    p12 = str(tmp_path / "new.p12")
    (refused,) = run_tasks(tmp_path, (ENDPOINT, {"path": p12, "password": PASSWORD, "store_type": "PKCS12", "create": True,
                                                 "alias": "only-java", "allow_expired": True,
                                                 "certificate": certs.pem_of_der(only_java[0][1])}))
    assert refused.failed and "Java reads but cryptography cannot" in refused["msg"], refused.get("msg")
    assert not os.path.exists(p12)
