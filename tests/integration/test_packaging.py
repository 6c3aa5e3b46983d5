"""The collection as users get it: a galaxy tarball installed into an empty path, and an EE build context."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

from ansible_collections.apim.certificates.tests.support.ansible import ROOT, _env
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem

BIN = os.path.dirname(sys.executable)
# What must never ship, whatever galaxy.yml's build_ignore says: the tree's build and test outputs, caches, the
# development tooling, the gateway stand-in (a test instrument: docs/standin.md).
JUNK_TOP = ("build", ".venv", ".git", "hack", ".ci", ".pytest_cache", ".hypothesis", "molecule", "benchmarks")
JUNK_PATHS = ("tests/output", "tests/standin", "demo/work", "importer_result.json")
JUNK_SUFFIXES = (".pyc", ".pyo", ".tar.gz", ".retry", ".orig", ".rej", "~", ".swp")
JUNK_PARTS = ("__pycache__", ".mypy_cache", ".ruff_cache", ".tox", ".coverage", ".DS_Store")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """apim-certificates-<version>.tar.gz, as `ansible-galaxy collection build` makes it from this checkout."""
    out = tmp_path_factory.mktemp("galaxy-build")
    build = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(out)],
                           capture_output=True, text=True, check=False, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        version = yaml.safe_load(handle)["version"]
    return out / f"apim-certificates-{version}.tar.gz"


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """(collections path, env) with the tarball installed into an otherwise empty collections path."""
    work = tmp_path_factory.mktemp("galaxy-install")
    empty = work / "collections"
    env = _env(work)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(empty)  # nothing else installed: a copy elsewhere would satisfy galaxy
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    install = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(empty)],
                             capture_output=True, text=True, check=False, timeout=300, env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    assert (empty / "ansible_collections" / "apim" / "certificates" / "MANIFEST.json").exists(), install.stdout
    return empty, env


def _ignored(name: str, patterns: list) -> str | None:
    """The build_ignore pattern that name, or a folder above it, matches (ansible-galaxy: fnmatch on the relative path)."""
    parts = name.split("/")
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        for pattern in patterns:
            if fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(parts[depth - 1], pattern):
                return pattern
    return None


def test_tarball_holds_no_test_or_build_junk(tarball):
    """Every member of the tarball: nothing galaxy.yml's build_ignore names, nothing git ignores (outputs, caches),
    none of the tree's junk; and what users need is there (modules, role with its README and argument spec, meta,
    docs, the demo with the test helpers it imports, the ansible-test targets)."""
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
    names = [m.name for m in members]
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        patterns = yaml.safe_load(handle)["build_ignore"]
    assert not {n: _ignored(n, patterns) for n in names if _ignored(n, patterns)}, "build_ignore'd paths shipped"
    debris = [n for n in names if n.split("/")[0] in JUNK_TOP or n.startswith(JUNK_PATHS) or n.endswith(JUNK_SUFFIXES)
              or set(n.split("/")) & set(JUNK_PARTS)]
    assert not debris, debris
    assert not [m.name for m in members if m.issym() or m.islnk()], "links in the tarball"
    if os.path.isdir(os.path.join(ROOT, ".git")):
        check = subprocess.run(["git", "-C", ROOT, "check-ignore", "--no-index", "--stdin"], input="\n".join(names),
                               capture_output=True, text=True, check=False, timeout=60)
        assert check.returncode in (0, 1), check.stderr
        assert not check.stdout.split(), f"files git ignores (outputs, caches) shipped: {check.stdout.split()}"
    for needed in ("MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "plugins/modules/endpoint_certificate.py",
                   "roles/gateway_sync/tasks/main.yml", "roles/gateway_sync/README.md", "roles/gateway_sync/meta/argument_specs.yml",
                   "changelogs/changelog.yaml", "demo/run_demo.py", "demo/gateway_sync.yml", "tests/support/gateway.py",
                   "tests/integration/targets/gateway_sync_role/tasks/main.yml"):
        assert needed in names, f"{needed} is missing from the tarball"


def test_tarball_installs_and_its_modules_run(tmp_path, installed):
    empty, env = installed
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


# Runs the installed demo/run_demo.py with the installed collection only: its imports (the collection's module_utils
# and the test helpers it uses) and its playbook must come from the tarball, not from the checkout.
DEMO_WRAPPER = """
import importlib.util, os, sys
demo_path, collections, work = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("installed_run_demo", demo_path)
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)
demo.COLLECTIONS = collections  # run_demo.py points ansible at the checkout's build/collections; here, the install
if not os.path.exists(demo.standin_driver.SOURCE):
    # the stand-in's Java source does not ship (tests/standin: a test instrument), so no running gateways: the demo's
    # own path for a machine without a JDK (the role, then a trust check of each node's files)
    demo.standin_driver.available = lambda: False
root = os.path.dirname(os.path.dirname(os.path.abspath(demo_path)))
for name, module in sorted(sys.modules.items()):
    if name.startswith("ansible_collections.apim.certificates.") and getattr(module, "__file__", None):
        assert os.path.realpath(module.__file__).startswith(os.path.realpath(root) + os.sep), (name, module.__file__)
sys.argv = [demo_path, "--dir", work]
sys.exit(demo.main())
"""


def test_the_installed_tarball_runs_the_demo(tmp_path, installed):
    empty, env = installed
    installed_root = empty / "ansible_collections" / "apim" / "certificates"
    env = dict(env)
    env.pop("ANSIBLE_CALLBACK_PLUGINS", None)
    env["PYTHONPATH"] = str(empty)
    run = subprocess.run([sys.executable, "-c", DEMO_WRAPPER, str(installed_root / "demo" / "run_demo.py"), str(empty),
                          str(tmp_path / "demo")], cwd=str(tmp_path), capture_output=True, text=True, env=env,
                         check=False, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "apim.certificates.gateway_sync" in run.stdout and "live truststore verifies the backend" in run.stdout, run.stdout
    assert str(installed_root / "demo" / "gateway_sync.yml") in run.stdout, "the demo did not run the installed playbook"


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
