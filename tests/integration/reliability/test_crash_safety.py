"""Killing the writer (SIGKILL) at any moment never leaves a truncated or unreadable store, TOML or XML file.

A forked child loops the library's real read-modify-write (converge_truststore for a truststore; the ssl_profile
library's converge for deployment.toml and sslprofiles.xml), switching between states so that every iteration writes.
Before each write it appends the SHA-256 of the bytes it is about to write to a log (an O_APPEND write survives
SIGKILL). The parent kills the child at a random moment, then checks:

- the directory lock is free again (the kernel released the dead writer's flock);
- each file parses (the truststore with its password and integrity hash; deployment.toml with tomllib;
  sslprofiles.xml with ElementTree) and means one of the states the child writes;
- each file is byte-for-byte the OLD or the NEW version: the last or the second-to-last logged hash of that file
  (the last write either landed or it did not; nothing in between);
- a temp file a killed writer leaves behind is never more readable than the file it was to replace.

After the kills, one normal run converges again: deployment.toml and sslprofiles.xml agree (a crash between the two
writes is repaired by the next run).

Default: a few kills per store type and for ssl_profile (seconds). Long variant (APIM_LONG_TESTS=1): hundreds, and it
also requires that some kills really landed inside a write (the file was the old version while a new one was logged).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import signal
import stat
import time
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _fileio as fileio
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profiles as sp
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.reliability import _inputs as inp
from ansible_collections.apim.certificates.tests.integration.reliability._support import long_variant, toml_loads
from ansible_collections.apim.certificates.tests.support.pki import make_cert

PASSWORD = "Crash-Store-pw"
CERTS = [make_cert(f"crash{i}.test", key_kind="ec")[0] for i in range(3)]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha(path: str) -> str:
    with open(path, "rb") as handle:
        return sha(handle.read())


# --- the writer child ---------------------------------------------------------------------------------------


def _log_writes(module, log_path: str) -> None:
    """Make module's write_atomic log (path, hash of the data) before writing."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    real = module.write_atomic

    def logged(path, data, **options):
        os.write(fd, f"{os.path.realpath(path)} {sha(data)}\n".encode())
        return real(path, data, **options)

    module.write_atomic = logged


def _truststore_states():
    """Two states that differ in the alias 'x' and in whether 'y' is there: every switch writes."""
    a = [ts.DesiredCertificate("x", "present", CERTS[0]), ts.DesiredCertificate("y", "present", CERTS[2])]
    b = [ts.DesiredCertificate("x", "present", CERTS[1]), ts.DesiredCertificate("y", "absent")]
    return [a, b]


def truststore_writer(path: str, store_type: str, log_path: str) -> None:
    _log_writes(ts, log_path)
    states = _truststore_states()
    for index in itertools.count():
        ts.converge_truststore(path, PASSWORD, states[index % 2], store_type=store_type)


def _ssl_requests(home: str, stores: dict) -> list:
    """add a profile; change its truststore password; remove it: each changes deployment.toml and sslprofiles.xml."""
    def profile(password, state="present"):
        return {"servers": "orders.internal:443", "state": state,
                "keystore": {"location": stores["keystore"], "type": "PKCS12", "password": "Crash-Key-pw"},
                "truststore": {"location": stores["truststore"], "password": password}}
    base = {"apim_home": home, "validate_stores": False}
    return [dict(base, custom_profiles=[profile("Crash-Trust-pw-1")]),
            dict(base, custom_profiles=[profile("Crash-Trust-pw-2")]),
            dict(base, custom_profiles=[{"servers": "orders.internal:443", "state": "absent"}])]


def ssl_profile_writer(home: str, stores: dict, log_path: str) -> None:
    _log_writes(sp, log_path)
    requests = _ssl_requests(home, stores)
    for index in itertools.count():
        sp.converge(sp.Request.from_params(requests[index % len(requests)]))


def _fork(target, *args) -> int:
    pid = os.fork()
    if pid == 0:  # the child: write until killed, never return into pytest
        code = 0
        try:
            target(*args)
        except BaseException:  # noqa: BLE001 - any failure of the writer is reported through its exit code
            import traceback  # pylint: disable=import-outside-toplevel

            traceback.print_exc()
            code = 1
        os._exit(code)  # pylint: disable=protected-access
    return pid


# --- the killer -----------------------------------------------------------------------------------------------


def _lines(log_path: str) -> list:
    if not os.path.exists(log_path):
        return []
    with open(log_path, encoding="utf-8") as handle:
        return handle.readlines()


def _logged(lines: list) -> dict:
    """path -> [hash, ...] in the order the child logged them."""
    out: dict = {}
    for line in lines:
        path, digest = line.rsplit(" ", 1)
        out.setdefault(path, []).append(digest.strip())
    return out


def kill_at_random(target, args, log_path: str, rng: random.Random, max_delay: float) -> dict:
    """Start a writer, let it write at least once, then SIGKILL it at a random moment.

    Returns what this writer logged (path -> hashes, in order).
    """
    start = len(_lines(log_path))
    pid = _fork(target, *args)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(log_path) and len(open(log_path, encoding="utf-8").readlines()) > start:
            break
        finished, status = os.waitpid(pid, os.WNOHANG)
        assert finished == 0, f"the writer died by itself (status {status}) before its first write"
        time.sleep(0.002)
    time.sleep(rng.uniform(0, max_delay))
    os.kill(pid, signal.SIGKILL)
    _finished, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"the writer ended on its own ({status})"
    return _logged(_lines(log_path)[start:])


def old_or_new(path: str, before: str, log: dict) -> str:
    """'new' when path holds the last bytes the killed writer logged for it, 'old' when it holds the version before
    that one (the previous logged write, or what the file was when this writer started); fails otherwise."""
    history = [before] + log.get(os.path.realpath(path), [])
    current = file_sha(path)
    if current == history[-1]:
        return "new"
    assert len(history) >= 2 and current == history[-2], \
        f"{path} is neither the old nor the new version (it was never written as it is now)"
    return "old"


def assert_lock_free(path: str) -> None:
    with fileio.locked(path, timeout=5):
        pass


def assert_temp_files_private(folder: str, name: str, mode: int) -> list:
    leftovers = [n for n in os.listdir(folder) if n.startswith(f".{name}.") and n.endswith(".tmp")]
    for leftover in leftovers:
        extra = stat.S_IMODE(os.stat(os.path.join(folder, leftover)).st_mode) & ~mode
        assert extra == 0, f"the temp file {leftover} is more readable than {name}"
    return leftovers


# --- the tests ------------------------------------------------------------------------------------------------


def truststore_crashes(tmp_path, store_type: str, kills: int, seed: int) -> dict:
    path = inp.seed_store(str(tmp_path / f"crash.{store_type.lower()}"), PASSWORD, store_type, entries=[("x", CERTS[0])])
    mode = stat.S_IMODE(os.stat(path).st_mode)
    log_path = str(tmp_path / "writes.log")
    current = file_sha(path)
    states = [{d.alias: ts.certs.sha256_fingerprint(ts.certs.certificate_der(d.certificate)) for d in state if d.state == "present"}
              for state in _truststore_states()]
    states.append({"x": states[0]["x"]})  # the seed
    rng = random.Random(seed)
    seen = {"old": 0, "new": 0}
    for _kill in range(kills):
        log = kill_at_random(truststore_writer, (path, store_type, log_path), log_path, rng, max_delay=0.08)
        assert_lock_free(path)
        store = ts.load_truststore(path, PASSWORD, store_type)  # parses, integrity hash checked
        assert store.fingerprints() in states, f"{path} holds a state nobody wrote: {store.fingerprints()}"
        seen[old_or_new(path, current, log)] += 1
        current = file_sha(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == mode
    seen["temp files left"] = len(assert_temp_files_private(str(tmp_path), os.path.basename(path), mode))
    return seen


@pytest.mark.parametrize("store_type", ["JKS", "JCEKS", "PKCS12"])
def test_killed_truststore_writer_leaves_the_old_or_the_new_store(tmp_path, store_type):
    truststore_crashes(tmp_path, store_type, kills=8, seed=hash(store_type) & 0xFFFF)


@long_variant
@pytest.mark.parametrize("store_type", ["JKS", "JCEKS", "PKCS12"])
def test_killed_truststore_writer_long(tmp_path, store_type):
    seen = truststore_crashes(tmp_path, store_type, kills=300, seed=random.randrange(1 << 30))
    assert seen["old"] > 0, f"no kill landed inside a write in 300 tries ({seen}); the test proved less than it should"


def ssl_profile_crashes(tmp_path, kills: int, seed: int) -> dict:
    node = inp.gateway_home(str(tmp_path / "wso2am"))
    stores = {"truststore": inp.seed_store(str(tmp_path / "orders-truststore.jks"), "Crash-Trust-pw-1"),
              "keystore": inp.pkcs12_keystore(str(tmp_path / "orders-client.p12"), "client", "Crash-Key-pw")}
    toml_path, xml_path = node["deployment_toml"], node["sslprofiles"]
    modes = {p: stat.S_IMODE(os.stat(p).st_mode) for p in (toml_path, xml_path)}
    current = {p: file_sha(p) for p in (toml_path, xml_path)}
    log_path = str(tmp_path / "writes.log")
    rng = random.Random(seed)
    seen = {"old": 0, "new": 0}
    for _kill in range(kills):
        log = kill_at_random(ssl_profile_writer, (node["home"], stores, log_path), log_path, rng, max_delay=0.1)
        assert_lock_free(toml_path)
        assert_lock_free(xml_path)
        customs = toml_loads(open(toml_path, encoding="utf-8").read()).get("keystore", {}).get("ssl_profile", {}).get("custom", [])
        assert [c["servers"] for c in customs] in ([], ["orders.internal:443"])
        servers = [p.findtext("servers") for p in ET.parse(xml_path).getroot().findall("profile")]
        assert servers in (["*"], ["*", "orders.internal:443"])
        for path in (toml_path, xml_path):
            seen[old_or_new(path, current[path], log)] += 1
            current[path] = file_sha(path)
            assert stat.S_IMODE(os.stat(path).st_mode) == modes[path]
    for path in (toml_path, xml_path):
        assert_temp_files_private(os.path.dirname(path), os.path.basename(path), modes[path])

    # One normal run afterwards: both files agree again.
    final = _ssl_requests(node["home"], stores)[1]
    sp.converge(sp.Request.from_params(final))
    customs = toml_loads(open(toml_path, encoding="utf-8").read())["keystore"]["ssl_profile"]["custom"]
    profiles = ET.parse(xml_path).getroot().findall("profile")
    assert [(c["servers"], c["truststore"]["password"]) for c in customs] == \
        [(p.findtext("servers"), p.find("TrustStore").findtext("Password")) for p in profiles[1:]]
    return seen


def test_killed_ssl_profile_writer_leaves_old_or_new_toml_and_xml(tmp_path):
    ssl_profile_crashes(tmp_path, kills=10, seed=4242)


@long_variant
def test_killed_ssl_profile_writer_long(tmp_path):
    seen = ssl_profile_crashes(tmp_path, kills=300, seed=random.randrange(1 << 30))
    assert seen["old"] > 0, f"no kill landed inside a write in 300 tries ({seen}); the test proved less than it should"
