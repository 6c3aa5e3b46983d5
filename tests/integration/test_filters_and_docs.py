"""The cert_info filter in a playbook, and ansible-doc for every plugin and the role."""

from __future__ import annotations

import os
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
