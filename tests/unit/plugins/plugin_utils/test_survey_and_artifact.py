"""Survey answers read into the role's types (and refused clearly), and the job artifact across serial batches."""

from __future__ import annotations

import pytest

from ansible_collections.apim.certificates.plugins.plugin_utils import _artifact, _survey
from ansible_collections.apim.certificates.plugins.plugin_utils._survey import SurveyInputError, normalise


@pytest.mark.parametrize("given, expected", [
    ("true", True), ("False", False), ("yes", True), ("no", False), ("1", True), ("0", False), (" on ", True),
    (True, True), (0, False),
])
def test_booleans_as_a_survey_sends_them(given, expected):
    assert normalise({"gateway_sync_prune": given}) == {"gateway_sync_prune": expected}


def test_numbers_and_lists_as_text():
    got = normalise({
        "gateway_sync_expiry_warn_days": "30",
        "gateway_sync_endpoint_timeout": " 5 ",
        "gateway_sync_remove_aliases": "old-a\r\n  old-b  \n\n# a comment\n",
        "gateway_sync_protected_aliases": "wso2carbon, gateway_certificate_alias",
        "gateway_sync_python_requirements": "- cryptography>=45\n- tomlkit>=0.12\n",
    })
    assert got == {
        "gateway_sync_expiry_warn_days": 30, "gateway_sync_endpoint_timeout": 5,
        "gateway_sync_remove_aliases": ["old-a", "old-b"],
        "gateway_sync_protected_aliases": ["wso2carbon", "gateway_certificate_alias"],
        "gateway_sync_python_requirements": ["cryptography>=45", "tomlkit>=0.12"],
    }


def test_structured_values_pass_unchanged():
    certificates = [{"alias": "orders", "endpoint": "https://orders.internal/", "fingerprint": "AB"}]
    got = normalise({"gateway_sync_certificates": certificates, "gateway_sync_remove_aliases": ["x"],
                     "gateway_sync_ssl_profile": {"interval": 60000}})
    assert got["gateway_sync_certificates"] == [dict(certificates[0], state="present")]
    assert got["gateway_sync_remove_aliases"] == ["x"] and got["gateway_sync_ssl_profile"] == {"interval": 60000}


def test_certificates_and_ssl_profile_as_yaml_or_json_text():
    got = normalise({
        "gateway_sync_certificates": "- alias: orders\n  certificate: |\n    -----BEGIN CERTIFICATE-----\n    AA==\n"
                                     "    -----END CERTIFICATE-----\n- alias: old\n  state: absent\n",
        "gateway_sync_ssl_profile": '{"interval": "60000", "custom_profiles": []}',
    })
    assert got["gateway_sync_certificates"] == [
        {"alias": "orders", "certificate": "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n", "state": "present"},
        {"alias": "old", "state": "absent"}]
    assert got["gateway_sync_ssl_profile"] == {"interval": "60000", "custom_profiles": []}
    assert normalise({"gateway_sync_certificates": "", "gateway_sync_ssl_profile": " "}) == {
        "gateway_sync_certificates": [], "gateway_sync_ssl_profile": {}}


@pytest.mark.parametrize("given, message", [
    ({"gateway_sync_prune": "maybe"}, "gateway_sync_prune: 'maybe' is not a boolean; give true or false"),
    ({"gateway_sync_expiry_warn_days": "30 days"}, "gateway_sync_expiry_warn_days: '30 days' is not a whole number"),
    ({"gateway_sync_expiry_warn_days": "-1"}, "gateway_sync_expiry_warn_days: -1 is too small; the least it can be is 0"),
    ({"gateway_sync_endpoint_timeout": "0"}, "gateway_sync_endpoint_timeout: 0 is too small"),
    ({"gateway_sync_certificates": "- alias: [orders"}, "gateway_sync_certificates: the text is not valid YAML or JSON (line 1"),
    ({"gateway_sync_certificates": "alias: orders"}, "gateway_sync_certificates: expected a list of mappings, got a single mapping"),
    ({"gateway_sync_certificates": "- orders"}, "gateway_sync_certificates[0]: expected a mapping such as '- alias: orders'"),
    ({"gateway_sync_certificates": "- certificate: x"}, "missing required arguments: alias found in gateway_sync_certificates"),
    ({"gateway_sync_certificates": [{"alias": "a", "state": "gone"}]}, "value of state must be one of: present, absent, got: gone"),
    ({"gateway_sync_ssl_profile": "- a"}, "gateway_sync_ssl_profile: expected a mapping"),
    ({"gateway_sync_source": "primry"}, "value of gateway_sync_source must be one of: declared, primary, got: primry"),
    ({"gateway_sync_nonsense": 1}, "gateway_sync_nonsense: not a variable of the gateway_sync role"),
])
def test_bad_answers_are_refused_naming_the_variable(given, message):
    with pytest.raises(SurveyInputError, match="^the gateway_sync role's variables cannot be used as given: ") as caught:
        normalise(given)
    assert message in str(caught.value)


def test_every_problem_is_listed_and_no_password_is_shown():
    with pytest.raises(SurveyInputError) as caught:
        normalise({"gateway_sync_prune": "maybe", "gateway_sync_backup": "perhaps",
                   "gateway_sync_ssl_profile": "truststore: {password: Zx9-Secret-1, location: [x"})
    text = str(caught.value)
    assert "gateway_sync_prune" in text and "gateway_sync_backup" in text and "gateway_sync_ssl_profile" in text
    assert "Zx9-Secret-1" not in text


def test_every_role_variable_has_a_reading():
    spec = _survey.role_spec()
    assert "gateway_sync_truststore_password" in spec and spec["gateway_sync_certificates"]["type"] == "list"
    assert all("default" not in option for option in spec.values())


SUMMARY = {"nodes": 2, "nodes_changed": ["gw1"], "certificates": {"added": 1, "replaced": 0, "removed": 1},
           "ssl_profiles": {}, "expiring_within_days": 30, "expiring": {"gw2": ["pay (2026-12-12T00:00:00Z)"]},
           "trust_checks": {"gw1": {"https://a/": "trusted"}, "gw2": {"https://a/": "NOT trusted: expired"}},
           "reload_within_ms": {"gw1": 600000}}
DRIFT = {"drifted": True, "aliases": {"orders": {"in_sync": False, "fingerprints": {"AA": ["gw2 (live)"], "absent": ["gw1 (live)"]}}}}


def test_artifact_of_one_batch():
    got = _artifact.build(SUMMARY, drift=DRIFT, not_in_source={"gw1": ["legacy"], "gw2": []}, check_mode=True,
                          nodes=["gw2", "gw1"])
    assert got == {
        "schema_version": 1, "check_mode": True, "nodes": 2, "node_names": ["gw1", "gw2"], "nodes_changed": ["gw1"],
        "drifted": True, "drift": DRIFT["aliases"], "not_in_source": {"gw1": ["legacy"]},
        "certificates": {"added": 1, "replaced": 0, "removed": 1}, "ssl_profiles": {}, "expiring_within_days": 30,
        "expiring": SUMMARY["expiring"], "dropped": {}, "key_pairs": {}, "key_pair_checks": {}, "listener": {}, "listener_checks": {},
        "trust_checks": SUMMARY["trust_checks"], "untrusted": {"gw2": ["https://a/"]},
        "reload_due": {"gw1": 600000}, "served_leaves": {}, "leaf_only": {}, "rotation_pending": {}, "safe_to_remove": {},
    }


def test_serial_batches_add_up_and_an_earlier_plays_artifact_is_ignored():
    first = _artifact.build(SUMMARY, drift=DRIFT, nodes=["gw1", "gw2"])
    earlier_play = _artifact.build(dict(SUMMARY, nodes=3), nodes=["gw1", "gw2", "gw3"])
    second_summary = {"nodes": 1, "nodes_changed": ["gw3"], "certificates": {"added": 2, "replaced": 1, "removed": 0},
                      "trust_checks": {"gw3": {"https://a/": "trusted"}}, "reload_within_ms": {"gw3": 60000}}
    second_drift = {"drifted": False, "aliases": {"orders": {"in_sync": True, "fingerprints": {"AA": ["gw3 (live)"]}}}}
    got = _artifact.build(second_summary, drift=second_drift, previous=[earlier_play, first], nodes=["gw3"])
    assert got["nodes"] == 3 and got["node_names"] == ["gw1", "gw2", "gw3"] and got["nodes_changed"] == ["gw1", "gw3"]
    assert got["certificates"] == {"added": 3, "replaced": 1, "removed": 1}
    assert got["drifted"] is True and got["drift"]["orders"] == {
        "in_sync": False, "fingerprints": {"AA": ["gw2 (live)", "gw3 (live)"], "absent": ["gw1 (live)"]}}
    assert got["reload_due"] == {"gw1": 600000, "gw3": 60000} and sorted(got["trust_checks"]) == ["gw1", "gw2", "gw3"]
    assert _artifact.pick_previous([earlier_play], ["gw3"]) is None, "an artifact naming this batch's nodes is not ours"


def test_the_role_reads_every_variable_through_the_filter():
    """A variable added to the argument spec but not to roles/gateway_sync/vars/main.yml would skip survey reading."""
    import os  # pylint: disable=import-outside-toplevel
    import re  # pylint: disable=import-outside-toplevel

    role_vars = os.path.join(os.path.dirname(_survey.SPEC_PATH), "..", "vars", "main.yml")
    with open(role_vars, encoding="utf-8") as handle:
        text = handle.read()
    read = set(re.findall(r"'(gateway_sync_[a-z_]+)': gateway_sync_[a-z_]+", text))
    # paths, and what holds a password
    used_as_given = {"gateway_sync_apim_home", "gateway_sync_truststore_password", "gateway_sync_venv", "gateway_sync_publisher"}
    assert read == set(_survey.role_spec()) - used_as_given


def test_the_form_kept_as_a_fact_has_no_ssl_profile_password():
    """gateway_sync_input(secrets=false) is a form that may be kept as a fact (facts show at -v and in AWX job events).
    The role itself keeps none since gateway_sync_node reads the variables in Python."""
    from ansible_collections.apim.certificates.plugins.filter.gateway_sync import gateway_sync_input  # pylint: disable=import-outside-toplevel

    profile = ("keystore: {file_name: wso2carbon.jks, password: Ks-Secret-1, key_password: Kp-Secret-2}\n"
               "truststore: {file_name: client-truststore.jks, password: Ts-Secret-3}\n"
               "custom_profiles:\n"
               "  - servers: orders.internal:443\n"
               "    truststore: {location: orders.jks, password: Ts-Secret-4}\n")
    given = {"gateway_sync_ssl_profile": profile, "gateway_sync_prune": "true"}
    full = gateway_sync_input(given)
    public = gateway_sync_input(given, secrets=False)
    assert full["gateway_sync_ssl_profile"]["custom_profiles"][0]["truststore"]["password"] == "Ts-Secret-4"
    assert not any(secret in repr(public) for secret in ("Ks-Secret-1", "Kp-Secret-2", "Ts-Secret-3", "Ts-Secret-4"))
    # everything else is kept, so the role can decide from the fact whether to run the SSL-profile step
    assert public["gateway_sync_prune"] is True
    assert public["gateway_sync_ssl_profile"]["custom_profiles"][0] == {
        "servers": "orders.internal:443", "truststore": {"location": "orders.jks"}}
    assert public["gateway_sync_ssl_profile"]["keystore"] == {"file_name": "wso2carbon.jks"}
