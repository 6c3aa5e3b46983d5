"""Fleet cost (issue 13): the gateway_sync role against a one-ping-per-node play, over real SSH nodes, and the
controller CPU of the role's run_once aggregation, for today's code (a baseline commit) and the checkout, in one run.

SSH part: N = 3, 8, 20 nodes of tests/support/fleet.py (one sshd per node on 127.0.0.1, a login account with sudo,
become to each node's service account that owns its API-M home, the node's own Python), pipelining on, the same
forks for every play. Per N: the nodes are converged once (checkout), then, interleaved, R times each:
  ping       a play of one ansible.builtin.ping per node (the floor: one SSH round trip and one module per node)
  baseline   demo/gateway_sync.yml (the role), no-change run, with the baseline commit's collection
  checkout   the same with the checkout's collection
  audit      the checkout's role in check mode (--check), the hourly compliance run
Each is a whole ansible-playbook process with a fresh ControlPath directory (each play opens its own connections).
Module runs per node are counted from the playbook's results (tasks whose action runs on the node, not skipped).

Local part: N = 20 and 50 local-connection nodes, no-change runs of both versions. The bench_timer callback records,
at every task start and at the end, the CPU time the ansible-playbook process tree has used (tree_cpu()); a task's
controller CPU is the difference to the next task. The aggregation is every run_once controller task after the
nodes' module runs (drift report, verification, summary, fail-on-drift; and the checkout's gateway_sync_report).

The baseline is a `git archive` of a commit (default: the parent of the commit that added gateway_trust) under
build/bench/baseline/<commit>/, used through ANSIBLE_COLLECTIONS_PATH.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import io

from benchmarks._common import (
    COLLECTIONS,
    OUT,
    ROOT,
    Row,
    ensure_dir,
    fmt_ratio,
    fmt_seconds,
    fresh_dir,
    interpreter_wrapper,
    run_playbook,
    summary,
    wrapper_records,
    write_yaml,
)
from benchmarks.fleet import _count_from_events, _is_controller_action

PLAYBOOK = os.path.join(ROOT, "demo", "gateway_sync.yml")
ALIAS = "bench-backend"
SSH_SIZES = (3, 8, 20)
LOCAL_SIZES = (20, 50)
RATIO_TARGET = 1.5
AGG_GROWTH = 1.25  # per-node aggregation CPU at the larger N may be at most this times that at the smaller N


# --- the two collections ---------------------------------------------------------------------------------------------


def _git(*args) -> str:
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=True).stdout.strip()


def default_baseline() -> str:
    added = _git("log", "--diff-filter=A", "--format=%H", "--", "plugins/modules/gateway_trust.py").splitlines()
    if not added:
        return "HEAD"
    return _git("rev-parse", f"{added[-1]}^")


def baseline_collection(ref: str) -> tuple:
    """(collections path, short commit) holding `git archive <ref>` as ansible_collections/apim/certificates."""
    commit = _git("rev-parse", "--short", ref)
    base = os.path.join(OUT, "baseline", commit)
    target = os.path.join(base, "ansible_collections", "apim", "certificates")
    if not os.path.isfile(os.path.join(target, "galaxy.yml")):
        fresh_dir(target)
        data = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", ref, "--", "plugins", "roles", "meta", "galaxy.yml"],
                              capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(target)  # our own repository's tree  # noqa: S202
    return base, commit


# --- plays -----------------------------------------------------------------------------------------------------------


def _ping_playbook(work: str) -> str:
    return write_yaml(os.path.join(work, "ping.yml"), [
        {"name": "One ping per node", "hosts": "gateways", "gather_facts": False, "tasks": [{"ansible.builtin.ping": {}}]}])


def _module_runs(events: list, hosts) -> int:
    modules, _changed, _names = _count_from_events(events, hosts)
    return max(modules.values()) if modules else 0


def _changed(events: list) -> int:
    return sum(1 for e in events if e["event"] == "result" and e["changed"])


def aggregation_cpu(events: list) -> float:
    """Controller CPU of the run_once controller tasks after the first task that ran a module on the nodes."""
    starts = [e for e in events if e["event"] in ("task_start", "end") and "cpu" in e]
    results = {}
    for event in events:
        if event["event"] == "result":
            results.setdefault(event["task_uuid"], []).append(event)
    total, seen_module = 0.0, False
    for this, following in zip(starts, starts[1:]):
        if this["event"] != "task_start":
            continue
        task_results = results.get(this["task_uuid"], [])
        ran_module = any(not _is_controller_action(r["action"]) and r["status"] != "skipped" and not r["skipped"]
                         for r in task_results)
        if ran_module:
            seen_module = True
            continue
        if seen_module and len(task_results) == 1 and _is_controller_action(this["action"]) or (
                seen_module and this["action"].endswith("gateway_sync_report")):
            total += following["cpu"] - this["cpu"]
    return total


def _keep(work: str, name: str, record: dict) -> None:
    """Every sample also goes to <work>/samples.jsonl as it is taken, so that an interrupted run keeps what it measured."""
    import json  # pylint: disable=import-outside-toplevel

    with open(os.path.join(work, "samples.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(record, name=name)) + "\n")


# --- SSH -------------------------------------------------------------------------------------------------------------


def _ssh_fleet(count: int, log):
    try:
        from ansible_collections.apim.certificates.tests.support import fleet as fleet_support  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None, "tests/support/fleet.py (the SSH test fleet) is not in this checkout"
    reason = fleet_support.missing(("newest",))
    if reason:
        return None, reason
    names = [f"gw{i:02d}" for i in range(1, count + 1)]
    return fleet_support.up(names, ("newest",), owner_pid=os.getpid(), log=log), None


def run_ssh(quick: bool, baseline: tuple, sizes=SSH_SIZES, forks: int = 5, log=print) -> dict:
    from ansible_collections.apim.certificates.tests.support.pki import make_cert, sha256  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.servers import https_server  # pylint: disable=import-outside-toplevel

    if not sizes:
        return {"forks": forks, "sizes": {}, "skipped": "no SSH sizes asked for"}
    work = fresh_dir(os.path.join(OUT, "fleet-ssh"))
    reps = 1 if quick else 3
    fleet, reason = _ssh_fleet(max(sizes), log)
    section = {"forks": forks, "pipelining": True, "repetitions": reps, "sizes": {}, "skipped": reason}
    if fleet is None:
        log(f"fleet-ssh: skipped: {reason}")
        return section
    backend, key = make_cert("localhost", sans=["localhost", "127.0.0.1"], days=825)
    ping = _ping_playbook(work)
    try:
        with https_server(backend, key) as port:
            url = f"https://localhost:{port}/orders"
            for size in sizes:
                hosts = list(fleet.nodes)[:size]
                inventory = fleet.write_inventory(os.path.join(work, f"inventory-{size}.yml"), hosts, group_vars={
                    "ansible_become": True, "ansible_become_user": "{{ fleet_service_account }}",
                    "gateway_sync_certificates": [{"alias": ALIAS, "endpoint": url, "fingerprint": sha256(backend)}],
                })

                def play(name, playbook, collections=COLLECTIONS, extra=()):
                    env = {"ANSIBLE_PIPELINING": "True", "ANSIBLE_SSH_CONTROL_PATH_DIR": fleet.control_path_dir()}
                    proc, events = run_playbook(work, playbook, inventory, name=name, collections_path=collections,
                                                forks=forks, extra_args=extra, env_extra=env)
                    record = {"wall_s": proc.wall, "cpu_s": proc.cpu, "module_runs_per_node": _module_runs(events, hosts),
                              "changed": _changed(events)}
                    _keep(work, name, record)
                    return record

                log(f"fleet-ssh: {size} node(s) over SSH: converge, then {reps} x (ping, baseline, checkout, check mode)")
                converge = play(f"converge-{size}", PLAYBOOK)
                samples = {"ping": [], "baseline": [], "checkout": [], "audit": []}
                for rep in range(reps):
                    samples["ping"].append(play(f"ping-{size}-{rep}", ping))
                    samples["baseline"].append(play(f"base-{size}-{rep}", PLAYBOOK, baseline[0]))
                    samples["checkout"].append(play(f"new-{size}-{rep}", PLAYBOOK))
                    samples["audit"].append(play(f"audit-{size}-{rep}", PLAYBOOK, extra=("--check",)))
                for kind in ("baseline", "checkout", "audit"):
                    if any(s["changed"] for s in samples[kind]):
                        raise RuntimeError(f"the {kind} no-change run on {size} SSH nodes changed something")
                section["sizes"][size] = {
                    "converge": converge,
                    **{kind: {"wall_s": summary([s["wall_s"] for s in items]), "cpu_s": summary([s["cpu_s"] for s in items]),
                              "module_runs_per_node": max(s["module_runs_per_node"] for s in items)}
                       for kind, items in samples.items()},
                }
    finally:
        problems = fleet.down()
        if problems:
            log(f"fleet-ssh: teardown problems: {problems}")
    return section


# --- local: the controller's aggregation -----------------------------------------------------------------------------


def run_local(quick: bool, baseline: tuple, sizes=LOCAL_SIZES, forks: int = 5, log=print) -> dict:
    from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem  # pylint: disable=import-outside-toplevel

    if not sizes:
        return {"forks": forks, "sizes": {}}
    work = fresh_dir(os.path.join(OUT, "fleet-agg"))
    reps = 1 if quick else 2
    cert, _key = make_cert("orders.internal", days=825)
    section = {"forks": forks, "repetitions": reps, "sizes": {}}
    for size in sizes:
        nodes_dir = fresh_dir(os.path.join(work, "nodes"))
        log_dir = fresh_dir(os.path.join(work, "calls"))
        hosts = [f"gw{i:02d}" for i in range(1, size + 1)]
        inventory = write_yaml(os.path.join(work, f"inventory-{size}.yml"), {"all": {"children": {"gateways": {
            "hosts": {h: {"gateway_sync_apim_home": make_gateway_node(os.path.join(nodes_dir, h))["home"],
                          "ansible_python_interpreter": interpreter_wrapper(os.path.join(work, "interpreters"), h, log_dir)}
                      for h in hosts},
            "vars": {"ansible_connection": "local",
                     "gateway_sync_certificates": [{"alias": "orders", "certificate": pem(cert)}]},
        }}}})
        env = {"APIM_BENCH_TREE_CPU": "1"}
        log(f"fleet-agg: {size} local node(s): converge, then {reps} x (baseline, checkout) no-change runs")
        run_playbook(work, PLAYBOOK, inventory, name=f"agg-converge-{size}", forks=forks, env_extra=env)
        samples = {"baseline": [], "checkout": []}
        for rep in range(reps):
            for kind, collections in (("baseline", baseline[0]), ("checkout", COLLECTIONS)):
                fresh_dir(log_dir)
                proc, events = run_playbook(work, PLAYBOOK, inventory, name=f"agg-{kind}-{size}-{rep}",
                                            collections_path=collections, forks=forks, env_extra=env)
                if _changed(events):
                    raise RuntimeError(f"the {kind} no-change run on {size} local nodes changed something")
                module_cpu = sum(cpu for items in wrapper_records(log_dir, hosts).values() for _m, _w, cpu in items)
                samples[kind].append({"aggregation_cpu_s": aggregation_cpu(events), "cpu_s": proc.cpu, "wall_s": proc.wall,
                                      "controller_cpu_s": proc.cpu - module_cpu,
                                      "module_runs_per_node": max(len(v) for v in wrapper_records(log_dir, hosts).values())})
                _keep(work, f"agg-{kind}-{size}-{rep}", samples[kind][-1])
        section["sizes"][size] = {kind: {key: summary([s[key] for s in items]) if key != "module_runs_per_node"
                                         else max(s[key] for s in items)
                                         for key in ("aggregation_cpu_s", "cpu_s", "wall_s", "controller_cpu_s", "module_runs_per_node")}
                                  for kind, items in samples.items()}
    return section


# --- entry point and table -------------------------------------------------------------------------------------------


def run(quick: bool, forks: int = 5, baseline_ref: str | None = None, ssh_sizes=SSH_SIZES, local_sizes=LOCAL_SIZES,
        log=print) -> tuple:
    ref = baseline_ref or default_baseline()
    baseline = baseline_collection(ref)
    log(f"fleet-ssh: baseline (today's code) = commit {baseline[1]}, checkout = {os.path.relpath(COLLECTIONS, ROOT)}")
    ensure_dir(OUT)
    section = {"baseline_commit": baseline[1],
               "ssh": run_ssh(quick, baseline, ssh_sizes, forks, log),
               "local": run_local(quick, baseline, local_sizes, forks, log)}
    return section, rows(section)


def rows(section: dict) -> list:
    out = []
    ssh = section["ssh"]
    base = section["baseline_commit"]
    if ssh.get("skipped"):
        out.append(Row("Fleet cost", "over SSH", "skipped", ssh["skipped"]))
    else:
        out.append(Row("Fleet cost", f"over SSH, pipelining on, become, forks={ssh['forks']}, median of {ssh['repetitions']}",
                       "role no-change / ping play", f"baseline = {base}, checkout = this tree"))
        ratios = {}
        for size in sorted(ssh["sizes"], key=int):
            data = ssh["sizes"][size]
            ping = data["ping"]["wall_s"]["median"]
            for kind in ("baseline", "checkout", "audit"):
                wall = data[kind]["wall_s"]["median"]
                ratio = wall / ping if ping else None
                if kind == "checkout":
                    ratios[int(size)] = ratio
                label = {"baseline": f"baseline {base}", "checkout": "checkout", "audit": "checkout, --check"}[kind]
                judged = kind in ("checkout", "audit")
                out.append(Row(
                    "Fleet cost", f"  {size} nodes, {label}: role {fmt_seconds(wall)}",
                    f"ping play {fmt_seconds(ping)}", f"module runs per node: {data[kind]['module_runs_per_node']}",
                    fmt_ratio(ratio), f"<= {RATIO_TARGET}x" if judged else "",
                    ("PASS" if ratio is not None and ratio <= RATIO_TARGET else "MISS") if judged else "",
                ))
        if len(ratios) >= 2:
            sizes = sorted(ratios)
            grows = ratios[sizes[-1]] / ratios[sizes[0]] if ratios[sizes[0]] else None
            out.append(Row("Fleet cost", "  ratio does not grow with N (checkout)",
                           ", ".join(f"{n}: {fmt_ratio(ratios[n])}" for n in sizes), "",
                           f"{sizes[-1]} vs {sizes[0]} nodes: {fmt_ratio(grows)}", "<= 1.10x",
                           "PASS" if grows is not None and grows <= 1.10 else "MISS"))
    local = section["local"]
    per_node = {}
    for size in sorted(local["sizes"], key=int):
        data = local["sizes"][size]
        for kind in ("baseline", "checkout"):
            agg = data[kind]["aggregation_cpu_s"]["median"]
            ctl = data[kind]["controller_cpu_s"]["median"]
            per_node[(kind, int(size))] = agg / int(size)
            out.append(Row(
                "Fleet cost", f"  {size} local nodes, {'baseline ' + base if kind == 'baseline' else 'checkout'}: "
                              f"aggregation CPU {fmt_seconds(agg)}",
                f"{fmt_seconds(agg / int(size))}/node", f"controller CPU {fmt_seconds(ctl / int(size))}/node, "
                                                        f"module runs/node {data[kind]['module_runs_per_node']}",
            ))
    sizes = sorted(int(s) for s in local["sizes"])
    if len(sizes) >= 2:
        for kind in ("baseline", "checkout"):
            small, large = per_node[(kind, sizes[0])], per_node[(kind, sizes[-1])]
            growth = large / small if small else None
            judged = kind == "checkout"
            out.append(Row(
                "Fleet cost", f"  aggregation CPU per node, {sizes[0]} -> {sizes[-1]} nodes ({kind})",
                f"{fmt_seconds(small)} -> {fmt_seconds(large)}", "", fmt_ratio(growth),
                f"<= {AGG_GROWTH}x (linear)" if judged else "",
                ("PASS" if growth is not None and growth <= AGG_GROWTH else "MISS") if judged else "",
            ))
    return out
