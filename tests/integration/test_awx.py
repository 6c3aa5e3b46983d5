"""The docs/awx.md recipe, run the way AWX runs it: ansible-runner jobs of the recipe's job templates.

Each job gets a private data directory as AWX lays it out (tests/support/awx.py): the recipe's project with the
collection installed from its collections/requirements.yml (the tarball built from this checkout), an inventory of
simulated gateway nodes (local connection), extra vars from the job template, its survey (answers as text), launch-time
variables and the truststore credential (injected as AWX injects it), and --check / -v / --forks / --limit in
env/cmdline. Asserted: job status, the effect on the nodes, the set_stats artifact gateway_sync as a workflow reads it
(playbook_on_stats event_data.artifact_data), and that no password is in any file under artifacts/.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import subprocess
import sys
import threading
from xml.sax.saxutils import escape

import pytest
import yaml

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.reliability import _inputs as inp
from ansible_collections.apim.certificates.tests.support.ansible import BIN, ROOT, _env, sha256_file
from ansible_collections.apim.certificates.tests.support.awx import artifact_files, credential_type, install_project_collections, job_template, run_job
from ansible_collections.apim.certificates.tests.support.gateway import profile_xml
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

TRUST_PW = "Zx9-AwxTrust-4b1e"  # every node's truststores: deployment.toml, sslprofiles.xml, and the AWX credential
KEY_PW = "Zx9-AwxKey-8d2c"  # every node's keystore: deployment.toml and sslprofiles.xml
PROFILE_TRUST_PW = "Zx9-AwxProfileTrust-<&>-c3"  # a custom SSL profile given as a launch-time extra var (YAML text)
PROFILE_KEY_PW = "Zx9-AwxProfileKey-77a0"
SECRETS = (TRUST_PW, KEY_PW, PROFILE_TRUST_PW, PROFILE_KEY_PW)
VARIANTS = tuple(sorted({v for s in SECRETS for v in (s, escape(s), escape(s, {'"': "&quot;"}), json.dumps(s)[1:-1])}))

BACKEND, BACKEND_KEY = make_cert("localhost", sans=["localhost", "127.0.0.1"])
STALE, _stale_key = make_cert("localhost", sans=["localhost"])
PAYMENTS, _payments_key = make_cert("payments-ca.internal", days=10)  # expires within the survey's 30 days
LEGACY, _legacy_key = make_cert("legacy.internal")
RETIRED, _retired_key = make_cert("retired.internal")
UPLOADED, _uploaded_key = make_cert("publisher-upload.internal")

AUDIT = job_template("gateway-sync audit")
CONVERGE = job_template("gateway-sync converge")
REPORT = job_template("gateway-sync report")
CREDENTIAL = (credential_type(), {"truststore_password": TRUST_PW})


def leaks(text: str) -> list:
    return [secret for secret in VARIANTS if secret in text]


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    """The project sync: the collection tarball built from this checkout, installed from collections/requirements.yml."""
    work = tmp_path_factory.mktemp("awx-project")
    env = _env(work)
    build = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(work)],
                           capture_output=True, text=True, check=False, timeout=300, env=env)
    assert build.returncode == 0, build.stdout + build.stderr
    return install_project_collections(str(work / "apim-certificates-0.1.0.tar.gz"), str(work / "sync"))


def make_node(home: str) -> dict:
    """A gateway home whose truststore password is TRUST_PW and keystore password KEY_PW (toml and xml)."""
    head, tail = inp.GATEWAY_TOML.split("[truststore]")
    toml = head.replace('"wso2carbon"', f'"{KEY_PW}"').replace(f'alias =  "{KEY_PW}"', 'alias =  "wso2carbon"')
    toml += "[truststore]" + tail.replace('"wso2carbon"', f'"{TRUST_PW}"')
    live = os.path.abspath(os.path.join(home, inp.SECURITY, "client-truststore-temp.jks"))
    xml = profile_xml([("*", "repository/resources/security/wso2carbon.jks", live, TRUST_PW)])
    xml = xml.replace("<Password>wso2carbon</Password>", f"<Password>{KEY_PW}</Password>")
    xml = xml.replace("<KeyPassword>wso2carbon</KeyPassword>", f"<KeyPassword>{KEY_PW}</KeyPassword>")
    node = inp.gateway_home(home, toml_text=toml, xml_text=xml, password=TRUST_PW)
    inp.jks_keystore(os.path.join(node["security"], "wso2carbon.jks"), "wso2carbon", KEY_PW)
    return node


def nodes_at(tmp_path, names=("gw1", "gw2", "gw3")) -> dict:
    return {name: make_node(str(tmp_path / "nodes" / name)) for name in names}


def hosts_of(nodes: dict, names=None) -> dict:
    return {name: {"gateway_sync_apim_home": node["home"], "ansible_connection": "local",
                   "ansible_python_interpreter": sys.executable}
            for name, node in nodes.items() if names is None or name in names}


def group_vars(port: int) -> dict:
    """The inventory's gateways group vars, as docs/awx/inventory.yml declares them (no password: the credential)."""
    return {"gateway_sync_certificates": [
        {"alias": "orders", "endpoint": f"https://localhost:{port}/", "fingerprint": sha256(BACKEND)},
        {"alias": "payments", "certificate": pem(PAYMENTS)},
    ]}


def fingerprints(path: str) -> dict:
    return ts.load_truststore(path, TRUST_PW).fingerprints()


def checksums(nodes: dict) -> dict:
    return {(n, k): sha256_file(p) for n, node in nodes.items() for k, p in node.items()
            if k in ("deployment_toml", "persistent", "live", "sslprofiles")}


def assert_no_secret_in_artifacts(job) -> None:
    files = artifact_files(job)
    assert any("job_events" in name for name in files) and any(name.endswith("/stdout") for name in files), list(files)
    found = {name: leaks(text) for name, text in files.items() if leaks(text)}
    assert found == {}, f"passwords in the job's artifacts: {found}"


@contextlib.contextmanager
def webhook():
    """A chat/ticket webhook on 127.0.0.1 recording what it is posted."""
    posted = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/gateway-trust", posted
    finally:
        server.shutdown()
        server.server_close()


def test_workflow_audit_report_converge_audit(tmp_path, collections):
    """The recipe's workflow: the scheduled audit fails on drift, the report posts its artifact, converge, audit again."""
    nodes = nodes_at(tmp_path)
    for store in ("live", "persistent"):
        ts.converge_truststore(nodes["gw2"][store], TRUST_PW, [ts.DesiredCertificate("orders", "present", STALE)])
        ts.converge_truststore(nodes["gw1"][store], TRUST_PW, [ts.DesiredCertificate("retired-a", "present", RETIRED)])
    ts.converge_truststore(nodes["gw3"]["live"], TRUST_PW, [ts.DesiredCertificate("legacy", "present", LEGACY)])
    profile_trust = inp.seed_store(str(tmp_path / "profile-trust.jks"), PROFILE_TRUST_PW)
    profile_key = inp.pkcs12_keystore(str(tmp_path / "profile-key.p12"), "client", PROFILE_KEY_PW)
    work = str(tmp_path / "jobs")
    jobs = []
    with https_server(BACKEND, BACKEND_KEY) as port:
        inventory = {"collections": collections, "hosts": hosts_of(nodes), "group_vars": group_vars(port)}

        # 1. the scheduled audit: a check job at the template's verbosity (0), failing on drift
        before = checksums(nodes)
        audit = run_job(work, "1-audit", AUDIT, credentials=[CREDENTIAL], **inventory)
        jobs.append(audit)
        assert audit["status"] == "failed", audit["stdout"][-3000:]
        assert "drift from the source of truth" in audit["stdout"]
        assert checksums(nodes) == before, "a check job wrote to a node"
        found = audit.artifact
        assert found["check_mode"] is True and found["drifted"] is True and found["nodes"] == 3
        assert found["node_names"] == found["nodes_changed"] == ["gw1", "gw2", "gw3"]
        assert found["drift"]["orders"]["in_sync"] is False
        assert found["drift"]["orders"]["fingerprints"] == {
            "absent": ["gw1 (live)", "gw1 (persistent)", "gw3 (live)", "gw3 (persistent)"],
            sha256(STALE): ["gw2 (live)", "gw2 (persistent)"]}
        assert found["not_in_source"] == {"gw1": ["retired-a"], "gw3": ["legacy"]}
        assert found["certificates"] == {"added": 5, "replaced": 1, "removed": 0}
        # check mode reports what the nodes would hold: the declared 'payments' (10 days left) on every node
        assert found["expiring_within_days"] == 45
        assert sorted(found["expiring"]) == ["gw1", "gw2", "gw3"] and all("payments" in e[0] for e in found["expiring"].values())
        # ... and judges trust on the stores as the run would leave them: every node would trust the backend
        assert not found["untrusted"], found["untrusted"]

        # 2. the workflow's next node gets the artifact as extra vars (as AWX passes artifacts) and posts a report
        with webhook() as (url, posted):
            report = run_job(work, "2-report", REPORT, collections=collections, hosts={},
                             extra_vars={"gateway_sync": found, "gateway_sync_notify_url": url})
        jobs.append(report)
        assert report["status"] == "successful", report["stdout"][-3000:]
        assert len(posted) == 1 and posted[0]["drifted"] is True and posted[0]["aliases_out_of_sync"] == ["orders", "payments"]
        assert posted[0]["nodes_that_would_change"] == ["gw1", "gw2", "gw3"] and posted[0]["not_in_source"]["gw3"] == ["legacy"]

        # 3. converge, survey answers as AWX sends them (text), a custom SSL profile as a launch-time YAML answer, -vvv
        survey = {"gateway_sync_prune": "true", "gateway_sync_remove_aliases": "retired-a\nretired-b\n",
                  "gateway_sync_expiry_warn_days": "30", "gateway_sync_backup": "true"}
        profile = yaml.safe_dump({"custom_profiles": [{
            "servers": "payments.internal:443",
            "keystore": {"location": profile_key, "type": "PKCS12", "password": PROFILE_KEY_PW},
            "truststore": {"location": profile_trust, "password": PROFILE_TRUST_PW}}]})
        converge = run_job(work, "3-converge", CONVERGE, survey=survey, launch_vars={"gateway_sync_ssl_profile": profile},
                           credentials=[CREDENTIAL], verbosity=3, **inventory)
        jobs.append(converge)
        assert converge["status"] == "successful", converge["stdout"][-5000:]
        assert "ESTABLISH LOCAL CONNECTION" in converge["stdout"], "the job did not run at -vvv"
        for name, node in nodes.items():
            for store in ("live", "persistent"):
                fps = fingerprints(node[store])
                assert fps["orders"] == sha256(BACKEND) and fps["payments"] == sha256(PAYMENTS), (name, store)
                assert "legacy" not in fps and "retired-a" not in fps, (name, store, sorted(fps))
            assert "payments.internal:443" in open(node["sslprofiles"], encoding="utf-8").read()
            assert [f for f in os.listdir(node["security"]) if f.endswith("~")], f"{name}: gateway_sync_backup 'true' made no backup"
        found = converge.artifact
        assert found["check_mode"] is False and found["drifted"] is True and found["nodes_changed"] == ["gw1", "gw2", "gw3"]
        assert found["certificates"] == {"added": 5, "replaced": 1, "removed": 2}
        assert found["trust_checks"] == {n: {f"https://localhost:{port}/": "trusted"} for n in nodes} and found["untrusted"] == {}
        assert sorted(found["expiring"]) == ["gw1", "gw2", "gw3"] and all("payments" in e[0] for e in found["expiring"].values())
        assert found["expiring_within_days"] == 30
        assert sorted(found["reload_due"]) == ["gw1", "gw2", "gw3"]
        assert found["ssl_profiles"]["gw1"]["payments.internal:443"] == "added"
        assert "BEGIN CERTIFICATE" not in json.dumps(found)

        # 4. the next scheduled audit (-vvv this time): no drift, the job succeeds
        again = run_job(work, "4-audit", AUDIT, credentials=[CREDENTIAL], verbosity=3, **inventory)
        jobs.append(again)
        assert again["status"] == "successful", again["stdout"][-3000:]
        assert again.artifact["drifted"] is False and again.artifact["nodes_changed"] == []

    for job in jobs:
        assert_no_secret_in_artifacts(job)
    extravars = open(os.path.join(converge["dir"], "env", "extravars"), encoding="utf-8").read()
    assert TRUST_PW in extravars and "!unsafe" in extravars, "the credential did not inject the password"
    assert TRUST_PW not in json.dumps(CONVERGE), "the password sits in the job template"


def test_survey_answers_are_validated(tmp_path, collections):
    nodes = nodes_at(tmp_path, ("gw1",))
    before = checksums(nodes)
    work = str(tmp_path / "jobs")
    inventory = {"collections": collections, "hosts": hosts_of(nodes), "group_vars": group_vars(9)}
    wrong = run_job(work, "1-bool", CONVERGE, survey={"gateway_sync_prune": "maybe"}, credentials=[CREDENTIAL], **inventory)
    assert wrong["status"] == "failed"
    assert "gateway_sync_prune" in wrong["stdout"] and "'maybe' is not a valid boolean" in wrong["stdout"]
    text = run_job(work, "2-yaml", CONVERGE, launch_vars={"gateway_sync_certificates": "- alias: [orders\n"},
                   credentials=[CREDENTIAL], **inventory)
    assert text["status"] == "failed"
    assert "gateway_sync_certificates: the text is not valid YAML or JSON" in text["stdout"], text["stdout"][-3000:]
    assert checksums(nodes) == before
    for job in (wrong, text):
        assert_no_secret_in_artifacts(job)


def test_slices_and_limits(tmp_path, collections):
    """Declared mode per AWX job slice (each slice's inventory holds only its hosts); primary mode under --limit."""
    nodes = nodes_at(tmp_path)
    work = str(tmp_path / "jobs")
    with https_server(BACKEND, BACKEND_KEY) as port:
        slices = [["gw1", "gw3"], ["gw2"]]  # AWX slices the sorted hosts round-robin
        for number, names in enumerate(slices, 1):
            job = run_job(work, f"slice-{number}", CONVERGE, collections=collections, hosts=hosts_of(nodes, names),
                          group_vars=group_vars(port), credentials=[CREDENTIAL])
            assert job["status"] == "successful", job["stdout"][-3000:]
            assert job.artifact["node_names"] == names and job.artifact["nodes_changed"] == names
            assert_no_secret_in_artifacts(job)
        for node in nodes.values():
            assert "orders" in fingerprints(node["live"]) and "orders" in fingerprints(node["persistent"])

        ts.converge_truststore(nodes["gw1"]["live"], TRUST_PW, [ts.DesiredCertificate("uploaded_api", "present", UPLOADED)])
        primary = {"gateway_sync_source": "primary", "gateway_sync_primary": "gw1"}
        inventory = {"collections": collections, "hosts": hosts_of(nodes), "group_vars": group_vars(port)}
        before = checksums(nodes)
        outside = run_job(work, "primary-outside", CONVERGE, launch_vars=primary, limit="gw2:gw3",
                          credentials=[CREDENTIAL], **inventory)
        assert outside["status"] == "failed"
        assert "'gw1' is not among the hosts this run targets" in outside["stdout"], outside["stdout"][-3000:]
        assert checksums(nodes) == before, "nothing may change when the primary is outside the limit"
        inside = run_job(work, "primary-inside", CONVERGE, launch_vars=primary, limit="gw1:gw2",
                         credentials=[CREDENTIAL], **inventory)
        assert inside["status"] == "successful", inside["stdout"][-3000:]
        assert "uploaded_api" in fingerprints(nodes["gw2"]["persistent"]) and "uploaded_api" in fingerprints(nodes["gw2"]["live"])
        assert {k: v for k, v in checksums(nodes).items() if k[0] == "gw3"} == {k: v for k, v in before.items() if k[0] == "gw3"}
        for job in (outside, inside):
            assert_no_secret_in_artifacts(job)
