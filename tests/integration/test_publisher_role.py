"""The gateway_sync role's Publisher route (gateway_sync_publisher) against the contract Publisher (no real API-M).

As well as the nodes (the role as usual), and instead of them (tasks_from: publisher).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from tests.support.ansible import _env
from tests.support.gateway import make_gateway_node
from tests.support.pki import der, make_cert, pem, sha256
from tests.support.publisher_server import SPEC, SPEC_MISSING, publisher_server

pytestmark = pytest.mark.skipif(not os.path.exists(SPEC), reason=SPEC_MISSING)

PASSWORD = "Role-Pub-Secret-2c"
ORDERS, _k1 = make_cert("orders.internal")
RETIRED, _k2 = make_cert("retired.internal")


@pytest.fixture
def publisher():
    with publisher_server() as server:
        server.state.add_user("admin", PASSWORD)
        server.state.put_row("retired", "https://retired.internal", der(RETIRED))
        yield server
        assert server.state.violations == []


def _connection(server) -> dict:
    return {"publisher_url": server.url, "ca_path": server.ca_file, "username": "admin", "password": PASSWORD}


def _run(tmp_path, hosts: dict, play: dict, *extra):
    inventory = {"all": {"children": {"gateways": {
        "hosts": hosts, "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    }}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    env = _env(tmp_path)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
           str(tmp_path / "play.yml"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)


def _changed(output: str) -> dict:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", output, re.MULTILINE)}


def _publisher_only_play(role_vars: dict) -> dict:
    return {"name": "publisher only", "hosts": "gateways", "gather_facts": False, "tasks": [
        {"name": "the Publisher route instead of the nodes",
         "ansible.builtin.include_role": {"name": "apim.certificates.gateway_sync", "tasks_from": "publisher"},
         "vars": role_vars},
    ]}


def test_instead_of_the_nodes_check_real_again(tmp_path, publisher):
    role_vars = {
        "gateway_sync_publisher": _connection(publisher),
        "gateway_sync_certificates": [{"alias": "orders", "endpoint": "https://orders.internal", "certificate": pem(ORDERS)}],
        "gateway_sync_remove_aliases": ["retired"],
    }
    hosts = {"gw1": {}, "gw2": {}}
    play = _publisher_only_play(role_vars)

    check = _run(tmp_path, hosts, play, "--check", "--diff")
    assert check.returncode == 0, check.stdout + check.stderr
    assert publisher.state.writes() == [] and "orders" not in publisher.state.rows

    real = _run(tmp_path, hosts, play, "-vvvv")
    assert real.returncode == 0, real.stdout + real.stderr
    assert publisher.state.rows["orders"]["der"] == der(ORDERS)
    assert "retired" not in publisher.state.rows
    assert [call[0] for call in publisher.state.writes()] == ["POST", "DELETE"], "not once for the play"
    for secret in [PASSWORD] + publisher.state.issued_secrets:
        assert secret not in real.stdout + real.stderr

    again = _run(tmp_path, hosts, play)
    assert again.returncode == 0, again.stdout
    assert all(count == 0 for count in _changed(again.stdout).values()), again.stdout
    assert len(publisher.state.writes()) == 2


def test_incomplete_certificates_are_named(tmp_path, publisher):
    role_vars = {
        "gateway_sync_publisher": _connection(publisher),
        "gateway_sync_certificates": [
            {"alias": "fetched", "endpoint": "https://orders.internal", "fingerprint": sha256(ORDERS)},
            {"alias": "no-endpoint", "certificate": pem(ORDERS)},
            {"alias": "gone", "state": "absent"},
        ],
    }
    result = _run(tmp_path, {"gw1": {}}, _publisher_only_play(role_vars))
    assert result.returncode != 0
    assert "Incomplete: fetched, no-endpoint" in result.stdout, result.stdout
    assert publisher.state.calls == []


def test_as_well_as_the_nodes(tmp_path, publisher):
    nodes = {f"gw{i}": make_gateway_node(str(tmp_path / f"gw{i}")) for i in (1, 2)}
    role_vars = {
        "gateway_sync_publisher": _connection(publisher),
        "gateway_sync_certificates": [{"alias": "orders", "endpoint": "https://orders.internal", "certificate": pem(ORDERS)}],
    }
    play = {"name": "sync", "hosts": "gateways", "gather_facts": False,
            "roles": [{"role": "apim.certificates.gateway_sync", "vars": role_vars}]}
    result = _run(tmp_path, {name: {"gateway_sync_apim_home": node["home"]} for name, node in nodes.items()}, play)
    assert result.returncode == 0, result.stdout + result.stderr
    assert publisher.state.rows["orders"]["der"] == der(ORDERS)
    assert [call[0] for call in publisher.state.writes()] == ["POST"]
    for node in nodes.values():
        assert ts.load_truststore(node["live"], "wso2carbon").fingerprints()["orders"] == sha256(ORDERS)


def test_survey_text_and_a_pinned_certificate(tmp_path, publisher):
    """As an AWX survey sends them (text), and a declared fingerprint that pins inline content."""
    certificates = yaml.safe_dump([{"alias": "orders", "endpoint": "https://orders.internal", "certificate": pem(ORDERS),
                                    "fingerprint": sha256(ORDERS).replace(":", "").lower()}])
    role_vars = {"gateway_sync_publisher": _connection(publisher), "gateway_sync_certificates": certificates,
                 "gateway_sync_remove_aliases": "retired\n"}
    result = _run(tmp_path, {"gw1": {}}, _publisher_only_play(role_vars))
    assert result.returncode == 0, result.stdout + result.stderr
    assert publisher.state.rows["orders"]["der"] == der(ORDERS) and "retired" not in publisher.state.rows


def test_content_that_is_not_the_declared_fingerprint_is_refused_before_anything_is_sent(tmp_path, publisher):
    role_vars = {
        "gateway_sync_publisher": _connection(publisher),
        "gateway_sync_certificates": [
            {"alias": "orders", "endpoint": "https://orders.internal", "certificate": pem(ORDERS), "fingerprint": sha256(RETIRED)},
        ],
    }
    result = _run(tmp_path, {"gw1": {}}, _publisher_only_play(role_vars))
    assert result.returncode != 0
    assert "not the declared fingerprint (SHA-256): orders" in result.stdout, result.stdout
    assert publisher.state.calls == []
