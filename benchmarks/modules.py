"""Module benchmarks: Ansible tasks on localhost (local connection), timed per task by the bench_timer callback.

A task's time is what the controller spends on it: from the strategy starting the task to the host's final result
(module packaging, the module process, result handling). The first task of each module in a run also builds its
AnsiballZ payload, so every playbook starts with one untimed warm-up task per module. Compared tasks alternate
within one ansible-playbook run, so that both see the same machine load.

  ping        ansible.builtin.ping: the floor of any module on that host
  floor       bench.floor.crypto_floor, a do-nothing module that imports cryptography.x509 (a scratch collection
              written under build/bench): the floor of any module that parses certificates with cryptography
  single      endpoint_certificate adding one certificate (PEM content) to a copy of the stock store
  batch       endpoint_certificate adding 100 certificates in one task (certificates: [...])
  loop        endpoint_certificate adding the same 100 certificates one per loop item
  java_cert   community.general.java_cert adding one certificate (cert_content), and a loop over the 100, from
              build/bench-venv (installed there from PyPI's `ansible` package, never into .venv)
"""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks import fixtures
from benchmarks._common import (
    BENCH_VENV,
    COLLECTIONS,
    OUT,
    PASSWORD,
    PYTHON,
    Row,
    check,
    copy_file,
    fmt_ratio,
    fmt_seconds,
    fresh_dir,
    interpreter_wrapper,
    ratio,
    run_playbook,
    summary,
    task_durations,
    wrapper_records,
    write_yaml,
)

ANSIBLE_PACKAGE = "ansible==12.3.0"  # community.general 11.x, for ansible-core 2.19
BATCH = 100


FLOOR_MODULE = '''#!/usr/bin/python
# Benchmark scratch module: does nothing but import what any certificate-parsing module imports.
from __future__ import annotations

DOCUMENTATION = r"""
module: crypto_floor
short_description: benchmark floor of a cryptography-based module
"""

from ansible.module_utils.basic import AnsibleModule

try:
    from cryptography import x509  # noqa: F401  pylint: disable=unused-import
except ImportError:
    x509 = None


def main():
    AnsibleModule(argument_spec={}, supports_check_mode=True).exit_json(changed=False)


if __name__ == "__main__":
    main()
'''


def _floor_collection(work: str) -> str:
    """A collections path holding bench.floor.crypto_floor."""
    root = os.path.join(work, "floor")
    modules = os.path.join(root, "ansible_collections", "bench", "floor", "plugins", "modules")
    os.makedirs(modules, exist_ok=True)
    with open(os.path.join(modules, "crypto_floor.py"), "w", encoding="utf-8") as handle:
        handle.write(FLOOR_MODULE)
    return root


def _inventory(work: str, traced: bool = False) -> str:
    """localhost with the venv's python; traced: through a wrapper that logs each module process's wall and CPU time
    (see fleet.py). The wrapper costs a few ms per module, so the judged tasks run without it."""
    interpreter = PYTHON
    if traced:
        interpreter = interpreter_wrapper(os.path.join(work, "interpreters"), "localhost", os.path.join(work, "calls"))
    return write_yaml(os.path.join(work, f"inventory{'-traced' if traced else ''}.yml"), {"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": interpreter}}}})


def _process_costs(work: str, durations: list) -> dict:
    """{task: (module-process wall, module-process CPU)}: the wrapper's records, in task order (loops: summed)."""
    records = wrapper_records(os.path.join(work, "calls"), ["localhost"])["localhost"]
    costs, index = {}, 0
    for task, _action, _host, _seconds, record in durations:
        count = record["items"] or 1
        chunk = records[index:index + count]
        index += count
        costs[task] = (sum(r[1] for r in chunk), sum(r[2] for r in chunk))
    return costs


def _run(work: str, book: str, inventory: str, **kwargs) -> tuple:
    """run_playbook with a fresh wrapper log; (process, durations, {task: (module wall, module CPU)})."""
    fresh_dir(os.path.join(work, "calls"))
    proc, events = run_playbook(work, book, inventory, **kwargs)
    durations = task_durations(events)
    return proc, durations, _process_costs(work, durations)


def _ec_single(store: str, index: int, name: str) -> dict:
    return {"name": name, "apim.certificates.endpoint_certificate": {
        "path": store, "password": PASSWORD, "alias": f"{{{{ bench_certs[{index}].alias }}}}",
        "certificate": f"{{{{ bench_certs[{index}].certificate }}}}"}}


def _ec_batch(store: str, name: str) -> dict:
    return {"name": name, "apim.certificates.endpoint_certificate": {
        "path": store, "password": PASSWORD, "certificates": "{{ bench_certs[:%d] }}" % BATCH}}


def _ec_loop(store: str, name: str) -> dict:
    return {"name": name, "apim.certificates.endpoint_certificate": {
        "path": store, "password": PASSWORD, "alias": "{{ item.alias }}", "certificate": "{{ item.certificate }}"},
        "loop": "{{ bench_certs[:%d] }}" % BATCH, "loop_control": {"label": "{{ item.alias }}"}}


def _java_cert(store: str, name: str, item: str) -> dict:
    return {"name": name, "community.general.java_cert": {
        "keystore_path": store, "keystore_pass": PASSWORD, "keystore_type": "JKS",
        "cert_alias": "{{ %s.alias }}" % item, "cert_content": "{{ %s.certificate }}" % item}}


def _by_prefix(durations: list, prefix: str) -> list:
    return [seconds for task, _action, _host, seconds, _record in durations if task.startswith(prefix + " ")]


def _check_changed(durations: list, prefixes) -> None:
    for task, _action, _host, _seconds, record in durations:
        if task.split(" ")[0] in prefixes and (record["status"] != "ok" or not record["changed"]):
            raise RuntimeError(f"task '{task}' did not add its certificate(s): {record}")


def _play(tasks: list, vars_file: str) -> list:
    return [{"name": "bench", "hosts": "localhost", "gather_facts": False, "vars_files": [vars_file], "tasks": tasks}]


# --- community.general.java_cert, in its own environment --------------------------------------------------------


def java_cert_collections(install: bool, log) -> tuple:
    """(site-packages holding ansible_collections/community/general, reason it is unavailable)."""
    site = os.path.join(BENCH_VENV, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages")
    module = os.path.join(site, "ansible_collections", "community", "general", "plugins", "modules", "java_cert.py")
    if os.path.exists(module):
        return site, None
    if not install:
        return None, "community.general is not installed in build/bench-venv (run without --no-install)"
    log(f"module: installing {ANSIBLE_PACKAGE} (community.general) into {os.path.relpath(BENCH_VENV)} (once, about a minute)")
    try:
        if not os.path.exists(os.path.join(BENCH_VENV, "bin", "python")):
            base = getattr(sys, "_base_executable", None) or sys.executable
            subprocess.run([base, "-m", "venv", BENCH_VENV], check=True, capture_output=True, timeout=300)
        subprocess.run([os.path.join(BENCH_VENV, "bin", "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                        "--disable-pip-version-check", ANSIBLE_PACKAGE], check=True, capture_output=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return None, f"could not install {ANSIBLE_PACKAGE} into build/bench-venv: {exc} {detail.decode(errors='replace')[-300:]}"
    if not os.path.exists(module):
        return None, f"{ANSIBLE_PACKAGE} holds no community.general.java_cert"
    return site, None


def _community_general_version(site: str) -> str:
    import json  # pylint: disable=import-outside-toplevel

    try:
        with open(os.path.join(site, "ansible_collections", "community", "general", "MANIFEST.json"), encoding="utf-8") as handle:
            return json.load(handle)["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


# --- the runs ---------------------------------------------------------------------------------------------------


def run(quick: bool, java_cert: bool = True, install: bool = True, log=print) -> tuple:
    work = fresh_dir(os.path.join(OUT, "module"))
    stock, stock_description = fixtures.stock_store()
    certs = fixtures.backend_certificates(120)
    vars_file = write_yaml(os.path.join(work, "certs.yml"),
                           {"bench_certs": [{"alias": alias, "certificate": pem} for alias, pem in certs]})
    inventory = _inventory(work)
    pairs = 6 if quick else 12
    batch_reps = 3 if quick else 5
    loop_reps = 1
    section = {"store": stock_description, "batch_size": BATCH}

    def store(name):
        return copy_file(stock, os.path.join(work, f"{name}.jks"))

    # 1. ping vs one endpoint_certificate task, alternating; then single vs batch vs loop on fresh stores.
    tasks = [{"name": "warmup ping", "ansible.builtin.ping": {}}, {"name": "warmup floor", "bench.floor.crypto_floor": {}},
             _ec_single(store("warmup"), 119, "warmup ec")]
    pair_store = store("pairs")
    for index in range(pairs):
        tasks += [{"name": f"ping {index}", "ansible.builtin.ping": {}}, {"name": f"floor {index}", "bench.floor.crypto_floor": {}},
                  _ec_single(pair_store, index, f"single {index}")]
    for index in range(batch_reps):
        tasks += [_ec_single(store(f"one-{index}"), 110, f"one {index}"), _ec_batch(store(f"batch-{index}"), f"batch {index}")]
    for index in range(loop_reps):
        tasks.append(_ec_loop(store(f"loop-{index}"), f"loop {index}"))
    log(f"module: ping vs endpoint_certificate ({pairs} pairs), 1 vs {BATCH} in a batch ({batch_reps}), loop of {BATCH} ({loop_reps})")
    floor_path = f"{COLLECTIONS}{os.pathsep}{_floor_collection(work)}"
    proc, durations, _costs = _run(work, write_yaml(os.path.join(work, "modules.yml"), _play(tasks, vars_file)), inventory,
                                   name="modules", collections_path=floor_path)
    _check_changed(durations, ("single", "one", "batch", "loop"))
    kinds = ("ping", "floor", "single", "one", "batch", "loop")
    section["tasks"] = {kind: summary(_by_prefix(durations, kind)) for kind in kinds}

    # 1b. The same triples through the tracing interpreter: wall and CPU time of the module processes alone.
    traced = [{"name": "warmup ping", "ansible.builtin.ping": {}}, {"name": "warmup floor", "bench.floor.crypto_floor": {}},
              _ec_single(store("traced-warmup"), 119, "warmup ec")]
    traced_store = store("traced")
    for index in range(pairs // 2):
        traced += [{"name": f"ping {index}", "ansible.builtin.ping": {}}, {"name": f"floor {index}", "bench.floor.crypto_floor": {}},
                   _ec_single(traced_store, index, f"single {index}")]
    _proc, _durations, costs = _run(work, write_yaml(os.path.join(work, "traced.yml"), _play(traced, vars_file)),
                                    _inventory(work, traced=True), name="traced", collections_path=floor_path)
    section["module_process_wall_s"] = {kind: summary([w for t, (w, _c) in costs.items() if t.startswith(kind + " ")])
                                        for kind in ("ping", "floor", "single")}
    section["module_process_cpu_s"] = {kind: summary([c for t, (_w, c) in costs.items() if t.startswith(kind + " ")])
                                       for kind in ("ping", "floor", "single")}
    section["playbook_wall_s"] = proc.wall

    # 2. Whole ansible-playbook runs with a single task: what a user waits for at the command line.
    cli_reps = 0 if quick else 2
    cli = {"ping": [], "single": []}
    for index in range(cli_reps):
        for kind in ("ping", "single"):
            task = ({"name": "ping 0", "ansible.builtin.ping": {}} if kind == "ping"
                    else _ec_single(store(f"cli-{index}"), 111, "single 0"))
            book = write_yaml(os.path.join(work, f"cli-{kind}.yml"), _play([task], vars_file))
            cli_proc, _durations, _costs = _run(work, book, inventory, name=f"cli-{kind}")
            cli[kind].append(cli_proc.wall)
    section["cli_playbook_wall_s"] = {kind: summary(values) for kind, values in cli.items()}

    # 3. community.general.java_cert doing the same, alternating with endpoint_certificate.
    section["java_cert"] = {"available": False}
    if java_cert:
        site, reason = java_cert_collections(install, log)
        if site is None:
            section["java_cert"]["reason"] = reason
            log(f"module: java_cert skipped: {reason}")
        else:
            jc_pairs = 3 if quick else 5
            jc_loops = 0 if quick else 1
            tasks = [{"name": "warmup ping", "ansible.builtin.ping": {}}, _ec_single(store("jc-warmup-ec"), 119, "warmup ec"),
                     dict(_java_cert(store("jc-warmup"), "warmup java_cert", "bench_certs[119]"))]
            for index in range(jc_pairs):
                tasks += [_ec_single(store(f"jc-ec-{index}"), 112, f"single {index}"),
                          _java_cert(store(f"jc-{index}"), f"javacert {index}", "bench_certs[112]")]
            for index in range(jc_loops):
                loop = _java_cert(store(f"jc-loop-{index}"), f"javacertloop {index}", "item")
                loop.update({"loop": "{{ bench_certs[:%d] }}" % BATCH, "loop_control": {"label": "{{ item.alias }}"}})
                tasks.append(loop)
            log(f"module: community.general.java_cert {_community_general_version(site)}: {jc_pairs} single tasks, "
                f"{jc_loops} loop(s) of {BATCH}")
            _proc, durations, _costs = _run(work, write_yaml(os.path.join(work, "java_cert.yml"), _play(tasks, vars_file)),
                                            inventory, name="java_cert", collections_path=f"{COLLECTIONS}{os.pathsep}{site}")
            _check_changed(durations, ("single", "javacert", "javacertloop"))
            section["java_cert"] = {
                "available": True, "community_general": _community_general_version(site),
                "single_ec": summary(_by_prefix(durations, "single")),
                "single": summary(_by_prefix(durations, "javacert")),
                "loop": summary(_by_prefix(durations, "javacertloop")),
                "keytool_processes_per_add": "3 keytool + 2 openssl (test keytool, -list -alias, x509, dgst, -importcert)",
            }
    return section, rows(section)


def rows(section: dict) -> list:
    tasks = section["tasks"]
    ping, single, one = tasks["ping"]["median"], tasks["single"]["median"], tasks["one"]["median"]
    batch, loop = tasks["batch"]["median"], tasks["loop"]["median"]
    floor = tasks["floor"]["median"]
    cpu = {kind: value["median"] for kind, value in section["module_process_cpu_s"].items()}
    pwall = {kind: value["median"] for kind, value in section["module_process_wall_s"].items()}
    out = [
        Row("Module", "one endpoint_certificate task (add 1 cert, 146-entry JKS)", fmt_seconds(single),
            f"ansible.builtin.ping task {fmt_seconds(ping)}", f"{fmt_ratio(ratio(single, ping))} of ping", "<= 1.2x ping",
            check(ratio(single, ping), 1.2)),
        Row("Module", "  the module process alone (traced run): endpoint_certificate wall / CPU",
            f"{fmt_seconds(pwall['single'])} / {fmt_seconds(cpu['single'])}",
            f"ping {fmt_seconds(pwall['ping'])} / {fmt_seconds(cpu['ping'])}; floor {fmt_seconds(pwall['floor'])} / {fmt_seconds(cpu['floor'])}",
            f"{fmt_ratio(ratio(pwall['single'], pwall['ping']))} / {fmt_ratio(ratio(cpu['single'], cpu['ping']))} of ping"),
        Row("Module", "  floor: a do-nothing module that imports cryptography.x509", fmt_seconds(floor),
            f"ping {fmt_seconds(ping)}", f"{fmt_ratio(ratio(floor, ping))} of ping"),
        Row("Module", f"{BATCH} certificates in one batch task", fmt_seconds(batch),
            f"one-certificate task {fmt_seconds(one)}", f"{fmt_ratio(ratio(batch, one))} of one", "<= 1.5x one",
            check(ratio(batch, one), 1.5)),
        Row("Module", f"  same {BATCH} certificates as a loop of {BATCH} single tasks", fmt_seconds(loop),
            f"batch {fmt_seconds(batch)}", f"batch {fmt_ratio(ratio(loop, batch))} faster"),
    ]
    cli = section.get("cli_playbook_wall_s") or {}
    if cli.get("ping", {}).get("n"):
        out.append(Row("Module", "  whole ansible-playbook run with that one task", fmt_seconds(cli["single"]["median"]),
                       f"one ping task {fmt_seconds(cli['ping']['median'])}",
                       f"{fmt_ratio(ratio(cli['single']['median'], cli['ping']['median']))} of ping"))
    jc = section.get("java_cert", {})
    if jc.get("available"):
        out.append(Row("Module", f"community.general.java_cert {jc['community_general']}: add 1 cert",
                       fmt_seconds(jc["single"]["median"]), f"endpoint_certificate {fmt_seconds(jc['single_ec']['median'])}",
                       f"endpoint_certificate {fmt_ratio(ratio(jc['single']['median'], jc['single_ec']['median']))} faster"))
        if jc["loop"]["n"]:
            out.append(Row("Module", f"  java_cert: {BATCH} certs (loop; it has no batch mode)", fmt_seconds(jc["loop"]["median"]),
                           f"endpoint_certificate batch {fmt_seconds(batch)}",
                           f"batch {fmt_ratio(ratio(jc['loop']['median'], batch))} faster"))
    else:
        out.append(Row("Module", "community.general.java_cert", "not measured", jc.get("reason", "skipped (--no-java-cert)")))
    return out
