"""keytool and a JVM TLS client as the judges of what the collection writes."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess

import pytest

JAVA = shutil.which("java")
KEYTOOL = shutil.which("keytool")
JAVA_MISSING = "no Java (java and keytool) on this machine: Java interop tests need a JDK"

needs_java = pytest.mark.skipif(not (JAVA and KEYTOOL), reason=JAVA_MISSING)

_ENTRY = re.compile(r"^Alias name: (.*)$", re.MULTILINE)

# Start-up flags for the short-lived JVMs of the tests (keytool, javac, the TLS client): the C1 compiler only and
# the serial GC halve a keytool run's wall and CPU time (0.5 s -> 0.25 s) and change nothing keytool or TLS does.
FAST_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def keytool(*args: str, password: str | None = None, check: bool = True, secrets: dict | None = None) -> subprocess.CompletedProcess:
    """Run keytool. The password goes through an environment variable, never the command line.

    secrets: more environment variables for keytool's other ':env' options, e.g.
    keytool("-certreq", ..., "-keypass:env", "KT_KEYPASS", secrets={"KT_KEYPASS": key_password}).
    """
    cmd = [KEYTOOL, *(f"-J{flag}" for flag in FAST_JVM), *args]
    env = dict(os.environ)
    env.update(secrets or {})
    if password is not None:
        env["KT_STOREPASS"] = password
        cmd += ["-storepass:env", "KT_STOREPASS"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"keytool {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def keytool_list(path: str, password: str, store_type: str | None = None) -> dict:
    """alias -> (entry type, SHA-256) as keytool -list -v reports them."""
    args = ["-list", "-v", "-keystore", path]
    if store_type:
        args += ["-storetype", store_type]
    out = keytool(*args, password=password).stdout
    entries = {}
    for block in out.split("Alias name: ")[1:]:
        alias = block.splitlines()[0].strip()
        kind = re.search(r"Entry type: (\S+)", block).group(1)
        sha = re.search(r"SHA256: ([0-9A-F:]+)", block).group(1)
        entries[alias] = (kind, sha)
    return entries


@dataclasses.dataclass(frozen=True)
class KeytoolEntry:
    """One entry of `keytool -list -v`: type, SHA-256 of its (first) certificate, creation date as printed."""

    entry_type: str
    sha256: str | None  # None for a SecretKeyEntry
    created: str
    chain_length: int | None = None  # PrivateKeyEntry only


@dataclasses.dataclass(frozen=True)
class KeytoolListing:
    store_type: str  # as keytool detected it ("Keystore type: ...")
    entries: dict  # alias -> KeytoolEntry, in keytool's order


def keytool_listing(path: str, password: str, store_type: str | None = None) -> KeytoolListing:
    """Everything `keytool -list -v` says about a store; unlike keytool_list it also copes with secret keys."""
    args = ["-list", "-v", "-keystore", path]
    if store_type:
        args += ["-storetype", store_type]
    out = keytool(*args, password=password).stdout
    detected = re.search(r"^Keystore type: (\S+)", out, re.MULTILINE).group(1)
    entries = {}
    for block in out.split("\nAlias name: ")[1:]:
        alias = block.splitlines()[0].strip()
        kind = re.search(r"^Entry type: (\S+)", block, re.MULTILINE).group(1)
        created = re.search(r"^Creation date: (.*)$", block, re.MULTILINE).group(1).strip()
        sha = re.search(r"SHA256: ([0-9A-F:]+)", block)
        chain = re.search(r"^Certificate chain length: (\d+)", block, re.MULTILINE)
        entries[alias] = KeytoolEntry(kind, sha.group(1) if sha else None, created, int(chain.group(1)) if chain else None)
    return KeytoolListing(detected, entries)


def keytool_import(path: str, password: str, alias: str, cert_file: str, store_type: str) -> None:
    keytool("-importcert", "-noprompt", "-alias", alias, "-file", cert_file, "-keystore", path,
            "-storetype", store_type, password=password)


CLIENT_SOURCE = r"""
import java.io.InputStream;
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;

public class TlsClient {
    public static void main(String[] args) throws Exception {
        HttpsURLConnection c = (HttpsURLConnection) new URL(args[0]).openConnection();
        c.setConnectTimeout(10000);
        c.setReadTimeout(10000);
        try {
            int code = c.getResponseCode();
            System.out.println("HTTP " + code);
            System.exit(code == 200 ? 0 : 3);
        } catch (Exception e) {
            System.out.println("FAILED " + e);
            System.exit(2);
        }
    }
}
"""


def compile_client(workdir: str) -> str:
    src = os.path.join(workdir, "TlsClient.java")
    with open(src, "w") as handle:
        handle.write(CLIENT_SOURCE)
    subprocess.run(["javac", *(f"-J{flag}" for flag in FAST_JVM), "-d", workdir, src], check=True, capture_output=True, timeout=120)
    return workdir


def java_tls_get(classdir: str, url: str, truststore: str, password: str, store_type: str) -> subprocess.CompletedProcess:
    """GET url from a JVM that trusts only truststore. The password reaches Java through a file, not argv."""
    opts = os.path.join(classdir, f"trust-{os.getpid()}-{abs(hash(truststore))}.opts")
    with open(opts, "w") as handle:
        handle.write(
            "".join(f"{flag}\n" for flag in FAST_JVM) +
            f"-Djavax.net.ssl.trustStore={truststore}\n"
            f"-Djavax.net.ssl.trustStorePassword={password}\n"
            f"-Djavax.net.ssl.trustStoreType={store_type}\n"
        )
    os.chmod(opts, 0o600)
    try:
        return subprocess.run(
            [JAVA, f"@{opts}", "-cp", classdir, "TlsClient", url],
            capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        os.unlink(opts)


JUDGE_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "java", "CertJudge.java")


def java_judge(ders: dict, workdir: str) -> dict:
    """name -> (verdict, detail) from Java's CertificateFactory for each DER certificate (tests/support/java/CertJudge.java):
    ("ACCEPT", SHA-256 of what a JKS store gives back) or ("REFUSE", Java's message). One JVM for all of them."""
    classes = os.path.join(workdir, "judge-classes")
    os.makedirs(classes, exist_ok=True)
    subprocess.run(["javac", *(f"-J{flag}" for flag in FAST_JVM), "-d", classes, JUDGE_SOURCE],
                   check=True, capture_output=True, timeout=300)
    files = os.path.join(workdir, "judge-input")
    os.makedirs(files, exist_ok=True)
    paths = {}
    for index, (name, der) in enumerate(ders.items()):
        path = os.path.join(files, f"{index}.der")
        with open(path, "wb") as handle:
            handle.write(der)
        paths[path] = name
    proc = subprocess.run([JAVA, *FAST_JVM, "-cp", classes, "CertJudge"], input="\n".join(paths) + "\n",
                          capture_output=True, text=True, timeout=600, check=True)
    verdicts = {}
    for line in proc.stdout.splitlines():
        path, verdict, detail = line.split("\t", 2)
        verdicts[paths[path]] = (verdict, detail)
    assert len(verdicts) == len(ders), f"the judge answered for {len(verdicts)} of {len(ders)} certificates:\n{proc.stderr}"
    return verdicts
