"""The collection as users get it: a galaxy tarball installed into an empty path, and an EE build context."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

from ansible_collections.apim.certificates.tests.support.ansible import ROOT, _env
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem

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
    """make ee-context: the context ansible-builder accepts holds the collection itself; its galaxy stage installs offline.

    No container engine runs here, so the image is not built; the context's galaxy, pip and bindep inputs are checked,
    and the galaxy stage's install command is run as the Dockerfile runs it (in _build, from requirements.yml).
    """
    env = _env(tmp_path)
    context = os.path.join(ROOT, "build", "ee")
    make = subprocess.run(["make", "--no-print-directory", "ee-context"], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=600, env=env)
    assert make.returncode == 0, make.stdout + make.stderr
    build = os.path.join(context, "_build")
    dockerfile = open(os.path.join(context, "Dockerfile"), encoding="utf-8").read()
    assert "ansible-core==2.19.14" in dockerfile and "ansible-runner==2.4.3" in dockerfile
    assert "ansible-galaxy collection install" in dockerfile and "WORKDIR /build" in dockerfile
    requirements = open(os.path.join(build, "requirements.txt"), encoding="utf-8").read()
    assert "cryptography" in requirements and "tomlkit" in requirements
    bindep = open(os.path.join(build, "bindep.txt"), encoding="utf-8").read()
    assert "gcc" in bindep and "openssh-clients" in bindep
    galaxy = open(os.path.join(build, "requirements.yml"), encoding="utf-8").read()
    assert "github.com" not in galaxy and "type: file" in galaxy, galaxy
    with tarfile.open(os.path.join(build, "collections", "apim-certificates.tar.gz")) as tarball:
        manifest = json.load(tarball.extractfile("MANIFEST.json"))
        names = tarball.getnames()
    assert manifest["collection_info"]["namespace"] == "apim" and manifest["collection_info"]["name"] == "certificates"
    assert "roles/gateway_sync/meta/argument_specs.yml" in names and "plugins/plugin_utils/_survey.py" in names

    target = tmp_path / "usr-share-ansible-collections"
    env["ANSIBLE_GALAXY_DISABLE_GPG_VERIFY"] = "1"
    env["ANSIBLE_COLLECTIONS_PATH"] = str(target)  # the source checkout would satisfy galaxy otherwise
    install = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
                              "--collections-path", str(target)], cwd=build, capture_output=True, text=True,
                             check=False, timeout=300, env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = target / "ansible_collections" / "apim" / "certificates"
    assert (installed / "roles" / "gateway_sync" / "tasks" / "main.yml").exists(), install.stdout
