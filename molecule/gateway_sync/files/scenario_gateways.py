"""The running-gateway proof of the gateway_sync Molecule scenario: one gateway stand-in per node (a JVM that reloads
its SSL profiles as a running API-M 4.x gateway does; tests/standin/, docs/standin.md) and one HTTPS backend that
serves the declared certificate. A test instrument, run on the controller as root (the nodes share its machine).

    scenario_gateways.py backend --certs DIR --alias ALIAS --dir STATE
        starts the backend (https://localhost:<port>/, the declared certificate and its key), detached; STATE/backend.json
    scenario_gateways.py up --node gw1 --fleet-state FILE --dir STATE
        starts the node's stand-in as the node's service account (the account the gateway runs as), with its state
        folder in that account's home and a test-only reload interval of INTERVAL_MS; calls the backend through it,
        which must fail with PKIX (the node does not trust the declared certificate yet); STATE/gw1.json
    scenario_gateways.py verify --node gw1 --fleet-state FILE --dir STATE
        after the role converged: the same JVM (same pid, never restarted) has reloaded the sslprofiles.xml that is on
        disk now, and the call succeeds; then the stand-in is restarted (a gateway restart: the start-up copy of the
        persistent truststore) and the call still succeeds; no reload was ever ignored. Prints the proof as JSON and
        exits 1 when a step fails.
    scenario_gateways.py down --dir STATE
        stops every stand-in and the backend by pid (destroy.yml; before the fleet deletes the accounts)

Without a JDK, `backend` and `up` print {"skipped": "<reason>"} and the playbooks skip the proof, saying why.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))  # molecule/gateway_sync/files -> repository root
sys.path.insert(0, HERE)

from scenario_nodes import _importable_collection, _write  # noqa: E402  pylint: disable=wrong-import-position

_importable_collection()

# pylint: disable=wrong-import-position
from ansible_collections.apim.certificates.tests.support import standin as driver  # noqa: E402
from ansible_collections.apim.certificates.tests.support.processes import alive, terminate  # noqa: E402

INTERVAL_MS = 1000  # test-only reload interval (a gateway's floor is 60 s; docs/standin.md)
PKIX = "PKIX path"  # "building failed" (no anchor), or "validation failed" (gw2: a stale certificate with the same name)


def _record(directory: str, name: str) -> str:
    return os.path.join(directory, f"{name}.json")


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _save(path: str, data: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _write(path, json.dumps(data, indent=2) + "\n", mode=0o600)


def _node(fleet_state: str, name: str) -> dict:
    nodes = _load(fleet_state)["nodes"]
    if name not in nodes:
        sys.exit(f"{name} is not a node of the fleet in {fleet_state}")
    return nodes[name]


# --- the backend ------------------------------------------------------------------------------------------------------

def serve(cert_file: str, key_file: str, port_file: str) -> None:
    """Serve HTTPS on 127.0.0.1 until SIGTERM; write the port to port_file once listening."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.servers import https_server  # pylint: disable=import-outside-toplevel

    with open(cert_file, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(key_file, "rb") as handle:
        key = load_pem_private_key(handle.read(), None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with https_server(cert, key) as port:
        _write(port_file, f"{port}\n")
        while True:
            time.sleep(3600)


def backend(certs: str, alias: str, directory: str) -> dict:
    if not driver.available():
        return {"skipped": driver.STANDIN_MISSING}
    path = _record(directory, "backend")
    if os.path.exists(path) and alive(_load(path)["pid"]):
        return _load(path)
    os.makedirs(directory, exist_ok=True)
    port_file = os.path.join(directory, "backend.port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    with open(os.path.join(directory, "backend.log"), "a", encoding="utf-8") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [sys.executable, os.path.abspath(__file__), "serve", "--cert", os.path.join(certs, f"{alias}.pem"),
             "--key", os.path.join(certs, f"{alias}.key"), "--port-file", port_file],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            with open(os.path.join(directory, "backend.log"), encoding="utf-8") as log:
                sys.exit(f"the scenario's HTTPS backend did not start:\n{log.read()}")
        time.sleep(0.05)
    with open(port_file, encoding="ascii") as handle:
        port = int(handle.read())
    record = {"pid": proc.pid, "port": port, "url": f"https://localhost:{port}/"}
    _save(path, record)
    return record


# --- the stand-ins ------------------------------------------------------------------------------------------------------

def _standin_dir(node: dict) -> str:
    """In the service account's own home: the account can write there, and it goes with the account."""
    return os.path.join(pwd.getpwnam(node["service_account"]).pw_dir, "gateway-standin")


def up(name: str, fleet_state: str, directory: str) -> dict:
    if not driver.available():
        return {"skipped": driver.STANDIN_MISSING}
    node = _node(fleet_state, name)
    url = _load(_record(directory, "backend"))["url"]
    path = _record(directory, name)
    if os.path.exists(path) and alive(_load(path)["pid"]):
        return _load(path)
    gateway = driver.Standin(node["home"], _standin_dir(node), interval_ms=INTERVAL_MS, run_as=node["service_account"])
    started_at = time.time()
    gateway.start()
    before = gateway.call(url)
    record = {"node": name, "pid": gateway.pid, "account": node["service_account"], "home": node["home"],
              "state_dir": gateway.state_dir, "url": url, "interval_ms": INTERVAL_MS, "before": before,
              "started_at": started_at}
    _save(path, record)
    if before["ok"] or PKIX not in (before.get("error") or ""):
        sys.exit(f"{name}: before the role ran, the call to {url} should fail with PKIX (the node does not trust the "
                 f"declared certificate yet), but it gave {before}")
    return record


def _sslprofiles_mtime(home: str) -> float:
    return os.stat(os.path.join(home, "repository", "resources", "security", "sslprofiles.xml")).st_mtime_ns / 1e9


def verify(name: str, directory: str) -> dict:
    path = _record(directory, name)
    if not os.path.exists(path):
        return {"skipped": driver.STANDIN_MISSING if not driver.available() else f"no stand-in was started for {name}"}
    record = _load(path)
    proof = {"node": name, "url": record["url"], "interval_ms": record["interval_ms"], "pid_at_prepare": record["pid"]}
    failures = []
    if not alive(record["pid"]):
        sys.exit(f"{name}: the stand-in started in prepare (pid {record['pid']}) is gone:\n"
                 + driver.Standin(record["home"], record["state_dir"]).log())
    gateway = driver.Standin.attach(record["home"], record["state_dir"], interval_ms=record["interval_ms"],
                                    run_as=record["account"])
    proof["pid"] = gateway.pid
    if gateway.pid != record["pid"]:
        failures.append(f"the stand-in's pid is {gateway.pid}, not {record['pid']} as at prepare")
    # the JVM must have loaded the sslprofiles.xml that is on disk now: by a reload, as the role touched it after the
    # JVM started (a later verify judges the JVM that the previous one restarted, which read the file at start-up)
    touched_ms = int(_sslprofiles_mtime(record["home"]) * 1000)
    deadline = time.monotonic() + record["interval_ms"] / 1000 * 2 + 20
    state = gateway.state()
    while state["baseline"] < touched_ms and time.monotonic() < deadline:
        time.sleep(0.05)
        state = gateway.state()
    last = state["lastReload"] or {}
    proof.update(reload=last, reloads=state["reloads"], failed_reloads=state["failedReloads"])
    if record["started_at"] * 1000 >= touched_ms:
        proof["loaded_at_start"] = True
    elif not last.get("ok") or last.get("mtime", 0) < touched_ms:
        failures.append(f"no successful reload of sslprofiles.xml as the role touched it (mtime {touched_ms} ms; "
                        f"the stand-in's state {state})")
    else:
        # touch() may set the time up to 1 s ahead (a strictly newer time, as the watcher needs), and the watcher can
        # reload before that moment: then the reload came as soon as the file changed
        proof["seconds_from_touch_to_reload"] = max(0.0, round((last["at"] - touched_ms) / 1000, 2))
    after = gateway.call(record["url"])
    proof["call_after_reload"] = after
    if not after["ok"]:
        failures.append(f"the running stand-in still fails to call {record['url']} after its reload: {after}")
    gateway.stop()
    gateway = driver.Standin(record["home"], record["state_dir"], interval_ms=record["interval_ms"],
                             classes=os.path.join(record["state_dir"], "classes"), run_as=record["account"])
    record["started_at"] = time.time()
    gateway.start()
    record["pid"] = gateway.pid  # a later verify judges the restarted JVM
    _save(path, record)
    proof["pid_after_restart"] = gateway.pid
    restarted = gateway.call(record["url"])
    proof["call_after_restart"] = restarted
    if not restarted["ok"]:
        failures.append(f"after a restart the stand-in fails to call {record['url']}: {restarted}")
    log = gateway.log()
    proof["ignored_reloads"] = log.count(driver.IGNORED)
    if driver.IGNORED in log:
        failures.append(f"the stand-in logged '{driver.IGNORED}'")
    proof["failures"] = failures
    if failures:
        print(json.dumps(proof, indent=2))
        print(log, file=sys.stderr)
        sys.exit(f"{name}: " + "; ".join(failures))
    return proof


def down(directory: str) -> dict:
    stopped = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        record = _load(path)
        if "pid" in record and alive(record["pid"]):
            terminate(record["pid"])
            stopped.append(record["pid"])
        os.unlink(path)
    return {"stopped": stopped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port-file", required=True)
    p = sub.add_parser("backend")
    p.add_argument("--certs", required=True)
    p.add_argument("--alias", required=True)
    p.add_argument("--dir", required=True)
    for command in ("up", "verify"):
        p = sub.add_parser(command)
        p.add_argument("--node", required=True)
        p.add_argument("--dir", required=True)
        if command == "up":
            p.add_argument("--fleet-state", required=True)
    p = sub.add_parser("down")
    p.add_argument("--dir", required=True)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.cert, args.key, args.port_file)
        return
    if args.command == "backend":
        result = backend(args.certs, args.alias, args.dir)
    elif args.command == "up":
        result = up(args.node, args.fleet_state, args.dir)
    elif args.command == "verify":
        result = verify(args.node, args.dir)
    else:
        result = down(args.dir)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
