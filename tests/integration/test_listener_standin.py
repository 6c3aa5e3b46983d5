"""Mutual SSL for APIs, proved against a running listener (#26 item 4).

The gateway stand-in's HTTPS listener (tests/standin/GatewayStandin.java) checks client certificates against the
truststore of listenerprofiles.xml's one profile and reloads it when that file's mtime advances, as Synapse's
PassThroughHttpMultiSSLListener does. A consumer presenting a certificate issued by a partner CA is refused before
the gateway_sync role's run, accepted after it and the listener's next reload by the same process (no restart), and
still accepted after a restart.
"""

from __future__ import annotations

import os
import subprocess


from ansible_collections.apim.certificates.tests.support import standin as standin_mod
from ansible_collections.apim.certificates.tests.support.ansible import run_role
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import key_pem, make_cert, pem

LISTENER_INTERVAL_MS = 500


def _role(tmp_path, home: str, role_vars: dict) -> subprocess.CompletedProcess:
    return run_role(tmp_path, {"gw1": {"gateway_sync_apim_home": home}}, role_vars)


def test_a_client_certificate_is_refused_then_accepted_after_the_role_and_the_next_listener_reload(tmp_path):
    classes = standin_mod.classes_or_skip()
    node = make_gateway_node(str(tmp_path / "wso2am"), own_keystore=True)
    partner_ca, partner_key = make_cert("Partner CA", ca=True)
    client, client_key = make_cert("partner-app", issuer=partner_ca, issuer_key=partner_key)
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client.key"
    cert_file.write_text(pem(client) + pem(partner_ca))
    key_file.write_text(key_pem(client_key))
    os.chmod(key_file, 0o600)

    gateway = standin_mod.Standin(node["home"], tmp_path / "standin", classes=classes,
                                  listener_interval_ms=LISTENER_INTERVAL_MS).start()
    try:
        assert gateway.state()["listener"]["port"] > 0, gateway.log()
        refused = gateway.listener_call(str(cert_file), str(key_file))
        assert not refused["ok"], refused
        anonymous = gateway.listener_call()
        assert anonymous["status"] == 401, anonymous  # SSLVerifyClient optional: no certificate, no API access

        pid, attempts = gateway.pid, gateway.listener_reload_attempts()
        run = _role(tmp_path, node["home"], {
            "gateway_sync_listener_certificates": [{"alias": "partner-ca", "certificate": pem(partner_ca)}],
            "gateway_sync_listener_checks": [{"name": "partner-app", "certificate": pem(client)}],
            "gateway_sync_fail_on_untrusted": True})
        assert run.returncode == 0, run.stdout + run.stderr
        listener = gateway.wait_for_listener_reload(attempts)
        assert listener["failedReloads"] == 0, gateway.log()
        accepted = gateway.listener_call(str(cert_file), str(key_file))
        assert accepted["ok"] and "CN=partner-app" in accepted["body"], (accepted, gateway.log())
        assert gateway.pid == pid, "the listener was restarted"

        gateway.restart()
        again = gateway.listener_call(str(cert_file), str(key_file))
        assert again["ok"], (again, gateway.log())
    finally:
        gateway.stop()
