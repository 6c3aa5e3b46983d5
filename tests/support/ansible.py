"""Run the collection's modules the way users do: ansible-playbook, with JSON results read back."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
BIN = os.path.dirname(sys.executable)


def sha256_file(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _env(tmp_path, python: str | None = None) -> dict:
    """The environment of an ansible run; python: the node interpreter the modules run with (default: this one)."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_PYTHON_INTERPRETER": python or sys.executable,
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(os.path.dirname(os.path.realpath(__file__)), "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "result_file",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible-local"),
        "ANSIBLE_REMOTE_TEMP": str(tmp_path / ".ansible-remote"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


class TaskResult(dict):
    @property
    def failed(self) -> bool:
        return bool(self.get("failed")) or self.get("_status") == "failed"

    @property
    def changed(self) -> bool:
        return bool(self.get("changed"))


def playbook_flags(check: bool = False, diff: bool = False, verbosity: int = 0) -> list:
    """ansible-playbook's --check, --diff and -v... options."""
    return (["--check"] if check else []) + (["--diff"] if diff else []) + (["-" + "v" * verbosity] if verbosity else [])


def run_module(tmp_path, module: str, args: dict, *, check: bool = False, diff: bool = False, verbosity: int = 0,
               python: str | None = None) -> TaskResult:
    """Run one task of module with args on localhost; return its result (never raises on task failure).
    python: the node interpreter the module runs with (default: the test's own)."""
    result, _output = run_module_raw(tmp_path, module, args, check=check, diff=diff, verbosity=verbosity, python=python)
    return result


def run_module_raw(tmp_path, module: str, args: dict, *, check=False, diff=False, verbosity=0, python=None):
    """As run_module, and also the playbook's whole stdout+stderr (for leak checks)."""
    playbook = [{
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"name": "under test", module: args, "ignore_errors": True}],
    }]
    book = tmp_path / f"play-{os.getpid()}-{id(args)}.yml"
    book.write_text(yaml.safe_dump(playbook, sort_keys=False))
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book), *playbook_flags(check, diff, verbosity)]
    results = tmp_path / f"results-{os.getpid()}-{id(args)}.jsonl"
    env = _env(tmp_path, python)
    env["APIM_TEST_RESULTS"] = str(results)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    book.unlink()
    try:
        records = [json.loads(line) for line in results.read_text().splitlines()]
        results.unlink()
        result = records[-1]
    except (OSError, ValueError, IndexError) as exc:
        raise AssertionError(f"ansible-playbook gave no result ({exc}):\n{proc.stdout}\n{proc.stderr}") from None
    return TaskResult(result), proc.stdout + proc.stderr


def run_role(tmp_path, hosts: dict, role_vars: dict, *extra: str, play_extra: dict | None = None) -> subprocess.CompletedProcess:
    """The gateway_sync role over simulated nodes (local connection, this Python), with the default callback.
    hosts: inventory hostname -> host vars (gateway_sync_apim_home at least)."""
    inventory = {"all": {"children": {"gateways": {
        "hosts": hosts, "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}
    play = {"name": "sync", "hosts": "gateways", "gather_facts": False,
            "roles": [{"role": "apim.certificates.gateway_sync", "vars": role_vars}]}
    play.update(play_extra or {})
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    env = _env(tmp_path)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)


def run_playbook(tmp_path, playbook: str, *extra: str, check: bool = False) -> subprocess.CompletedProcess:
    """Run a playbook file with the default callback; returns the process."""
    env = _env(tmp_path)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", playbook, *extra]
    if check:
        cmd.append("--check")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
