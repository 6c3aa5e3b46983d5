"""Build the simulated API-M 4.x gateway nodes of the gateway_sync Molecule scenario.

    scenario_nodes.py certs --dir DIR [--alias ALIAS]
        DIR/ALIAS.pem               the declared certificate (valid one year), read by converge.yml
        DIR/ALIAS.sha256            its SHA-256 in keytool's form
        DIR/ALIAS.key               its private key (0600): the scenario's HTTPS backend serves the certificate
                                    (scenario_gateways.py), named orders.backend.internal and localhost
        DIR/stale-orders.pem        the certificate node 2 holds under the same alias (old, expires soon)
        DIR/stale-orders.sha256

    scenario_nodes.py node --home HOME --drift {missing,stale,custom_profile} --certs DIR --state FILE [--alias ALIAS]
        HOME                        an API-M home (tests/support/gateway.py make_gateway_node: deployment.toml,
                                    client-truststore.jks with public CAs, sslprofiles.xml pointing at the start-up
                                    copy client-truststore-temp.jks), plus the wso2carbon.jks keystore
        FILE                        what the verify playbook compares against (JSON)

Run with the Python that has the collection's requirements (cryptography, pyjks); the repository root is found
from this file's place (molecule/gateway_sync/files/), so tests.support and the collection are importable from
any working directory.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))  # molecule/gateway_sync/files -> repository root

DEFAULT_ALIAS = "backend-orders"
BACKEND_CN = "orders.backend.internal"
PASSWORD = "wso2carbon"  # WSO2's stock store password: the simulated nodes are stock 4.x gateways
CUSTOM_SERVERS = "legacy-billing.internal:8443"
CUSTOM_TRUSTSTORE = "legacy-billing-truststore.jks"
# sslprofiles.xml as the gateway wrote it at start-up, an hour before the scenario converges: any write or touch
# by the role is then visible as a newer modification time, however coarse the file system's clock.
STARTUP_AGE_SECONDS = 3600


def _importable_collection() -> None:
    """Make `ansible_collections.apim.certificates` and `tests.support` importable."""
    if not os.path.exists(os.path.join(ROOT, "galaxy.yml")):
        sys.exit(f"{ROOT} is not the collection root (no galaxy.yml): has scenario_nodes.py moved?")
    for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) + [os.path.join(ROOT, "build", "collections")]:
        link = os.path.join(path, "ansible_collections", "apim", "certificates")
        if path and os.path.exists(link) and os.path.samefile(link, ROOT):
            collections = path
            break
    else:
        # a clean clone without `make collection`: a private link, outside the repository, one per clone
        digest = hashlib.sha256(ROOT.encode()).hexdigest()[:12]
        collections = os.path.join(tempfile.gettempdir(), f"apim-certificates-molecule-{os.getuid()}-{digest}")
        link = os.path.join(collections, "ansible_collections", "apim", "certificates")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink(ROOT, link)
    for entry in (ROOT, collections):
        if entry not in sys.path:
            sys.path.insert(0, entry)


def _write(path: str, text: str, mode: int = 0o644) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def make_certs(directory: str, alias: str) -> None:
    from ansible_collections.apim.certificates.tests.support.pki import key_pem, make_cert, pem, sha256  # pylint: disable=import-outside-toplevel

    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    # localhost too: the running-gateway proof (scenario_gateways.py) calls the backend as https://localhost:<port>/
    declared, declared_key = make_cert(BACKEND_CN, days=365, sans=[BACKEND_CN, "localhost"])
    stale, _key = make_cert(BACKEND_CN, not_before=now - datetime.timedelta(days=360),
                            not_after=now + datetime.timedelta(days=5))
    if sha256(declared) == sha256(stale):  # cannot happen (random serials); guards the scenario's premise
        sys.exit("the stale certificate equals the declared one")
    # the .pem last: it is the `creates:` marker of the prepare task
    _write(os.path.join(directory, "stale-orders.sha256"), sha256(stale) + "\n")
    _write(os.path.join(directory, "stale-orders.pem"), pem(stale))
    _write(os.path.join(directory, f"{alias}.key"), key_pem(declared_key), mode=0o600)
    _write(os.path.join(directory, f"{alias}.sha256"), sha256(declared) + "\n")
    _write(os.path.join(directory, f"{alias}.pem"), pem(declared))


def _keystore(path: str) -> None:
    """The gateway's wso2carbon.jks: one private key entry `wso2carbon` (make_gateway_node does not create it)."""
    import jks  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.tests.support.pki import make_cert  # pylint: disable=import-outside-toplevel

    cert, key = make_cert("localhost", sans=["localhost"])
    entry = jks.PrivateKeyEntry.new("wso2carbon", [cert.public_bytes(Encoding.DER)],
                                    key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()), "pkcs8")
    with open(path, "wb") as handle:
        handle.write(jks.KeyStore.new("jks", [entry]).saves(PASSWORD))


def _custom_profile_toml(truststore: str) -> str:
    return f"""
# A backend with its own truststore (retired since; the operator's inventory no longer lists it)
[[keystore.ssl_profile.custom]]
servers = "{CUSTOM_SERVERS}"
keystore.location = "repository/resources/security/wso2carbon.jks"
keystore.type = "JKS"
keystore.password = "{PASSWORD}"
keystore.key_password = "{PASSWORD}"
truststore.location = "{truststore}"
truststore.type = "JKS"
truststore.password = "{PASSWORD}"
"""


def make_node(home: str, drift: str, certs_dir: str, state_file: str, alias: str) -> None:
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
    from ansible_collections.apim.certificates.tests.support import gateway
    from ansible_collections.apim.certificates.tests.support.pki import make_cert, sha256

    if os.path.exists(os.path.join(home, "repository")):
        sys.exit(f"{home} already holds an API-M home; run the cleanup playbook first")
    security = os.path.join(home, gateway.SECURITY)
    base_toml = open(gateway.GATEWAY_TOML, encoding="utf-8").read() if os.path.exists(gateway.GATEWAY_TOML) else gateway.OWN_TOML
    extra_profiles = ()
    toml_text = base_toml
    custom_truststore = None
    if drift == "custom_profile":
        custom_truststore = os.path.join(os.path.abspath(security), CUSTOM_TRUSTSTORE)
        toml_text = base_toml.rstrip("\n") + "\n" + _custom_profile_toml(custom_truststore)
        extra_profiles = ((CUSTOM_SERVERS, "repository/resources/security/wso2carbon.jks", custom_truststore),)
    node = gateway.make_gateway_node(home, extra_profiles=extra_profiles, toml_text=toml_text)
    _keystore(os.path.join(security, "wso2carbon.jks"))

    state = {"drift": drift, "alias": alias, "stale_sha256": None, "custom_servers": None, "custom_truststore": None}
    if drift == "stale":
        with open(os.path.join(certs_dir, "stale-orders.pem"), "rb") as handle:
            stale = x509.load_pem_x509_certificate(handle.read())
        for store in (node["persistent"], node["live"]):
            ts.converge_truststore(store, PASSWORD, [ts.DesiredCertificate(alias, "present", stale)])
        state["stale_sha256"] = sha256(stale)
    elif drift == "custom_profile":
        legacy, _key = make_cert("legacy-billing.internal")
        ts.converge_truststore(custom_truststore, PASSWORD, [ts.DesiredCertificate("legacy-billing", "present", legacy)],
                               store_type="JKS", create=True)
        state["custom_servers"] = CUSTOM_SERVERS
        state["custom_truststore"] = custom_truststore
    elif drift != "missing":
        sys.exit(f"unknown drift {drift!r}")

    startup = int(os.stat(node["sslprofiles"]).st_mtime) - STARTUP_AGE_SECONDS
    os.utime(node["sslprofiles"], (startup, startup))
    state.update({
        "home": os.path.abspath(home),
        "deployment_toml": node["deployment_toml"],
        "persistent": node["persistent"],
        "live": node["live"],
        "sslprofiles": node["sslprofiles"],
        "sslprofiles_mtime": os.stat(node["sslprofiles"]).st_mtime,
    })
    os.makedirs(os.path.dirname(os.path.abspath(state_file)), exist_ok=True)
    _write(state_file, json.dumps(state, indent=2) + "\n")  # last: the `creates:` marker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    certs = sub.add_parser("certs")
    certs.add_argument("--dir", required=True)
    certs.add_argument("--alias", default=DEFAULT_ALIAS)
    node = sub.add_parser("node")
    node.add_argument("--home", required=True)
    node.add_argument("--drift", required=True, choices=["missing", "stale", "custom_profile"])
    node.add_argument("--certs", required=True)
    node.add_argument("--state", required=True)
    node.add_argument("--alias", default=DEFAULT_ALIAS)
    args = parser.parse_args()
    _importable_collection()
    if args.command == "certs":
        make_certs(args.dir, args.alias)
    else:
        make_node(args.home, args.drift, args.certs, args.state, args.alias)


if __name__ == "__main__":
    main()
