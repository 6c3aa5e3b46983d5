"""Run ``ansible-test sanity`` on a fresh copy of the collection, without internet access to ci-files.

Usage (from the repository root, with the project venv's python)::

    .venv/bin/python hack/sanity.py [--no-copy] [ansible-test sanity options ...]

Steps:

1. Copy the collection (git-tracked files plus untracked, non-ignored ones) into
   ``build/sanity/ansible_collections/apim/certificates``: ansible-test insists on running from a
   directory of that shape, and a symlink into the repository would make it pick up the repository's
   ``.git`` and its ignore rules (``build/`` is ignored, so it would see no files at all).
   The copy gets its own empty ``git init`` so that ansible-test lists files with git, as in a clone.
2. Seed ansible-test's pip bootstrap cache under ``$HOME/.ansible/test/cache`` (``HOME`` is
   ``build/home``): ansible-test would download ``get-pip-<version>.py`` from
   ci-files.testing.ansible.com, which cannot be reached here. We download the pip wheel it wants
   from PyPI (``pip download``) and write ``get_pip_<version>.py``, a small stand-in that installs that
   wheel offline with pip run from the wheel itself, as the real get-pip script does.
3. Run ``ansible-test sanity --venv --python <X.Y>`` in the copy and return its exit code. Each sanity
   test gets its own virtual environment (requirements from PyPI), kept in ``build/home`` between runs.

4. Fail if ansible-test skipped a sanity test because something was missing (it would only warn),
   unless ``SANITY_ALLOW_SKIPS=1``.

``--no-copy`` reuses the existing copy (for example after placing extra files into it by hand).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
HOME = os.path.join(BUILD, "home")
COPY = os.path.join(BUILD, "sanity", "ansible_collections", "apim", "certificates")
PYTHON_VERSION = "%d.%d" % sys.version_info[:2]
# ansible-test reports a sanity test it cannot run (missing shellcheck, pwsh, interpreter, ...) as a
# warning and still exits 0; we treat that as a failure.
SKIP_PATTERN = re.compile(r"^WARNING: (Skipping sanity test |Required program )")

GET_PIP_TEMPLATE = '''\
"""Offline stand-in for {url} (written by hack/sanity.py).

ansible-test runs this file as __main__ with pip options and requirement specifiers as arguments,
for example: --disable-pip-version-check pip=={version} --no-setuptools --no-wheel
Like the real get-pip script, it runs pip from a pip wheel placed on sys.path and installs that pip
into the running interpreter; the wheel lies next to this file, so no network access is needed.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, {wheel!r})


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    sys.path.insert(0, WHEEL)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    return pip_main(["install", "--upgrade", "--force-reinstall", "--no-index", "--find-links", HERE] + args)


if __name__ == "__main__":
    sys.exit(main())
'''


def log(message: str) -> None:
    print("sanity: " + message, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def tracked_and_untracked_files() -> list[str]:
    out = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
              cwd=ROOT, stdout=subprocess.PIPE).stdout
    names = sorted(set(name for name in out.decode("utf-8").split("\0") if name))
    # tracked files deleted in the work tree are listed too; skip them
    return [name for name in names if os.path.lexists(os.path.join(ROOT, name))]


def copy_collection(copy: str = COPY) -> None:
    if os.path.lexists(copy):
        shutil.rmtree(copy)
    os.makedirs(copy)
    count = 0
    for name in tracked_and_untracked_files():
        src = os.path.join(ROOT, name)
        dst = os.path.join(copy, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isfile(src):
            shutil.copy2(src, dst)
        else:
            continue  # e.g. a submodule directory
        count += 1
    # A git repository of its own: ansible-test then lists the copy's files with `git ls-files`
    # (honouring the copied .gitignore) instead of walking up to the real repository, where
    # build/ is ignored.
    run(["git", "-c", "init.defaultBranch=main", "init", "-q"], cwd=copy)
    log("copied %d files to %s" % (count, os.path.relpath(copy, ROOT)))


def wanted_pip_version() -> str:
    """The pip version ansible-test bootstraps into its venvs for this Python (24.2 for ansible-core 2.19)."""
    try:
        from types import SimpleNamespace  # pylint: disable=import-outside-toplevel

        from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

        return get_venv_packages(SimpleNamespace(version=PYTHON_VERSION))["pip"]
    except Exception:  # pylint: disable=broad-exception-caught
        # fall back on reading the source (the function's signature is internal and may change)
        import ansible_test  # pylint: disable=import-outside-toplevel

        path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
        with open(path, encoding="utf-8") as handle:
            match = re.search(r"\bpip='([0-9][0-9.]*)'", handle.read())
        if not match:
            raise SystemExit("sanity: cannot tell which pip version ansible-test wants (see %s)" % path) from None
        return match.group(1)


def seed_pip_bootstrap(env: dict) -> None:
    version = os.environ.get("SANITY_PIP_VERSION") or wanted_pip_version()
    cache = os.path.join(HOME, ".ansible", "test", "cache")
    os.makedirs(cache, exist_ok=True)
    wheel = "pip-%s-py3-none-any.whl" % version
    if not os.path.exists(os.path.join(cache, wheel)):
        log("downloading %s from the package index" % wheel)
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", cache, "pip==%s" % version], env=env)
    if not os.path.exists(os.path.join(cache, wheel)):
        raise SystemExit("sanity: pip download did not produce %s in %s" % (wheel, cache))
    script = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
    url = "https://ci-files.testing.ansible.com/ansible-test/get-pip-%s.py" % version
    content = GET_PIP_TEMPLATE.format(url=url, version=version, wheel=wheel)
    current = None
    if os.path.exists(script):
        with open(script, encoding="utf-8") as handle:
            current = handle.read()
    if current != content:
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(content)
    log("pip %s bootstrap seeded: %s" % (version, os.path.relpath(script, ROOT)))


def sanity_env() -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["HOME"] = HOME
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
    env.pop("PYTHONPATH", None)
    return env


def main(argv: list[str]) -> int:
    if "--no-copy" in argv:
        argv = [arg for arg in argv if arg != "--no-copy"]
        if not os.path.isdir(COPY):
            raise SystemExit("sanity: --no-copy given but %s does not exist" % COPY)
    else:
        copy_collection()
    os.makedirs(HOME, exist_ok=True)
    env = sanity_env()
    seed_pip_bootstrap(env)
    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    cmd = [ansible_test, "sanity", "--venv", "--python", PYTHON_VERSION, "--color", "no"] + argv
    log("running: %s (in %s, HOME=%s)" % (" ".join(cmd), os.path.relpath(COPY, ROOT), os.path.relpath(HOME, ROOT)))
    skipped = []
    with subprocess.Popen(cmd, cwd=COPY, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if SKIP_PATTERN.match(line) and line.strip() not in skipped:
                skipped.append(line.strip())
    if proc.returncode:
        return proc.returncode
    if skipped and os.environ.get("SANITY_ALLOW_SKIPS") != "1":
        log("ansible-test passed but did not run everything it should have:")
        for line in skipped:
            log("  " + line)
        log("install what is missing, or set SANITY_ALLOW_SKIPS=1 to accept the skips")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
