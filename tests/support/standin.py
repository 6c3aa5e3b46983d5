"""Drive the gateway stand-in (tests/standin/GatewayStandin.java): a JVM that reloads its sender SSL profiles as a
running API-M 4.x gateway does. A test instrument; see docs/standin.md.

    classes = compile_standin()                      # javac once per source version, cached under build/standin/
    gw = Standin(node["home"], tmp_path / "gw1", interval_ms=500).start()
    gw.call("https://localhost:8443/")               # {"ok": False, "status": None, "error": "...PKIX path building failed..."}
    before = gw.reload_attempts()
    ...                                              # change a store, touch sslprofiles.xml
    gw.wait_for_reload(before)                       # {"ok": True, "mtime": ..., "at": ..., "trigger": "timer"}
    gw.pid; gw.log(); gw.restart(); gw.stop()
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

from ansible_collections.apim.certificates.tests.support.processes import terminate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, "tests", "standin", "GatewayStandin.java")
CACHE = os.path.join(ROOT, "build", "standin")
JAVA = shutil.which("java")
JAVAC = shutil.which("javac")
STANDIN_MISSING = ("no JDK (java and javac) on this machine, or no tests/standin/GatewayStandin.java (an installed "
                   "collection): the gateway stand-in is a Java program compiled from that source")
# The stand-in is long-lived but small: the C1 compiler and the serial GC keep its start-up and footprint low.
JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m", "-Xss512k")
IGNORED = "Ignoring reload SSL config since there is an invalid configuration."

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never through a proxy


def available() -> bool:
    """A JDK, and the stand-in's source (which the collection's tarball does not ship)."""
    return bool(JAVA and JAVAC) and os.path.exists(SOURCE)


def compile_standin() -> str:
    """The stand-in's class directory, compiled once per source hash (safe when several processes ask at once)."""
    with open(SOURCE, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    classes = os.path.join(CACHE, digest)
    if os.path.exists(os.path.join(classes, "GatewayStandin.class")):
        return classes
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(classes, "GatewayStandin.class")):
            work = classes + f".tmp{os.getpid()}"
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            proc = subprocess.run([JAVAC, "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-d", work, SOURCE],
                                  capture_output=True, text=True, timeout=300, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"javac {SOURCE} failed:\n{proc.stdout}{proc.stderr}")
            os.rename(work, classes)
    return classes


class StandinError(RuntimeError):
    pass


class Standin:
    """One stand-in process for one API-M home. Its log and control port live in state_dir, outside the home."""

    def __init__(self, home: str, state_dir, *, interval_ms: int | None = None, classes: str | None = None,
                 migrate: bool = False, run_as: str | None = None, listener_interval_ms: int | None = None):
        self.home = str(home)
        # run_as: the account the gateway runs as (started by root). The JVM then reads and writes the home as that
        # account, as a gateway does; the state folder and a copy of the classes are given to it.
        self.run_as = run_as
        self.migrate = migrate  # -Dmigrate: no start-up copy, so the stand-in writes nothing in the home
        self.state_dir = str(state_dir)
        self.interval_ms = interval_ms  # None: deployment.toml's interval, clamped as WSO2 does
        self.listener_interval_ms = listener_interval_ms  # None: deployment.toml's listener ssl_profile_interval
        self.classes = classes
        self.process: subprocess.Popen | None = None
        self.attached_pid: int | None = None  # a stand-in another process started (attach())
        self.port: int | None = None
        self.starts = 0

    @classmethod
    def attach(cls, home: str, state_dir, **kwargs) -> "Standin":
        """The stand-in that another process started on state_dir (its control port and pid), to drive or stop it."""
        standin = cls(home, state_dir, **kwargs)
        with open(standin._port_file, encoding="ascii") as handle:
            standin.port = int(handle.read())
        standin.attached_pid = int(standin.state()["pid"])
        return standin

    # --- life cycle ---------------------------------------------------------------------------------------------

    @property
    def log_path(self) -> str:
        return os.path.join(self.state_dir, "standin.log")

    def start(self, timeout: float = 60) -> "Standin":
        return self.launch().wait_ready(timeout)

    def launch(self) -> "Standin":
        """Start the JVM without waiting for it (start several, then wait_ready() on each)."""
        if (self.process is not None and self.process.poll() is None) or self.attached_pid is not None:
            raise StandinError("already running")
        self.classes = self.classes or compile_standin()
        os.makedirs(self.state_dir, exist_ok=True)
        if os.path.exists(self._port_file):
            os.unlink(self._port_file)
        account = {}
        if self.run_as is not None:
            account = self._hand_over()
        flags = list(JVM_FLAGS)
        if self.interval_ms is not None:
            flags.append(f"-Dstandin.testOnlyIntervalMs={int(self.interval_ms)}")
        if self.migrate:
            flags.append("-Dmigrate=true")
        if self.listener_interval_ms is not None:
            flags.append(f"-Dstandin.testOnlyListenerIntervalMs={int(self.listener_interval_ms)}")
        self.starts += 1
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"--- start {self.starts} ---\n")
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [JAVA, *flags, "-cp", self.classes, "GatewayStandin", self.state_dir],
                cwd=self.home, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=self.run_as is not None, **account)  # run_as: outlives its starter
        return self

    def _hand_over(self) -> dict:
        """Give the state folder and a copy of the classes to run_as; Popen's arguments that start the JVM as it."""
        entry = pwd.getpwnam(self.run_as)
        classes = os.path.join(self.state_dir, "classes")
        if os.path.realpath(self.classes) != os.path.realpath(classes):
            shutil.rmtree(classes, ignore_errors=True)
            shutil.copytree(self.classes, classes)
            self.classes = classes
        for folder, dirs, files in os.walk(self.state_dir):
            for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
                os.chown(name, entry.pw_uid, entry.pw_gid)
        env = dict(os.environ, HOME=entry.pw_dir, USER=self.run_as, LOGNAME=self.run_as)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "env": env}

    @property
    def _port_file(self) -> str:
        return os.path.join(self.state_dir, "control.port")

    def wait_ready(self, timeout: float = 60) -> "Standin":
        """Wait until the control channel is up (the start-up copy and the start-up check are done by then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self._port_file):
                with open(self._port_file, encoding="ascii") as handle:
                    self.port = int(handle.read())
                return self
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise StandinError(f"the stand-in exited with {code}:\n{self.log()}")
            time.sleep(0.05)
        self.stop()
        raise StandinError(f"the stand-in did not start within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.attached_pid is not None:
            terminate(self.attached_pid)
            self.attached_pid = None
            self.port = None
            return
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        self.port = None

    def restart(self, timeout: float = 60) -> "Standin":
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> "Standin":
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        if self.attached_pid is not None:
            return self.attached_pid
        return self.process.pid if self.process is not None else None

    # --- control channel ----------------------------------------------------------------------------------------

    def _get(self, path: str, timeout: float = 30, **params) -> dict:
        if self.port is None:
            raise StandinError("the stand-in is not running")
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")
        with _OPENER.open(url, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))

    def state(self) -> dict:
        """pid, intervalMs, configuredIntervalMs, hostnameVerifier, baseline, checks, reloads, failedReloads,
        lastReload {ok, at, mtime, trigger}, servers (the live profiles' host:port keys)."""
        return self._get("/state")

    def call(self, url: str) -> dict:
        """One GET through the live sender: {ok, status, error, profile}."""
        return self._get("/call", url=url)

    def check_host(self, cert_file: str, host: str, verifier: str | None = None) -> dict:
        """The sender's host name rules on a certificate file, without a connection: {ok, verifier, error}."""
        return self._get("/check-host", cert=cert_file, host=host, verifier=verifier)

    def reload_attempts(self) -> int:
        state = self.state()
        return state["reloads"] + state["failedReloads"]

    def wait_for_reload(self, after: int, timeout: float | None = None) -> dict:
        """Wait until a reload attempt beyond `after` (a reload_attempts() value) happened; its result."""
        state = self.state()
        timeout = timeout if timeout is not None else state["intervalMs"] / 1000 * 2 + 10
        deadline = time.monotonic() + timeout
        while True:
            if state["reloads"] + state["failedReloads"] > after:
                return state["lastReload"]
            if time.monotonic() > deadline:
                raise StandinError(f"no reload within {timeout} s (state {state}):\n{self.log()}")
            time.sleep(0.05)
            state = self.state()

    def wait_for_checks(self, count: int = 1, timeout: float | None = None) -> dict:
        """Wait until the timer made `count` more mtime checks (reloading or not); the state then."""
        state = self.state()
        wanted = state["checks"] + count
        timeout = timeout if timeout is not None else state["intervalMs"] / 1000 * (count + 1) + 10
        deadline = time.monotonic() + timeout
        while state["checks"] < wanted:
            if time.monotonic() > deadline:
                raise StandinError(f"fewer than {count} checks within {timeout} s:\n{self.log()}")
            time.sleep(0.05)
            state = self.state()
        return state

    def wait_until_call_ok(self, url: str, timeout: float) -> dict:
        """Call url until it succeeds; the first successful result (with 'when', time.time() of it), or the last failure."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.call(url)
            result["when"] = time.time()
            if result["ok"] or time.monotonic() > deadline:
                return result
            time.sleep(0.05)

    # --- the HTTPS listener (listenerprofiles.xml) ---------------------------------------------------------------

    def listener_reload_attempts(self) -> int:
        listener = self.state()["listener"]
        return listener["reloads"] + listener["failedReloads"]

    def wait_for_listener_reload(self, after: int, timeout: float | None = None) -> dict:
        """Wait until the listener tried to reload beyond `after` (a listener_reload_attempts() value); its state."""
        listener = self.state()["listener"]
        timeout = timeout if timeout is not None else listener["intervalMs"] / 1000 * 2 + 10
        deadline = time.monotonic() + timeout
        while listener["reloads"] + listener["failedReloads"] <= after:
            if time.monotonic() > deadline:
                raise StandinError(f"no listener reload within {timeout} s (state {listener}):\n{self.log()}")
            time.sleep(0.05)
            listener = self.state()["listener"]
        return listener

    def listener_call(self, cert_file: str | None = None, key_file: str | None = None, timeout: float = 10) -> dict:
        """One HTTPS request to the listener as an API consumer, presenting cert_file/key_file when given:
        {ok, status, body, error}. The client does not check the listener's own certificate (only the listener's
        check of the client is under test)."""
        import socket  # pylint: disable=import-outside-toplevel
        import ssl  # pylint: disable=import-outside-toplevel

        port = self.state()["listener"]["port"]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if cert_file:
            context.load_cert_chain(cert_file, key_file)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw, \
                    context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /mtls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        except (OSError, ssl.SSLError) as exc:
            return {"ok": False, "status": None, "body": None, "error": f"{type(exc).__name__}: {exc}"}
        head, _sep, body = data.partition(b"\r\n\r\n")
        parts = head.split(b"\r\n", 1)[0].split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        if status is None:  # TLS 1.3: the server's refusal of the client certificate arrives after the handshake
            return {"ok": False, "status": None, "body": None, "error": "the listener closed the connection (no response)"}
        return {"ok": status == 200, "status": status, "body": body.decode("utf-8", "replace"), "error": None}

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""


def touch(path: str, when: float | None = None) -> float:
    """Set a file's mtime (to now by default); the mtime the file then has, in seconds."""
    os.utime(path, None if when is None else (when, when))
    return os.stat(path).st_mtime


def classes_or_skip() -> str:
    """For tests: the compiled stand-in, or a skip with the reason where there is no JDK."""
    import pytest  # pylint: disable=import-outside-toplevel

    if not available():
        pytest.skip(STANDIN_MISSING)
    return compile_standin()
