"""JCEKS secret-key entries as Java loads them (issue 22, item 5).

JceKeyStore.engineLoad deserializes each secret-key entry under a filter that admits exactly its own
com.sun.crypto.provider.SealedObjectForKeyProtector: a store holding anything else (a plain javax.crypto.SealedObject
that another tool wrote) cannot be loaded by keytool or the gateway at all. truststore_info must say so instead of
listing it as fine; a store keytool made with -genseckey is listed as keytool lists it.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess

import pytest

from ansible_collections.apim.certificates.tests.interop.helpers import INFO, info_entries, keytool_entries, run_tasks
from ansible_collections.apim.certificates.tests.support.java import FAST_JVM, JAVA, keytool, keytool_listing, needs_java
from ansible_collections.apim.certificates.tests.support.pki import der, make_cert

pytestmark = needs_java
pytest.importorskip("jks", reason="pyjks reads JCEKS stores with secret keys (requirements-dev.txt)")

PASSWORD = "jceks-Store-pw1"
SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support", "java", "PlainSealedObject.java")


def _utf(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def _jceks(entries: list) -> bytes:
    body = b"\xce\xce\xce\xce" + struct.pack(">II", 2, len(entries)) + b"".join(entries)
    return body + hashlib.sha1(PASSWORD.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()


def test_a_secret_key_entry_java_cannot_load_is_named(tmp_path):
    subprocess.run(["javac", *(f"-J{flag}" for flag in FAST_JVM), "-d", str(tmp_path), SOURCE], check=True, capture_output=True, timeout=300)
    serialized = tmp_path / "sealed.ser"
    subprocess.run([JAVA, *FAST_JVM, "-cp", str(tmp_path), "PlainSealedObject", str(serialized)], check=True, timeout=120)
    cert = der(make_cert("jceks-ca.test")[0])
    trusted = struct.pack(">I", 2) + _utf("ca") + struct.pack(">q", 0) + _utf("X.509") + struct.pack(">I", len(cert)) + cert
    secret = struct.pack(">I", 3) + _utf("foreign") + struct.pack(">q", 0) + serialized.read_bytes()
    path = tmp_path / "foreign.jceks"
    path.write_bytes(_jceks([trusted, secret]))
    denied = keytool("-list", "-keystore", str(path), "-storetype", "JCEKS", password=PASSWORD, check=False)
    assert denied.returncode != 0 and "Invalid secret key format" in denied.stdout + denied.stderr

    made = str(tmp_path / "keytool.jceks")
    keytool("-genseckey", "-alias", "aes-key", "-keyalg", "AES", "-keysize", "128", "-keystore", made, "-storetype", "JCEKS",
            "-keypass:env", "KT_STOREPASS", password=PASSWORD)
    foreign, fine = run_tasks(tmp_path, (INFO, {"path": str(path), "password": PASSWORD}), (INFO, {"path": made, "password": PASSWORD}))
    assert foreign.failed and "Java cannot load this store: the secret key entry 'foreign'" in foreign["msg"], foreign.get("msg")
    assert info_entries(fine) == keytool_entries(keytool_listing(made, PASSWORD, "JCEKS"))
