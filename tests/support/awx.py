"""Run the docs/awx recipe's job templates the way AWX runs a job: ansible-runner on a private data directory.

AWX lays out, per job: project/ (the synced project, its collections installed from collections/requirements.yml),
inventory/hosts, env/extravars (job template extra vars, survey answers, launch-time vars and credential-injected vars;
everything but the template's own extra vars tagged !unsafe), env/envvars, env/cmdline (--check for a check job, -v...,
--forks, --limit); ansible-runner writes artifacts/<ident>/ (status, rc, stdout, command, job_events/*.json).
The job template definitions come from docs/awx/controller.yml, the credential type from docs/awx/.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.apim.certificates.tests.support.ansible import BIN, ROOT, _env

RECIPE = os.path.join(ROOT, "docs", "awx")
_JOB_IDS = itertools.count(1)
PROJECT = os.path.join(RECIPE, "project")


def controller_tasks() -> list:
    with open(os.path.join(RECIPE, "controller.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)[0]["tasks"]


def job_template(name: str) -> dict:
    for task in controller_tasks():
        params = task.get("awx.awx.job_template")
        if params and params["name"] == name:
            return params
    raise KeyError(f"no job template {name!r} in docs/awx/controller.yml")


def credential_type() -> dict:
    with open(os.path.join(RECIPE, "credential-type-gateway-truststore.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def inject_credential(cred_type: dict, inputs: dict) -> tuple:
    """As AWX does: render the injectors' templates with the credential's inputs (sandboxed Jinja).

    Returns (extra_vars, env).
    """
    missing = [f for f in cred_type["inputs"].get("required", []) if f not in inputs]
    assert not missing, f"credential inputs missing: {missing}"
    sandbox = ImmutableSandboxedEnvironment()
    injectors = cred_type.get("injectors", {})
    extra = {k: sandbox.from_string(v).render(**inputs) for k, v in injectors.get("extra_vars", {}).items()}
    env = {k: sandbox.from_string(v).render(**inputs) for k, v in injectors.get("env", {}).items()}
    return extra, env


class _Unsafe(str):
    """A string AWX writes as !unsafe (survey answers, launch-time and credential-injected vars)."""


def _unsafe_dumper():
    dumper = type("AwxDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(_Unsafe, lambda d, value: d.represent_scalar("!unsafe", str(value)))
    return dumper


def _mark_unsafe(value):
    if isinstance(value, str):
        return _Unsafe(value)
    if isinstance(value, dict):
        return {k: _mark_unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_unsafe(v) for v in value]
    return value


def install_project_collections(tarball: str, dest: str) -> str:
    """A project sync: collections/requirements.yml, its source replaced by the tarball the tests built."""
    with open(os.path.join(PROJECT, "collections", "requirements.yml"), encoding="utf-8") as handle:
        requirements = yaml.safe_load(handle)
    assert [c["name"].rsplit("/", 1)[-1] for c in requirements["collections"]] == ["apim-certificates-0.1.0.tar.gz"]
    requirements["collections"] = [{"name": tarball, "type": "file"}]
    req_file = os.path.join(dest, "requirements.yml")
    os.makedirs(dest, exist_ok=True)
    with open(req_file, "w", encoding="utf-8") as handle:
        yaml.safe_dump(requirements, handle)
    target = os.path.join(dest, "requirements_collections")
    env = _env_for(dest)
    env["ANSIBLE_COLLECTIONS_PATH"] = target
    run = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", req_file, "-p", target],
                         capture_output=True, text=True, env=env, check=False, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return target


def _env_for(path) -> dict:
    env = _env(pathlib.Path(path))
    for key in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_PLUGINS", "ANSIBLE_STDOUT_CALLBACK", "APIM_TEST_RESULTS"):
        env.pop(key, None)
    return env


class Job(dict):
    """status, rc, stdout, events, artifact (the set_stats data), dir (the private data dir)."""

    @property
    def artifact(self) -> dict:
        stats = [e for e in self["events"] if e.get("event") == "playbook_on_stats"]
        assert stats, "no playbook_on_stats event"
        return (stats[-1]["event_data"].get("artifact_data") or {}).get("gateway_sync")


def run_job(workdir: str, ident: str, template: dict, *, collections: str, hosts: dict, group_vars: dict | None = None,
            survey: dict | None = None, launch_vars: dict | None = None, credentials=(), limit: str | None = None,
            verbosity: int | None = None, extra_vars: dict | None = None) -> Job:
    """Run one job of a job template (docs/awx/controller.yml) as AWX would, on the given inventory hosts.

    survey: answers by variable (AWX sends text for textarea and multiple-choice questions); missing answers get the
    survey's default. credentials: (credential type, inputs) pairs. extra_vars: AWX's own (e.g. a workflow's artifacts).
    """
    pdd = os.path.join(workdir, ident)
    shutil.copytree(PROJECT, os.path.join(pdd, "project"))
    os.makedirs(os.path.join(pdd, "inventory"))
    os.makedirs(os.path.join(pdd, "env"))
    with open(os.path.join(pdd, "inventory", "hosts"), "w", encoding="utf-8") as handle:
        json.dump({"all": {"children": {"gateways": {"hosts": hosts, "vars": group_vars or {}}}}}, handle)

    variables = dict(template.get("extra_vars") or {})
    variables.update(extra_vars or {})
    answers = {}
    if template.get("survey_enabled"):
        for question in template["survey_spec"]["spec"]:
            if question["variable"] in (survey or {}):
                answers[question["variable"]] = (survey or {})[question["variable"]]
            elif question.get("default") not in (None, ""):
                answers[question["variable"]] = question["default"]
    else:
        assert not survey, f"{template['name']} has no survey"
    if launch_vars:
        assert template.get("ask_variables_on_launch"), f"{template['name']} does not prompt for variables"
    injected_env = {}
    for cred_type, inputs in credentials:
        extra, env = inject_credential(cred_type, inputs)
        answers.update(extra)
        injected_env.update(env)
    answers.update(launch_vars or {})
    variables.update(_mark_unsafe(answers))
    with open(os.path.join(pdd, "env", "extravars"), "w", encoding="utf-8") as handle:
        yaml.dump(variables, handle, Dumper=_unsafe_dumper())

    envvars = {
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, ".ansible-local"),
        "ANSIBLE_REMOTE_TEMP": os.path.join(workdir, ".ansible-remote"),
        "ANSIBLE_FORCE_COLOR": "False",
        "JOB_ID": str(next(_JOB_IDS)),  # AWX's job id (the runner's callback wants a number)
        **injected_env,
    }
    with open(os.path.join(pdd, "env", "envvars"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(envvars, handle)
    cmdline = []
    if template.get("job_type") == "check":
        cmdline.append("--check")
    level = template.get("verbosity", 0) if verbosity is None else verbosity
    if level:
        cmdline.append("-" + "v" * level)
    if template.get("forks"):
        cmdline += ["--forks", str(template["forks"])]
    if limit:
        assert template.get("ask_limit_on_launch"), f"{template['name']} does not prompt for a limit"
        cmdline += ["--limit", limit]
    with open(os.path.join(pdd, "env", "cmdline"), "w", encoding="utf-8") as handle:
        handle.write(shlex.join(cmdline))

    env = _env_for(workdir)
    proc = subprocess.run([os.path.join(BIN, "ansible-runner"), "run", pdd, "-p", template["playbook"], "--ident", ident],
                          capture_output=True, text=True, env=env, check=False, timeout=900)
    artifacts = os.path.join(pdd, "artifacts", ident)
    events = []
    for path in sorted(glob.glob(os.path.join(artifacts, "job_events", "*.json")),
                       key=lambda p: int(os.path.basename(p).split("-", 1)[0])):
        with open(path, encoding="utf-8") as handle:
            events.append(json.load(handle))

    def read(name):
        try:
            with open(os.path.join(artifacts, name), encoding="utf-8") as handle:
                return handle.read()
        except OSError:
            return ""

    return Job(status=read("status").strip(), rc=read("rc").strip(), stdout=read("stdout"), events=events, dir=pdd,
               artifacts=artifacts, runner_output=proc.stdout + proc.stderr, python=sys.executable)


def artifact_files(job: Job) -> dict:
    """Every file under the job's artifacts/ directory: relative path -> text."""
    found = {}
    for folder, _dirs, names in os.walk(os.path.join(job["dir"], "artifacts")):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, job["dir"])] = handle.read().decode("utf-8", "replace")
    return found
