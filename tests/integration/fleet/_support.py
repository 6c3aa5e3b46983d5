"""Playbooks over the SSH test fleet (tests/support/fleet.py), and what the tests read back from the nodes."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import stat
import subprocess
import sys

import yaml

from tests.support.ansible import _env, sha256_file

BIN = os.path.dirname(sys.executable)
PASSWORD = "wso2carbon"


@dataclasses.dataclass
class PlayRun:
    rc: int
    output: str
    records: list

    def task(self, name: str) -> dict:
        """host -> result of the task called name (the last one, when it ran several times)."""
        found = {r["_host"]: r for r in self.records if r["_task"] == name}
        assert found, f"task {name!r} left no result:\n{self.output[-6000:]}"
        return found

    @property
    def recap(self) -> dict:
        return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
                for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", self.output, re.MULTILINE)}


def run_play(fleet, tmp_path, *, hosts=None, tasks=None, roles=None, user=None, become=False, become_user=None,
             pipelining=True, check=False, diff=False, verbosity=0, play_vars=None) -> PlayRun:
    """One play on the fleet's nodes (all by default) over SSH, as user (the login account by default).

    become_user may be the string 'service' for each node's own service account.
    """
    names = list(hosts or fleet.nodes)
    inventory = tmp_path / f"fleet-inventory-{len(list(tmp_path.iterdir()))}.yml"
    fleet.write_inventory(str(inventory), names, user=user)
    play = {"name": "fleet play", "hosts": "gateways", "gather_facts": False}
    if become:
        play["become"] = True
        if become_user == "service":
            play["become_user"] = "{{ fleet_service_account }}"
        elif become_user:
            play["become_user"] = become_user
    if play_vars:
        play["vars"] = play_vars
    if roles:
        play["roles"] = roles
    if tasks:
        play["tasks"] = tasks
    book = tmp_path / f"fleet-play-{len(list(tmp_path.iterdir()))}.yml"
    book.write_text(yaml.safe_dump([play], sort_keys=False))
    results = tmp_path / f"fleet-results-{len(list(tmp_path.iterdir()))}.jsonl"
    env = _env(tmp_path)
    control = fleet.control_path_dir()  # fresh: no control master from an earlier play, no account change hidden
    env.update({
        "ANSIBLE_HOST_KEY_CHECKING": "True",  # the fleet's own known_hosts, strictly checked
        "ANSIBLE_SSH_CONTROL_PATH_DIR": control,
        "ANSIBLE_PIPELINING": "True" if pipelining else "False",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "APIM_TEST_RESULTS": str(results),
        "ANSIBLE_TIMEOUT": "30",
    })
    # the node's own interpreter (inventory) and its default remote temp (~/.ansible/tmp of the account)
    for name in ("ANSIBLE_PYTHON_INTERPRETER", "ANSIBLE_REMOTE_TEMP", "ANSIBLE_BECOME", "ANSIBLE_BECOME_USER"):
        env.pop(name, None)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), str(book)]
    cmd += ["--check"] if check else []
    cmd += ["--diff"] if diff else []
    cmd += ["-" + "v" * verbosity] if verbosity else []
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    finally:
        _close_masters(control)
    records = []
    if results.exists():
        records = [json.loads(line) for line in results.read_text().splitlines()]
    return PlayRun(proc.returncode, proc.stdout + proc.stderr, records)


def _close_masters(control: str) -> None:
    """Ask each ssh control master of this play to exit (they would linger 60 s), then drop the folder."""
    for name in os.listdir(control) if os.path.isdir(control) else []:
        subprocess.run(["ssh", "-o", f"ControlPath={os.path.join(control, name)}", "-O", "exit", "fleet-node"],
                       capture_output=True, check=False, timeout=10)
    shutil.rmtree(control, ignore_errors=True)


def snapshot(node) -> dict:
    """path -> (sha256, owner, group, mode) of every file and folder of the node's API-M home."""
    found = {}
    for folder, _dirs, files in os.walk(node.home):
        st = os.stat(folder)
        found[folder] = (None, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
        for name in files:
            path = os.path.join(folder, name)
            st = os.stat(path)
            found[path] = (sha256_file(path), st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
    return found


def assert_owned_by_service_account(node) -> None:
    """Every file 0640 and every folder 0750, owned by the node's service account and its group."""
    import grp  # pylint: disable=import-outside-toplevel
    import pwd  # pylint: disable=import-outside-toplevel

    uid = pwd.getpwnam(node.service_account).pw_uid
    gid = grp.getgrnam(node.service_account).gr_gid
    wrong = {}
    for path, (digest, owner, group, mode) in snapshot(node).items():
        want = 0o750 if digest is None else 0o640
        if (owner, group, mode) != (uid, gid, want):
            wrong[path] = f"{owner}:{group} {oct(mode)} (want {uid}:{gid} {oct(want)})"
    assert not wrong, f"{node.name}: owner/group/mode changed: {json.dumps(wrong, indent=1)}"


def home_paths(text: str, node) -> set:
    """The paths inside the node's API-M home that a message names."""
    return set(re.findall(re.escape(node.home) + r"[^\s'\":,;)]*", text))
