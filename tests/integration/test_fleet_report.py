"""The gateway_sync role's report files, looked at as a person and a Prometheus server would: the HTML report opened
in a real headless browser (Debian's chromium, driven by Playwright), and the metrics file read by prometheus_client's
own text parser, both checked against the fleet the test built.

The fleet: three simulated nodes (local connection); gw2 holds another certificate under 'orders' (drift), 'billing'
expires within the warning horizon, and the declared endpoint serves a leaf (expiring too) that no node trusts.
"""

from __future__ import annotations

import datetime
import os
import shutil

import pytest
from cryptography.x509.oid import NameOID

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.test_gateway_sync_role import _checksums, _nodes, _play
from ansible_collections.apim.certificates.tests.support.ansible import ROOT
from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import make_cert, not_valid_after, pem, sha256
from ansible_collections.apim.certificates.tests.support.servers import https_server

GOOD, _good_key = make_cert("orders.internal", sans=["orders.internal"])
STALE, _stale_key = make_cert("orders.internal", sans=["orders.internal"])
BILLING, _billing_key = make_cert("billing.internal", days=10)
WRONG, _wrong_key = make_cert("payments.internal", days=200)
SERVED, SERVED_KEY = make_cert("localhost", sans=["localhost"], days=20)
SECRET = "Report-Secret-7"
BUILD = os.path.join(ROOT, "build", "report")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _cn(cert) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def _epoch(cert) -> int:
    return int(not_valid_after(cert).timestamp())


@pytest.fixture(scope="module")
def fleet_report(tmp_path_factory):
    """Runs the role once over the fleet described above; returns (paths, endpoint, nodes, play output)."""
    tmp_path = tmp_path_factory.mktemp("fleet-report")
    # each node's wso2carbon.jks holds one key pair of its own (WSO2's stock keystore is only there with ../shared)
    nodes = {f"gw{i}": make_gateway_node(str(tmp_path / f"gw{i}"), own_keystore=True) for i in (1, 2, 3)}
    for name, node in nodes.items():
        for store in ("live", "persistent"):
            held = [ts.DesiredCertificate("orders", "present", STALE if name == "gw2" else GOOD),
                    ts.DesiredCertificate("billing", "present", BILLING), ts.DesiredCertificate("payments", "present", WRONG)]
            ts.converge_truststore(node[store], "wso2carbon", held)
    out = tmp_path / "out"
    out.mkdir()
    paths = {"html": str(out / "gateway-trust.html"), "metrics": str(out / "gateway_sync.prom")}
    with https_server(SERVED, SERVED_KEY) as port:
        endpoint = f"https://localhost:{port}/"
        role_vars = {
            "gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}, {"alias": "billing", "certificate": pem(BILLING)},
                                          {"alias": "payments", "certificate": pem(WRONG), "endpoint": endpoint}],
            "gateway_sync_truststore_password": "",
            "gateway_sync_report_html": paths["html"],
            "gateway_sync_metrics_path": paths["metrics"],
            "secret_looking_var": SECRET,
        }
        run = _play(tmp_path, nodes, role_vars)
    assert run.returncode == 0, run.stdout + run.stderr
    return paths, endpoint, nodes, run.stdout


def test_the_files_are_written_whole_and_hold_no_secret_and_no_pem(fleet_report):
    paths, _endpoint, _nodes_, _out = fleet_report
    folder = os.path.dirname(paths["html"])
    assert sorted(os.listdir(folder)) == ["gateway-trust.html", "gateway_sync.prom"], "no temporary file is left behind"
    for path in paths.values():
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert "BEGIN CERTIFICATE" not in text and SECRET not in text
    with open(paths["html"], encoding="utf-8") as handle:
        html = handle.read()
    assert "http://" not in html and "https://" not in html.replace(_endpoint, ""), "no address but the declared endpoint's"


def test_metrics_parse_and_match_the_fleet(fleet_report):
    from prometheus_client.parser import text_string_to_metric_families  # pylint: disable=import-outside-toplevel

    paths, endpoint, nodes, _out = fleet_report
    with open(paths["metrics"], encoding="utf-8") as handle:
        text = handle.read()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name in ("x509_cert_not_after", "x509_cert_expired", "apim_gateway_alias_in_sync", "apim_gateway_endpoint_trusted",
                 "apim_gateway_served_leaf_not_after_seconds", "apim_gateway_sync_last_run_timestamp_seconds"):
        assert families[name].type == "gauge" and families[name].documentation, name

    def values(name):
        return {tuple(sorted(s.labels.items())): s.value for s in families[name].samples}

    not_after = values("x509_cert_not_after")
    expected = {}
    for node_name, node in nodes.items():
        for role in ("live", "persistent"):
            for alias, cert in (("orders", GOOD), ("billing", BILLING), ("payments", WRONG)):
                labels = {"node": node_name, "filepath": node[role], "alias": alias, "role": role,
                          "subject_CN": _cn(cert), "issuer_CN": _cn(cert), "serial_number": str(cert.serial_number)}
                expected[tuple(sorted(labels.items()))] = _epoch(cert)
    # every trusted certificate value by value, with x509-certificate-exporter's labels (self-signed: issuer = subject)
    keystore = {key: value for key, value in not_after.items() if ("role", "keystore") in key}
    assert {key: value for key, value in not_after.items() if key not in keystore} == expected
    # the gateway's own key pair (wso2carbon.jks, which the simulated nodes' SSL profile presents), one per node
    assert sorted(dict(key)["node"] for key in keystore) == ["gw1", "gw2", "gw3"]
    assert all(dict(key)["alias"] == "wso2carbon" and dict(key)["filepath"].endswith("wso2carbon.jks") for key in keystore)
    assert set(values("x509_cert_expired").values()) == {0.0} and len(values("x509_cert_expired")) == len(not_after)
    assert values("apim_gateway_alias_in_sync") == {(("alias", "orders"),): 0.0, (("alias", "billing"),): 1.0, (("alias", "payments"),): 1.0}
    assert values("apim_gateway_endpoint_trusted") == {(("endpoint", endpoint), ("node", n)): 0.0 for n in nodes}
    leaf = values("apim_gateway_served_leaf_not_after_seconds")
    assert leaf == {(("endpoint", endpoint), ("issuer_CN", "localhost"), ("node", n), ("subject_CN", "localhost")): _epoch(SERVED)
                    for n in nodes}
    changed = values("apim_gateway_node_changed")
    assert changed == {(("node", "gw1"),): 0.0, (("node", "gw2"),): 1.0, (("node", "gw3"),): 0.0}
    present = values("apim_gateway_alias_present")
    assert len(present) == 3 * 3 * 2 and set(present.values()) == {1.0}
    assert values("apim_gateway_sync_check_mode") == {(): 0.0} and values("apim_gateway_sync_nodes") == {(): 3.0}
    assert values("apim_gateway_sync_expiry_warning_seconds") == {(): 30 * 86400.0}
    last = values("apim_gateway_sync_last_run_timestamp_seconds")[()]
    assert abs(last - datetime.datetime.now(datetime.timezone.utc).timestamp()) < 900


def _browser_or_skip():
    """(sync_playwright, chromium path), or a skip with the reason (a failure under CI=true, where .ci/run installs it)."""
    reason = None
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    try:
        from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel
    except ImportError:
        sync_playwright, reason = None, "playwright is not installed (requirements-test.txt)"
    if chromium is None:
        reason = "no chromium browser (apt-get install chromium)"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the browser test of the HTML report, but: {reason} (.ci/run installs chromium)")
        print(f"\nbrowser test of the HTML report skipped: {reason}")
        pytest.skip(reason)
    return sync_playwright, chromium


def _text(locator) -> str:
    return " ".join(locator.inner_text().split())


def test_the_html_report_in_a_real_browser(fleet_report, tmp_path):
    sync_playwright, chromium = _browser_or_skip()
    paths, endpoint, _nodes_, _out = fleet_report
    url = "file://" + paths["html"]
    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
                                              if route.request.url.startswith(("file:", "data:")) else route.abort()))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url, wait_until="load")

            # how and when: a real run, the collection's version
            assert _text(page.locator("#run-mode")) == "real run"
            assert _text(page.locator("#collection-version")).startswith("apim.certificates ")
            assert _text(page.locator("#node-count")) == "3"
            assert _text(page.locator("#status-drift")) == "drift found"

            # the matrix: gw2 drifted on 'orders' (both stores held another certificate), the others did not
            header = page.locator('#matrix th[data-alias="orders"]')
            assert header.get_attribute("data-drift") == "true" and "drift" in _text(header)
            for node in ("gw1", "gw2", "gw3"):
                for alias in ("orders", "billing", "payments"):
                    for role in ("live", "persistent"):
                        cell = page.locator(f'#matrix td[data-node="{node}"][data-alias="{alias}"] [data-role="{role}"]')
                        drifted = node == "gw2" and alias == "orders"
                        assert cell.get_attribute("data-state") == "present"
                        assert cell.get_attribute("data-drift") == ("true" if drifted else "false")
                        label = _text(cell)
                        assert label == (f"{role}: present (drift: was different)" if drifted else f"{role}: present"), label
                        assert cell.is_visible()
            assert page.locator('#matrix th[data-alias="billing"]').get_attribute("data-drift") == "false"

            # the timeline: billing and the served leaf before the horizon, orders and payments after it
            horizon = page.locator("#horizon-line").bounding_box()
            frame = page.locator("#timeline").bounding_box()
            rows = page.locator("#timeline .event")
            seen = {}
            for i in range(rows.count()):
                row = rows.nth(i)
                box = row.locator(".dot").bounding_box()
                label = row.locator(".marker").bounding_box()
                assert frame["x"] <= label["x"] and label["x"] + label["width"] <= frame["x"] + frame["width"], "every date label shows whole"
                seen[(row.get_attribute("data-kind"), row.get_attribute("data-name"), row.get_attribute("data-node"))] = (
                    row.get_attribute("data-status"), box["x"] + box["width"] / 2, row.get_attribute("data-not-after"))
            for node in ("gw1", "gw2", "gw3"):
                for kind, name, cert, status in (("trusted certificate", "billing", BILLING, "expiring"),
                                                 ("trusted certificate", "orders", GOOD, "ok"),
                                                 ("trusted certificate", "payments", WRONG, "ok"),
                                                 ("served leaf", endpoint, SERVED, "expiring")):
                    got_status, x, not_after = seen[(kind, name, node)]
                    assert got_status == status, (kind, name, node, got_status)
                    assert not_after.startswith(not_valid_after(cert).strftime("%Y-%m-%dT%H:%M:%S")), not_after
                    assert (x < horizon["x"]) == (status == "expiring"), (kind, name, node, x, horizon)
            # and the gateway's own key pair on each node
            assert sorted(key for key in seen if key[0] == "key pair") == [("key pair", "wso2carbon", n) for n in ("gw1", "gw2", "gw3")]
            assert len(seen) == 15
            expiry_badge = _text(page.locator("#status-expiry"))
            assert expiry_badge == "6 expiring or expired", expiry_badge

            # the trust checks: no node trusts the endpoint, and the page says why
            for node in ("gw1", "gw2", "gw3"):
                cell = page.locator(f'#trust td[data-node="{node}"][data-endpoint="{endpoint}"]')
                assert cell.get_attribute("data-trusted") == "false"
                assert _text(cell).startswith("NOT trusted: ")
            assert _text(page.locator("#status-trust")) == "3 untrusted endpoint checks"

            os.makedirs(BUILD, exist_ok=True)
            page.screenshot(path=os.path.join(BUILD, "gateway-sync-report.png"), full_page=True)
        finally:
            browser.close()
    assert requests and all(u.startswith(("file:", "data:")) for u in requests), requests


def test_a_report_folder_that_does_not_exist_fails_before_any_node_is_converged(tmp_path):
    nodes = _nodes(tmp_path, 2)
    before = _checksums(nodes)
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}],
                 "gateway_sync_report_html": str(tmp_path / "no-such-folder" / "report.html")}
    run = _play(tmp_path, nodes, role_vars)
    assert run.returncode != 0
    assert "does not exist on the controller" in run.stdout, run.stdout
    assert _checksums(nodes) == before, "nothing was converged"
    assert sha256(GOOD) not in run.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_a_report_folder_that_is_not_writable_fails_before_any_node_is_converged(tmp_path):
    nodes = _nodes(tmp_path, 1)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    before = _checksums(nodes)
    run = _play(tmp_path, nodes, {"gateway_sync_metrics_path": str(locked / "m.prom")})
    assert run.returncode != 0 and "is not writable on the controller" in run.stdout, run.stdout
    assert _checksums(nodes) == before


def test_under_serial_in_check_mode_the_files_cover_the_play_so_far(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families  # pylint: disable=import-outside-toplevel

    nodes = _nodes(tmp_path, 2)
    before = _checksums(nodes)
    metrics, html = tmp_path / "fleet.prom", tmp_path / "fleet.html"
    role_vars = {"gateway_sync_certificates": [{"alias": "orders", "certificate": pem(GOOD)}],
                 "gateway_sync_metrics_path": str(metrics), "gateway_sync_report_html": str(html)}
    run = _play(tmp_path, nodes, role_vars, "--check", play_extra={"serial": 1})
    assert run.returncode == 0, run.stdout + run.stderr
    assert _checksums(nodes) == before, "check mode writes nothing on the nodes"
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(metrics.read_text()) for s in family.samples}
    assert samples[("apim_gateway_sync_nodes", ())] == 2 and samples[("apim_gateway_sync_check_mode", ())] == 1
    assert samples[("apim_gateway_node_changed", (("node", "gw1"),))] == 1 and samples[("apim_gateway_node_changed", (("node", "gw2"),))] == 1
    page = html.read_text()
    assert 'id="run-mode">check mode' in page and 'data-node="gw1"' in page and 'data-node="gw2"' in page
