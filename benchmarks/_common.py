"""Shared helpers of the benchmark suite: paths, timing of processes (wall, CPU, peak RSS), statistics, Ansible runs."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(ROOT, "benchmarks")
BUILD = os.path.join(ROOT, "build")
OUT = os.path.join(BUILD, "bench")  # everything the suite writes goes below here
CACHE = os.path.join(OUT, "cache")  # fixtures that are slow to make (the 10,000-entry store), kept between runs
# The collection under test: build/collections (-> this checkout), or another copy named by APIM_BENCH_COLLECTIONS.
COLLECTIONS = os.environ.get("APIM_BENCH_COLLECTIONS") or os.path.join(BUILD, "collections")
BENCH_VENV = os.path.join(BUILD, "bench-venv")  # community.general (from PyPI's `ansible`), never in .venv
PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)
PASSWORD = "wso2carbon"

FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "wso2")
STOCK_TRUSTSTORE = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "client-truststore.jks")
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"

for _path in (ROOT, COLLECTIONS):
    if _path not in sys.path:
        sys.path.insert(0, _path)


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path


def fresh_dir(path: str) -> str:
    if os.path.isdir(path):
        shutil.rmtree(path)
    return ensure_dir(path)


def copy_file(src: str, dst: str) -> str:
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)
    return dst


# --- statistics --------------------------------------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summary(values) -> dict:
    """median, min, max and count of a list of samples (seconds, bytes, ...)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0, "samples": []}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "samples": [round(v, 6) if isinstance(v, float) else v for v in values]}


def ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


# --- processes ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class ProcessRun:
    wall: float  # seconds, from fork to exit
    cpu: float  # user + system seconds of the process (and of its waited-for children)
    maxrss_kb: int  # peak resident set size of the process, kB (Linux ru_maxrss)
    returncode: int
    stdout: str = ""
    stderr: str = ""


def run_process(cmd, *, env=None, cwd=None, stdin_text=None, capture=True, timeout=900) -> ProcessRun:
    """Run cmd; measure its wall time, CPU time and peak RSS with wait4 (rusage of that one child)."""
    scratch = ensure_dir(os.path.join(OUT, "tmp"))
    out_path = os.path.join(scratch, f"stdout-{os.getpid()}.txt")
    err_path = os.path.join(scratch, f"stderr-{os.getpid()}.txt")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, env=env, cwd=cwd, stdout=out if capture else subprocess.DEVNULL, stderr=err,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        )
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            if stdin_text is not None:
                proc.stdin.write(stdin_text.encode())
                proc.stdin.close()
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        finally:
            killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, encoding="utf-8", errors="replace") as handle:
        stdout = handle.read()
    with open(err_path, encoding="utf-8", errors="replace") as handle:
        stderr = handle.read()
    os.unlink(out_path)
    os.unlink(err_path)
    return ProcessRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, stdout, stderr)


def load_average() -> list:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# --- module processes, seen from the managed node -------------------------------------------------------------


def interpreter_wrapper(directory: str, host: str, log_dir: str) -> str:
    """A per-host interpreter that runs the venv's python and records each module process (times, CPU, module)."""
    path = os.path.join(ensure_dir(os.path.join(directory, host)), "python3")
    log = os.path.join(log_dir, f"{host}.log")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(
            "#!/bin/sh\n"
            "start=$(date +%s.%N)\n"
            f'"{PYTHON}" "$@"\n'
            "rc=$?\n"
            "end=$(date +%s.%N)\n"
            # `times` in this shell (no subshell): its second line is the CPU time of the python just waited for
            f'times > "{log}.$$"\n'
            f'{{ read -r _self; read -r cpu; }} < "{log}.$$"\n'
            f'rm -f "{log}.$$"\n'
            # one line per module process: start end user-CPU system-CPU command (.../AnsiballZ_<module>.py)
            f'echo "$start $end $cpu $*" >> "{log}"\n'
            "exit $rc\n"
        )
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _cpu(text: str) -> float:
    """'1m2.500000s' (the shell's `times`) -> 62.5"""
    minutes, seconds = text.rstrip("s").split("m")
    return int(minutes) * 60 + float(seconds)


def wrapper_records(log_dir: str, hosts) -> dict:
    """{host: [(module, wall seconds, cpu seconds)]} from the interpreter wrappers' logs."""
    records = {}
    for host in hosts:
        records[host] = []
        path = os.path.join(log_dir, f"{host}.log")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) < 4:
                    continue
                start, end, user, system = fields[:4]
                script = next((os.path.basename(f) for f in fields[4:] if "AnsiballZ_" in f), "AnsiballZ_?.py")
                module = script[len("AnsiballZ_"):-3]
                records[host].append((module, float(end) - float(start), _cpu(user) + _cpu(system)))
    return records


# --- Ansible -----------------------------------------------------------------------------------------------------


def ansible_env(work: str, events: str | None = None, collections_path: str | None = None, forks: int | None = None) -> dict:
    """The environment `make bench` exports, plus the timing callback and scratch temp dirs under build/bench."""
    env = dict(os.environ)
    env.update({
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_COLLECTIONS_PATH": collections_path or COLLECTIONS,
        "ANSIBLE_PYTHON_INTERPRETER": PYTHON,
        "ANSIBLE_LOCAL_TEMP": ensure_dir(os.path.join(work, "tmp-local")),
        "ANSIBLE_REMOTE_TEMP": ensure_dir(os.path.join(work, "tmp-remote")),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(BENCH_DIR, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "bench_timer",
    })
    if events:
        env["APIM_BENCH_EVENTS"] = events
    if forks:
        env["ANSIBLE_FORKS"] = str(forks)
    return env


def read_events(path: str) -> list:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def task_durations(events: list) -> list:
    """[(task name, action, host, seconds from the task's start to that host's final result, record)] in order."""
    starts, out = {}, []
    for event in events:
        if event["event"] == "task_start":
            starts[event["task_uuid"]] = event["t"]
        elif event["event"] == "result":
            begin = starts.get(event["task_uuid"])
            out.append((event["task"], event["action"], event["host"], event["t"] - begin if begin else None, event))
    return out


def write_yaml(path: str, data) -> str:
    import yaml  # pylint: disable=import-outside-toplevel

    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False, width=10_000)
    return path


def run_playbook(work: str, playbook: str, inventory: str, *, name: str, extra_args=(), collections_path=None,
                 forks=None, env_extra=None) -> tuple:
    """Run ansible-playbook with the timing callback. Returns (ProcessRun, events)."""
    events = os.path.join(work, f"events-{name}.jsonl")
    if os.path.exists(events):
        os.unlink(events)
    env = ansible_env(work, events, collections_path, forks)
    env.update(env_extra or {})
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook, *extra_args]
    proc = run_process(cmd, env=env, cwd=work)
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook {name} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
    return proc, read_events(events) if os.path.exists(events) else []


def fmt_seconds(value) -> str:
    if value is None:
        return "n/a"
    if value < 0.001:
        return f"{value * 1e6:.0f} us"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def fmt_ratio(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def fmt_mb(kb) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


# --- the results table -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    """One line of the printed table. status is PASS or MISS for a target, empty for context."""

    area: str
    measurement: str
    result: str
    compared_with: str = ""
    ratio: str = ""
    target: str = ""
    status: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def check(value, limit, *, at_most=True) -> str:
    if value is None:
        return "n/a"
    return "PASS" if (value <= limit if at_most else value >= limit) else "MISS"
