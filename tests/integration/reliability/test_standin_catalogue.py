"""The bad-input catalogue against running gateways: no refusal of the collection may leave a gateway that logs
"Ignoring reload SSL config" (one bad store named by any profile makes a running gateway ignore the whole reload, with
no retry until the next touch; see docs/gateway.md).

Every case of test_bad_input_catalogue.py whose input is a gateway home (apim_home, or the role's
gateway_sync_apim_home) runs again with a gateway stand-in (tests/standin/, docs/standin.md) running on that home,
started with -Dmigrate (no start-up copy, so the case's files stay as the catalogue built them). After the refusal:
- the stand-in never logged "Ignoring reload SSL config" (nor any other failed reload);
- sslprofiles.xml is touched, as the next successful run or an operator would, and the reload that follows succeeds:
  what the refusal left behind is a configuration the gateway accepts.
A home the stand-in cannot start on (the input is a broken gateway, such as a malformed deployment.toml) is listed,
not driven; a case of EXPECTED_DRIVEN that was not driven (and not skipped by the catalogue) fails the test, and so
does a case of EXPECTED_NOT_STARTED the stand-in started on.
"""

from __future__ import annotations

import os
import re
import sys

import pytest

from ansible_collections.apim.certificates.tests.integration.reliability import _inputs as inp
from ansible_collections.apim.certificates.tests.integration.reliability import test_bad_input_catalogue as catalogue
from ansible_collections.apim.certificates.tests.integration.reliability._support import assert_clean_failure, play, run_plays, task
from ansible_collections.apim.certificates.tests.support.standin import IGNORED, Standin, StandinError, classes_or_skip, touch

pytestmark = [pytest.mark.java, pytest.mark.slow]

INTERVAL_MS = 500
GROUPS = sorted({c.group for c in catalogue.CASES if not c.bug})


def _home(args: dict) -> str | None:
    return args.get("apim_home") or args.get("gateway_sync_apim_home")


def _run(folder: str, cases: list, classes: str) -> dict:
    ctx = catalogue.Context()
    out: dict = {}
    standins: dict = {}
    role = cases[0].group == catalogue.G_ROLE
    options = dict(catalogue.GROUP_OPTIONS.get(cases[0].group, {}))
    with inp.plain_http_server() as http_port:
        ctx.http_port = http_port
        try:
            ready = {}
            for item in cases:
                d = os.path.join(folder, item.id)
                os.makedirs(d)
                try:
                    args = item.setup(d, ctx)
                except catalogue.Skip as exc:
                    out[item.id] = {"skip": str(exc)}
                    continue
                home = _home(args)
                if not home or not os.path.isdir(home):
                    continue  # not a gateway case
                standins[item.id] = Standin(home, os.path.join(folder, "standin", item.id), interval_ms=INTERVAL_MS,
                                            classes=classes, migrate=True).launch()
                ready[item.id] = (item, args)
            for case_id in list(ready):
                try:
                    standins[case_id].wait_ready()
                except StandinError as exc:
                    out[case_id] = {"no_gateway": str(exc).splitlines()[0] + " " + _last_error(str(exc))}
                    del ready[case_id], standins[case_id]
            if not ready:
                return out
            if role:
                hosts = {case_id: dict(args, ansible_connection="local", ansible_python_interpreter=sys.executable)
                         for case_id, (_item, args) in ready.items()}
                alone = {k: hosts.pop(k) for k in list(hosts) if k == "role-primary-not-in-inventory"}
                # a healthy node keeps the first play going, so that the second one runs (as in the catalogue)
                hosts["canary"] = {"gateway_sync_apim_home": catalogue.role_node(os.path.join(folder, "canary"))["home"],
                                   "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                inventory = {"all": {"children": {"cases": {"hosts": hosts}, "alone": {"hosts": alone}}}}
                plays = [{"name": "cases", "hosts": "cases", "gather_facts": False, "roles": [{"role": "apim.certificates.gateway_sync"}]},
                         {"name": "alone", "hosts": "alone", "gather_facts": False, "roles": [{"role": "apim.certificates.gateway_sync"}]}]
                records, _output, _rc = run_plays(folder, plays, inventory=inventory, forks=4, **options)
                failed = {}
                for record in records:
                    if record.get("_status") == "failed":
                        failed.setdefault(record.get("_host"), record)
                results = {case_id: failed.get(case_id) for case_id in ready}
            else:
                tasks = [task(case_id, item.target, args) for case_id, (item, args) in ready.items()]
                records, _output, _rc = run_plays(folder, [play(tasks)], **options)
                by_name = {r["_task"]: r for r in records}
                results = {case_id: by_name.get(case_id) for case_id in ready}
            out.update(_judge({case_id: (item, results[case_id], standins[case_id], os.path.join(folder, case_id))
                               for case_id, (item, _args) in ready.items()}))
        finally:
            for standin in standins.values():
                standin.stop()
            for cleanup in reversed(ctx.cleanups):
                cleanup()
    return out


def _last_error(text: str) -> str:
    errors = [line for line in text.splitlines() if "ERROR" in line or "Exception" in line]
    return errors[-1][-200:] if errors else ""


def _judge(runs: dict) -> dict:
    """runs: case id -> (case, its task result, its stand-in, its folder). Every stand-in at once, in three steps."""
    out = {case_id: {"problems": []} for case_id in runs}
    for case_id, (item, record, _standin, folder) in runs.items():
        try:
            assert_clean_failure(record, item.expect.replace("{d}", re.escape(folder)), item.id)
        except AssertionError as exc:
            out[case_id]["problems"].append(str(exc).splitlines()[0])
    touched = {}
    for case_id, (_item, _record, standin, _folder) in runs.items():
        standin.wait_for_checks(1)  # a touch at the end of the run is seen before the log is read
        if IGNORED in standin.log() or standin.state()["failedReloads"]:
            out[case_id]["problems"].append(f"{case_id}: the running gateway rejected a reload during the run:\n{standin.log()}")
            continue
        before = standin.reload_attempts()
        try:
            touch(standin.state()["sslprofiles"])
        except OSError as exc:  # an immutable sslprofiles.xml (chattr +i) cannot be touched by anyone
            out[case_id]["touch"] = f"not touched: {exc.strerror}"
            continue
        touched[case_id] = before
    for case_id, before in touched.items():
        standin = runs[case_id][2]
        reload = standin.wait_for_reload(before)
        if not reload["ok"] or IGNORED in standin.log():
            out[case_id]["problems"].append(f"{case_id}: after the refusal, the next reload fails:\n{standin.log()}")
        out[case_id]["touch"] = "reloaded"
    return out


@pytest.mark.parametrize("group", GROUPS)
def test_no_refusal_leaves_a_running_gateway_ignoring_its_reload(tmp_path, group):
    classes = classes_or_skip()
    members = [c for c in catalogue.CASES if c.group == group and not c.bug]
    result = _run(str(tmp_path), members, classes)
    driven = {k: v for k, v in result.items() if "problems" in v}
    problems = [p for v in driven.values() for p in v["problems"]]
    assert problems == [], "\n".join(problems)
    # A drive of nothing proves nothing: every case known to have a gateway the stand-in starts on must have run,
    # unless the catalogue itself skipped it on this machine (no tmpfs mount, no chattr, ...).
    skipped = {k for k, v in result.items() if "skip" in v}
    missing = sorted((EXPECTED_DRIVEN & {c.id for c in members}) - skipped - set(driven))
    not_driven = {k: result.get(k) for k in missing}
    assert not missing, f"not driven: {not_driven}"
    print(f"{group}: driven {sorted(driven)}; not driven {sorted(set(result) - set(driven))}")
    # A broken gateway home is refused by the gateway too: the stand-in must not start on it, as WSO2's would not.
    started = sorted(k for k in EXPECTED_NOT_STARTED & {c.id for c in members} if "no_gateway" not in result.get(k, {}))
    assert not started, f"the stand-in started on a home the gateway cannot start on: {started}"
    if not driven and not EXPECTED_NOT_STARTED & {c.id for c in members}:
        reasons = {k: v.get("skip") or v.get("no_gateway") for k, v in result.items()}
        pytest.skip(f"no gateway case of group {group} could be driven: {reasons or 'none has a gateway home'}")


# sslprofiles.xml with an encoding Java does not know: the gateway cannot load its SSL profiles, so it never starts
EXPECTED_NOT_STARTED = {"gateway-sslprofiles-unknown-encoding", "info-sslprofiles-unknown-encoding", "ssl-sslprofiles-unknown-encoding"}

EXPECTED_DRIVEN = {
    "gateway-live-profile-missing-from-deployment-toml", "gateway-no-profile-for-the-endpoint",
    "disk-full-deployment-toml", "disk-full-persistent-store-live-store-restored", "ssl-sslprofiles-xml-immutable",
    "role-certificate-item-unknown-key", "role-duplicate-aliases", "role-endpoint-unreachable", "role-garbage-certificate",
    "role-interval-below-60000", "role-pin-does-not-match", "role-primary-not-in-inventory", "role-source-not-a-choice",
    "role-wrong-truststore-password",
    "ssl-control-character-in-a-password", "ssl-custom-profiles-as-an-inline-array", "ssl-env-reference-with-live",
    "ssl-keystore-wrong-password", "ssl-new-profile-without-truststore-location", "ssl-same-profile-twice-in-deployment-toml",
    "ssl-server-shared-with-an-existing-profile", "ssl-servers-bad-host-name", "ssl-servers-empty",
    "ssl-servers-list-an-entry-twice", "ssl-servers-port-out-of-range", "ssl-sslprofiles-wrong-root",
    "ssl-store-location-is-a-directory", "ssl-store-type-java-cannot-open", "ssl-truststore-file-name-empty",
    "ssl-unknown-option",
    "info-gateway-custom-profile-without-servers", "info-gateway-sslprofiles-wrong-root",
    "gateway-security-directory-read-only", "ssl-conf-directory-read-only", "ssl-deployment-toml-unreadable",
    "keystore-gateway-key-for-another-certificate", "keystore-gateway-incomplete-chain",
    "keystore-gateway-wrong-keystore-password", "keystore-gateway-its-key-entry-with-another-key-password",
}
