"""Run ``ansible-test integration`` on a fresh copy of the collection, offline but for the package index.

Usage (from the repository root, with the project venv's python)::

    .venv/bin/python hack/integration.py [ansible-test integration options and targets ...]

The same preparation as hack/sanity.py (a copy in ``build/integration/ansible_collections/apim/certificates``
with its own ``git init``, ``HOME=build/home``, and the offline stand-in for ansible-test's get-pip download), then
``ansible-test integration --venv --python <X.Y>``: the targets in tests/integration/targets/ run against this
machine with the local connection (no Docker). ansible-test installs tests/integration/requirements.txt (the
collection's node requirements) into its venv from the package index.
"""

from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sanity import BUILD, HOME, PYTHON_VERSION, ROOT, copy_collection, log, sanity_env, seed_pip_bootstrap  # noqa: E402  pylint: disable=wrong-import-position

COPY = os.path.join(BUILD, "integration", "ansible_collections", "apim", "certificates")


def main(argv: list) -> int:
    copy_collection(COPY)
    os.makedirs(HOME, exist_ok=True)
    env = sanity_env()
    seed_pip_bootstrap(env)
    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    cmd = [ansible_test, "integration", "--venv", "--python", PYTHON_VERSION, "--color", "no", "--requirements"] + argv
    log("running: %s (in %s, HOME=%s)" % (" ".join(cmd), os.path.relpath(COPY, ROOT), os.path.relpath(HOME, ROOT)))
    return subprocess.run(cmd, cwd=COPY, env=env, stdin=subprocess.DEVNULL, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
