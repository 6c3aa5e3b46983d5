"""The Publisher route for client certificates: its pure logic (what is refused before any call, the plan, where a
revision goes), table-driven with real certificates."""

from __future__ import annotations

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _publisher_mtls as mtls
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError, PublisherError
from ansible_collections.apim.certificates.plugins.module_utils._publisher_client_certs import (
    ACCEPTED_SCOPES,
    SCOPE_SETS,
    ClientCertsClient,
)
from tests.support.pki import der, expired_cert, make_cert, pem

CERT, _KEY = make_cert("client.unit.test")
OTHER, _OTHER_KEY = make_cert("other.unit.test")


@pytest.mark.parametrize("given, expected", [
    ("PRODUCTION", "PRODUCTION"), ("production", "PRODUCTION"), ("Sandbox", "SANDBOX"), (" SANDBOX ", "SANDBOX"),
])
def test_key_type_in_any_case(given, expected):
    assert mtls.normalize_key_type(given) == expected


@pytest.mark.parametrize("given", ["STAGING", "", None, "PROD"])
def test_other_key_types_are_refused(given):
    with pytest.raises(PublisherError, match="not PRODUCTION or SANDBOX"):
        mtls.normalize_key_type(given)


@pytest.mark.parametrize("kwargs, says", [
    (dict(alias="a" * 31), "1 to 30"),
    (dict(alias="a/b"), "slash"),
    (dict(alias="ok", key_type="QA"), "not PRODUCTION or SANDBOX"),
    (dict(alias="ok", tier=" "), "tier is empty"),
    (dict(alias="ok"), "certificate or certificate_path is required"),
    (dict(alias="ok", certificate=pem(CERT) + pem(OTHER)), "holds 2 certificates"),
    (dict(alias="ok", certificate="garbage"), "not a certificate"),
    (dict(alias="ok", certificate_path="/nonexistent/c.pem"), "cannot read"),
])
def test_refused_before_any_call(kwargs, says):
    with pytest.raises(ApimCertificatesError, match=says):
        mtls.load_desired(**kwargs)


def test_expired_is_refused_with_its_date():
    expired, _key = expired_cert()
    with pytest.raises(ApimCertificatesError, match="expired on .*Certificate Expired"):
        mtls.load_desired(alias="old", certificate=pem(expired), tier="Gold")


@pytest.mark.parametrize("kwargs, says", [
    (dict(), "give api_id, or api_name with api_version"),
    (dict(name="Orders"), "give api_id, or api_name with api_version"),
    (dict(api_id="x", name="Orders", version="1"), "not both"),
])
def test_api_selector(kwargs, says):
    with pytest.raises(PublisherError, match=says):
        mtls.ApiSelector(**kwargs)


def _desired(tier="Gold", cert=CERT, state="present"):
    if state == "absent":
        return mtls.load_desired(alias="c", state="absent")
    return mtls.load_desired(alias="c", certificate=pem(cert), tier=tier)


@pytest.mark.parametrize("current, desired, action, certificate, tier", [
    (None, _desired(), "added", True, True),
    (mtls.Current("c", "Gold", der(CERT)), _desired(), "unchanged", False, False),
    (mtls.Current("c", "Gold", der(CERT)), _desired(tier=None), "unchanged", False, False),
    (mtls.Current("c", "Gold", der(CERT)), _desired(tier="Unlimited"), "replaced", False, True),
    (mtls.Current("c", "Gold", der(CERT)), _desired(cert=OTHER), "replaced", True, False),
    (mtls.Current("c", "Gold", der(CERT)), _desired(cert=OTHER, tier="Unlimited"), "replaced", True, True),
    (mtls.Current("c", "Gold", der(CERT)), _desired(state="absent"), "removed", False, False),
    (None, _desired(state="absent"), "unchanged", False, False),
])
def test_plan(current, desired, action, certificate, tier):
    planned = mtls.plan(current, desired)
    assert (planned.action, planned.certificate, planned.tier) == (action, certificate, tier)


def test_adding_needs_a_tier():
    with pytest.raises(PublisherError, match="tier is required to add"):
        mtls.plan(None, _desired(tier=None))


@pytest.mark.parametrize("policies, tier, refused", [
    (["Gold", "Unlimited"], "Gold", False), (["Gold"], "Platinum", True), (None, "Platinum", False), ([], "Any", False),
])
def test_tier_against_the_apis_tiers(policies, tier, refused):
    api = {"name": "Orders", "version": "1.0.0", "policies": policies}
    desired = _desired(tier=tier)
    if refused:
        with pytest.raises(PublisherError, match=f"tier '{tier}' is not a subscription tier"):
            mtls.check_tier(api, desired, mtls.plan(None, desired))
    else:
        mtls.check_tier(api, desired, mtls.plan(None, desired))


def test_deployment_targets_keep_every_environment_once_and_skip_rejected():
    deployments = [
        {"name": "Default", "vhost": "localhost", "displayOnDevportal": True, "status": "APPROVED", "revisionUuid": "r1"},
        {"name": "Default", "vhost": "localhost", "displayOnDevportal": True, "status": "APPROVED", "revisionUuid": "r1"},
        {"name": "External", "vhost": "gw.example.com", "displayOnDevportal": False, "status": "CREATED"},
        {"name": "Lab", "vhost": "lab.example.com", "status": "REJECTED"},
        {"vhost": "nameless.example.com"},
    ]
    assert mtls.deployment_targets(deployments) == [
        {"name": "Default", "vhost": "localhost", "displayOnDevportal": True},
        {"name": "External", "vhost": "gw.example.com", "displayOnDevportal": False},
    ]


def test_every_need_has_accepted_scopes_and_each_set_asks_one_of_them():
    for scope_set in SCOPE_SETS:
        assert set(scope_set) == set(ACCEPTED_SCOPES)
        for need, scope in scope_set.items():
            assert scope in ACCEPTED_SCOPES[need], (need, scope)
    assert "apim:client_certificates_manage" not in ACCEPTED_SCOPES["delete"]  # WSO2's document: DELETE needs _update


@pytest.mark.parametrize("route, key_type, path", [
    ("client-certs", "SANDBOX", "/apis/a%2Fb/client-certs/SANDBOX"),
    ("client-certificates", "PRODUCTION", "/apis/a%2Fb/client-certificates"),
])
def test_collection_paths(route, key_type, path):
    assert ClientCertsClient.collection_path(route, "a/b", key_type) == path
