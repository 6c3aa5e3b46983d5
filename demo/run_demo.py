"""The collection's main job on a self-contained demo (what `make demo` runs).

1. Builds three simulated API-M 4.x gateway nodes under build/demo/nodes, with drift:
   gw1 lacks the backend's certificate, gw2 holds a stale one under the same alias, gw3 has it only in the
   start-up copy of its truststore (as after a Publisher upload: it would be lost at the next restart).
2. Starts a local HTTPS backend on 127.0.0.1 with a self-signed certificate.
3. Runs demo/gateway_sync.yml (the apim.certificates.gateway_sync role) against an inventory of the three nodes,
   fetching the backend certificate from the live endpoint, pinned by its SHA-256: the role prints the drift
   report before and the summary after.
4. Proves trust: a Java TLS client (Python's TLS stack where Java is absent) reaches the backend through each
   node's live truststore.
5. Stops the backend. Running it again reports no change: the nodes and the backend's key are kept.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
sys.path[:0] = [ROOT, COLLECTIONS]

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # noqa: E402
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts  # noqa: E402
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node  # noqa: E402
from ansible_collections.apim.certificates.tests.support.java import JAVA, KEYTOOL, compile_client, java_tls_get  # noqa: E402
from ansible_collections.apim.certificates.tests.support.pki import key_pem, make_cert, pem, sha256  # noqa: E402
from ansible_collections.apim.certificates.tests.support.servers import https_server  # noqa: E402

ALIAS = "demo-backend"
PASSWORD = "wso2carbon"


def banner(text: str) -> None:
    print(f"\n\033[1m=== {text} ===\033[0m" if sys.stdout.isatty() else f"\n=== {text} ===", flush=True)


def backend_identity(directory: str):
    """The backend's self-signed certificate and key, made once and kept so that re-runs change nothing."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    os.makedirs(directory, exist_ok=True)
    cert_file, key_file = os.path.join(directory, "backend.crt"), os.path.join(directory, "backend.key")
    if not os.path.exists(cert_file):
        cert, key = make_cert("localhost", sans=["localhost", "127.0.0.1"], days=825)
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


def write_inventory(path: str, nodes: dict, url: str, fingerprint: str) -> None:
    lines = ["all:", "  children:", "    gateways:", "      hosts:"]
    for name, node in nodes.items():
        lines.append(f"        {name}:")
        lines.append(f"          gateway_sync_apim_home: {node['home']}")
    lines += [
        "      vars:",
        "        ansible_connection: local",
        f"        ansible_python_interpreter: {sys.executable}",
        "        gateway_sync_certificates:",
        f"          - alias: {ALIAS}",
        f"            endpoint: {url}",
        f'            fingerprint: "{fingerprint}"',
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
    with https_server(backend, backend_key) as port:
        url = f"https://localhost:{port}/orders"
        banner(f"2. A backend with a self-signed certificate at {url}")
        print(f"  SHA-256 {fingerprint}")

        inventory = os.path.join(work, "inventory.yml")
        write_inventory(inventory, nodes, url, fingerprint)
        banner("3. apim.certificates.gateway_sync: drift report, converge, verify, summary")
        status = run_role(inventory, work)
        if status != 0:
            print(f"\nThe role failed (exit {status}).")
            return status

        banner("4. Trust check")
        trusted = trust_check(nodes, port, work)
    banner("5. Backend stopped")
    if not trusted:
        print("A node does not trust the backend.")
        return 1
    print("Every node's live truststore verifies the backend. Run `make demo` again: nothing changes.")
    print(f"To start over with drift: {sys.executable} demo/run_demo.py --fresh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
