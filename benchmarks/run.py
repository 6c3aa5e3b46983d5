"""`make bench`: the collection's benchmark suite, in one run on one machine.

Prints a table of medians with ratios against a baseline measured in the same run (keytool, ansible.builtin.ping,
a one-certificate task, community.general.java_cert), and PASS/MISS for each target of the performance issue;
writes every sample to build/bench/results.json. Everything it writes stays under build/bench/ (and
build/bench-venv/ for community.general). See benchmarks/README.md for what each number means and how it is taken.

    .venv/bin/python benchmarks/run.py              # everything (about 6 minutes on 2 busy cores)
    .venv/bin/python benchmarks/run.py --quick      # fewer samples, fleet of 1/5/10 nodes, no java_cert loop (about 2 minutes)
    .venv/bin/python benchmarks/run.py --only library,fleet
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

from benchmarks import fleet, fleet_ssh, library, modules  # noqa: E402  pylint: disable=wrong-import-position
from benchmarks._common import COLLECTIONS, OUT, ROOT, ensure_dir, load_average  # noqa: E402  pylint: disable=wrong-import-position

SECTIONS = ("library", "module", "fleet", "cost")
HEADERS = ("Measurement", "Result", "Compared with", "Ratio", "Target", "Status")


def _versions() -> dict:
    import ansible  # pylint: disable=import-outside-toplevel
    import cryptography  # pylint: disable=import-outside-toplevel

    java = None
    if shutil.which("java"):
        proc = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        java = (proc.stderr or proc.stdout).splitlines()[0] if (proc.stderr or proc.stdout) else None
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "plugins", "roles"], capture_output=True,
                           text=True, check=False)
    return {
        "python": platform.python_version(), "ansible_core": ansible.__version__, "cryptography": cryptography.__version__,
        "java": java, "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "commit": commit.stdout.strip() + (" (plugins/ or roles/ modified)" if dirty.stdout.strip() else ""),
    }


def print_table(rows: list) -> None:
    cells = [[r.measurement, r.result, r.compared_with, r.ratio, r.target, r.status] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADERS)]

    def line(values):
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

    area = None
    print(line(HEADERS))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row, values in zip(rows, cells):
        if row.area != area:
            area = row.area
            print(line([f"**{area}**"] + [""] * (len(HEADERS) - 1)))
        print(line(values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, fleet of 1/5/10 nodes, no java_cert loop (about 2 minutes)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--no-java-cert", action="store_true", help="do not measure community.general.java_cert")
    parser.add_argument("--no-install", action="store_true",
                        help="do not pip-install community.general into build/bench-venv when it is missing")
    parser.add_argument("--sizes", help="fleet sizes (default 1,5,10,20; with --quick 1,5,10)")
    parser.add_argument("--forks", type=int, default=5, help="ansible forks for the fleet runs (default 5, Ansible's own)")
    parser.add_argument("--ssh-sizes", default="3,8,20", help="cost: SSH fleet sizes (default 3,8,20)")
    parser.add_argument("--local-sizes", default="20,50", help="cost: local-connection fleet sizes for the aggregation CPU (default 20,50)")
    parser.add_argument("--baseline", help="cost: the commit measured as today's code (default: the parent of the commit that added gateway_trust)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument("--json", help="where to write the results (default build/bench/results.json)")
    args = parser.parse_args()
    args.json = args.json or os.path.join(OUT, "results.json")
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {SECTIONS}")
    if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "apim", "certificates")):
        print("build/collections/ansible_collections/apim/certificates is missing: run `make collection` first", file=sys.stderr)
        return 2
    ensure_dir(OUT)

    def log(message):
        print(message, flush=True)

    started = time.perf_counter()
    results = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full", "versions": _versions(), "load_average_before": load_average(),
        "collection_under_test": os.path.relpath(COLLECTIONS, ROOT),
    }
    rows = []
    for name in SECTIONS:
        if name not in only:
            continue
        t0 = time.perf_counter()
        if name == "library":
            section, section_rows = library.run(args.quick, log=log)
        elif name == "module":
            section, section_rows = modules.run(args.quick, java_cert=not args.no_java_cert, install=not args.no_install, log=log)
        elif name == "fleet":
            sizes = tuple(int(s) for s in (args.sizes or ("1,5,10" if args.quick else "1,5,10,20")).split(","))
            section, section_rows = fleet.run(args.quick, sizes=sizes, forks=args.forks, log=log)
        else:
            section, section_rows = fleet_ssh.run(
                args.quick, forks=args.forks, baseline_ref=args.baseline, log=log,
                ssh_sizes=tuple(int(s) for s in args.ssh_sizes.split(",") if s.strip()),
                local_sizes=tuple(int(s) for s in args.local_sizes.split(",") if s.strip()))
        section["seconds"] = time.perf_counter() - t0
        results[name] = section
        rows += section_rows
    results["rows"] = [r.as_dict() for r in rows]
    results["load_average_after"] = load_average()
    results["seconds"] = time.perf_counter() - started
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1, default=str)

    versions = results["versions"]
    print()
    under_test = "checkout" if COLLECTIONS == os.path.join(ROOT, "build", "collections") else os.path.relpath(COLLECTIONS, ROOT)
    print(f"apim.certificates benchmarks ({results['mode']}, {under_test}), {versions['machine']}, Python {versions['python']}, "
          f"ansible-core {versions['ansible_core']}, cryptography {versions['cryptography']}, {versions['java'] or 'no Java'}; "
          f"commit {versions['commit']}")
    print(f"load average before/after: {results['load_average_before']} / {results['load_average_after']} "
          "(other work on the machine inflates absolute times; the ratios compare samples taken side by side)")
    print()
    print_table(rows)
    busiest = max((results["load_average_before"] or [0])[:1] + (results["load_average_after"] or [0])[:1])
    if busiest > (os.cpu_count() or 1):
        print(f"\nNote: the 1-minute load average reached {busiest} on {os.cpu_count()} CPUs: other work competed for the "
              "CPUs, so absolute times (and verdicts on them) are pessimistic; CPU times and ratios are the steadier figures.")
    targets = [r for r in rows if r.status in ("PASS", "MISS")]
    missed = [r for r in targets if r.status == "MISS"]
    print()
    print(f"{len(targets) - len(missed)}/{len(targets)} targets met"
          + (f"; missed: {'; '.join(r.measurement.strip() for r in missed)}" if missed else "")
          + f". Total {results['seconds']:.0f} s. JSON: {os.path.relpath(args.json, ROOT)}")
    print("Targets, causes of past misses and their fixes: docs/performance.md")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
