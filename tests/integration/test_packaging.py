"""The collection as users get it: a galaxy tarball installed into an empty path, and an EE build context."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile

from tests.support.ansible import ROOT, _env
from tests.support.pki import make_cert, pem

BIN = os.path.dirname(sys.executable)


def test_tarball_installs_and_its_modules_run(tmp_path):
    build = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(tmp_path)],
                           capture_output=True, text=True, check=False, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = tmp_path / "apim-certificates-0.1.0.tar.gz"
    names = tarfile.open(tarball).getnames()
    assert "plugins/modules/endpoint_certificate.py" in names and "roles/gateway_sync/tasks/main.yml" in names
    debris = [n for n in names if n.split("/")[0] in ("build", ".venv", ".git", "hack", ".ci") or "__pycache__" in n
              or n.endswith((".pyc", ".tar.gz")) or n.startswith("tests/output")]
    assert not debris, debris
    assert not [n for n in names if n.startswith("tests/standin")], "the gateway stand-in is a test instrument, not shipped"

    empty = tmp_path / "collections"
    env = _env(tmp_path)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(empty)  # nothing else installed: a copy elsewhere would satisfy galaxy
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    install = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(empty)],
                             capture_output=True, text=True, check=False, timeout=300, env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    assert (empty / "ansible_collections" / "apim" / "certificates" / "MANIFEST.json").exists(), install.stdout

    cert, _unused_key = make_cert("packaged.test")
    book = tmp_path / "play.yml"
    book.write_text(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - apim.certificates.endpoint_certificate:
        path: {tmp_path}/packaged.jks
        password: changeit
        create: true
        alias: packaged
        certificate: "{{{{ lookup('ansible.builtin.file', '{tmp_path}/c.pem') }}}}"
      register: added
    - ansible.builtin.assert:
        that: added.changed and added.results[0].action == 'added'
""")
    (tmp_path / "c.pem").write_text(pem(cert))
    run = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)],
                         capture_output=True, text=True, env=env, check=False, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "apim.certificates.truststore_info"], env=env,
                         capture_output=True, text=True, check=False, timeout=120)
    assert doc.returncode == 0 and str(empty) in doc.stdout, doc.stdout + doc.stderr


def test_execution_environment_build_context(tmp_path):
    context = tmp_path / "context"
    create = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", os.path.join(ROOT, "execution-environment.yml"),
                             "--context", str(context)], capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)
    assert create.returncode == 0, create.stdout + create.stderr
    requirements = (context / "_build" / "requirements.txt").read_text()
    assert "cryptography" in requirements and "pyjks" in requirements and "tomlkit" in requirements
    assert "gcc" in (context / "_build" / "bindep.txt").read_text()
    assert (context / "Dockerfile").exists() or (context / "Containerfile").exists()
