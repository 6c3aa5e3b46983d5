"""The Molecule scenario molecule/gateway_sync, run as a developer runs it: `molecule test -s gateway_sync`.

Three simulated API-M 4.x gateway nodes (prepare), the gateway_sync role (converge), the same again changing nothing
(idempotence), keytool and truststore_info as judges (verify), the nodes removed (cleanup, destroy).
Nothing is read from or written to the user's ~/.cache/molecule or ~/.ansible: HOME, ANSIBLE_HOME, Molecule's
ephemeral directory (where the nodes live) and Ansible's temp directories are all under tmp_path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from ansible_collections.apim.certificates.tests.support.ansible import COLLECTIONS, ROOT

BIN = os.path.dirname(sys.executable)
MOLECULE = os.path.join(BIN, "molecule")
NODES = ("gw1", "gw2", "gw3")


def _env(tmp_path) -> dict:
    # The caller's MOLECULE_* and ANSIBLE_* settings (make exports some) must not leak into the scenario.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOLECULE_", "ANSIBLE_"))}
    dirs = {name: tmp_path / name for name in ("home", "ansible-home", "ansible-local", "ansible-remote", "molecule")}
    for path in dirs.values():
        path.mkdir()
    env.update({
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),  # molecule runs ansible-config and ansible-playbook
        "HOME": str(dirs["home"]),
        "XDG_CACHE_HOME": str(dirs["home"] / ".cache"),
        "ANSIBLE_HOME": str(dirs["ansible-home"]),
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(dirs["ansible-local"]),
        "ANSIBLE_REMOTE_TEMP": str(dirs["ansible-remote"]),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
        "MOLECULE_EPHEMERAL_DIRECTORY": str(dirs["molecule"]),
    })
    for name in ("PY_COLORS", "FORCE_COLOR", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def _step(output: str, action: str) -> str:
    """The output of one action of the sequence (the first one of that name)."""
    match = re.search(rf"\[gateway_sync > {action}\] Executing\n(.*?)\[gateway_sync > {action}\] Executed: (\w+)",
                      output, re.DOTALL)
    assert match, f"no {action} step in the output:\n{output[-5000:]}"
    assert match.group(2) == "Successful", f"{action}: {match.group(2)}\n{match.group(1)[-5000:]}"
    return match.group(1)


def _recap(text: str) -> dict:
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(gw\d)\s+:\s+(ok=.*)$", text, re.MULTILINE)}


@pytest.mark.slow
def test_molecule_gateway_sync_scenario(tmp_path):
    if not os.path.exists(MOLECULE):
        pytest.skip(f"molecule is not installed next to {sys.executable} (pip install -r requirements-test.txt)")
    if not os.path.exists(os.path.join(COLLECTIONS, "ansible_collections", "apim", "certificates", "galaxy.yml")):
        pytest.skip(f"the collection is not linked under {COLLECTIONS} (make collection)")

    started = time.monotonic()
    # one stream, so Molecule's step messages (stderr) and ansible-playbook's output (stdout) stay in order
    proc = subprocess.run([MOLECULE, "test", "-s", "gateway_sync"], cwd=ROOT, env=_env(tmp_path), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    elapsed = time.monotonic() - started
    output = proc.stdout
    print(f"\nmolecule test -s gateway_sync: exit {proc.returncode} in {elapsed:.1f} s")
    assert proc.returncode == 0, output[-20000:]
    assert "Idempotence test failed" not in output, output[-20000:]

    converge = _recap(_step(output, "converge"))
    assert set(converge) == set(NODES) and all(r["failed"] == 0 for r in converge.values()), converge
    assert all(r["changed"] >= 1 for r in converge.values()), f"a node had nothing to converge: {converge}"
    idempotence = _recap(_step(output, "idempotence"))
    assert set(idempotence) == set(NODES), idempotence
    assert all(r["changed"] == 0 for r in idempotence.values()), idempotence
    verify = _recap(_step(output, "verify"))
    assert set(verify) == set(NODES) and all(r["failed"] == 0 for r in verify.values()), verify
    _step(output, "cleanup")

    # cleanup removed the nodes; nothing landed in the (fake) home
    assert not (tmp_path / "molecule" / "gateway-sync").exists(), sorted(os.listdir(tmp_path / "molecule"))
    assert not any((tmp_path / "home").iterdir()), sorted(os.listdir(tmp_path / "home"))
