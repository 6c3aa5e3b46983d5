"""Aliases case-folded as Java folds them (issue 22, item 4).

Java's keystores key an entry by alias.toLowerCase(Locale.ENGLISH). That is not str.lower(): Java chooses the final
sigma by word boundaries ("backend-Σ" -> "backend-ς", Python: "backend-σ") and its Unicode is 13.0. A JVM is the
judge: every BMP code point, a sample of the others and thousands of random strings through
tests/support/java/JavaLower.java and _truststore_records.normalize_alias; then keytool-made stores, which
truststore_info must list as keytool does, and which endpoint_certificate must change without renaming an entry or
adding a second one. Last, a JKS/JCEKS entry another tool stored under an alias with upper case, which Java loads
but never finds.
"""

from __future__ import annotations

import os
import random
import subprocess

import pytest

from ansible_collections.apim.certificates.plugins.module_utils._truststore import load_truststore
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import normalize_alias
from ansible_collections.apim.certificates.tests.interop.helpers import ENDPOINT, INFO, info_entries, keytool_entries, ok, run_tasks
from ansible_collections.apim.certificates.tests.support.java import FAST_JVM, JAVA, keytool, keytool_listing, needs_java
from ansible_collections.apim.certificates.tests.support.java_trust import java_trust
from ansible_collections.apim.certificates.tests.support.pki import der, make_cert, pem, sha256

pytestmark = needs_java

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support", "java", "JavaLower.java")
NAMED = ["backend-Σ", "ΣΑΣ", "aΣ", "aΣb", "a.Σ", "a'Σ", "Σ", "aΣ-b", "a:Σ", "İstanbul", "ǅ", "Ꭰ", "Ა", "𐐀", "a𐐀Σ",
         "ΌΣΟΣ ΣΊΣ", "backend_Σ1", "K", "Å", "ẞ"]
ALPHABET = "AaBzΣσςΑΩΌΊΪάİIıǅǈ-._':/ 09\u0301\u0345\u1d2c\u2160ⒶＡ𐐀𐲀Ⴀ"


def _escape(text: str) -> str:
    units = text.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))


def _unescape(line: str) -> str:
    units = bytes.fromhex("".join(line[i + 2:i + 6] for i in range(0, len(line), 6)))
    return units.decode("utf-16-be", "surrogatepass")


def _java_lower(strings: list, workdir) -> list:
    classes = str(workdir / "lower-classes")
    subprocess.run(["javac", *(f"-J{flag}" for flag in FAST_JVM), "-d", classes, SOURCE], check=True, capture_output=True, timeout=300)
    proc = subprocess.run([JAVA, *FAST_JVM, "-cp", classes, "JavaLower"], input="\n".join(map(_escape, strings)) + "\n",
                          capture_output=True, text=True, timeout=600, check=True)
    answers = [_unescape(line) for line in proc.stdout.splitlines()]
    assert len(answers) == len(strings)
    return answers


def test_aliases_are_case_folded_as_java_folds_them(tmp_path):
    rng = random.Random(22)
    strings = list(NAMED)
    strings += [chr(cp) for cp in range(0x80, 0x10000) if not 0xD800 <= cp < 0xE000]
    strings += [chr(cp) for cp in range(0x10000, 0x110000, 97)]
    strings += ["".join(rng.choice(ALPHABET) for _char in range(rng.randint(1, 12))) for _string in range(20000)]
    strings = [s for s in strings if "\n" not in s and "\r" not in s]
    java = _java_lower(strings, tmp_path)
    differing = [(s, j, normalize_alias(s)) for s, j in zip(strings, java) if normalize_alias(s) != j]
    assert not differing, f"{len(differing)} aliases fold differently from Java, e.g. {differing[:5]}"
    python = sum(1 for s, j in zip(strings, java) if s.lower() != j)
    assert python > 100, "str.lower() agrees with Java everywhere here: the test lost its point"


def test_a_keytool_made_store_is_listed_and_changed_under_javas_aliases(tmp_path):
    first, second, third = (make_cert(f"sigma{i}.test", key_kind="ec")[0] for i in range(3))
    tasks = []
    for store_type in ("JKS", "PKCS12"):
        path = str(tmp_path / f"sigma.{store_type.lower()}")
        cert_file = tmp_path / "first.pem"
        cert_file.write_text(pem(first))
        keytool("-importcert", "-noprompt", "-alias", "backend-Σ", "-file", str(cert_file), "-keystore", path,
                "-storetype", store_type, password="sigma-pass")
        tasks += [
            (INFO, {"path": path, "password": "sigma-pass"}),
            (ENDPOINT, {"path": path, "password": "sigma-pass", "alias": "other", "certificate": pem(second)}),
            (ENDPOINT, {"path": path, "password": "sigma-pass", "alias": "backend-Σ", "certificate": pem(third),
                        "strict_alias": False}),
        ]
    results = run_tasks(tmp_path, *tasks)
    for index, store_type in enumerate(("JKS", "PKCS12")):
        path = str(tmp_path / f"sigma.{store_type.lower()}")
        info, add, replace = results[index * 3:index * 3 + 3]
        assert list(info_entries(info)) == ["backend-ς"], store_type
        ok(add)
        ok(replace)
        assert [(r["alias"], r["action"]) for r in replace["results"]] == [("backend-ς", "replaced")], replace["results"]
        listed = keytool_entries(keytool_listing(path, "sigma-pass", store_type))
        assert sorted(listed) == ["backend-ς", "other"], listed


def _other_tools_store(path: str, store_type: str, entries: list, password: str) -> bytes:
    """A JKS as pyjks writes it, with the aliases as given (keytool always lower-cases them); for JCEKS, which pyjks
    does not write, the same entries under JCEKS's magic number and hash (the layout is the same)."""
    import hashlib  # pylint: disable=import-outside-toplevel

    import jks  # pylint: disable=import-outside-toplevel

    made = []
    for alias, cert in entries:
        entry = jks.TrustedCertEntry.new(alias, der(cert))
        entry.alias = alias  # TrustedCertEntry.new lower-cases it; an older pyjks, or a tool that does not, keeps it
        made.append(entry)
    data = jks.KeyStore.new("jks", made).saves(password)
    if store_type == "JCEKS":
        body = b"\xce\xce\xce\xce" + data[4:-20]
        data = body + hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()
    with open(path, "wb") as handle:
        handle.write(data)
    return data


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS"])
def test_an_entry_stored_with_upper_case_is_reported_kept_and_removable(tmp_path, store_type):
    """What keytool and a JVM show of a JKS/JCEKS entry another tool stored under "MyBackend" (JDK 17.0.15): the JVM
    loads the store and KeyStore.aliases() lists "MyBackend", but containsAlias and isCertificateEntry are false for it
    (every lookup lower-cases the alias first) and its TrustManager does not trust the certificate; `keytool -list`
    prints "Your keystore contains 2 entries", then fails with "Alias <MyBackend> does not exist", and so do -alias,
    -delete, -changealias, -exportcert and -importkeystore. keytool -importcert of another alias keeps the entry as
    stored; of "MyBackend" it adds a second entry "mybackend". truststore_info must report it as untrusted, naming
    the alias; endpoint_certificate keeps it byte for byte, refuses to add a second entry next to it, and removes it
    with state absent."""
    pytest.importorskip("jks", reason="pyjks writes the JKS with an upper-case alias")
    stored, lower, new = (make_cert(f"{name}.test")[0] for name in ("stored", "lower", "new"))
    for name, cert in (("stored", stored), ("lower", lower), ("new", new)):
        (tmp_path / f"{name}.pem").write_text(pem(cert))
    path = str(tmp_path / f"mixed.{store_type.lower()}")
    _other_tools_store(path, store_type, [("MyBackend", stored), ("lower", lower)], "case-pass")
    listed = keytool("-list", "-keystore", path, "-storetype", store_type, password="case-pass", check=False)
    assert listed.returncode != 0 and "Alias <MyBackend> does not exist" in listed.stdout + listed.stderr, listed
    for alias in ("MyBackend", "mybackend"):
        denied = keytool("-delete", "-alias", alias, "-keystore", path, "-storetype", store_type, password="case-pass", check=False)
        assert denied.returncode != 0 and f"Alias <{alias}> does not exist" in denied.stdout + denied.stderr, denied
    chains = [[tmp_path / "stored.pem"], [tmp_path / "lower.pem"], [tmp_path / "new.pem"]]
    judged = java_trust(path, store_type, "case-pass", chains, tmp_path)
    assert judged.aliases == {"MyBackend": (False, False), "lower": (True, True)}
    assert judged.chains[0].startswith("REFUSED") and judged.chains[1] == "TRUSTED", judged.chains

    store = {"path": path, "password": "case-pass"}
    info, add, second, remove, again = run_tasks(
        tmp_path, (INFO, store), (ENDPOINT, dict(store, alias="new", certificate=pem(new))),
        (ENDPOINT, dict(store, alias="mybackend", certificate=pem(stored))),
        (ENDPOINT, dict(store, alias="mybackend", state="absent")), (INFO, store))
    assert info_entries(info) == {"lower": ("trustedCertEntry", sha256(lower))}
    (untrusted,) = info["untrusted_certificates"]
    assert untrusted["fingerprint"] == sha256(stored) and "'MyBackend'" in untrusted["reason"]
    assert any("'MyBackend'" in w and "state absent" in w for w in info["warnings"]), info["warnings"]
    ok(add)
    assert second.failed and "'MyBackend'" in second["msg"] and "second entry" in second["msg"], second.get("msg")
    assert ok(remove).changed and [(r["alias"], r["action"]) for r in remove["results"]] == [("mybackend", "removed")]
    assert info_entries(again) == {"lower": ("trustedCertEntry", sha256(lower)), "new": ("trustedCertEntry", sha256(new))}
    assert again["untrusted_certificates"] == []
    # keytool lists the store again, and the JVM trusts what it trusted, and the added certificate
    assert keytool_entries(keytool_listing(path, "case-pass", store_type)) == info_entries(again)
    after = java_trust(path, store_type, "case-pass", chains, tmp_path)
    assert after.chains[0].startswith("REFUSED") and after.chains[1:] == ["TRUSTED", "TRUSTED"], after.chains
    # between the add and the removal, the entry was kept byte for byte: replay the add on a fresh copy
    _other_tools_store(path, store_type, [("MyBackend", stored), ("lower", lower)], "case-pass")
    raw = load_truststore(path, "case-pass").unreachable[0][2]
    (add_again,) = run_tasks(tmp_path, (ENDPOINT, dict(store, alias="new", certificate=pem(new))))
    ok(add_again)
    data = open(path, "rb").read()
    assert raw in data and data.index(raw) == 12, "the entry stored as 'MyBackend' was not kept where it was, byte for byte"
    kept = java_trust(path, store_type, "case-pass", chains, tmp_path)
    assert kept.aliases == {"MyBackend": (False, False), "lower": (True, True), "new": (True, True)}
    assert kept.chains[0].startswith("REFUSED") and kept.chains[1:] == ["TRUSTED", "TRUSTED"], kept.chains
