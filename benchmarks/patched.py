"""A copy of the collection with the proposed fixes (benchmarks/proposed/*.patch) applied, to measure before/after.

`run.py --patched` builds build/bench/patched/collections/ansible_collections/apim/certificates from this checkout's
plugins/, roles/ and meta/ (plus galaxy.yml), applies each patch with GNU `patch`, and runs the benchmarks against
that copy instead of build/collections. The checkout itself is never modified. A patch that no longer applies (the
code moved on) is reported and left out.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCHES = os.path.join(ROOT, "benchmarks", "proposed")
TARGET = os.path.join(ROOT, "build", "bench", "patched", "collections")
CONTENT = ("plugins", "roles", "meta", "galaxy.yml")


def build(selected=None, log=print) -> tuple:
    """(collections path of the patched copy, [applied patch names], [patches that failed to apply])."""
    collection = os.path.join(TARGET, "ansible_collections", "apim", "certificates")
    if os.path.isdir(TARGET):
        shutil.rmtree(TARGET)
    os.makedirs(collection)
    for name in CONTENT:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(collection, name), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif os.path.exists(source):
            shutil.copyfile(source, os.path.join(collection, name))
    applied, failed = [], []
    for patch in sorted(glob.glob(os.path.join(PATCHES, "*.patch"))):
        name = os.path.basename(patch)
        if selected and not any(name.startswith(s) for s in selected):
            continue
        # GNU patch, not `git apply`: the copy lies inside this repository's work tree, where `git apply` would
        # silently skip every path outside the current directory.
        command = ["patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch", "-d", collection, "-i", patch]
        proc = subprocess.run(command + ["--dry-run"], capture_output=True, text=True, check=False)  # all hunks or none
        if proc.returncode == 0:
            proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            applied.append(name)
        else:
            failed.append(name)
            log(f"patched: {name} does not apply to this checkout any more: {(proc.stdout + proc.stderr).strip()[:300]}")
    log(f"patched: {os.path.relpath(collection, ROOT)} with {', '.join(applied) or 'no patch'}")
    return TARGET, applied, failed
