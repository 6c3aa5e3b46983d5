"""endpoint_keystore's keystores judged by keytool and a JVM: keytool lists the key entry with its chain and exports
the key with the key password; Java's KeyManagerFactory loads it and presents it to a backend that requires a client
certificate (Python's ssl with CERT_REQUIRED). Keystores keytool made are read, and their entries kept.

Passwords reach keytool and Java through the environment (keytool's :env forms), never the command line.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apim.certificates.plugins.module_utils import _keystore as ks
from ansible_collections.apim.certificates.plugins.module_utils._errors import TruststoreError
from ansible_collections.apim.certificates.tests.support import java
from ansible_collections.apim.certificates.tests.support.pki import der, key_pem, make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import mutual_tls_server

pytestmark = java.needs_java

STORE_PW = "Interop-Store-pw"
KEY_PW = "Interop-Key-pw"
JUDGE = os.path.join(os.path.dirname(os.path.abspath(java.__file__)), "java", "KeyJudge.java")

ROOT_KEY = ec.generate_private_key(ec.SECP256R1())
ROOT, _unused = make_cert("Interop Client Root CA", ca=True, sans=[], key=ROOT_KEY)
INTER_KEY = ec.generate_private_key(ec.SECP256R1())
INTER, _unused = make_cert("Interop Client Issuing CA", ca=True, sans=[], issuer=ROOT, issuer_key=ROOT_KEY, key=INTER_KEY)
LEAF_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LEAF, _unused = make_cert("gateway.interop.test", issuer=INTER, issuer_key=INTER_KEY, key=LEAF_KEY)
EC_KEY = ec.generate_private_key(ec.SECP384R1())
EC_LEAF, _unused = make_cert("gateway-ec.interop.test", issuer=INTER, issuer_key=INTER_KEY, key=EC_KEY)
UNTRUSTED_KEY = ec.generate_private_key(ec.SECP256R1())
UNTRUSTED, _unused = make_cert("stranger.interop.test", key=UNTRUSTED_KEY)


def _key_password(store_type):
    return STORE_PW if store_type == "PKCS12" else KEY_PW


def _put(path, store_type, key=LEAF_KEY, leaf=LEAF, chain=(INTER, ROOT), alias="client", key_password=None):
    request = ks.resolve_request({"alias": alias, "private_key": key_pem(key), "certificate": "".join(pem(c) for c in (leaf, *chain))})
    return ks.manage(request, ks.Options(create=True), path=path, password=STORE_PW,
                     key_password=key_password or _key_password(store_type), store_type=store_type)


@pytest.fixture(scope="module")
def judge(tmp_path_factory) -> str:
    classes = str(tmp_path_factory.mktemp("keyjudge"))
    subprocess.run(["javac", *(f"-J{flag}" for flag in java.FAST_JVM), "-d", classes, JUDGE], check=True,
                   capture_output=True, timeout=300)
    return classes


def _judge(classes, path, store_type, alias, key_password, url=None) -> str:
    env = dict(os.environ, KJ_STOREPASS=STORE_PW, KJ_KEYPASS=key_password)
    args = [java.JAVA, *java.FAST_JVM, "-cp", classes, "KeyJudge", path, store_type, alias] + ([url] if url else [])
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=False)
    return proc.stdout + proc.stderr


def _keytool_genkeypair(path, store_type, alias, key_password):
    java.keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", f"CN={alias}",
                 "-validity", "30", "-keystore", path, "-storetype", store_type, "-keypass:env", "KT_KEYPASS",
                 password=STORE_PW, secrets={"KT_KEYPASS": key_password})


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS", "PKCS12"])
def test_keytool_lists_the_entry_and_exports_the_key_with_the_key_password(tmp_path, judge, store_type):
    path = str(tmp_path / f"keystore.{store_type.lower()}")
    if store_type != "PKCS12":  # keytool's own entries beside ours (a PKCS12 keystore holds one entry: see the module)
        _keytool_genkeypair(path, store_type, "keytool-made", KEY_PW)
        ca_file = tmp_path / "root.pem"
        ca_file.write_text(pem(ROOT))
        java.keytool_import(path, STORE_PW, "backend-ca", str(ca_file), store_type)
    before = java.keytool_listing(path, STORE_PW).entries if os.path.exists(path) else {}
    result = _put(path, store_type)
    assert result["action"] == "added"

    listing = java.keytool_listing(path, STORE_PW)
    assert listing.store_type == store_type
    entry = listing.entries["client"]
    assert entry.entry_type == "PrivateKeyEntry" and entry.chain_length == 3 and entry.sha256 == sha256(LEAF)
    for alias, kept in before.items():
        assert listing.entries[alias] == kept, f"keytool's entry {alias} changed"
    verbose = java.keytool("-list", "-v", "-alias", "client", "-keystore", path, password=STORE_PW).stdout
    owners = [line.split(":", 1)[1].strip() for line in verbose.splitlines() if line.startswith("Owner:")]
    assert owners == ["O=apim.certificates tests, CN=gateway.interop.test", "O=apim.certificates tests, CN=Interop Client Issuing CA",
                      "O=apim.certificates tests, CN=Interop Client Root CA"]

    exported = str(tmp_path / "exported.p12")
    java.keytool("-importkeystore", "-noprompt", "-srckeystore", path, "-srcstoretype", store_type, "-srcalias", "client",
                 "-srcstorepass:env", "KT_SRC", "-srckeypass:env", "KT_SRCKEY", "-destkeystore", exported,
                 "-deststoretype", "PKCS12", "-deststorepass:env", "KT_DEST",
                 secrets={"KT_SRC": STORE_PW, "KT_SRCKEY": _key_password(store_type), "KT_DEST": "Exported-pw"})
    with open(exported, "rb") as handle:
        key, cert, _others = pkcs12.load_key_and_certificates(handle.read(), b"Exported-pw")
    assert key.private_numbers() == LEAF_KEY.private_numbers()
    assert cert.fingerprint(cert.signature_hash_algorithm) == LEAF.fingerprint(LEAF.signature_hash_algorithm)

    out = _judge(judge, path, store_type, "client", _key_password(store_type))
    assert f"KEY RSA 3 {sha256(LEAF)} MATCH" in out, out


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_a_keytool_key_with_another_key_password_is_refused(tmp_path, store_type):
    """The gateway's KeyManagerFactory opens every key entry with one key password: such a keystore is refused."""
    path = str(tmp_path / f"keystore.{store_type.lower()}")
    _keytool_genkeypair(path, store_type, "keytool-made", "A-different-key-pw")
    with open(path, "rb") as handle:
        before = handle.read()
    with pytest.raises(TruststoreError, match="key entry 'keytool-made' does not open with key_password"):
        _put(path, store_type)
    with open(path, "rb") as handle:
        assert handle.read() == before


def test_rotation_and_a_new_key_password_as_the_jvm_sees_them(tmp_path, judge):
    path = str(tmp_path / "keystore.jceks")
    _put(path, "JCEKS")
    rotated = _put(path, "JCEKS", key=EC_KEY, leaf=EC_LEAF, key_password="Rotated-key-pw")
    assert rotated["action"] == "replaced"
    out = _judge(judge, path, "JCEKS", "client", "Rotated-key-pw")
    assert f"KEY EC 3 {sha256(EC_LEAF)} MATCH" in out, out
    assert "UnrecoverableKeyException" in _judge(judge, path, "JCEKS", "client", KEY_PW)


@pytest.mark.parametrize("store_type", ["JKS", "PKCS12"])
def test_the_jvm_presents_the_key_pair_to_a_backend_that_requires_a_client_certificate(tmp_path, judge, store_type):
    server, server_key = make_cert("localhost", sans=["localhost", "127.0.0.1"], key=ec.generate_private_key(ec.SECP256R1()))
    path = str(tmp_path / f"keystore.{store_type.lower()}")
    stranger = str(tmp_path / f"stranger.{store_type.lower()}")
    _put(stranger, store_type, key=UNTRUSTED_KEY, leaf=UNTRUSTED, chain=())
    with mutual_tls_server(server, server_key, [ROOT]) as (port, presented):
        url = f"https://127.0.0.1:{port}/"
        refused = _judge(judge, stranger, store_type, "client", _key_password(store_type), url)
        assert "FAILED" in refused and "HTTP 200" not in refused, refused
        _put(path, store_type)
        accepted = _judge(judge, path, store_type, "client", _key_password(store_type), url)
        assert "HTTP 200" in accepted, accepted
        assert presented == [der(LEAF)]


def test_an_ed25519_key_pair_is_what_jdk_17_loads_when_allowed(tmp_path, judge):
    """allow_ed25519: JDK 15 and later (API-M 4.2+ ship JDK 17) load an EdDSA key entry; this JDK is one of them."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ed25519  # pylint: disable=import-outside-toplevel

    key = ed25519.Ed25519PrivateKey.generate()
    leaf, _unused_key = make_cert("gateway-ed25519.interop.test", issuer=ROOT, issuer_key=ROOT_KEY, key=key)
    text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    request = ks.resolve_request({"alias": "client", "private_key": text, "certificate": pem(leaf) + pem(ROOT),
                                  "allow_ed25519": True})
    path = str(tmp_path / "keystore.jks")
    ks.manage(request, ks.Options(create=True), path=path, password=STORE_PW, key_password=KEY_PW, store_type="JKS")
    server, server_key = make_cert("localhost", sans=["localhost", "127.0.0.1"], key=ec.generate_private_key(ec.SECP256R1()))
    with mutual_tls_server(server, server_key, [ROOT]) as (port, presented):
        out = _judge(judge, path, "JKS", "client", KEY_PW, f"https://127.0.0.1:{port}/")
    assert f"KEY EdDSA 2 {sha256(leaf)} MATCH" in out, out
    assert "HTTP 200" in out and presented == [der(leaf)], out
