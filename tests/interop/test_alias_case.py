"""Aliases case-folded as Java folds them (issue 22, item 4).

Java's keystores key an entry by alias.toLowerCase(Locale.ENGLISH). That is not str.lower(): Java chooses the final
sigma by word boundaries ("backend-Σ" -> "backend-ς", Python: "backend-σ") and its Unicode is 13.0. A JVM is the
judge: every BMP code point, a sample of the others and thousands of random strings through
tests/support/java/JavaLower.java and _truststore_records.normalize_alias; then keytool-made stores, which
truststore_info must list as keytool does, and which endpoint_certificate must change without renaming an entry or
adding a second one.
"""

from __future__ import annotations

import os
import random
import subprocess

from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import normalize_alias
from ansible_collections.apim.certificates.tests.interop.helpers import ENDPOINT, INFO, info_entries, keytool_entries, ok, run_tasks
from ansible_collections.apim.certificates.tests.support.java import FAST_JVM, JAVA, keytool, keytool_listing, needs_java
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem

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
