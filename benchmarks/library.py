"""Library benchmarks: the collection's truststore code in-process vs keytool as a process.

Every library sample is a fresh Python process (benchmarks/_libworker.py) that imports the library, then runs one
operation once, as a module would: the table quotes the operation's in-process time (what the module adds to the
interpreter start every Ansible module pays anyway) and the process's peak RSS; the whole process's wall time is kept
as context. keytool runs as a process, as a keytool-based module runs it: plain `keytool` (what
community.general.java_cert calls) decides the target; keytool with the fast-start JVM flags of tests/support/java.py
is shown for context. Library and keytool samples are interleaved so that both see the same machine load.
"""

from __future__ import annotations

import os
import shutil

from benchmarks import fixtures
from benchmarks._common import (
    OUT,
    PASSWORD,
    PYTHON,
    ROOT,
    Row,
    check,
    copy_file,
    fmt_mb,
    fmt_ratio,
    fmt_seconds,
    fresh_dir,
    ratio,
    run_process,
    summary,
)

KEYTOOL = shutil.which("keytool")
FAST_JVM = ("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC")
WORKER = os.path.join(ROOT, "benchmarks", "_libworker.py")
ENV_VAR = "APIM_BENCH_STOREPASS"


def _env() -> dict:
    env = dict(os.environ)
    env[ENV_VAR] = PASSWORD
    return env


def _worker(operation: str, store: str, pem: str | None = None, profile: str | None = None) -> dict:
    import json  # pylint: disable=import-outside-toplevel

    cmd = [PYTHON, WORKER, operation, store, "--password-env", ENV_VAR]
    if pem:
        cmd += ["--pem", pem]
    if profile:
        cmd += ["--profile", profile]
    proc = run_process(cmd, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(f"library worker {operation} failed:\n{proc.stderr[-3000:]}")
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    record["process_wall_s"] = proc.wall
    record["process_cpu_s"] = proc.cpu
    record["process_maxrss_kb"] = proc.maxrss_kb
    return record


def _keytool(args: list, fast: bool = False):
    cmd = [KEYTOOL, *(FAST_JVM if fast else ()), *args, "-storepass:env", ENV_VAR]
    proc = run_process(cmd, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(f"keytool {' '.join(args)} failed ({proc.returncode}): {proc.stdout[-500:]} {proc.stderr[-500:]}")
    return proc


def measure_store(label: str, pristine: str, reps: int, work: str, pem: str, log, fast_jvm: bool = True) -> dict:
    """add / load / list on copies of pristine, library and keytool interleaved, reps samples each.

    fast_jvm: also time keytool with the fast-start JVM flags (context only; skipped on the large store for time).
    """
    store = os.path.join(work, f"{label}.jks")
    samples = {key: [] for key in ("lib_add", "lib_load", "lib_list", "kt_add", "kt_add_fast", "kt_list", "kt_list_fast")}
    for rep in range(reps):
        log(f"  {label}: sample {rep + 1}/{reps}")
        copy_file(pristine, store)
        samples["lib_add"].append(_worker("add", store, pem))
        copy_file(pristine, store)
        proc = _keytool(["-importcert", "-noprompt", "-alias", "bench-added", "-file", pem, "-keystore", store, "-storetype", "JKS"])
        samples["kt_add"].append(proc)
        if fast_jvm:
            copy_file(pristine, store)
            samples["kt_add_fast"].append(_keytool(
                ["-importcert", "-noprompt", "-alias", "bench-added", "-file", pem, "-keystore", store, "-storetype", "JKS"],
                fast=True))
        copy_file(pristine, store)
        samples["lib_load"].append(_worker("load", store))
        samples["lib_list"].append(_worker("list", store))
        samples["kt_list"].append(_keytool(["-list", "-keystore", store]))
        if fast_jvm:
            samples["kt_list_fast"].append(_keytool(["-list", "-keystore", store], fast=True))
    entries = samples["lib_load"][0]["entries"]

    def lib(key, field="op_s"):
        return summary([s[field] for s in samples[key]])

    def proc_stat(key, field="wall"):
        return summary([getattr(p, field) for p in samples[key]])

    return {
        "entries": entries,
        "library": {
            op: {"op_s": lib(f"lib_{op}"), "op_cpu_s": lib(f"lib_{op}", "op_cpu_s"), "import_s": lib(f"lib_{op}", "import_s"),
                 "process_wall_s": lib(f"lib_{op}", "process_wall_s"), "maxrss_kb": lib(f"lib_{op}", "process_maxrss_kb"),
                 "rss_before_op_kb": lib(f"lib_{op}", "rss_before_op_kb")}
            for op in ("add", "load", "list")
        },
        "keytool": {
            name: {"wall_s": proc_stat(key), "cpu_s": proc_stat(key, "cpu"), "maxrss_kb": proc_stat(key, "maxrss_kb")}
            for name, key in (("importcert", "kt_add"), ("importcert_fast_jvm", "kt_add_fast"),
                              ("list", "kt_list"), ("list_fast_jvm", "kt_list_fast"))
        },
    }


def run(quick: bool, log=print) -> tuple:
    """Returns (json section, table rows)."""
    if not KEYTOOL:
        raise RuntimeError("keytool is not on PATH: the library benchmarks compare with it")
    work = fresh_dir(os.path.join(OUT, "library"))
    stock, stock_description = fixtures.stock_store()
    big, big_description = fixtures.large_store(10_000, log=log)
    _alias, pem_text = fixtures.backend_certificates(120)[-1]
    pem = fixtures.write_pem(os.path.join(work, "backend.pem"), pem_text)
    small_reps, big_reps = (5, 3) if quick else (7, 4)
    log(f"library: {stock_description}; {small_reps} samples")
    small = measure_store("store-146", stock, small_reps, work, pem, log)
    log(f"library: {big_description}; {big_reps} samples")
    large = measure_store("store-10000", big, big_reps, work, pem, log, fast_jvm=False)
    section = {"stores": {"small": stock_description, "large": big_description}, "small": small, "large": large}
    return section, rows(small, large)


def _with_cpu(operation: dict) -> str:
    """median wall time, and median CPU time: what the operation costs when it has a core to itself."""
    return f"{fmt_seconds(operation['op_s']['median'])} (CPU {fmt_seconds(operation['op_cpu_s']['median'])})"


def rows(small: dict, large: dict) -> list:
    out = []
    for data, name in ((small, f"{small['entries']}-entry JKS"), (large, f"{large['entries']:,}-entry JKS")):
        lib, kt = data["library"], data["keytool"]
        is_small = data is small
        add, kt_add = lib["add"]["op_s"]["median"], kt["importcert"]["wall_s"]["median"]
        speedup = ratio(kt_add, add)
        out.append(Row(
            "Library", f"add 1 cert to the {name} and save (in-process)", _with_cpu(lib["add"]),
            f"keytool -importcert {fmt_seconds(kt_add)}", f"{fmt_ratio(speedup)} faster",
            ">= 10x faster than keytool" if is_small else "< 1 s",
            check(speedup, 10, at_most=False) if is_small else check(add, 1.0),
        ))
        fast = kt["importcert_fast_jvm"]["wall_s"]["median"]
        out.append(Row(
            "Library", f"  same, whole Python process (interpreter + imports + add) [{name}]",
            fmt_seconds(lib["add"]["process_wall_s"]["median"]),
            f"keytool -importcert {fmt_seconds(kt_add)}" + (f"; with fast-start JVM flags {fmt_seconds(fast)}" if fast else ""),
            f"{fmt_ratio(ratio(kt_add, lib['add']['process_wall_s']['median']))} faster",
        ))
        load, listing, kt_list = lib["load"]["op_s"]["median"], lib["list"]["op_s"]["median"], kt["list"]["wall_s"]["median"]
        out.append(Row("Library", f"load the {name} (parse + integrity check)", fmt_seconds(load),
                       f"keytool -list {fmt_seconds(kt_list)}", f"{fmt_ratio(ratio(kt_list, load))} faster"))
        out.append(Row(
            "Library", f"list the {name}: load + entry_facts for every entry", _with_cpu(lib["list"]),
            f"keytool -list {fmt_seconds(kt_list)}", f"{fmt_ratio(ratio(kt_list, listing))} faster",
            "" if is_small else "< 2 s", "" if is_small else check(listing, 2.0),
        ))
        peaks = {op: lib[op]["maxrss_kb"]["max"] for op in ("add", "load", "list")}
        kt_peak = max(kt["importcert"]["maxrss_kb"]["max"], kt["list"]["maxrss_kb"]["max"])
        worst = max(peaks.values())
        out.append(Row(
            "Library", f"peak RSS of the whole Python process, worst of add/load/list [{name}]",
            f"{fmt_mb(worst)} (add {fmt_mb(peaks['add'])}, list {fmt_mb(peaks['list'])})",
            f"keytool {fmt_mb(kt_peak)}", "",
            "" if is_small else "< 200 MB", "" if is_small else check(worst / 1024, 200),
        ))
    return out
