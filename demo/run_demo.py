"""The collection's main job on a self-contained demo (what `make demo` runs).

1. Builds three simulated API-M 4.x gateway nodes under build/demo/nodes, with drift:
   gw1 lacks the backend's certificate, gw2 holds a stale one under the same alias, gw3 has it only in the
   start-up copy of its truststore (as after a Publisher upload: it would be lost at the next restart).
2. Starts a local HTTPS backend on 127.0.0.1 with a self-signed certificate.
3. Runs demo/gateway_sync.yml (the apim.certificates.gateway_sync role) against an inventory of the three nodes,
   fetching the backend certificate from the live endpoint, pinned by its SHA-256: the role prints the drift
   report before and the summary after.
4. Proves it on running gateways. With a JDK, each node runs a gateway stand-in (tests/standin/, docs/standin.md: a
   JVM that reloads its SSL profiles as an API-M 4.x gateway does) from the start: its call to the backend fails
   before (PKIX), the same process (same pid) succeeds after its next reload (the seconds from the touch to the first
   success are measured against the interval, a test-only 2 s here), and after a restart it still succeeds.
   Without a JDK, Python's TLS stack checks each node's live truststore instead.
5. Stops the backend. Running it again reports no change: the nodes and the backend's key are kept.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
sys.path[:0] = [ROOT, COLLECTIONS]

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # noqa: E402
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts  # noqa: E402
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node  # noqa: E402
from ansible_collections.apim.certificates.tests.support.java import JAVA, KEYTOOL, compile_client, java_tls_get  # noqa: E402
from ansible_collections.apim.certificates.tests.support.pki import key_pem, make_cert, pem, sha256  # noqa: E402
from ansible_collections.apim.certificates.tests.support.servers import https_server, renewable_https_server  # noqa: E402
from ansible_collections.apim.certificates.tests.support import standin as standin_driver  # noqa: E402

ALIAS = "demo-backend"
CA_ALIAS = "demo-orders-ca"
PASSWORD = "wso2carbon"
INTERVAL_MS = 2000  # test-only reload interval of the stand-ins (WSO2: deployment.toml's interval, at least 60 s)


def banner(text: str) -> None:
    print(f"\n\033[1m=== {text} ===\033[0m" if sys.stdout.isatty() else f"\n=== {text} ===", flush=True)


def _kept_identity(directory: str, name: str, make):
    """A certificate and key made once by make() and kept in directory (name.crt, name.key), so that re-runs change
    nothing."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    os.makedirs(directory, exist_ok=True)
    cert_file, key_file = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    if not os.path.exists(cert_file):
        cert, key = make()
        with open(key_file, "w", encoding="ascii") as handle:
            handle.write(key_pem(key))
        os.chmod(key_file, 0o600)
        with open(cert_file, "w", encoding="ascii") as handle:
            handle.write(pem(cert))
    with open(cert_file, "rb") as handle:
        cert = certs.parse_certificates(handle.read())[0]
    with open(key_file, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    return cert, key


def backend_identity(directory: str):
    """The backend's self-signed certificate and key."""
    return _kept_identity(directory, "backend", lambda: make_cert("localhost", sans=["localhost", "127.0.0.1"], days=825))


def private_ca(directory: str):
    """The private CA of the renewing backend (act 6)."""
    return _kept_identity(directory, "ca", lambda: make_cert("Demo Private CA", ca=True, days=3650, key_kind="ec"))


def issued_leaf(ca, ca_key):
    """A fresh leaf (new key, new serial) from the private CA: what the backend's routine renewal gives it."""
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    return make_cert("localhost", issuer=ca, issuer_key=ca_key, sans=["localhost"], days=90,
                     key=ec.generate_private_key(ec.SECP256R1()))


def spki_pin(cert) -> str:
    from ansible_collections.apim.certificates.plugins.module_utils import _chain  # pylint: disable=import-outside-toplevel

    return _chain.spki_pin(_chain.spki_sha256(certs.certificate_der(cert)))


def build_nodes(directory: str, backend) -> dict:
    nodes = {}
    for name in ("gw1", "gw2", "gw3"):
        home = os.path.join(directory, name)
        fresh = not os.path.exists(os.path.join(home, "repository", "conf", "deployment.toml"))
        nodes[name] = make_gateway_node(home) if fresh else _paths(home)
        if not fresh:
            continue
        if name == "gw2":
            stale, _key = make_cert("localhost", sans=["localhost"], days=30)
            for store in ("live", "persistent"):
                ts.converge_truststore(nodes[name][store], PASSWORD, [ts.DesiredCertificate(ALIAS, "present", stale)])
        if name == "gw3":
            ts.converge_truststore(nodes[name]["live"], PASSWORD, [ts.DesiredCertificate(ALIAS, "present", backend)])
    return nodes


def _paths(home: str) -> dict:
    security = os.path.join(home, "repository", "resources", "security")
    return {
        "home": home, "deployment_toml": os.path.join(home, "repository", "conf", "deployment.toml"),
        "persistent": os.path.join(security, "client-truststore.jks"),
        "live": os.path.join(security, "client-truststore-temp.jks"),
        "sslprofiles": os.path.join(security, "sslprofiles.xml"),
    }


def report_paths(work: str) -> tuple:
    """Where the role writes the fleet trust report and the Prometheus metrics (gateway_sync_report_html, _metrics_path)."""
    folder = os.path.join(work, "report")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, "gateway-sync-report.html"), os.path.join(folder, "gateway-sync.prom")


def write_inventory(path: str, nodes: dict, url: str, fingerprint: str, renewing_url: str, ca_pin: str) -> None:
    lines = ["all:", "  children:", "    gateways:", "      hosts:"]
    for name, node in nodes.items():
        lines.append(f"        {name}:")
        lines.append(f"          gateway_sync_apim_home: {node['home']}")
    lines += [
        "      vars:",
        "        ansible_connection: local",
        f"        ansible_python_interpreter: {sys.executable}",
        f"        gateway_sync_report_html: {report_paths(os.path.dirname(path))[0]}",
        f"        gateway_sync_metrics_path: {report_paths(os.path.dirname(path))[1]}",
        "        gateway_sync_certificates:",
        f"          - alias: {ALIAS}",
        f"            endpoint: {url}",
        f'            fingerprint: "{fingerprint}"',
        f"          - alias: {CA_ALIAS}",
        f"            endpoint: {renewing_url}",
        "            trust: issuer                 # the CA that signs its leaves: renewals keep working",
        "            spki_pins:",
        f'              - "{ca_pin}"',
        "",
    ]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def run_role(inventory: str, work: str) -> int:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml",
        "ANSIBLE_LOCAL_TEMP": os.path.join(work, "tmp", "local"),
        "ANSIBLE_REMOTE_TEMP": os.path.join(work, "tmp", "remote"),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_FORCE_COLOR": "1" if sys.stdout.isatty() else "0",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    })
    playbook = os.path.join(ROOT, "demo", "gateway_sync.yml")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook]
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, env=env)


def python_trusts(url_host: str, port: int, store_path: str) -> str:
    """Python's TLS stack, trusting only what the store holds."""
    store = ts.load_truststore(store_path, PASSWORD)
    cadata = "".join(
        pem(certs.load_der_certificate(e.certificate))
        for e in store.entries.values() if e.certificate is not None
    )
    context = ssl.create_default_context(cadata=cadata)
    try:
        with socket.create_connection((url_host, port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=url_host) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {url_host}\r\nConnection: close\r\n\r\n".encode())
                return tls.recv(64).decode(errors="replace").splitlines()[0]
    except (ssl.SSLError, OSError) as exc:
        return f"FAILED {exc}"


class Poller:
    """Calls the backend through one running gateway until the first success, from a thread, while the role runs."""

    def __init__(self, gateway, url: str):
        self.gateway, self.url = gateway, url
        self.first_ok = None  # (time.time(), the reload in force then)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                result = self.gateway.call(self.url)
            except OSError:
                result = {"ok": False}
            if result["ok"]:
                self.first_ok = (time.time(), self.gateway.state()["lastReload"])
                return
            self.stop.wait(0.2)


def short(error: str | None) -> str:
    text = str(error)
    found = re.search(r"PKIX path (building|validation) failed", text)
    if found is None:
        return text[:100]
    return found.group(0) + (f" ({text.rsplit(': ', 1)[-1][:60]})" if found.group(1) == "validation" else "")


def start_gateways(nodes: dict, work: str) -> dict:
    """One stand-in per node, started together: each makes the 4.x start-up copy of its truststore."""
    def held(node):
        entry = ts.load_truststore(node["live"], PASSWORD).entries.get(ALIAS)
        return entry.sha256 if entry else None

    before = {name: held(node) for name, node in nodes.items()}
    print("  Each node's gateway starts: a stand-in JVM (see step 3) on its API-M home.")
    gateways = {}
    for name, node in nodes.items():
        gateways[name] = standin_driver.Standin(node["home"], os.path.join(work, "standin", name), interval_ms=INTERVAL_MS).launch()
    for name, gateway in gateways.items():
        gateway.wait_ready()
        if before[name] and not held(nodes[name]):
            print(f"  {name}: '{ALIAS}' was only in its start-up copy (as after a Publisher upload); the gateway's start "
                  "copied client-truststore.jks over it: lost, as on a real 4.x gateway")
    return gateways


def running_gateway_proof(nodes: dict, gateways: dict, url: str, inventory: str, work: str) -> tuple:
    """(role exit status, proof holds) for the role run between a 'before' and an 'after' on every running gateway."""
    pids = {name: g.pid for name, g in gateways.items()}
    state = next(iter(gateways.values())).state()
    print(f"Each node runs a gateway stand-in (a JVM reloading its SSL profiles as API-M 4.x does; test-only interval "
          f"{state['intervalMs'] / 1000:g} s, deployment.toml says {state['configuredIntervalMs'] / 1000:g} s).")
    print("At start-up each one copied client-truststore.jks over client-truststore-temp.jks, as a 4.x gateway does.")
    print(f"Before: each gateway process calls {url}:")
    before = {}
    for name, gateway in gateways.items():
        result = gateway.call(url)
        before[name] = result["ok"]
        verdict = f"already trusted (status {result['status']})" if result["ok"] else short(result["error"])
        print(f"  {name}: pid {gateway.pid} -> {verdict}")
    pollers = {name: Poller(g, url) for name, g in gateways.items() if not before[name]}
    for poller in pollers.values():
        poller.thread.start()

    banner("4. apim.certificates.gateway_sync: drift report, converge, verify, summary")
    status = run_role(inventory, work)
    if status != 0:
        for poller in pollers.values():
            poller.stop.set()
        return status, False

    banner("5. The same gateway processes after their next reload, then after a restart")
    ok = True
    for name, gateway in gateways.items():
        same = gateway.state()["pid"] == pids[name] == gateway.pid
        if name in pollers:
            poller = pollers[name]
            poller.thread.join(timeout=2 * INTERVAL_MS / 1000 + 20)
            poller.stop.set()
            if poller.first_ok is None:
                print(f"  {name}: pid {gateway.pid} -> still failing: {short(gateway.call(url)['error'])}")
                ok = False
                continue
            when, reload = poller.first_ok
            touched = reload["mtime"] / 1000
            print(f"  {name}: pid {gateway.pid} ({'same process' if same else 'ANOTHER PROCESS'}) -> HTTP 200, "
                  f"{when - touched:.1f} s after sslprofiles.xml was touched (reloaded after {reload['at'] / 1000 - touched:.1f} s; "
                  f"interval {INTERVAL_MS / 1000:g} s)")
        else:
            result = gateway.call(url)
            print(f"  {name}: pid {gateway.pid} -> {'HTTP 200' if result['ok'] else short(result['error'])}, "
                  "no reload needed (nothing was touched)")
            ok = ok and result["ok"]
        ok = ok and same
    for gateway in gateways.values():
        gateway.stop()
    for gateway in gateways.values():
        gateway.launch()
    for name, gateway in gateways.items():
        gateway.wait_ready()
        result = gateway.call(url)
        ok = ok and result["ok"]
        verdict = f"status {result['status']}, still trusted" if result["ok"] else short(result["error"])
        print(f"  {name}: restarted (pid {pids[name]} -> {gateway.pid}; start-up copy made again) -> {verdict}")
    return 0, ok


def renewal_proof(gateways: dict, backend, ca, ca_key, url: str) -> bool:
    """Act 6: the renewing backend gets a new leaf under the same CA while the gateways run; no play runs."""
    ok = True
    for name, gateway in gateways.items():
        first = gateway.wait_until_call_ok(url, timeout=2 * INTERVAL_MS / 1000 + 20)
        ok = ok and first["ok"]
    pids = {name: g.pid for name, g in gateways.items()}
    leaf, key = issued_leaf(ca, ca_key)
    backend.renew(leaf, key, chain=[ca])
    print(f"  {url} renewed its certificate (new key, SHA-256 {sha256(leaf)[:23]}...), same CA.")
    for name, gateway in gateways.items():
        result = gateway.call(url)
        same = gateway.pid == pids[name]
        ok = ok and result["ok"] and same
        verdict = f"renewed certificate trusted (status {result['status']})" if result["ok"] else short(result["error"])
        print(f"  {name}: pid {gateway.pid} ({'same process' if same else 'ANOTHER PROCESS'}) -> {verdict}, no play run")
    return ok


def trust_check(nodes: dict, port: int, work: str) -> bool:
    url = f"https://localhost:{port}/"
    ok = True
    if JAVA and KEYTOOL and shutil.which("javac"):
        classes = compile_client(tempfile.mkdtemp(dir=work))
        print(f"A JVM (javax.net.ssl, trustStore = each node's live truststore) calls {url}:")
        for name, node in nodes.items():
            proc = java_tls_get(classes, url, node["live"], PASSWORD, "JKS")
            verdict = proc.stdout.strip() or proc.stderr.strip()
            ok = ok and proc.returncode == 0
            print(f"  {name}: {os.path.relpath(node['live'], ROOT)} -> {verdict}")
    else:
        print(f"No Java here: Python's TLS stack, trusting only each node's live truststore, calls {url}:")
        for name, node in nodes.items():
            verdict = python_trusts("localhost", port, node["live"])
            ok = ok and verdict.startswith("HTTP/1")
            print(f"  {name}: {os.path.relpath(node['live'], ROOT)} -> {verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.join(ROOT, "build", "demo"), help="where the demo's nodes live")
    parser.add_argument("--fresh", action="store_true", help="rebuild the nodes with drift")
    args = parser.parse_args()
    work = os.path.abspath(args.dir)
    if args.fresh and os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)

    banner("1. Three simulated API-M 4.x gateway nodes")
    backend, backend_key = backend_identity(os.path.join(work, "backend"))
    nodes = build_nodes(os.path.join(work, "nodes"), backend)

    def describe(entry):
        if entry is None:
            return "absent"
        return "backend's" if entry.sha256 == sha256(backend) else f"other ({entry.sha256[:11]}...)"

    for name, node in nodes.items():
        live = ts.load_truststore(node["live"], PASSWORD).entries.get(ALIAS)
        persistent = ts.load_truststore(node["persistent"], PASSWORD).entries.get(ALIAS)
        print(f"  {name}: {os.path.relpath(node['home'], ROOT)}  '{ALIAS}': live={describe(live)} persistent={describe(persistent)}")

    fingerprint = sha256(backend)
    ca, ca_key = private_ca(os.path.join(work, "backend"))
    gateways = start_gateways(nodes, work) if standin_driver.available() else None
    try:
        with https_server(backend, backend_key) as port, renewable_https_server(*issued_leaf(ca, ca_key), chain=[ca]) as renewing:
            url = f"https://localhost:{port}/orders"
            renewing_url = f"https://localhost:{renewing.port}/billing"
            banner(f"2. A backend with a self-signed certificate at {url}")
            print(f"  SHA-256 {fingerprint}")
            print(f"  and a backend whose private CA renews its 90-day leaf at {renewing_url}: the nodes trust the CA "
                  f"(trust: issuer, SPKI pin {spki_pin(ca)})")

            inventory = os.path.join(work, "inventory.yml")
            write_inventory(inventory, nodes, url, fingerprint, renewing_url, spki_pin(ca))
            if gateways:
                banner("3. Running gateways")
                status, trusted = running_gateway_proof(nodes, gateways, url, inventory, work)
                if status != 0:
                    print(f"\nThe role failed (exit {status}).")
                    return status
                banner("6. A backend renews its certificate under its CA while the gateways run")
                trusted = renewal_proof(gateways, renewing, ca, ca_key, renewing_url) and trusted
            else:
                banner("3. No JDK here: no running gateway; the role, then a trust check of each node's files")
                banner("4. apim.certificates.gateway_sync: drift report, converge, verify, summary")
                status = run_role(inventory, work)
                if status != 0:
                    print(f"\nThe role failed (exit {status}).")
                    return status
                banner("5. Trust check")
                trusted = trust_check(nodes, port, work)
    finally:
        for gateway in (gateways or {}).values():
            gateway.stop()
    banner("7. Backends stopped")
    if not trusted:
        print("A node does not trust the backend.")
        return 1
    if gateways:
        print("Every running gateway trusts the backend without a restart, and still after one. "
              "Run `make demo` again: nothing changes.")
    else:
        print("Every node's live truststore verifies the backend. Run `make demo` again: nothing changes.")
    html, metrics = report_paths(work)
    if os.path.exists(html):
        print(f"Fleet trust report (open it in a browser): {html}")
        print(f"Prometheus metrics (node_exporter textfile format): {metrics}")
    print(f"To start over with drift: {sys.executable} demo/run_demo.py --fresh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
