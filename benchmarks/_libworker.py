"""One library operation in a fresh process, as a module runs it: imports first (timed apart), then the operation once.

Run by benchmarks/library.py; prints one JSON object. Operations:
  add   parse a PEM certificate and converge_truststore() it into the store (load, plan, serialize, atomic write)
  load  load_truststore() with the password (integrity check included)
  list  load_truststore() and entry_facts() for every entry (what truststore_info reports)
With --profile FILE the operation runs under cProfile and the stats are written to FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.environ.get("APIM_BENCH_COLLECTIONS") or os.path.join(ROOT, "build", "collections"), ROOT]


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("operation", choices=["add", "load", "list"])
    parser.add_argument("store")
    parser.add_argument("--password-env", default="APIM_BENCH_STOREPASS")
    parser.add_argument("--pem")
    parser.add_argument("--alias", default="bench-added")
    parser.add_argument("--profile")
    args = parser.parse_args()
    password = os.environ[args.password_env]

    start = time.perf_counter()
    from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._facts import entry_facts  # pylint: disable=import-outside-toplevel

    imported = time.perf_counter() - start
    pem = None
    if args.operation == "add":
        with open(args.pem, "rb") as handle:
            pem = handle.read()
    rss_before = rss_kb()

    def operation():
        if args.operation == "add":
            cert = certs.read_certificates(pem, "certificate")[0]  # what endpoint_certificate does
            result = ts.converge_truststore(args.store, password, [ts.DesiredCertificate(args.alias, "present", cert)])
            assert result.changed, "the certificate was already there"
            return len(result.before.entries) + 1
        store = ts.load_truststore(args.store, password)
        if args.operation == "list":
            facts = [entry_facts(entry) for entry in store.entries.values()]
            return len(facts)
        return len(store.entries)

    profiler = None
    if args.profile:
        import cProfile  # pylint: disable=import-outside-toplevel

        profiler = cProfile.Profile()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    entries = operation()
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if profiler:
        profiler.dump_stats(args.profile)
    print(json.dumps({
        "operation": args.operation, "entries": entries, "import_s": imported, "op_s": wall, "op_cpu_s": cpu,
        "rss_before_op_kb": rss_before, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
