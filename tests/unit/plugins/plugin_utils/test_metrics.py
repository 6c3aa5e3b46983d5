"""The gateway_sync role's report files from gateway_trust results (plugins/plugin_utils/_report_data.py, _metrics.py,
_report_html.py): what each metric and cell says, label escaping, HTML escaping, the atomic write and the path checks."""

from __future__ import annotations

import datetime
import os

import pytest

from ansible_collections.apim.certificates.plugins.plugin_utils import _fleet, _metrics, _report_data, _report_html

A = "AA:" * 31 + "AA"
B = "BB:" * 31 + "BB"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
ENDPOINT = "https://orders.internal:8443/"
NASTY = 'evil"<script>alert(1)</script>\\'


def _store(role, entries):
    return {"path": f"/x/{role}.jks", "role": role, "entries": dict(entries), "duplicates": [], "count": 146}


def _node(before, after, *, changed=False, trusted=True, extra_results=()):
    return {
        "before": {"stores": [_store(role, e) for role, e in before.items()]},
        "after": {"stores": [_store(role, e) for role, e in after.items()]},
        "results": [{"alias": "orders", "action": "replaced" if changed else "unchanged", "fingerprint": A,
                     "subject": "CN=orders.internal,O=Example", "not_after": "2027-06-01T00:00:00Z"}, *extra_results],
        "requested": [{"alias": "orders", "state": "present", "endpoint": ENDPOINT}],
        "changed": changed, "check_mode": False, "unmanaged": [], "dropped": [],
        "expiring": [{"alias": "soon", "not_after": "2026-12-10T00:00:00Z", "days_remaining": 9, "stores": ["live"]}],
        "keystores": [{"path": "/x/wso2carbon.jks", "key_entries": [
            {"alias": "wso2carbon", "not_after": "2026-11-01T00:00:00Z", "days_remaining": -30,
             "chain": [{"subject": "CN=gw,O=Example", "issuer": "CN=Example CA", "fingerprint": B}]}]}],
        "trust_checks": [{"endpoint": ENDPOINT, "trusted": trusted, "reason": None if trusted else "PKIX path building failed",
                          "anchor": "orders" if trusted else None, "trusted_by": "leaf" if trusted else None,
                          "fingerprint": A, "served_chain": [A],
                          "served_leaf": {"subject": "CN=orders.internal,O=Example", "issuer": "CN=Example CA",
                                          "not_after": "2026-12-20T00:00:00Z", "days_remaining": 19}}],
    }


def _fleet_results():
    return {
        "gw1": _node({"live": {"orders": A, "soon": B}, "persistent": {"orders": A}}, {"live": {"orders": A, "soon": B}, "persistent": {"orders": A}}),
        "gw2": _node({"live": {"orders": B}, "persistent": {}}, {"live": {"orders": A}, "persistent": {"orders": A}}, changed=True, trusted=False),
    }


def _view(results, **kwargs):
    report = _fleet.report(results, None, 30)
    return _report_data.build(results, report, expiry_warn_days=30, check_mode=kwargs.pop("check_mode", False), now=NOW,
                              version="9.9.9", **kwargs)


def test_matrix_cells_and_drift():
    view = _view(_fleet_results())
    orders = next(c for c in view["columns"] if c["alias"] == "orders")
    assert orders["drift"] and orders["source"] == "named" and orders["reference"] == A
    assert orders["cells"]["gw1"]["live"] == {"before": "present", "after": "present", "fingerprint": A, "changed": False, "drift": False}
    assert orders["cells"]["gw2"]["live"]["before"] == "different" and orders["cells"]["gw2"]["live"]["drift"]
    assert orders["cells"]["gw2"]["persistent"]["before"] == "missing"
    soon = next(c for c in view["columns"] if c["alias"] == "soon")
    assert soon["source"] == "not in source" and soon["cells"]["gw2"]["live"]["after"] == "missing"


def _samples(text):
    from prometheus_client.parser import text_string_to_metric_families  # pylint: disable=import-outside-toplevel

    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_value_by_value():
    samples = _samples(_metrics.render(_view(_fleet_results())))
    label = {"node": "gw1", "filepath": "/x/live.jks", "alias": "orders", "role": "live", "subject_CN": "orders.internal", "issuer_CN": ""}
    assert samples[("x509_cert_not_after", tuple(sorted(label.items())))] == datetime.datetime(2027, 6, 1, tzinfo=datetime.timezone.utc).timestamp()
    assert samples[("x509_cert_expired", tuple(sorted(label.items())))] == 0
    key = {"node": "gw2", "filepath": "/x/wso2carbon.jks", "alias": "wso2carbon", "role": "keystore", "subject_CN": "gw", "issuer_CN": "Example CA"}
    assert samples[("x509_cert_expired", tuple(sorted(key.items())))] == 1
    soon = dict(label, alias="soon", subject_CN="")
    assert ("x509_cert_not_after", tuple(sorted(soon.items()))) in samples
    assert ("x509_cert_not_after", tuple(sorted(dict(soon, role="persistent", filepath="/x/persistent.jks").items()))) not in samples
    assert samples[("apim_gateway_alias_in_sync", (("alias", "orders"),))] == 0
    assert samples[("apim_gateway_endpoint_trusted", (("endpoint", ENDPOINT), ("node", "gw1")))] == 1
    assert samples[("apim_gateway_endpoint_trusted", (("endpoint", ENDPOINT), ("node", "gw2")))] == 0
    leaf = (("endpoint", ENDPOINT), ("issuer_CN", "Example CA"), ("node", "gw2"), ("subject_CN", "orders.internal"))
    assert samples[("apim_gateway_served_leaf_not_after_seconds", leaf)] == datetime.datetime(2026, 12, 20, tzinfo=datetime.timezone.utc).timestamp()
    assert samples[("apim_gateway_node_changed", (("node", "gw2"),))] == 1
    assert samples[("apim_gateway_sync_last_run_timestamp_seconds", ())] == NOW.timestamp()
    assert samples[("apim_gateway_sync_check_mode", ())] == 0


def test_every_family_has_help_and_type_and_labels_are_escaped():
    results = _fleet_results()
    results["gw1"]["results"][0]["subject"] = f"CN={NASTY}"
    text = _metrics.render(_view(results))
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert names == {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
    assert all(name.startswith(("x509_cert_", "apim_gateway_")) for name in names)
    subjects = {dict(k[1]).get("subject_CN") for k in _samples(text) if k[0] == "x509_cert_not_after"}
    assert NASTY.replace("\\", "") in {s.replace("\\", "") for s in subjects if s}


def test_html_escapes_everything_and_fetches_nothing():
    results = _fleet_results()
    results["gw1"]["trust_checks"][0]["reason"] = NASTY
    results["gw1"]["trust_checks"][0]["trusted"] = False
    results["gw1"]["results"][0]["subject"] = f"CN={NASTY}"
    page = _report_html.render(_view(results, check_mode=True))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "check mode" in page and "9.9.9" in page
    assert "src=" not in page and "<link" not in page and "url(" not in page and "@import" not in page


def test_write_atomic_and_path_checks(tmp_path):
    target = tmp_path / "m.prom"
    _report_data.write_atomic(str(target), "a 1\n")
    _report_data.write_atomic(str(target), "a 2\n")
    assert target.read_text() == "a 2\n" and os.listdir(tmp_path) == ["m.prom"]
    assert _report_data.check_path(str(target), "x") == str(target)
    with pytest.raises(_report_data.ReportPathError, match="does not exist on the controller"):
        _report_data.check_path(str(tmp_path / "nope" / "r.html"), "report_html")
    with pytest.raises(_report_data.ReportPathError, match="is a folder"):
        _report_data.check_path(str(tmp_path), "report_html")


def test_common_name_and_version():
    assert _report_data.common_name("O=Example,CN=a\\,b") == "a,b" and _report_data.common_name("O=x") == ""
    assert _report_data.collection_version() not in ("", "unknown")
