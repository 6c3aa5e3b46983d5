"""Helpers for the Java interop tests: several module tasks in one ansible-playbook run, and store comparisons.

One ansible-playbook process costs about 0.7 s before its first task; a task about 0.4 s more. The interop
tests run the module(s) a phase needs as consecutive tasks of one playbook to stay within their time budget.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import subprocess

import yaml

from ansible_collections.apim.certificates.tests.support.ansible import BIN, TaskResult, _env
from ansible_collections.apim.certificates.tests.support.java import keytool

# tests/conftest.py's FIXTURES, computed the same way (a conftest module is not for importing)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "wso2")

ENDPOINT = "apim.certificates.endpoint_certificate"
INFO = "apim.certificates.truststore_info"
STORE_TYPES = ("JKS", "JCEKS", "PKCS12")
SUFFIX = {"JKS": "jks", "JCEKS": "jceks", "PKCS12": "p12"}


def run_tasks(tmp_path, *tasks) -> list:
    """Run (module, args) tasks in order in one playbook on localhost; return one TaskResult per task.

    Every task has ignore_errors, so a failed task does not hide the results of those after it.
    """
    book = tmp_path / f"interop-{os.getpid()}-{id(tasks)}.yml"
    results = tmp_path / f"interop-{os.getpid()}-{id(tasks)}.jsonl"
    plays = [{
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {"name": f"task {index}", module: args, "ignore_errors": True}
            for index, (module, args) in enumerate(tasks)
        ],
    }]
    book.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = _env(tmp_path)
    env["APIM_TEST_RESULTS"] = str(results)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    finally:
        book.unlink()  # it holds the store password
    try:
        records = [json.loads(line) for line in results.read_text().splitlines()]
        results.unlink()
    except (OSError, ValueError) as exc:
        raise AssertionError(f"ansible-playbook gave no results ({exc}):\n{proc.stdout}\n{proc.stderr}") from None
    assert len(records) == len(tasks), f"expected {len(tasks)} task results, got {len(records)}:\n{proc.stdout}"
    return [TaskResult(record) for record in records]


def ok(result: TaskResult) -> TaskResult:
    """The result, after asserting the task did not fail (with its message if it did)."""
    assert not result.failed, f"task failed: {result.get('msg')}"
    return result


def info_entries(result: TaskResult) -> dict:
    """alias -> (entry type, SHA-256) from a truststore_info result."""
    ok(result)
    entries = {e["alias"]: (e["entry_type"], (e["fingerprints"] or {}).get("sha256")) for e in result["entries"]}
    assert len(entries) == result["count"] == len(result["entries"]), "truststore_info reported an alias twice"
    return entries


def keytool_entries(listing) -> dict:
    """alias -> (entry type, SHA-256) from a keytool_listing."""
    return {alias: (entry.entry_type, entry.sha256) for alias, entry in listing.entries.items()}


def trusted(expected: dict) -> dict:
    """alias -> SHA-256 as alias -> (trustedCertEntry, SHA-256)."""
    return {alias: ("trustedCertEntry", sha) for alias, sha in expected.items()}


def snapshot(path, name: str) -> str:
    """A copy of the store next to it, so a JVM can read this state while something else changes the store."""
    copy = f"{path}.{name}"
    shutil.copyfile(path, copy)
    return copy


def in_parallel(*calls, workers: int = 4):
    """Run zero-argument callables concurrently (subprocess-bound: JVMs, ansible-playbook); return their results.

    A JVM starts in about 0.5 s, mostly on one core: on 2 cores a few at a time, next to an ansible-playbook run,
    finish much sooner than one after the other.
    """
    if not calls:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def keytool_import_cert(path: str, password: str, alias: str, cert_file: str, store_type: str, *jvm_options: str) -> None:
    """keytool -importcert; jvm_options such as -J-Dkeystore.pkcs12.legacy go before the command."""
    keytool(*jvm_options, "-importcert", "-noprompt", "-alias", alias, "-file", cert_file, "-keystore", path,
            "-storetype", store_type, password=password)


class PluginBug(AssertionError):
    """Raised only by the checks that show a known bug in plugins/; tests mark it xfail(raises=PluginBug, strict=True)."""


@contextlib.contextmanager
def plugin_bug():
    """Wrap the checks that show the bug, so a failure anywhere else (a broken precondition) is a real failure."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - assertion or the collection's own error, both show the bug
        raise PluginBug(f"{type(exc).__name__}: {exc}") from exc
