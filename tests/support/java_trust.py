"""A JVM's TrustManager as the judge of what a keystore makes Java trust (tests/support/java/TrustJudge.java).

keytool lists entries; what a gateway trusts is what X509TrustManager.checkServerTrusted accepts, built by
TrustManagerFactory from KeyStore.aliases() and isCertificateEntry(). The password reaches Java through the
environment, never argv.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess

from ansible_collections.apim.certificates.tests.support.java import FAST_JVM, JAVA

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "java", "TrustJudge.java")


@dataclasses.dataclass(frozen=True)
class TrustVerdicts:
    aliases: dict  # alias as KeyStore.aliases() lists it -> (containsAlias(alias), isCertificateEntry(alias))
    chains: list  # per chain: "TRUSTED" or "REFUSED <Java's exception>"


def java_trust(store: str, store_type: str, password: str, chains: list, workdir) -> TrustVerdicts:
    """Load store in a JVM and ask its default TrustManager about each chain (a list of PEM/DER files, leaf first)."""
    classes = os.path.join(str(workdir), "trust-judge-classes")
    if not os.path.exists(os.path.join(classes, "TrustJudge.class")):
        subprocess.run(["javac", *(f"-J{flag}" for flag in FAST_JVM), "-d", classes, SOURCE], check=True, capture_output=True, timeout=300)
    proc = subprocess.run([JAVA, *FAST_JVM, "-cp", classes, "TrustJudge", store, store_type],
                          input="".join("\t".join(map(str, chain)) + "\n" for chain in chains), capture_output=True, text=True,
                          env=dict(os.environ, TRUST_PASS=password), timeout=300, check=False)
    assert proc.returncode == 0, f"TrustJudge failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    head, _end, tail = proc.stdout.partition("END\n")
    aliases = {}
    for line in head.splitlines():
        _tag, alias, contains, certificate = line.split("\t")
        aliases[alias] = (contains == "true", certificate == "true")
    verdicts = [line.replace("\t", " ") for line in tail.splitlines()]
    assert len(verdicts) == len(chains), proc.stdout + proc.stderr
    return TrustVerdicts(aliases, verdicts)
