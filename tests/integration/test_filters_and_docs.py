"""The cert_info filter in a playbook, and ansible-doc for every plugin and the role."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.apim.certificates.tests.support.ansible import _env
from ansible_collections.apim.certificates.tests.support.pki import expired_cert, make_cert, pem, sha256

BIN = os.path.dirname(sys.executable)


def _playbook(tmp_path, text):
    book = tmp_path / "play.yml"
    book.write_text(text)
    env = _env(tmp_path)
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)],
                          capture_output=True, text=True, env=env, check=False, timeout=300)


def test_cert_info_filter(tmp_path):
    cert, _unused_key = make_cert("filter.test", sans=["filter.test", "10.1.2.3"])
    old, _unused_old_key = expired_cert()
    (tmp_path / "c.pem").write_text(pem(cert) + pem(old))
    run = _playbook(tmp_path, f"""
- hosts: localhost
  gather_facts: false
  vars:
    bundle: "{{{{ lookup('ansible.builtin.file', '{tmp_path}/c.pem') }}}}"
    first: "{{{{ bundle | apim.certificates.cert_info }}}}"
    every: "{{{{ bundle | apim.certificates.cert_info(all=true) }}}}"
  tasks:
    - ansible.builtin.assert:
        that:
          - first.fingerprints.sha256 == '{sha256(cert)}'
          - first.subject_alt_names == ['DNS:filter.test', 'IP:10.1.2.3']
          - first.status == 'active' and first.days_remaining > 300
          - every | length == 2
          - every[1].status == 'expired'
""")
    assert run.returncode == 0, run.stdout + run.stderr
    bad = _playbook(tmp_path, """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "{{ 'not a certificate' | apim.certificates.cert_info }}"
""")
    assert bad.returncode != 0 and "not a certificate" in bad.stdout + bad.stderr


def _documented_plugins() -> list:
    """Every module and filter the collection ships, from plugins/ itself (a new one is checked without a list to edit)."""
    plugins = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins")
    found = [("module", name[:-3]) for name in sorted(os.listdir(os.path.join(plugins, "modules"))) if name.endswith(".py")]
    found += [("filter", name[:-4]) for name in sorted(os.listdir(os.path.join(plugins, "filter"))) if name.endswith(".yml")]
    found += [("filter", "cert_info")]
    return found + [("role", "gateway_sync")]


@pytest.mark.parametrize("kind, name", _documented_plugins())
def test_ansible_doc_renders(tmp_path, kind, name):
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", kind, f"apim.certificates.{name}"], env=_env(tmp_path),
                         capture_output=True, text=True, check=False, timeout=120)
    assert doc.returncode == 0 and "ERROR" not in doc.stderr, doc.stderr
    assert f"apim.certificates.{name}" in doc.stdout


def _required_libs(module: str) -> list:
    """The (library, version) pairs a module names in missing_required_lib() when a library is absent."""
    plugins = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins")
    with open(os.path.join(plugins, "modules", module + ".py"), encoding="utf-8") as handle:
        return re.findall(r'missing_required_lib\("([A-Za-z_]+)>=([0-9.]+)"', handle.read())


@pytest.mark.parametrize("name", [name for kind, name in _documented_plugins() if kind == "module" and _required_libs(name)])
def test_documented_floor_is_the_one_enforced(tmp_path, name):
    """The floor a module refuses to run below is the floor its documentation states, and the one `make unit-floor` tests
    (requirements-floor.txt): gateway_trust once claimed cryptography 45.0.0 while every other module said 3.4.8."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "requirements-floor.txt"), encoding="utf-8") as handle:
        tested = dict(re.findall(r"^([A-Za-z_]+)==([0-9.]+)", handle.read(), re.M))
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "-j", "-t", "module", f"apim.certificates.{name}"],
                         env=_env(tmp_path), capture_output=True, text=True, check=True, timeout=120)
    requirements = " ".join(json.loads(doc.stdout)[f"apim.certificates.{name}"]["doc"].get("requirements", []))
    for library, version in _required_libs(name):
        floors = set(re.findall(re.escape(library) + r" >= ([0-9.]+)", requirements))
        assert version in floors, f"{name} refuses {library} < {version}; its docs name {sorted(floors)} ({requirements})"
        assert version == tested[library], f"{name} refuses {library} < {version}; make unit-floor tests {tested[library]}"
