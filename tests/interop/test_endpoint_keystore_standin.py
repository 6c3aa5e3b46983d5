"""Mutual TLS to a backend through the gateway stand-in (docs/standin.md): a backend that requires a client certificate
(Python's ssl with CERT_REQUIRED) refuses the running stand-in until endpoint_keystore has written the profile's
keystore and the stand-in's next reload; without a restart it then presents the new key pair, and after a rotation
the newer one.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.apim.certificates.plugins.module_utils import _keystore as ks
from ansible_collections.apim.certificates.tests.support.ansible import run_module
from ansible_collections.apim.certificates.tests.support.gateway import OWN_TOML, make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import der, key_pem, make_cert, pem
from ansible_collections.apim.certificates.tests.support.servers import mutual_tls_server
from ansible_collections.apim.certificates.tests.support.standin import Standin, classes_or_skip

pytestmark = pytest.mark.java

MODULE = "apim.certificates.endpoint_keystore"
INTERVAL_MS = 400
PW = "wso2carbon"
KEYSTORE = "repository/resources/security/orders-keystore.jks"
TRUSTSTORE = "repository/resources/security/client-truststore.jks"

CA_KEY = ec.generate_private_key(ec.SECP256R1())
CA, _unused = make_cert("Orders Client CA", ca=True, sans=[], key=CA_KEY)
FIRST_KEY = ec.generate_private_key(ec.SECP256R1())
FIRST, _unused = make_cert("gateway.orders-client.test", issuer=CA, issuer_key=CA_KEY, key=FIRST_KEY)
SECOND_KEY = ec.generate_private_key(ec.SECP256R1())
SECOND, _unused = make_cert("gateway.orders-client.test", issuer=CA, issuer_key=CA_KEY, key=SECOND_KEY)
STRANGER_KEY = ec.generate_private_key(ec.SECP256R1())
STRANGER, _unused = make_cert("stranger.test", key=STRANGER_KEY)


def _custom_profile(servers: str) -> str:
    return (f'[[keystore.ssl_profile.custom]]\nservers = "{servers}"\nkeystore.location = "{KEYSTORE}"\n'
            f'keystore.type = "JKS"\nkeystore.password = "{PW}"\nkeystore.key_password = "{PW}"\n'
            f'truststore.location = "{TRUSTSTORE}"\ntruststore.type = "JKS"\ntruststore.password = "{PW}"\n')


def test_the_running_gateway_presents_the_key_pair_after_the_next_reload_and_the_rotated_one_after_that(tmp_path):
    classes = classes_or_skip()
    server, server_key = make_cert("localhost", sans=["localhost", "127.0.0.1"], key=ec.generate_private_key(ec.SECP256R1()))
    with mutual_tls_server(server, server_key, [CA]) as (port, presented):
        servers = f"localhost:{port}"
        node = make_gateway_node(str(tmp_path / "wso2am"), toml_text=OWN_TOML + "\n" + _custom_profile(servers),
                                 own_keystore=True, entries=[("orders-backend", server)],
                                 extra_profiles=[(servers, KEYSTORE, TRUSTSTORE)])
        keystore = os.path.join(node["home"], KEYSTORE)
        # before: the profile's keystore holds a key pair the backend does not accept (the reload needs it to exist)
        ks.manage(ks.resolve_request({"alias": "orders-client", "private_key": key_pem(STRANGER_KEY), "certificate": pem(STRANGER)}),
                  ks.Options(create=True), path=keystore, password=PW, key_password=PW)
        url = f"https://localhost:{port}/orders"
        gateway = Standin(node["home"], tmp_path / "standin", interval_ms=INTERVAL_MS, classes=classes).start()
        try:
            refused = gateway.call(url)
            assert not refused["ok"] and refused["profile"] == servers, refused
            assert presented == []
            pid = gateway.pid

            for key, cert in ((FIRST_KEY, FIRST), (SECOND_KEY, SECOND)):
                before = gateway.reload_attempts()
                result = run_module(tmp_path, MODULE, {
                    "apim_home": node["home"], "endpoint": f"https://{servers}/", "alias": "orders-client",
                    "private_key": key_pem(key), "certificate": pem(cert) + pem(CA)})
                assert not result.failed and result["action"] == "replaced", result
                assert result["touched"] == node["sslprofiles"] and result["profile"] == servers
                reload = gateway.wait_for_reload(before)
                assert reload["ok"], gateway.log()
                accepted = gateway.call(url)
                assert accepted["ok"] and accepted["status"] == 200, accepted
                assert presented[-1] == der(cert), "the gateway did not present the key pair just written"
            assert gateway.pid == pid, "the stand-in was restarted"
        finally:
            gateway.stop()
