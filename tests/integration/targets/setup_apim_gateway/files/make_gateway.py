"""Lay out a stock-looking API-M 4.x gateway node for the integration targets (tests/support/gateway.py builds it).

    make_gateway.py DIR

DIR/certs/<name>.pem and DIR/certs/facts.json (SHA-256 of each, keytool's form): three backend certificates valid
for a year (orders, payments, billing), self-signed; DIR/certs/client.key (encrypted with "Integr4tion-Key") and
client-chain.pem (the CA first, then the leaf): the gateway's client key pair for mutual TLS.
DIR/wso2am: an API-M home as a 4.x gateway has it after start-up (make_gateway_node): repository/conf/deployment.toml,
repository/resources/security/ with wso2carbon.jks (a private key entry), client-truststore.jks (two CA
certificates) and its start-up copy client-truststore-temp.jks, and sslprofiles.xml pointing the default profile at
that copy. DIR/wso2am-listener: the same, with the HTTPS listener's listenerprofiles.xml (its truststore is
client-truststore.jks). Passwords are WSO2's default, 'wso2carbon'. pyjks writes the stores (writer="pyjks", own_keystore): the
collection's own codec is what is under test, so it does not build the fixture.

ansible-test runs this file from a copy of the target under the collection's tests/output/.tmp/integration/, with the
Python of its venv, whose sys.path has no ansible_collections: the folder above ansible_collections/apim/certificates
is found from this file's path and put first on sys.path, so that the collection's tests/support is imported from the
very copy ansible-test tests.
"""

from __future__ import annotations

import json
import os
import sys


def collections_root(start: str) -> str:
    """The folder holding ansible_collections/apim/certificates that start is in (else the checkout's build/collections)."""
    folder = os.path.dirname(os.path.abspath(start))
    while os.path.dirname(folder) != folder:
        if os.path.basename(folder) == "ansible_collections" and os.path.isfile(os.path.join(folder, "apim", "certificates", "galaxy.yml")):
            return os.path.dirname(folder)
        if os.path.isfile(os.path.join(folder, "galaxy.yml")) and os.path.isdir(os.path.join(folder, "build", "collections")):
            return os.path.join(folder, "build", "collections")  # run from a checkout (`make collection` links it there)
        folder = os.path.dirname(folder)
    raise SystemExit(f"make_gateway.py: {start} is in no ansible_collections/apim/certificates")


sys.path.insert(0, collections_root(__file__))

# pylint: disable=wrong-import-position
from ansible_collections.apim.certificates.tests.support.gateway import (  # noqa: E402
    TOML_KEYSTORE_TLS, TOML_PROFILE_RELOAD, TOML_TRUSTSTORE, gateway_toml, make_gateway_node)
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

CLIENT_KEY_PASSPHRASE = "Integr4tion-Key"

DEPLOYMENT_TOML = gateway_toml('hostname = "gateway.example.internal"\nnode_ip = "127.0.0.1"\nserver_role = "gateway-worker"',
                               TOML_KEYSTORE_TLS, TOML_TRUSTSTORE, TOML_PROFILE_RELOAD)


def main(directory: str) -> None:
    certs_dir = os.path.join(directory, "certs")
    os.makedirs(certs_dir)
    facts = {}
    for name in ("orders", "payments", "billing"):
        cert = make_cert(f"{name}.backend.internal", key_kind="ec")[0]
        with open(os.path.join(certs_dir, f"{name}.pem"), "w", encoding="ascii") as handle:
            handle.write(pem(cert))
        facts[name] = sha256(cert)
    # the gateway's client key pair for mutual TLS to a backend (endpoint_keystore): a key encrypted with
    # CLIENT_KEY_PASSPHRASE, its leaf and the CA that signed it
    client_ca, client_ca_key = make_cert("Example Client CA", ca=True, sans=[], key_kind="ec")
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = make_cert("gateway-client.example.internal", issuer=client_ca, issuer_key=client_ca_key, key=client_key)[0]
    with open(os.path.join(certs_dir, "client.key"), "wb") as handle:
        handle.write(client_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.BestAvailableEncryption(CLIENT_KEY_PASSPHRASE.encode())))
    with open(os.path.join(certs_dir, "client-chain.pem"), "w", encoding="ascii") as handle:
        handle.write(pem(client_ca) + pem(client))  # out of order: the module orders it
    facts["client"], facts["client-ca"] = sha256(client), sha256(client_ca)
    cas = {}
    for name in ("example root ca", "example other root ca"):
        cas[name.replace(" ", "-")] = make_cert(name.title(), ca=True, sans=[], key_kind="ec")[0]
        facts[name.replace(" ", "-")] = sha256(cas[name.replace(" ", "-")])
    node = make_gateway_node(os.path.join(directory, "wso2am"), toml_text=DEPLOYMENT_TOML, entries=list(cas.items()), writer="pyjks",
                             own_keystore=True, relative_location=True, listener=False)
    # the same node with the HTTPS listener's listenerprofiles.xml (listener_certificate, mutual SSL for APIs)
    listening = make_gateway_node(os.path.join(directory, "wso2am-listener"), toml_text=DEPLOYMENT_TOML, entries=list(cas.items()),
                                  writer="pyjks", own_keystore=True, relative_location=True, listener=True)
    # written at the gateway's start-up, an hour ago: a touch by a module is then a visibly newer modification time
    for written in (node["sslprofiles"], listening["sslprofiles"], listening["listenerprofiles"]):
        startup = os.stat(written).st_mtime - 3600
        os.utime(written, (startup, startup))
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o700 if name in dirs else 0o600)
    with open(os.path.join(certs_dir, "facts.json"), "w", encoding="utf-8") as handle:
        json.dump(facts, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
