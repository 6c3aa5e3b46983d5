"""The gateway_sync role's comparison of its nodes (plugins/plugin_utils/_fleet.py), from gateway_trust results."""

from __future__ import annotations


from ansible_collections.apim.certificates.plugins.plugin_utils import _fleet

A = "AA:" * 31 + "AA"
B = "BB:" * 31 + "BB"
STOCK = "5C:" * 31 + "5C"


def _store(role, entries, duplicates=()):
    return {"path": f"/x/{role}.jks", "role": role, "entries": dict(entries), "duplicates": list(duplicates), "count": 146}


def _node(before, after=None, *, results=(), requested=(("orders", "present"),), changed=False, **extra):
    state = {"stores": [_store(role, e) for role, e in before.items()]}
    node = {"before": state, "after": {"stores": [_store(role, e) for role, e in (after or before).items()]},
            "results": list(results), "requested": [{"alias": a, "state": s} for a, s in requested],
            "changed": changed, "check_mode": False, "trust_checks": [], "expiring": [], "unmanaged": [],
            "touched": "/x/sslprofiles.xml" if changed else None, "reload_within_ms": 600000}
    node.update(extra)
    return node


def test_drift_lists_what_each_node_held_before_per_alias_and_store():
    results = {
        "gw1": _node({"live": {}, "persistent": {}}, {"live": {"orders": A}, "persistent": {"orders": A}}, changed=True,
                     results=[{"alias": "orders", "action": "added", "fingerprint": A}]),
        "gw2": _node({"live": {"orders": B}, "persistent": {"orders": A}}, {"live": {"orders": A}, "persistent": {"orders": A}},
                     changed=True, results=[{"alias": "orders", "action": "replaced", "fingerprint": A}]),
    }
    report = _fleet.report(results)
    drift = report["drift"]
    assert drift["drifted"] is True
    assert drift["aliases"]["orders"] == {"in_sync": False, "fingerprints": {
        "absent": ["gw1 (live)", "gw1 (persistent)"], B: ["gw2 (live)"], A: ["gw2 (persistent)"]}}
    assert report["verification"] == {"ok": True, "differing": {}}
    assert report["drifting"] == ["gw1", "gw2"] and report["failures"] == []
    assert report["summary"]["certificates"] == {"added": 1, "replaced": 1, "removed": 0}
    assert report["summary"]["nodes_changed"] == ["gw1", "gw2"]


def test_in_sync_nodes_and_an_alias_every_node_wants_absent_are_not_drift():
    held = {"live": {"orders": A}, "persistent": {"orders": A}}
    results = {n: _node(held, requested=(("orders", "present"), ("retired", "absent"))) for n in ("gw1", "gw2")}
    drift = _fleet.report(results)["drift"]
    assert drift["drifted"] is False
    assert drift["aliases"]["retired"]["in_sync"] is True


def test_duplicates_are_reported_per_node_only_as_the_node_listed_them():
    # gateway_trust leaves out duplicate groups made only of stock aliases (wso2carbon = gateway_certificate_alias)
    dup = {"fingerprint": A, "aliases": ["orders", "orders-copy"]}
    node = _node({"live": {"orders": A, "orders-copy": A}, "persistent": {"orders": A}})
    node["before"]["stores"][0]["duplicates"] = [dup]
    clean = _node({"live": {"orders": A}, "persistent": {"orders": A}})
    drift = _fleet.report({"gw1": node, "gw2": clean})["drift"]
    assert drift["duplicates"] == {"gw1": [{"fingerprint": A, "aliases": ["orders", "orders-copy"], "stores": ["live"]}]}


def test_verification_names_the_node_and_store_that_differ_and_fails_outside_check_mode():
    good = _node({"live": {}, "persistent": {}}, {"live": {"orders": A}, "persistent": {"orders": A}}, changed=True,
                 results=[{"alias": "orders", "action": "added", "fingerprint": A}])
    bad = _node({"live": {}, "persistent": {}}, {"live": {"orders": A}, "persistent": {}}, changed=True,
                results=[{"alias": "orders", "action": "added", "fingerprint": A}])
    report = _fleet.report({"gw1": good, "gw2": bad})
    assert report["verification"]["ok"] is False
    assert report["verification"]["differing"]["orders"]["expected " + A] == ["gw2 (persistent)"]
    assert len(report["failures"]) == 1 and report["failures"][0].startswith("Nodes differ after converging")
    for node in (good, bad):
        node["check_mode"] = True
    assert _fleet.report({"gw1": good, "gw2": bad})["failures"] == [], "check mode wrote nothing: nothing to verify"


def test_failures_on_drift_and_untrusted_endpoints_only_when_asked_for():
    untrusted = {"endpoint": "https://orders:8443/", "trusted": False, "reason": "no anchor"}
    node = _node({"live": {}, "persistent": {}}, {"live": {"orders": A}, "persistent": {"orders": A}}, changed=True,
                 results=[{"alias": "orders", "action": "added", "fingerprint": A}], trust_checks=[untrusted], check_mode=True)
    assert _fleet.report({"gw1": node})["failures"] == []
    failures = _fleet.report({"gw1": node}, fail_on_drift=True, fail_on_untrusted=True)["failures"]
    assert failures == ["The gateway nodes drift from the source of truth: gw1 would change.",
                        'Not trusted: {"gw1": ["https://orders:8443/"]}']
    summary = _fleet.report({"gw1": node})["summary"]
    assert summary["trust_checks"] == {"gw1": {"https://orders:8443/": "NOT trusted: no anchor"}}


def test_ssl_profile_changes_count_as_drift_and_skipped_profiles_do_not():
    node = _node({"live": {"orders": A}, "persistent": {"orders": A}})
    changed = {"changed": True, "actions": {"interval": "changed", "truststore": "unchanged"}, "restart_required": True}
    report = _fleet.report({"gw1": node, "gw2": node}, {"gw1": changed, "gw2": {"skipped": True, "changed": False}})
    assert report["drifting"] == ["gw1"]
    assert report["summary"]["ssl_profiles"] == {"gw1": {"interval": "changed", "restart_required": True}}


# --- the filters: thin wrappers of this engine, over truststore_info results ----------------------------------


def _info(stores: dict, trust_checks=()) -> dict:
    """A truststore_info gateway-mode result: role -> {alias: (sha256, days_remaining)}."""
    return {"stores": [{"role": role, "duplicates": [], "entries": [
        {"alias": alias, "fingerprints": {"sha256": fp}, "days_remaining": days, "not_after": "2027-01-01T00:00:00Z"}
        for alias, (fp, days) in entries.items()]} for role, entries in stores.items()], "trust_checks": list(trust_checks)}


def test_the_filters_give_what_the_engine_gives_on_gateway_trust_results():
    from ansible_collections.apim.certificates.plugins.filter import gateway_sync as filters  # pylint: disable=import-outside-toplevel

    states = {"gw1": _info({"live": {"orders": (A, 300), "wso2carbon": (STOCK, 5)}, "persistent": {"orders": (A, 300)}}),
              "gw2": _info({"live": {"orders": (B, 10), "legacy": (A, 300), "production_app_-1234": (B, 300)},
                            "persistent": {"orders": (B, 10)}})}
    desired = {node: filters.gateway_sync_desired(state, certificates=[{"alias": "Orders", "certificate": "PEM"}], prune=True)
               for node, state in states.items()}
    assert desired["gw1"] == [{"alias": "Orders", "state": "present", "certificate": "PEM"}]
    assert desired["gw2"][1:] == [{"alias": "legacy", "state": "absent"}], "a client certificate or stock entry was pruned"
    assert filters.gateway_sync_unmanaged(states["gw2"], desired["gw2"][:1]) == ["legacy"]
    drift = filters.gateway_sync_drift(states, desired)
    assert drift["aliases"]["orders"] == {"in_sync": False, "fingerprints": {
        A: ["gw1 (live)", "gw1 (persistent)"], B: ["gw2 (live)", "gw2 (persistent)"]}}
    results = {"gw1": {"results": [{"alias": "orders", "action": "unchanged", "fingerprint": A}]},
               "gw2": {"results": [{"alias": "orders", "action": "replaced", "fingerprint": A}], "changed": True}}
    assert filters.gateway_sync_verify(states, results)["differing"]["orders"] == {
        A: ["gw1 (live)", "gw1 (persistent)"], B: ["gw2 (live)", "gw2 (persistent)"],
        f"expected {A}": ["gw2 (live)", "gw2 (persistent)"]}
    summary = filters.gateway_sync_summary(results, states, expiry_warn_days=30)
    assert summary["nodes_changed"] == ["gw2"] and summary["certificates"]["replaced"] == 1
    assert summary["expiring"] == {"gw2": ["orders (2027-01-01T00:00:00Z)"]}, "stock entries are not reported as expiring"


def test_primary_mode_copies_the_primarys_own_certificates_only():
    from ansible_collections.apim.certificates.plugins.filter import gateway_sync as filters  # pylint: disable=import-outside-toplevel

    primary = {"entries": [{"alias": "orders", "pem": "P1"}, {"alias": "wso2carbon", "pem": "P2"},
                           {"alias": "production_app_-1234", "pem": "P3"}]}
    assert filters.gateway_sync_desired(primary, source="primary", primary_state=primary) == [
        {"alias": "orders", "certificate": "P1", "state": "present"}]


C = "CC:" * 31 + "CC"  # a CA
N = "DD:" * 31 + "DD"  # a renewed leaf


def _check(endpoint, *, trusted=True, anchor="orders", trusted_by="ca", chain=(B, C), days=200, issuer="CN=Issuing CA"):
    return {"endpoint": endpoint, "trusted": trusted, "anchor": anchor if trusted else None, "trusted_by": trusted_by if trusted else None,
            "reason": None if trusted else "PKIX path building would fail", "served_chain": list(chain),
            "served_leaf": {"subject": "CN=orders.test", "issuer": issuer, "not_after": "2027-06-01T00:00:00Z", "days_remaining": days}}


def _rotating_node(live, checks, requested=(("orders", "https://orders.test/"),), **extra):
    node = _node({"live": live}, requested=())
    node["requested"] = [{"alias": a, "state": "present", "endpoint": e} for a, e in requested]
    node["trust_checks"] = list(checks)
    node.update(extra)
    return node


def test_rotation_findings_name_the_endpoints_and_nodes_they_concern():
    results = {
        # trusts the CA: the renewal B -> N under it changes nothing
        "gw1": _rotating_node({"orders": C, "old-ca": A}, [_check("https://orders.test/", chain=(N, C))]),
        # trusts the old leaf only: after the renewal the chain no longer contains it, and trust is gone
        "gw2": _rotating_node({"orders": B}, [_check("https://orders.test/", trusted=False, chain=(N, C))]),
        # trusts the leaf it is served now, a CA-issued one: its next renewal breaks it
        "gw3": _rotating_node({"orders": N}, [_check("https://orders.test/", trusted_by="leaf", chain=(N, C), days=10)]),
    }
    found = _fleet.rotation(results, expiry_warn_days=30)
    assert found["leaf_only"] == {"https://orders.test/": ["gw3"]}
    assert list(found["rotation_pending"]) == ["https://orders.test/"]
    assert sorted(found["rotation_pending"]["https://orders.test/"]["nodes"]) == ["gw2"]
    assert "not trusted" in found["rotation_pending"]["https://orders.test/"]["nodes"]["gw2"]
    assert found["safe_to_remove"] == {"old-ca": ["gw1"]}, "the old CA is in no served chain and anchors no check"
    leaf = found["served_leaves"]["https://orders.test/"]
    assert leaf["nodes"] == ["gw1", "gw2", "gw3"] and leaf["expiring"] is False  # the first node's view: 200 days
    report = _fleet.report(results)
    assert any(w.startswith("rotation pending for https://orders.test/") and "gw2" in w for w in report["warnings"])
    assert any("safe to remove: 'old-ca'" in w for w in report["warnings"])
    assert report["summary"]["safe_to_remove"] == found["safe_to_remove"]


def test_trust_through_another_alias_is_pending_and_nothing_is_safe_to_remove_while_an_endpoint_is_unreachable():
    checks = [_check("https://orders.test/", anchor="new-ca", chain=(N, C)),
              dict(_check("https://billing.test/"), trusted=False, served_chain=[], served_leaf=None, anchor=None)]
    node = _rotating_node({"orders": A, "new-ca": C, "stale": B, "production_client_-1234": N}, checks,
                          owned_elsewhere={"production_client_-1234": "API client certificate"})
    found = _fleet.rotation({"gw1": node})
    assert "trusted through 'new-ca', not through 'orders'" in found["rotation_pending"]["https://orders.test/"]["nodes"]["gw1"]
    assert found["safe_to_remove"] == {}, "billing.test was not reached: its chain is unknown"
    node["trust_checks"] = checks[:1]
    assert _fleet.rotation({"gw1": node})["safe_to_remove"] == {"stale": ["gw1"]}, \
        "client certificates (owned elsewhere) and aliases declared with an endpoint are never offered for removal"
    # a self-signed leaf trusted as itself is not 'leaf only': there is no issuer to trust instead
    node["trust_checks"] = [_check("https://orders.test/", trusted_by="leaf", chain=(A,), issuer="CN=orders.test", anchor="orders")]
    assert _fleet.rotation({"gw1": node})["leaf_only"] == {}


def test_a_declared_certificate_gives_chain_under_one_name():
    """Role argument specs have no aliases, so the role lists trust beside chain; the node gets one of them."""
    assert _fleet.declared_item({"alias": "orders", "trust": "issuer"}) == {"alias": "orders", "chain": "issuer"}
    assert _fleet.declared_item({"alias": "orders", "trust": "root", "chain": "root"}) == {"alias": "orders", "chain": "root"}
    assert _fleet.declared_item({"alias": "orders", "chain": "leaf"}) == {"alias": "orders", "chain": "leaf"}
    try:
        _fleet.declared_item({"alias": "orders", "trust": "issuer", "chain": "leaf"})
    except ValueError as exc:
        assert "chain 'leaf' and trust 'issuer'" in str(exc) and "give one of them" in str(exc)
    else:
        raise AssertionError("chain and trust that differ must be refused")


def test_the_summary_and_artifact_list_what_the_drop_filters_removed_per_node():
    from ansible_collections.apim.certificates.plugins.plugin_utils import _artifact  # pylint: disable=import-outside-toplevel

    results = {"gw1": {"changed": True, "results": [{"alias": "legacy", "action": "removed", "fingerprint": None}],
                       "dropped": [{"alias": "legacy", "reason": "unserved leaf", "subject": "CN=legacy", "not_after": "x",
                                    "stores": ["live"]}]},
               "gw2": {"changed": False, "results": [], "dropped": []}}
    summary = _fleet.summary(results)
    assert summary["dropped"] == {"gw1": ["legacy (unserved leaf)"]}
    assert summary["certificates"]["removed"] == 1
    artifact = _artifact.build(summary, nodes=["gw1", "gw2"])
    assert artifact["dropped"] == {"gw1": ["legacy (unserved leaf)"]}
    later = _artifact.build({"nodes": 1, "dropped": {"gw3": ["old (expired)"]}}, previous=artifact, nodes=["gw3"])
    assert later["dropped"] == {"gw1": ["legacy (unserved leaf)"], "gw3": ["old (expired)"]}, "serial batches add up"
