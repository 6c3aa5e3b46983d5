"""PKCS12 stores that openssl and keytool made, read as Java reads them (issue 22, items 3 and 5).

Java's PKCS12KeyStore makes a certificate bag a trusted entry only when it carries Oracle's trusted-key-usage
attribute; `openssl pkcs12 -export -nokeys` writes bags without it, so Java sees such a store as empty and trusts
none of it. A key entry's chain certificates are no entries either. truststore_info must list what keytool lists,
report the rest as untrusted, and endpoint_certificate must keep them as they are when it rewrites such a store:
keytool lists the same trusted entries, openssl still shows the bags without the attribute, and a JVM's TrustManager
still does not trust a chain that needs them. Also: a DSA key store keytool wrote (cryptography cannot read its
certificate), a non-ASCII password JDK 17 cannot use, and key sizes as keytool prints them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _pkcs12_safes
from ansible_collections.apim.certificates.plugins.module_utils._truststore import load_truststore
from ansible_collections.apim.certificates.tests.interop.helpers import ENDPOINT, INFO, info_entries, keytool_entries, ok, run_tasks
from ansible_collections.apim.certificates.tests.support.java import keytool, keytool_listing, needs_java
from ansible_collections.apim.certificates.tests.support.java_trust import java_trust
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256

pytestmark = [needs_java, pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl command on this machine")]

PASSWORD = "pkcs12-Store-pw1"


def _openssl(*args, password=PASSWORD):
    env = dict(os.environ, P12_PASS=password)
    subprocess.run(["openssl", *args, "-passout", "env:P12_PASS"], check=True, capture_output=True, env=env, timeout=60)


def _key_pem(key) -> str:
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _openssl_subjects(path: str) -> list:
    """The subjects of the certificates `openssl pkcs12 -info` shows, and the attributes of each bag, in file order."""
    proc = subprocess.run(["openssl", "pkcs12", "-info", "-nokeys", "-in", path, "-passin", "env:P12_PASS"], capture_output=True,
                          text=True, env=dict(os.environ, P12_PASS=PASSWORD), timeout=60, check=True)
    return [line.split("=", 1)[1].strip() for line in proc.stdout.splitlines() if line.startswith("subject=")], proc.stdout


def _untrusted_bags(path: str) -> list:
    return [bag.der for bag in _pkcs12_safes.read_bags(open(path, "rb").read(), PASSWORD) if bag.kind == "cert" and not bag.trusted]


def test_an_openssl_nokeys_store_keeps_its_untrusted_bags_untrusted_when_rewritten(tmp_path):
    (ca1, ca1_key), ca2 = make_cert("Untrusted CA One", ca=True), make_cert("Untrusted CA Two", ca=True)[0]
    leaf, new = make_cert("behind-ca-one.test", issuer=ca1, issuer_key=ca1_key)[0], make_cert("new.test")[0]
    for name, cert in (("cas.pem", None), ("ca1.pem", ca1), ("leaf.pem", leaf), ("new.pem", new)):
        (tmp_path / name).write_text(pem(ca1) + pem(ca2) if cert is None else pem(cert))
    path = str(tmp_path / "nokeys.p12")
    _openssl("pkcs12", "-export", "-nokeys", "-in", str(tmp_path / "cas.pem"), "-out", path)
    assert keytool_listing(path, PASSWORD, "PKCS12").entries == {}
    bags_before = _untrusted_bags(path)
    subjects_before, _text = _openssl_subjects(path)
    copy = shutil.copyfile(path, str(tmp_path / "nokeys-before.p12"))
    info, add, again = run_tasks(tmp_path, (INFO, {"path": path, "password": PASSWORD}),
                                 (ENDPOINT, {"path": path, "password": PASSWORD, "alias": "new", "certificate": pem(new)}),
                                 (INFO, {"path": path, "password": PASSWORD}))
    assert info_entries(info) == {}
    untrusted = sorted(u["subject"] for u in info["untrusted_certificates"])
    assert untrusted == ["O=apim.certificates tests,CN=Untrusted CA One", "O=apim.certificates tests,CN=Untrusted CA Two"]
    assert any("Java does not trust" in w for w in info["warnings"])
    assert ok(add).changed and [r["action"] for r in add["results"]] == ["added"]
    # keytool: the one trusted entry added, nothing else
    assert keytool_entries(keytool_listing(path, PASSWORD, "PKCS12")) == {"new": ("trustedCertEntry", sha256(new))}
    assert info_entries(again) == {"new": ("trustedCertEntry", sha256(new))}
    assert sorted(u["subject"] for u in again["untrusted_certificates"]) == untrusted
    # openssl: the new certificate and the two bags, still without attributes, byte for byte as openssl wrote them
    subjects_after, text = _openssl_subjects(path)
    assert sorted(subjects_after) == sorted(subjects_before + ["CN = new.test, O = apim.certificates tests"]), text
    assert text.count("Bag Attributes: <No Attributes>") == 2, text
    assert _untrusted_bags(path) == bags_before
    # the JVM: trusts the added certificate, and still not a chain that needs an untrusted bag
    judged = java_trust(path, "PKCS12", PASSWORD, [[tmp_path / "new.pem"], [tmp_path / "leaf.pem", tmp_path / "ca1.pem"],
                                                   [tmp_path / "ca1.pem"]], tmp_path)
    assert judged.aliases == {"new": (True, True)}
    assert judged.chains[0] == "TRUSTED"
    assert all(v.startswith("REFUSED") and "PKIX" in v for v in judged.chains[1:]), judged.chains
    before = java_trust(copy, "PKCS12", PASSWORD, [[tmp_path / "new.pem"], [tmp_path / "leaf.pem", tmp_path / "ca1.pem"]], tmp_path)
    assert before.aliases == {} and all(v.startswith("REFUSED") for v in before.chains), before.chains


def test_an_openssl_key_store_lists_one_key_entry_with_its_chain_as_keytool_does(tmp_path):
    ca, ca_key = make_cert("Chain CA", ca=True)
    leaf, leaf_key = make_cert("leaf.test", issuer=ca, issuer_key=ca_key)
    for name, text in (("leaf.pem", pem(leaf)), ("ca.pem", pem(ca)), ("leaf.key", _key_pem(leaf_key))):
        (tmp_path / name).write_text(text)
    path = str(tmp_path / "keyed.p12")
    _openssl("pkcs12", "-export", "-inkey", str(tmp_path / "leaf.key"), "-in", str(tmp_path / "leaf.pem"),
             "-certfile", str(tmp_path / "ca.pem"), "-name", "LeafAlias", "-caname", "CaName", "-out", path)
    listing = keytool_listing(path, PASSWORD, "PKCS12")
    (info,) = run_tasks(tmp_path, (INFO, {"path": path, "password": PASSWORD}))
    assert info_entries(info) == keytool_entries(listing) == {"leafalias": ("PrivateKeyEntry", keytool_entries(listing)["leafalias"][1])}
    assert listing.entries["leafalias"].chain_length == 2
    assert info["untrusted_certificates"] == []


def test_a_dsa_key_store_keytool_wrote_is_listed_not_called_a_wrong_password(tmp_path):
    path = str(tmp_path / "dsa.p12")
    keytool("-genkeypair", "-alias", "dsa-key", "-keyalg", "DSA", "-keysize", "2048", "-dname", "CN=dsa.test",
            "-keystore", path, "-storetype", "PKCS12", password=PASSWORD)
    cert_file = tmp_path / "trusted.pem"
    cert_file.write_text(pem(make_cert("trusted.test")[0]))
    keytool("-importcert", "-noprompt", "-alias", "Trusted", "-file", str(cert_file), "-keystore", path,
            "-storetype", "PKCS12", password=PASSWORD)
    (info,) = run_tasks(tmp_path, (INFO, {"path": path, "password": PASSWORD}))
    assert info_entries(info) == keytool_entries(keytool_listing(path, PASSWORD, "PKCS12"))
    # what ssl_profile's store validation asks (open it with its password): the same reader, no "wrong password"
    assert load_truststore(path, PASSWORD, open_only=True).entries["dsa-key"].entry_type == "PrivateKeyEntry"


def test_a_pkcs12_password_jdk17_cannot_use_is_named(tmp_path):
    cert = make_cert("ascii.test")[0]
    (tmp_path / "c.pem").write_text(pem(cert))
    path = str(tmp_path / "umlaut.p12")
    _openssl("pkcs12", "-export", "-nokeys", "-in", str(tmp_path / "c.pem"), "-out", path, password="pässwörd")
    denied = keytool("-list", "-keystore", path, "-storetype", "PKCS12", password="pässwörd", check=False)
    assert denied.returncode != 0
    new = str(tmp_path / "new.p12")
    info, create = run_tasks(tmp_path, (INFO, {"path": path, "password": "pässwörd"}),
                             (ENDPOINT, {"path": new, "password": "pässwörd", "store_type": "PKCS12", "create": True,
                                         "alias": "a", "certificate": pem(cert)}))
    assert any("JDK 17 cannot open this PKCS12 store" in w for w in info["warnings"])
    assert create.failed and "JDK 17 cannot open a PKCS12 store whose password" in create["msg"]
    assert not os.path.exists(new)


def test_key_sizes_are_reported_as_keytool_prints_them(tmp_path):
    path = str(tmp_path / "keys.jks")
    for alias, args in (("rsa", ("-keyalg", "RSA", "-keysize", "2048")), ("ec", ("-keyalg", "EC", "-groupname", "secp384r1")),
                        ("ed25519", ("-keyalg", "Ed25519")), ("ed448", ("-keyalg", "Ed448"))):
        keytool("-genkeypair", "-alias", alias, *args, "-dname", f"CN={alias}.test", "-keystore", path,
                "-storetype", "JKS", "-keypass:env", "KT_STOREPASS", password=PASSWORD)
    printed = keytool("-list", "-v", "-keystore", path, "-storetype", "JKS", password=PASSWORD).stdout
    keytool_sizes = {}
    for block in printed.split("Alias name: ")[1:]:
        size = re.search(r"Subject Public Key Algorithm: (\d+)-bit", block)
        keytool_sizes[block.splitlines()[0].strip()] = int(size.group(1))
    (info,) = run_tasks(tmp_path, (INFO, {"path": path, "password": PASSWORD}))
    ok(info)
    assert {e["alias"]: e["public_key"]["size"] for e in info["entries"]} == keytool_sizes
