"""The fleet itself: real sshds on loopback, the accounts the privilege tests rely on, the interpreters each node has.

If this file fails, the other fleet tests prove nothing: it checks the premises they stand on.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.apim.certificates.tests.integration.fleet._support import assert_owned_by_service_account, run_play
from ansible_collections.apim.certificates.tests.support import fleet as fleet_mod

pytestmark = [pytest.mark.fleet, pytest.mark.xdist_group("fleet")]

PROBE = ("import json, sys\n"
         "found = {'python': '%d.%d' % sys.version_info[:2], 'executable': sys.executable}\n"
         "for name in ('cryptography', 'tomlkit', 'jks'):\n"
         "    try:\n"
         "        module = __import__(name)\n"
         "        found[name] = getattr(module, '__version__', 'present')\n"
         "    except ImportError:\n"
         "        found[name] = None\n"
         "print(json.dumps(found))\n")


def _listening(port: int) -> list:
    """The local addresses with a listening TCP socket on port (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                    found.append(address)
    return found


def test_each_node_is_an_sshd_of_its_own_on_loopback_only(fleet, nodes):
    ports = {node.port for node in nodes.values()}
    assert len(ports) == len(nodes)
    for node in nodes.values():
        assert node.pid and os.path.exists(f"/proc/{node.pid}"), f"{node.name}: sshd pid {node.pid} is not running"
        with open(f"/proc/{node.pid}/cmdline", "rb") as handle:
            assert os.path.join(node.sshd_dir, "sshd_config").encode() in handle.read()
        # 127.0.0.1 in /proc/net/tcp's little-endian hex
        assert _listening(node.port) == ["0100007F"], f"{node.name} listens on {_listening(node.port)}"
        assert_owned_by_service_account(node)
    with open(fleet.sudoers, encoding="utf-8") as handle:
        assert f"{fleet.login} ALL=(ALL:ALL) NOPASSWD: ALL" in handle.read()


def _as(name, account, task, **keywords):
    """task run as one of the accounts: login, root, service (piped), service-unpiped, auditor."""
    task = dict(task, name=f"{name} as {account}", **keywords)
    if account == "root":
        task["become"] = True
    elif account.startswith("service"):
        task.update(become=True, become_user="{{ fleet_service_account }}")
        if account == "service-unpiped":
            task["vars"] = {"ansible_pipelining": False}
    elif account == "auditor":
        task["vars"] = {"ansible_user": "{{ fleet_auditor }}"}
    return task


def test_accounts_and_interpreters_as_the_modules_see_them(fleet, nodes, tmp_path):
    who = {"ansible.builtin.command": "id -un", "changed_when": False}
    read = {"ansible.builtin.stat": {"path": "{{ gateway_sync_apim_home }}/repository/conf/deployment.toml"},
            "ignore_errors": True}
    tasks = [_as("who", account, who) for account in ("login", "root", "service", "service-unpiped", "auditor")]
    tasks += [_as("read", account, read) for account in ("login", "service", "auditor")]
    tasks += [_as("groups", "auditor", {"ansible.builtin.command": "id -Gn", "changed_when": False}),
              _as("libraries", "login", {"ansible.builtin.command": {"argv": ["{{ ansible_python_interpreter }}", "-c", PROBE]},
                                         "changed_when": False})]
    run = run_play(fleet, tmp_path, tasks=tasks, play_vars={"fleet_auditor": fleet.auditor})
    assert run.rc == 0, run.output

    for name, node in nodes.items():
        assert run.task("who as login")[name]["stdout"] == fleet.login
        assert run.task("who as root")[name]["stdout"] == "root"
        assert run.task("who as service")[name]["stdout"] == node.service_account
        assert run.task("who as service-unpiped")[name]["stdout"] == node.service_account
        assert run.task("who as auditor")[name]["stdout"] == fleet.auditor
        # the login account cannot even see the gateway's files; the service account and the auditor can
        denied = run.task("read as login")[name]
        assert denied["_status"] == "failed" and "Permission denied" in denied["msg"], denied
        assert run.task("read as service")[name]["stat"]["writeable"]
        assert run.task("read as auditor")[name]["stat"]["readable"]
        assert not run.task("read as auditor")[name]["stat"]["writeable"]
        assert node.service_account in run.task("groups as auditor")[name]["stdout"].split()

    # every interpreter is some node's: the role and module tests then run on each of them
    assert sorted(node.flavor for node in nodes.values()) == sorted(fleet_mod.INTERPRETERS), \
        "each node must have its own interpreter (APIM_FLEET_INTERPRETERS overrides them)"
    libs = {name: json.loads(run.task("libraries as login")[name]["stdout"]) for name in nodes}
    distro = json.loads(subprocess.run([fleet_mod.SYSTEM_PYTHON, "-c", PROBE], capture_output=True, text=True,
                                       check=True, timeout=60).stdout)
    by_flavor = {node.flavor: libs[name] for name, node in nodes.items()}
    assert by_flavor["distro"] == distro and by_flavor["distro"]["executable"] == fleet_mod.SYSTEM_PYTHON
    assert (by_flavor["oldest"]["cryptography"], by_flavor["oldest"]["tomlkit"], by_flavor["oldest"]["jks"]) == \
        ("3.4.8", "0.9.2", None)
    newest = dict(pin.split("==") for pin in fleet_mod.pins("newest"))
    assert by_flavor["newest"]["cryptography"] == newest["cryptography"]
    assert by_flavor["newest"]["tomlkit"] == newest["tomlkit"]
    assert by_flavor["newest"]["jks"] is not None
    assert by_flavor["oldest"]["python"] == by_flavor["newest"]["python"] == distro["python"]
