"""The gateway_sync role over several simulated nodes, and the demo that shows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.ansible import ROOT, _env, run_role, sha256_file
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256
from ansible_collections.apim.certificates.tests.support import standin

GOOD, _good_key = make_cert("orders.internal", sans=["orders.internal"])
STALE, _stale_key = make_cert("orders.internal", sans=["orders.internal"])
EXTRA, _extra_key = make_cert("legacy.internal")
UPLOADED, _uploaded_key = make_cert("publisher-upload.internal")


def _nodes(tmp_path, count=3):
    return {f"gw{i}": make_gateway_node(str(tmp_path / f"gw{i}")) for i in range(1, count + 1)}


def _play(tmp_path, nodes, role_vars, *extra, play_extra=None, host_vars=None):
    hosts = {name: {"gateway_sync_apim_home": node["home"], **(host_vars or {}).get(name, {})} for name, node in nodes.items()}
    return run_role(tmp_path, hosts, role_vars, *extra, play_extra=play_extra)


def _recap(output):
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE)}


def _fps(path):
    return ts.load_truststore(path, "wso2carbon").fingerprints()


def _checksums(nodes):
    return {(n, k): sha256_file(p) for n, node in nodes.items() for k, p in node.items() if k != "home"}


def test_converge_then_nothing_to_do(tmp_path):
    nodes = _nodes(tmp_path)
    for store in ("live", "persistent"):
        ts.converge_truststore(nodes["gw2"][store], "wso2carbon", [ts.DesiredCertificate("orders", "present", STALE)])
    ts.converge_truststore(nodes["gw3"]["live"], "wso2carbon", [ts.DesiredCertificate("legacy", "present", EXTRA)])
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}]}

    first = _play(tmp_path, nodes, role_vars)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "drifted: true" in first.stdout or '"drifted": true' in first.stdout
    assert "legacy" in first.stdout  # reported as not in the source
    for node in nodes.values():
        for store in ("live", "persistent"):
            assert _fps(node[store])["orders"] == sha256(GOOD)
    assert "legacy" in _fps(nodes["gw3"]["live"]), "not pruned without gateway_sync_prune"
    assert {n: r["changed"] for n, r in _recap(first.stdout).items()} == {"gw1": 1, "gw2": 1, "gw3": 1}

    before = _checksums(nodes)
    second = _play(tmp_path, nodes, role_vars)
    assert second.returncode == 0, second.stdout
    assert all(r["changed"] == 0 for r in _recap(second.stdout).values()), second.stdout
    assert _checksums(nodes) == before


def test_check_mode_is_an_audit(tmp_path):
    nodes = _nodes(tmp_path, 2)
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}], "gateway_sync_fail_on_drift": True}
    before = _checksums(nodes)
    audit = _play(tmp_path, nodes, role_vars, "--check")
    assert audit.returncode != 0
    assert "drift from the source of truth" in audit.stdout and "gw1" in audit.stdout
    assert _checksums(nodes) == before
    role_vars["gateway_sync_fail_on_drift"] = False
    assert _play(tmp_path, nodes, role_vars).returncode == 0
    clean = _play(tmp_path, nodes, dict(role_vars, gateway_sync_fail_on_drift=True), "--check")
    assert clean.returncode == 0, clean.stdout


def test_primary_source_with_prune_and_serial(tmp_path):
    nodes = _nodes(tmp_path)
    ts.converge_truststore(nodes["gw1"]["live"], "wso2carbon", [ts.DesiredCertificate("uploaded_api", "present", UPLOADED)])
    ts.converge_truststore(nodes["gw3"]["persistent"], "wso2carbon", [ts.DesiredCertificate("legacy", "present", EXTRA)])
    stock = set(_fps(nodes["gw2"]["persistent"]))
    role_vars = {"gateway_sync_source": "primary", "gateway_sync_primary": "gw1", "gateway_sync_prune": True}
    result = _play(tmp_path, nodes, role_vars, play_extra={"serial": 1})
    assert result.returncode == 0, result.stdout + result.stderr
    for node in nodes.values():
        for store in ("live", "persistent"):
            fps = _fps(node[store])
            assert fps["uploaded_api"] == sha256(UPLOADED)
            assert "legacy" not in fps
            assert stock <= set(fps), "a stock entry was pruned"


def test_demo_runs_and_then_reports_no_change(tmp_path):
    demo = [sys.executable, os.path.join(ROOT, "demo", "run_demo.py"), "--dir", str(tmp_path / "demo")]
    env = _env(tmp_path)
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    first = subprocess.run(demo, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "drifted: true" in first.stdout
    assert first.stdout.count("HTTP 200") == 3 or first.stdout.count("HTTP/1") == 3, first.stdout
    assert "Backends stopped" in first.stdout
    report = tmp_path / "demo" / "report" / "gateway-sync-report.html"
    assert f"Fleet trust report (open it in a browser): {report}" in first.stdout, first.stdout
    assert "<table" in report.read_text() and "gw3" in report.read_text(), "the demo's report shows no node matrix"
    assert "x509_cert_not_after" in (tmp_path / "demo" / "report" / "gateway-sync.prom").read_text()
    if standin.available():  # the running-gateway proof: before, the same process after its reload, after a restart
        assert first.stdout.count("-> PKIX path") == 3, first.stdout
        assert first.stdout.count("(same process) -> HTTP 200") == 3, first.stdout
        assert first.stdout.count("still trusted") == 3, first.stdout
        # act 6: the backend renewed under the CA the nodes trust (trust: issuer); no play ran
        assert first.stdout.count("(same process) -> renewed certificate trusted (status 200), no play run") == 3, first.stdout
    second = subprocess.run(demo, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    if standin.available():
        assert second.stdout.count("no reload needed") == 3 and second.stdout.count("still trusted") == 3, second.stdout
        assert second.stdout.count("renewed certificate trusted") == 3, second.stdout
    assert all(r["changed"] == 0 for r in _recap(second.stdout).values()), second.stdout


def _counting_interpreters(tmp_path, nodes):
    """Per node, an interpreter that logs one line per module process it runs (the module's AnsiballZ file name)."""
    host_vars, logs = {}, {}
    for name in nodes:
        wrapper = tmp_path / f"python-{name}"
        logs[name] = tmp_path / f"modules-{name}.log"
        wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{logs[name]}"\nexec "{sys.executable}" "$@"\n')
        wrapper.chmod(0o755)
        host_vars[name] = {"ansible_python_interpreter": str(wrapper)}
    return host_vars, logs


def _module_runs(logs):
    runs = {}
    for name, log in logs.items():
        lines = log.read_text().splitlines() if log.exists() else []
        runs[name] = sorted(re.search(r"AnsiballZ_(\w+)\.py", line).group(1) for line in lines)
        log.unlink(missing_ok=True)
    return runs


def test_one_module_run_per_node_whatever_the_run_and_stock_duplicates_are_not_drift(tmp_path):
    nodes = _nodes(tmp_path, 2)
    for name, node in nodes.items():  # WSO2 ships its own certificate twice: wso2carbon = gateway_certificate_alias
        ts.converge_truststore(node["persistent"], "wso2carbon", [ts.DesiredCertificate("wso2carbon", "present", EXTRA),
                                                                  ts.DesiredCertificate("gateway_certificate_alias", "present", EXTRA)])
    host_vars, logs = _counting_interpreters(tmp_path, nodes)
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}]}
    one = {name: ["gateway_trust"] for name in nodes}

    audit = _play(tmp_path, nodes, role_vars, "--check", host_vars=host_vars)
    assert audit.returncode == 0, audit.stdout
    assert _module_runs(logs) == one, "check mode"
    assert re.search(r'"?drifted"?: true', audit.stdout), audit.stdout
    assert "wso2carbon" not in audit.stdout and "gateway_certificate_alias" not in audit.stdout, audit.stdout

    converge = _play(tmp_path, nodes, role_vars, host_vars=host_vars)
    assert converge.returncode == 0, converge.stdout
    assert _module_runs(logs) == one, "converge"

    again = _play(tmp_path, nodes, role_vars, host_vars=host_vars)
    assert again.returncode == 0 and all(r["changed"] == 0 for r in _recap(again.stdout).values()), again.stdout
    assert _module_runs(logs) == one, "nothing to change"
    assert re.search(r'"?drifted"?: false', again.stdout) and re.search(r'"?duplicates"?: {}', again.stdout), again.stdout

    profiles = _play(tmp_path, nodes, dict(role_vars, gateway_sync_ssl_profile={"interval": 60000}), host_vars=host_vars)
    assert profiles.returncode == 0, profiles.stdout
    assert _module_runs(logs) == {name: ["gateway_trust", "ssl_profile"] for name in nodes}, "with SSL profiles"


NODE_TASK = "Converge the node (SSL profiles if asked for, trusted certificates in the live and persistent truststores, reload)"


def test_one_task_per_node_runs_ssl_profiles_first_shows_both_diffs_and_stops_when_they_fail(tmp_path):
    nodes = _nodes(tmp_path, 2)
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}],
                 "gateway_sync_ssl_profile": {"interval": 60000}}
    before = _checksums(nodes)

    audit = _play(tmp_path, nodes, role_vars, "--check", "--diff")
    assert audit.returncode == 0, audit.stdout
    assert _checksums(nodes) == before
    task = audit.stdout.split(f"TASK [apim.certificates.gateway_sync : {NODE_TASK}]", 1)[1].split("TASK [", 1)[0]
    for name, node in nodes.items():  # in the one task: the deployment.toml diff, then the truststores' diff
        toml = task.index(f"+++ after: {node['home']}/repository/conf/deployment.toml")
        assert task.index("+interval = 60000", toml) < task.index(f'+    "{node["live"]}": {{', toml), task

    # The SSL profiles come first: when they fail, the task fails, says which step, and no store is touched.
    wrong = dict(role_vars, gateway_sync_ssl_profile={"truststore": {"password": "Not-the-store-pw-1"}, "validate_stores": True})
    predicted = _play(tmp_path, nodes, wrong, "--check")
    assert predicted.returncode != 0 and "SSL profiles (gateway_sync_ssl_profile): " in predicted.stdout, predicted.stdout
    failed = _play(tmp_path, nodes, wrong)
    assert failed.returncode != 0
    assert {n: r["failed"] for n, r in _recap(failed.stdout).items()} == {"gw1": 1, "gw2": 1}, failed.stdout
    assert "SSL profiles (gateway_sync_ssl_profile): " in failed.stdout, failed.stdout
    assert "Not-the-store-pw-1" not in failed.stdout + failed.stderr
    assert _checksums(nodes) == before

    # A key of gateway_sync_ssl_profile that ssl_profile does not have is refused by name, not dropped.
    typo = _play(tmp_path, nodes, dict(role_vars, gateway_sync_ssl_profile={"intervall": 60000}))
    assert typo.returncode != 0 and "intervall" in typo.stdout, typo.stdout
    assert _checksums(nodes) == before

    # Survey text the role cannot read: a clear error naming the variable, nothing touched.
    bad = _play(tmp_path, nodes, dict(role_vars, gateway_sync_ssl_profile="interval: [60000"))
    assert bad.returncode != 0 and "gateway_sync_ssl_profile: the text is not valid YAML or JSON" in bad.stdout, bad.stdout
    assert _checksums(nodes) == before


def test_drop_expired_as_survey_text_is_predicted_by_check_then_removed_on_every_node(tmp_path):
    import datetime  # pylint: disable=import-outside-toplevel

    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)
    old = make_cert("old.internal", not_before=past - datetime.timedelta(days=90), not_after=past)[0]
    nodes = _nodes(tmp_path, 2)
    for store in ("live", "persistent"):
        ts.converge_truststore(nodes["gw2"][store], "wso2carbon", [ts.DesiredCertificate("old", "present", old)],
                               allow_expired=True)
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}], "gateway_sync_drop": "expired"}
    before = _checksums(nodes)
    audit = _play(tmp_path, nodes, role_vars, "--check")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "old (expired)" in audit.stdout, audit.stdout
    assert _checksums(nodes) == before, "check mode wrote something"
    run = _play(tmp_path, nodes, role_vars)
    assert run.returncode == 0 and "old (expired)" in run.stdout, run.stdout + run.stderr
    for store in ("live", "persistent"):
        assert "old" not in _fps(nodes["gw2"][store]) and _fps(nodes["gw2"][store])["orders"] == sha256(GOOD)


def test_the_listener_side_on_every_node_drift_checks_and_a_refused_client_certificate_fails_the_role(tmp_path):
    """gateway_sync_listener_certificates: the same client CA on every node's listener truststore (survey text);
    a client certificate it issued is accepted from every node; one from another CA fails the role with
    gateway_sync_fail_on_untrusted; the listener's drift is reported."""
    partner_ca, partner_key = make_cert("Partner CA", ca=True)
    client = make_cert("partner-app", issuer=partner_ca, issuer_key=partner_key)[0]
    stranger = make_cert("stranger-app")[0]
    nodes = _nodes(tmp_path, 2)
    ts.converge_truststore(nodes["gw2"]["persistent"], "wso2carbon", [ts.DesiredCertificate("PRODUCTION_old_-1234", "present", EXTRA)])
    listener_yaml = yaml.safe_dump([{"alias": "partner-ca", "certificate": pem(partner_ca)}])
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}],
                 "gateway_sync_listener_certificates": listener_yaml, "gateway_sync_listener_exclusive": True,
                 "gateway_sync_listener_checks": [{"name": "partner-app", "certificate": pem(client) + pem(partner_ca)}],
                 "gateway_sync_fail_on_untrusted": True}
    before = _checksums(nodes)
    audit = _play(tmp_path, nodes, role_vars, "--check")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert _checksums(nodes) == before, "check mode wrote something"
    assert "production_partner-ca_-1234" in audit.stdout and "production_old_-1234" in audit.stdout, audit.stdout

    run = _play(tmp_path, nodes, role_vars)
    assert run.returncode == 0, run.stdout + run.stderr
    for node in nodes.values():
        held = _fps(node["persistent"])
        assert held["production_partner-ca_-1234"] == sha256(partner_ca) and "production_old_-1234" not in held
        assert held["orders"] == sha256(GOOD)
        assert "production_partner-ca_-1234" not in _fps(node["live"]), "the sender's live store got a client certificate"
    assert '"partner-app": "accepted"' in run.stdout or "partner-app: accepted" in run.stdout, run.stdout

    again = _play(tmp_path, nodes, role_vars)
    assert again.returncode == 0 and all(r["changed"] == 0 for r in _recap(again.stdout).values()), again.stdout
    refused = _play(tmp_path, nodes, dict(role_vars, gateway_sync_listener_checks=[{"name": "stranger", "certificate": pem(stranger)}]))
    assert refused.returncode != 0 and "Client certificates the HTTPS listener refuses" in refused.stdout, refused.stdout


def test_key_pairs_reach_every_node_check_predicts_and_the_summary_names_them(tmp_path):
    """gateway_sync_key_pairs: the gateway's own client key pair into the default profile's keystore of every node,
    from controller content; --check writes nothing; a second run changes nothing; the key never reaches the output."""
    from ansible_collections.apim.certificates.tests.support.pki import key_pem  # pylint: disable=import-outside-toplevel

    ca, ca_key = make_cert("Client CA", ca=True)
    leaf, leaf_key = make_cert("gateway-client", issuer=ca, issuer_key=ca_key)
    nodes = {f"gw{i}": make_gateway_node(str(tmp_path / f"gw{i}"), own_keystore=True) for i in (1, 2)}
    key_text = key_pem(leaf_key)
    role_vars = {"gateway_sync_key_pairs": [{"alias": "orders-client", "private_key": key_text,
                                             "certificate": pem(leaf) + pem(ca)}]}
    before = _checksums(nodes)
    audit = _play(tmp_path, nodes, role_vars, "--check", "-v")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert _checksums(nodes) == before, "check mode wrote something"
    run = _play(tmp_path, nodes, role_vars, "-v")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "orders-client" in run.stdout and '"added"' in run.stdout, run.stdout
    for output in (audit.stdout + audit.stderr, run.stdout + run.stderr):
        assert "PRIVATE KEY" not in output and key_text.splitlines()[1] not in output, "the key reached the output"
    for node in nodes.values():
        held = ts.load_truststore(node["keystore"], "wso2carbon")
        assert held.entries["orders-client"].entry_type == "PrivateKeyEntry"
        assert held.entries["orders-client"].sha256 == sha256(leaf)
    again = _play(tmp_path, nodes, role_vars)
    assert again.returncode == 0 and all(r["changed"] == 0 for r in _recap(again.stdout).values()), again.stdout
