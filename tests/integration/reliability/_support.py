"""Helpers of the reliability suite.

- ``run_plays``: many tasks (or plays) in ONE ansible-playbook run, every task result read back through the
  result_file callback, so a catalogue of failures costs one controller start-up instead of one per case.
- ``snapshot``: every file, link and directory under a folder (content hash and mode), to prove that a failed
  run left everything byte-for-byte as it was and created nothing (no temp file, no backup).
- ``assert_clean_failure``: a failed task with our own message, not an unhandled exception.
- ``ProcessSampler``: reads /proc/*/cmdline while ansible runs (secrets on command lines, module overlap).
- ``shared_once``: compute something once per pytest session even under pytest-xdist (the catalogue's groups).
- ``long_variant``: the ``slow`` marker plus a skip, with the reason printed, unless APIM_LONG_TESTS=1.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time

import pytest
import yaml

from ansible_collections.apim.certificates.tests.support.ansible import BIN, TaskResult, _env, playbook_flags

LONG = os.environ.get("APIM_LONG_TESTS") == "1"

try:
    import tomllib  # an independent TOML reader (Python >= 3.11) to judge what the collection writes
except ImportError:  # pragma: no cover - Python < 3.11
    tomllib = None


def toml_loads(text: str) -> dict:
    if tomllib is not None:
        return tomllib.loads(text)
    import tomlkit  # pylint: disable=import-outside-toplevel

    return tomlkit.parse(text).unwrap()


def long_variant(func):
    """Mark a long variant: slow, and skipped (with the reason printed) unless APIM_LONG_TESTS=1."""
    func = pytest.mark.skipif(not LONG, reason="long variant: run with APIM_LONG_TESTS=1 (make reliability-long)")(func)
    return pytest.mark.slow(func)


# --- ansible-playbook -------------------------------------------------------------------------------------


def task(name: str, module: str, args: dict, **keywords) -> dict:
    """One task that may fail without stopping the play (its result is read back by name)."""
    return {"name": name, module: args, "ignore_errors": True, **keywords}


def play(tasks: list, hosts: str = "localhost", **keywords) -> dict:
    return {"name": keywords.pop("name", "reliability"), "hosts": hosts, "gather_facts": False, **keywords, "tasks": tasks}


def run_plays(workdir, plays: list, *, inventory: dict | None = None, check=False, diff=False, verbosity=0,
              prefix: tuple = (), extra_env: dict | None = None, forks: int | None = None, timeout=600):
    """Run plays in one ansible-playbook process. Returns (records, output, returncode).

    records: every task result in the order the callback saw them (TaskResult, with _host, _task and _status).
    prefix: a command to run ansible-playbook under (for instance setpriv, to drop capabilities).
    """
    workdir = str(workdir)
    os.makedirs(workdir, exist_ok=True)
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"
    book = os.path.join(workdir, f"play-{stamp}.yml")
    results = os.path.join(workdir, f"results-{stamp}.jsonl")
    with open(book, "w", encoding="utf-8") as handle:
        handle.write(yaml.safe_dump(plays, sort_keys=False))
    if inventory is None:
        inventory_arg = ["-i", "localhost,", "-c", "local"]
    else:
        inventory_file = os.path.join(workdir, f"inventory-{stamp}.yml")
        with open(inventory_file, "w", encoding="utf-8") as handle:
            handle.write(yaml.safe_dump(inventory, sort_keys=False))
        inventory_arg = ["-i", inventory_file]
    cmd = [*prefix, os.path.join(BIN, "ansible-playbook"), *inventory_arg, book, *playbook_flags(check, diff, verbosity)]
    if forks:
        cmd += ["--forks", str(forks)]
    env = _env(WorkDir(workdir))
    env["APIM_TEST_RESULTS"] = results
    env.update(extra_env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    records = []
    if os.path.exists(results):
        with open(results, encoding="utf-8") as handle:
            records = [TaskResult(json.loads(line)) for line in handle if line.strip()]
        os.unlink(results)
    os.unlink(book)
    return records, proc.stdout + proc.stderr, proc.returncode


class WorkDir:
    """tests.support.ansible._env wants a pathlib-like tmp_path (it uses the / operator)."""

    def __init__(self, path: str):
        self.path = path

    def __truediv__(self, other):
        return os.path.join(self.path, other)


def by_task(records: list, host: str | None = None) -> dict:
    """The last result of each task name (for one host)."""
    out = {}
    for record in records:
        if host is None or record.get("_host") == host:
            out[record["_task"]] = record
    return out


# --- clean failures ---------------------------------------------------------------------------------------

# What Ansible shows when a module dies of an unhandled exception instead of calling fail_json.
UNHANDLED = re.compile(r"Module failed:|MODULE FAILURE|Traceback \(most recent call last\)|module_stderr|"
                       r"Module result deserialization failed")


def unhandled(result: dict) -> str | None:
    """Why result looks like a crash rather than a failure the collection reported, or None."""
    text = json.dumps({k: v for k, v in result.items() if k not in ("invocation", "argument_spec_data")}, default=str)
    found = UNHANDLED.search(text)
    if found:
        return found.group(0)
    if result.get("module_stderr") or result.get("module_stdout"):
        return "module_stderr/module_stdout"
    return None


def assert_clean_failure(result: dict, pattern: str, label: str = "") -> None:
    """A failed task whose message matches pattern (which names the input and the reason), no crash."""
    assert result is not None, f"{label}: the task did not run"
    assert result.get("_status") == "failed" or result.get("failed"), f"{label}: did not fail: {result}"
    crash = unhandled(result)
    assert crash is None, f"{label}: an unhandled exception ({crash}), not a reported failure: {result.get('msg')}"
    message = str(result.get("msg", ""))
    assert re.search(pattern, message), f"{label}: message {message!r} does not match {pattern!r}"


# --- files ------------------------------------------------------------------------------------------------

SKIP_NAMES = (".ansible-local", ".ansible-remote")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(root, skip=SKIP_NAMES) -> dict:
    """relative path -> ('file', sha256, mode) | ('link', target) | ('dir', mode), for everything under root."""
    root = str(root)
    out = {}
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(dirs) + sorted(files):
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                with open(path, "rb") as handle:
                    out[rel] = ("file", sha256_bytes(handle.read()), stat.S_IMODE(st.st_mode))
    return out


def snapshot_diff(before: dict, after: dict) -> list:
    """Human-readable differences between two snapshots (empty when identical)."""
    changes = []
    for rel in sorted(set(before) | set(after)):
        if rel not in after:
            changes.append(f"removed {rel}")
        elif rel not in before:
            changes.append(f"created {rel}")
        elif before[rel] != after[rel]:
            changes.append(f"changed {rel}: {before[rel]} -> {after[rel]}")
    return changes


# --- things tests need to know about this machine -----------------------------------------------------------

SETPRIV = shutil.which("setpriv")
# What to run a process under so that file modes bind it: as root, setpriv without the two capabilities that let root
# ignore them; as any other user, nothing (they bind already).
DROP_DAC = () if os.geteuid() != 0 else \
    (SETPRIV, "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-dac_override,-dac_read_search") if SETPRIV else None


def can_drop_dac() -> str | None:
    """None when a process can be run without CAP_DAC_OVERRIDE (so file modes bind root too), else why not."""
    if DROP_DAC is None:
        return "running as root, and setpriv (util-linux) is not installed to drop CAP_DAC_OVERRIDE"
    if not DROP_DAC:
        return None  # not root: file modes already bind
    probe = subprocess.run([*DROP_DAC, sys.executable, "-c", "import os; os.open('/proc/self/status', os.O_RDONLY)"],
                           capture_output=True, text=True, check=False, timeout=60)
    if probe.returncode != 0:
        return f"setpriv cannot drop CAP_DAC_OVERRIDE here: {probe.stderr.strip()[:200]}"
    return None


def mount_tmpfs(path: str, size: str) -> str | None:
    """Mount a tmpfs of size at path. None on success, else why not (not root, no mount, a sandbox...)."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    if not shutil.which("mount"):
        return "mount is not installed"
    os.makedirs(path, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", path],
                          capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        return f"cannot mount a tmpfs: {proc.stderr.strip()[:200]}"
    return None


def umount(path: str) -> None:
    subprocess.run(["umount", "-l", path], capture_output=True, check=False, timeout=60)


def fill_filesystem(directory: str) -> None:
    """Use up every free block of directory's filesystem with one filler file (it stays, so the disk stays full).

    Blocks only, not inodes: a temp file can still be created, and writing its data is what fails (the usual
    "disk full"), which exercises the clean-up of the partly written temp file.
    """
    fd = os.open(os.path.join(directory, "filler"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


def chattr(path: str, flag: str) -> str | None:
    """chattr flag (e.g. '+i') on path. None on success, else why not."""
    if not shutil.which("chattr"):
        return "chattr (e2fsprogs) is not installed"
    proc = subprocess.run(["chattr", flag, path], capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        return f"chattr {flag} failed: {proc.stderr.strip()[:200]}"
    return None


# --- processes --------------------------------------------------------------------------------------------


class ProcessSampler:
    """Collects the command line of every process seen in /proc while running (every ~5 ms)."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.cmdlines: set = set()
        self.samples = 0
        self.max_concurrent: dict = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            seen = []
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                with contextlib.suppress(OSError):
                    with open(f"/proc/{pid}/cmdline", "rb") as handle:
                        raw = handle.read()
                    if raw:
                        seen.append(raw.replace(b"\0", b" ").decode("utf-8", "replace").strip())
            self.cmdlines.update(seen)
            for marker in list(self.max_concurrent):
                count = sum(1 for line in seen if marker in line and "/bin/sh" not in line)
                self.max_concurrent[marker] = max(self.max_concurrent[marker], count)
            self.samples += 1
            time.sleep(self.interval)

    def count(self, marker: str) -> None:
        """Also record the largest number of processes whose command line contains marker seen at once."""
        self.max_concurrent.setdefault(marker, 0)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)


# --- once per session, even under pytest-xdist --------------------------------------------------------------


def shared_dir(tmp_path_factory) -> str:
    """A folder every xdist worker of this session shares (the session's base temp folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return str(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)


def shared_once(tmp_path_factory, name: str, compute):
    """compute(folder) -> JSON-able value, run by the first worker that asks; the others read its result.

    A compute that raises is not retried: every caller gets the same error.
    """
    root = shared_dir(tmp_path_factory)
    folder = os.path.join(root, f"shared-{name}")
    result_file = os.path.join(root, f"shared-{name}.json")
    with open(os.path.join(root, f"shared-{name}.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.path.exists(result_file):
                os.makedirs(folder, exist_ok=True)
                try:
                    value = {"value": compute(folder)}
                except Exception:  # noqa: BLE001 - reported to every test that needs the value
                    import traceback  # pylint: disable=import-outside-toplevel

                    value = {"error": traceback.format_exc()}
                with open(result_file + ".part", "w", encoding="utf-8") as handle:
                    json.dump(value, handle, default=str)
                os.replace(result_file + ".part", result_file)
            with open(result_file, encoding="utf-8") as handle:
                value = json.load(handle)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if "error" in value:
        raise AssertionError(f"setting up {name} failed:\n{value['error']}")
    return value["value"]
