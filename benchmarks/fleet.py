"""Fleet benchmarks: the gateway_sync role (demo/gateway_sync.yml) over 1, 5, 10 and 20 simulated gateway nodes.

Each node is an API-M 4.x gateway home made by tests/support/gateway.py (WSO2's deployment.toml, the stock
client-truststore.jks and its start-up copy, sslprofiles.xml), reached with a local connection, at a fixed number of
forks. The role declares one backend certificate by endpoint, pinned by SHA-256, as `make demo` does; the backend is a
local HTTPS server. A converge run (every node lacks the certificate) is followed by a no-change run; both are timed
as whole ansible-playbook processes.

Module invocations per node are counted twice:
  * on the node: each host's ansible_python_interpreter is a two-line wrapper that logs one line and execs the
    venv's python, so every module process started for that host is counted (ground truth);
  * from the playbook output: the bench_timer callback's results for that host, for tasks whose action runs on the
    node (not set_fact, debug, assert, fail, meta, include_*, which run on the controller), and that were not
    skipped. run_once/delegated tasks count for the host they ran on.
The two counts must agree; the table quotes the wrapper's.
"""

from __future__ import annotations

import os

from benchmarks._common import (
    OUT,
    ROOT,
    Row,
    check,
    fmt_seconds,
    fresh_dir,
    interpreter_wrapper,
    run_playbook,
    summary,
    wrapper_records,
    write_yaml,
)

CONTROLLER_ACTIONS = {
    "set_fact", "debug", "assert", "fail", "meta", "include_tasks", "import_tasks", "include_role", "import_role",
    "include_vars", "add_host", "group_by", "set_stats", "pause", "validate_argument_spec",
    "gateway_sync_report",  # apim.certificates' action plugin: runs on the controller only
}
ALIAS = "bench-backend"
PLAYBOOK = os.path.join(ROOT, "demo", "gateway_sync.yml")


def _is_controller_action(action: str) -> bool:
    return action.rsplit(".", 1)[-1] in CONTROLLER_ACTIONS


def _make_nodes(work: str, count: int) -> dict:
    from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node  # pylint: disable=import-outside-toplevel

    nodes_dir = fresh_dir(os.path.join(work, "nodes"))
    return {f"gw{index:02d}": make_gateway_node(os.path.join(nodes_dir, f"gw{index:02d}")) for index in range(1, count + 1)}


def _inventory(work: str, nodes: dict, url: str, fingerprint: str, log_dir: str) -> str:
    interpreters = os.path.join(work, "interpreters")
    hosts = {name: {"gateway_sync_apim_home": node["home"], "ansible_python_interpreter": interpreter_wrapper(interpreters, name, log_dir)}
             for name, node in nodes.items()}
    return write_yaml(os.path.join(work, "inventory.yml"), {"all": {"children": {"gateways": {
        "hosts": hosts,
        "vars": {"ansible_connection": "local",
                 "gateway_sync_certificates": [{"alias": ALIAS, "endpoint": url, "fingerprint": fingerprint}]},
    }}}})


def _count_from_events(events: list, hosts) -> tuple:
    """({host: module-running results}, {host: changed results}, [module tasks that ran])."""
    modules = dict.fromkeys(hosts, 0)
    changed = dict.fromkeys(hosts, 0)
    names = []
    for event in events:
        if event["event"] != "result" or event["host"] not in modules:
            continue
        if event["changed"]:
            changed[event["host"]] += 1
        if _is_controller_action(event["action"]) or event["status"] == "skipped" or event["skipped"]:
            continue
        host = event["host"]
        if event.get("delegated_to") and event["delegated_to"] in modules:
            host = event["delegated_to"]
        modules[host] += event["items"] or event.get("modules") or 1
        if event["task"] not in names:
            names.append(event["task"])
    return modules, changed, names


def _one_run(work: str, inventory: str, log_dir: str, hosts: list, name: str, forks: int) -> dict:
    fresh_dir(log_dir)
    proc, events = run_playbook(work, PLAYBOOK, inventory, name=name, forks=forks)
    records = wrapper_records(log_dir, hosts)
    wrapper = {host: len(items) for host, items in records.items()}
    from_events, changed, tasks = _count_from_events(events, hosts)
    by_module = {}
    for items in records.values():
        for module, wall, cpu in items:
            entry = by_module.setdefault(module, {"calls": 0, "wall_s": 0.0, "cpu_s": 0.0})
            entry["calls"] += 1
            entry["wall_s"] += wall
            entry["cpu_s"] += cpu
    return {"wall_s": proc.wall, "cpu_s": proc.cpu, "wrapper_calls": wrapper, "callback_calls": from_events,
            "changed_results": changed, "module_tasks": tasks, "modules": by_module,
            "module_cpu_s": sum(m["cpu_s"] for m in by_module.values())}


def run(quick: bool, sizes=(1, 5, 10, 20), forks: int = 5, log=print) -> tuple:
    from ansible_collections.apim.certificates.tests.support.pki import make_cert, sha256  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.servers import https_server  # pylint: disable=import-outside-toplevel

    work = fresh_dir(os.path.join(OUT, "fleet"))
    log_dir = os.path.join(work, "calls")
    again_reps = 1 if quick else 2  # no-change runs after each converge (the target is on those)
    backend, key = make_cert("localhost", sans=["localhost", "127.0.0.1"], days=825)
    section = {"forks": forks, "converge_runs_per_size": 1, "no_change_runs_per_size": again_reps, "sizes": {},
               "playbook": os.path.relpath(PLAYBOOK, ROOT)}
    with https_server(backend, key) as port:
        url = f"https://localhost:{port}/orders"
        for size in sizes:
            runs = {"converge": [], "no_change": []}
            log(f"fleet: {size} node(s): converge, then {again_reps} no-change run(s)")
            nodes = _make_nodes(work, size)
            inventory = _inventory(work, nodes, url, sha256(backend), log_dir)
            hosts = list(nodes)
            converge = _one_run(work, inventory, log_dir, hosts, f"converge-{size}", forks)
            if any(converge["changed_results"][h] == 0 for h in hosts):
                raise RuntimeError(f"converge on {size} nodes left a node unchanged: {converge['changed_results']}")
            runs["converge"].append(converge)
            for again_rep in range(again_reps):
                again = _one_run(work, inventory, log_dir, hosts, f"nochange-{size}-{again_rep}", forks)
                if any(again["changed_results"].values()):
                    raise RuntimeError(f"the no-change run on {size} nodes changed something: {again['changed_results']}")
                runs["no_change"].append(again)
            section["sizes"][size] = {
                kind: {
                    "wall_s": summary([r["wall_s"] for r in items]),
                    "cpu_s": summary([r["cpu_s"] for r in items]),
                    "module_process_cpu_s": summary([r["module_cpu_s"] for r in items]),
                    "modules": items[-1]["modules"],
                    "module_invocations_per_node": max(max(r["wrapper_calls"].values()) for r in items),
                    "module_invocations_per_node_min": min(min(r["wrapper_calls"].values()) for r in items),
                    "callback_count_per_node": max(max(r["callback_calls"].values()) for r in items),
                    "counts_agree": all(r["wrapper_calls"] == r["callback_calls"] for r in items),
                    "module_tasks": items[-1]["module_tasks"],
                }
                for kind, items in runs.items()
            }
    section["linearity"] = {kind: {metric: linearity(section, kind, metric) for metric in ("cpu_s", "wall_s")}
                            for kind in ("converge", "no_change")}
    return section, rows(section)


def linearity(section: dict, kind: str, metric: str = "cpu_s") -> dict:
    """Least-squares line through (nodes, median of metric), R^2, and the marginal cost per node of each step.

    metric cpu_s: CPU seconds of the whole run (controller, its forks and every module process), fitted over every
    size: the work done, which other load on the machine does not change. metric wall_s: elapsed time, fitted from
    `forks` nodes up (below that the forks are not all busy, so the first nodes come cheaper).
    """
    low = 1 if metric == "cpu_s" else section["forks"]
    points = sorted((int(size), data[kind][metric]["median"]) for size, data in section["sizes"].items() if int(size) >= low)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if len(points) < 3:
        return {"metric": metric, "points": points}
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sxx
    intercept = mean_y - slope * mean_x
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    r2 = 1 - ss_res / ss_tot if ss_tot else 1.0
    marginal = [((x0, x1), (y1 - y0) / (x1 - x0)) for (x0, y0), (x1, y1) in zip(points, points[1:])]
    # Linear means one more node does not cost more in a bigger fleet: compare the last step with the one before.
    growth = marginal[-1][1] / marginal[-2][1] if len(marginal) >= 2 and marginal[-2][1] > 0 else None
    return {"metric": metric, "points": points, "slope_s_per_node": slope, "intercept_s": intercept, "r2": r2,
            "marginal_s_per_node": [[f"{a}->{b}", m] for (a, b), m in marginal], "last_step_vs_previous": growth}


LINEAR_R2 = 0.98
LINEAR_GROWTH = 1.25


def rows(section: dict) -> list:
    out = []
    sizes = sorted(section["sizes"], key=int)
    forks = section["forks"]
    for kind, label in (("converge", "converge (every node lacks the cert)"), ("no_change", "no-change re-run")):
        walls = ", ".join(f"{size}: {fmt_seconds(section['sizes'][size][kind]['wall_s']['median'])}" for size in sizes)
        calls = sorted({section["sizes"][size][kind]["module_invocations_per_node"] for size in sizes})
        agree = all(section["sizes"][size][kind]["counts_agree"] for size in sizes)
        out.append(Row("Fleet", f"role {label}, nodes -> wall time (forks={forks})", walls))
        worst = max(calls)
        out.append(Row(
            "Fleet", f"  module invocations per node, {label}", "/".join(str(c) for c in calls),
            "wrapper count = callback count" if agree else "wrapper and callback counts DIFFER", "",
            "<= 4" if kind == "no_change" else "", check(worst, 4) if kind == "no_change" else "",
        ))
        largest = section["sizes"][sizes[-1]][kind]
        mix = ", ".join(f"{m} x{v['calls'] // int(sizes[-1])}" for m, v in sorted(largest["modules"].items()))
        module_cpu = largest["module_process_cpu_s"]["median"] / int(sizes[-1])
        total_cpu = largest["cpu_s"]["median"] / int(sizes[-1])
        out.append(Row(
            "Fleet", f"  per node at {sizes[-1]} nodes, {label}: modules run / CPU",
            mix, f"CPU/node {fmt_seconds(total_cpu)}: module processes {fmt_seconds(module_cpu)}, "
                 f"controller {fmt_seconds(total_cpu - module_cpu)}",
        ))
        for metric, what in (("cpu_s", "CPU time"), ("wall_s", "wall time")):
            lin = section["linearity"][kind][metric]
            if "r2" not in lin:
                continue
            growth = lin["last_step_vs_previous"]
            judged = kind == "no_change" and metric == "cpu_s"
            ok = lin["r2"] >= LINEAR_R2 and growth is not None and growth <= LINEAR_GROWTH
            marginal = ", ".join(f"{step}: {fmt_seconds(m)}" for step, m in lin["marginal_s_per_node"])
            out.append(Row(
                "Fleet", f"  linear in nodes? {label}, {what}",
                f"{fmt_seconds(lin['slope_s_per_node'])}/node, R^2 {lin['r2']:.3f}", f"per extra node {marginal}",
                f"last step {growth:.2f}x the previous" if growth is not None else "",
                f"R^2 >= {LINEAR_R2}, last step <= {LINEAR_GROWTH}x" if judged else "",
                ("PASS" if ok else "MISS") if judged else "",
            ))
    return out
