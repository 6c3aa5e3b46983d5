"""Every module's EXAMPLES, run as written: one playbook built from them, against simulated gateway files.

The only changes are the concrete names in the examples (installation paths, the backend's host and pinned
fingerprint), mapped to files and a local HTTPS backend this test creates. The playbook must run without a failed
task, and ansible-lint's production profile must pass it.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys

import yaml

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import ROOT, _env
from ansible_collections.apim.certificates.tests.support.gateway import OWN_TOML, make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import key_pem, make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

MODULES = ["endpoint_certificate", "endpoint_keystore", "truststore_info", "ssl_profile"]  # the order the playbook runs them in
BIN = os.path.dirname(sys.executable)
EXAMPLE_FINGERPRINT = "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"


def examples_of(module: str) -> str:
    tree = ast.parse(open(os.path.join(ROOT, "plugins", "modules", f"{module}.py"), encoding="utf-8").read())
    return next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES")


def _store(path, password, *certs):
    ts.converge_truststore(path, password, [ts.DesiredCertificate(f"cert{i}", "present", c) for i, c in enumerate(certs)],
                           create=True)


def test_examples_run_as_written(tmp_path):
    backend, backend_key = make_cert("localhost", sans=["localhost", "127.0.0.1"])
    orders, _orders_key = make_cert("orders.internal")
    fresh = [make_cert(f"ca{i}.internal", ca=True)[0] for i in range(5)]

    # /opt/wso2am: a plain truststore (modules given a path); /opt/wso2am-4.2.0: a simulated 4.x gateway node
    plain = tmp_path / "wso2am"
    (plain / "repository" / "resources" / "security").mkdir(parents=True)
    _store(str(plain / "repository" / "resources" / "security" / "client-truststore.jks"), "wso2carbon", *fresh[:3])
    gateway = make_gateway_node(str(tmp_path / "wso2am-4.2.0"))
    _store(os.path.join(gateway["home"], "repository", "resources", "security", "wso2carbon.jks"), "wso2carbon", fresh[0])
    pki = tmp_path / "pki"
    (pki / "wso2").mkdir(parents=True)
    (pki / "corp-ca-bundle.pem").write_text(pem(fresh[3]) + pem(fresh[4]))
    (pki / "payments.crt").write_text(pem(make_cert("payments.internal")[0]))
    _store(str(pki / "wso2" / "orders-truststore.jks"), "orders-trust-pass", orders)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "orders.crt").write_text(pem(orders))
    client, client_key = make_cert("gateway.orders-client.internal", key_kind="ec")
    (tmp_path / "files" / "orders-client.key").write_text(key_pem(client_key))
    (tmp_path / "files" / "orders-client-chain.pem").write_text(pem(client))
    (tmp_path / "config" / "gateway").mkdir(parents=True)
    (tmp_path / "config" / "gateway" / "deployment.toml").write_text(OWN_TOML)

    with https_server(backend, backend_key) as port:
        replacements = {
            "/opt/wso2am-4.2.0": gateway["home"],
            "/opt/wso2am/": f"{plain}/",
            "/etc/pki/": f"{pki}/",
            "https://orders.internal:8443/": f"https://localhost:{port}/",
            EXAMPLE_FINGERPRINT: sha256(backend),
        }
        variables = {
            "truststore_password": "wso2carbon",
            "keystore_password": "wso2carbon",
            "orders_truststore_password": "orders-trust-pass",
            "orders_pem": pem(orders),
            "orders_sha256": sha256(backend),
            "config_repo": str(tmp_path / "config"),
        }
        # The examples' own text, indented under tasks:, so that ansible-lint judges them as written.
        (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables))
        lines = ["---", "- name: The modules' EXAMPLES", "  hosts: localhost", "  gather_facts: false", "  tasks:"]
        for module in MODULES:
            text = examples_of(module)
            for old, new in replacements.items():
                text = text.replace(old, new)
            lines += [("    " + line).rstrip() for line in text.strip("\n").splitlines()]
            lines.append("")
        playbook_text = "\n".join(lines).rstrip() + "\n"
        yaml.safe_load(playbook_text)
        book = tmp_path / "examples.yml"
        book.write_text(playbook_text)
        env = _env(tmp_path)
        env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
        run = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "@vars.yml", str(book)],
                             capture_output=True, text=True, env=env, check=False, timeout=600, cwd=str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "failed=0" in run.stdout
    assert ts.load_truststore(gateway["live"], "wso2carbon").fingerprints()["orders-backend"] == sha256(backend)

    if shutil.which("ansible-lint", path=BIN + os.pathsep + env["PATH"]):
        lint_env = dict(env, ANSIBLE_COLLECTIONS_PATH=env["ANSIBLE_COLLECTIONS_PATH"])
        lint = subprocess.run([os.path.join(BIN, "ansible-lint"), "--offline", "--profile", "production", str(book)],
                              capture_output=True, text=True, env=lint_env, check=False, timeout=600, cwd=str(tmp_path))
        assert lint.returncode == 0, lint.stdout + lint.stderr
