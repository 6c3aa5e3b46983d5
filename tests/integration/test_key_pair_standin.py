"""Mutual TLS to a backend, by the gateway_sync role, proved against a running gateway (#25 item 5).

A backend that requires a client certificate from its CA (Python's ssl, CERT_REQUIRED) refuses the running gateway
stand-in; the role's run (gateway_sync_key_pairs, with check_endpoint) puts the key pair into the default profile's
keystore, reports from the node that the backend accepts it, and after the stand-in's next reload (same process, no
restart) the backend answers 200. The key never reaches the play's output.
"""

from __future__ import annotations

import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.apim.certificates.tests.support.ansible import run_role
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import key_pem, make_cert, pem
from ansible_collections.apim.certificates.tests.support.servers import mutual_tls_server
from ansible_collections.apim.certificates.tests.support.standin import Standin, classes_or_skip

pytestmark = pytest.mark.java

INTERVAL_MS = 400
CA_KEY = ec.generate_private_key(ec.SECP256R1())
CA, _unused = make_cert("Orders Client CA", ca=True, sans=[], key=CA_KEY)
CLIENT_KEY = ec.generate_private_key(ec.SECP256R1())
CLIENT, _unused = make_cert("gateway.orders-client.test", issuer=CA, issuer_key=CA_KEY, key=CLIENT_KEY)


def _role(tmp_path, home: str, role_vars: dict) -> subprocess.CompletedProcess:
    return run_role(tmp_path, {"gw1": {"gateway_sync_apim_home": home}}, role_vars, "-v")


def test_the_role_gives_every_node_the_key_pair_and_the_running_gateway_presents_it_after_its_next_reload(tmp_path):
    classes = classes_or_skip()
    server, server_key = make_cert("localhost", sans=["localhost", "127.0.0.1"], key=ec.generate_private_key(ec.SECP256R1()))
    with mutual_tls_server(server, server_key, [CA]) as (port, presented):
        url = f"https://localhost:{port}/orders"
        node = make_gateway_node(str(tmp_path / "wso2am"), own_keystore=True, entries=[("orders-backend", server)])
        gateway = Standin(node["home"], tmp_path / "standin", interval_ms=INTERVAL_MS, classes=classes).start()
        try:
            refused = gateway.call(url)
            assert not refused["ok"], refused
            pid, attempts = gateway.pid, gateway.reload_attempts()
            run = _role(tmp_path, node["home"], {
                "gateway_sync_key_pairs": [{"alias": "orders-client", "endpoint": url, "private_key": key_pem(CLIENT_KEY),
                                            "certificate": pem(CLIENT) + pem(CA), "check_endpoint": True}],
                "gateway_sync_fail_on_untrusted": True})
            output = run.stdout + run.stderr
            assert run.returncode == 0, output
            assert "PRIVATE KEY" not in output and key_pem(CLIENT_KEY).splitlines()[1] not in output, "the key reached the output"
            assert f"orders-client ({url})" in output and "accepted" in output, output
            reload = gateway.wait_for_reload(attempts)
            assert reload["ok"], gateway.log()
            accepted = gateway.call(url)
            assert accepted["ok"] and accepted["status"] == 200, (accepted, gateway.log())
            assert gateway.pid == pid, "the gateway was restarted"
            assert presented, "the backend saw no client certificate"
        finally:
            gateway.stop()
