"""The JVM as judge: a Java TLS client trusts a backend exactly when endpoint_certificate has put its certificate
into the client's truststore, for each store type.

A local HTTPS server on 127.0.0.1 presents a fresh self-signed certificate for localhost and 127.0.0.1. Each
truststore starts with one unrelated certificate (written by the library): the JVM loads it and fails with PKIX,
which shows it read the store yet found no anchor. After endpoint_certificate adds the server's certificate,
the same client gets HTTP 200 from https://localhost:<port>/ (hostname verification included).
"""

from __future__ import annotations

import dataclasses
import functools

import pytest

from ansible_collections.apim.certificates.plugins.module_utils._truststore import DesiredCertificate, converge_truststore
from ansible_collections.apim.certificates.tests.interop.helpers import ENDPOINT, STORE_TYPES, SUFFIX, in_parallel, ok, run_tasks, snapshot
from ansible_collections.apim.certificates.tests.support.java import java_tls_get, needs_java
from ansible_collections.apim.certificates.tests.support.servers import https_server

pytestmark = [needs_java, pytest.mark.java]

PASSWORD = "jvm-judge-pass"


@dataclasses.dataclass
class Record:
    before: object  # the client's run against the store with the unrelated certificate only
    add_result: object
    after: object  # ... and after endpoint_certificate added the server's certificate


@pytest.fixture(scope="module")
def judged(tmp_path_factory, certs, server_cert, tls_client) -> dict:
    tmp = tmp_path_factory.mktemp("jvm-judge")
    paths = {t: str(tmp / f"client-truststore.{SUFFIX[t]}") for t in STORE_TYPES}
    for store_type, path in paths.items():
        converge_truststore(path, PASSWORD, [DesiredCertificate("unrelated", "present", certs.unrelated.cert)],
                            store_type=store_type, create=True)
    copies = {t: snapshot(path, "before") for t, path in paths.items()}
    tasks = [
        (ENDPOINT, {"path": path, "password": PASSWORD, "alias": "Local-Backend", "certificate": server_cert.pem})
        for path in paths.values()
    ]
    with https_server(server_cert.cert, server_cert.key) as port:
        url = f"https://localhost:{port}/"
        results, *befores = in_parallel(
            functools.partial(run_tasks, tmp, *tasks),
            *[functools.partial(java_tls_get, tls_client, url, copies[t], PASSWORD, t) for t in STORE_TYPES],
        )
        afters = in_parallel(*[functools.partial(java_tls_get, tls_client, url, paths[t], PASSWORD, t) for t in STORE_TYPES])
    return {t: Record(befores[i], results[i], afters[i]) for i, t in enumerate(STORE_TYPES)}


@pytest.mark.parametrize("store_type", STORE_TYPES)
def test_jvm_refuses_the_backend_while_the_truststore_lacks_its_certificate(judged, store_type):
    run = judged[store_type].before
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "PKIX" in output or "unable to find valid certification path" in output, output


@pytest.mark.parametrize("store_type", STORE_TYPES)
def test_jvm_trusts_the_backend_once_endpoint_certificate_added_it(judged, server_cert, store_type):
    record = judged[store_type]
    result = ok(record.add_result)
    assert result.changed
    assert result["store_type"] == store_type
    assert result["results"][0]["alias"] == "local-backend"
    assert result["results"][0]["fingerprint"] == server_cert.sha256

    output = record.after.stdout + record.after.stderr
    assert record.after.returncode == 0, output
    assert "HTTP 200" in record.after.stdout, output
