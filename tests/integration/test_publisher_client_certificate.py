"""publisher_client_certificate run by ansible-playbook against the contract Publisher (no real API-M runs here).

The contract server (tests/support/publisher_server.py) validates every Publisher API request against WSO2's OpenAPI
document and answers as API-M does for client certificates (../shared/docs/mutual-tls.md); each test ends by checking
that no request broke the document.
"""

from __future__ import annotations

import os

import pytest

from tests.support.ansible import run_module, run_module_raw
from tests.support.pki import der, expired_cert, make_cert, pem, sha256
from tests.support.publisher_server import SPEC, SPEC_MISSING, publisher_server

pytestmark = pytest.mark.skipif(not os.path.exists(SPEC), reason=SPEC_MISSING)

MODULE = "apim.certificates.publisher_client_certificate"
PASSWORD = "Mtls-Secret-7c2d"
PARTNER, _k1 = make_cert("partner-a.clients.test")
PARTNER_NEW, _k2 = make_cert("partner-a.clients.test")
OTHER, _k3 = make_cert("partner-b.clients.test", key_kind="ec")
API_ID = "7a1c3e55-0000-4000-8000-00000000a001"


@pytest.fixture
def publisher():
    with publisher_server() as server:
        server.state.add_user("admin", PASSWORD)
        server.state.add_api("OrdersAPI", "1.0.0", api_id=API_ID, deployed_to=("Default", "External"))
        yield server
        assert server.state.violations == [], "requests the OpenAPI document does not allow"


def args(server, **extra):
    base = {"publisher_url": server.url, "ca_path": server.ca_file, "username": "admin", "password": PASSWORD}
    base.update(extra)
    return base


def present(server, cert=PARTNER, alias="partner-a", **extra):
    extra.setdefault("api_id", API_ID)
    extra.setdefault("tier", "Gold")
    return args(server, alias=alias, certificate=pem(cert), **extra)


def entry(server, alias="partner-a", key_type="PRODUCTION", api_id=API_ID):
    return server.state.client_certs.get((api_id, key_type, alias))


def four_runs(tmp_path, given, *, first_action):
    """check, real, check, real: the first pair changes (check predicting the real run), the second does not."""
    check = run_module(tmp_path, MODULE, given, check=True, diff=True)
    assert not check.failed, check
    assert check.changed and check["action"] == first_action, check
    real = run_module(tmp_path, MODULE, given, diff=True)
    assert not real.failed, real
    assert real.changed and real["action"] == first_action, real
    assert real["diff"] == check["diff"], "check mode did not predict the real run"
    again_check = run_module(tmp_path, MODULE, given, check=True, diff=True)
    assert not again_check.failed and not again_check.changed and again_check["action"] == "unchanged", again_check
    assert again_check["diff"]["before"] == again_check["diff"]["after"]
    again = run_module(tmp_path, MODULE, given)
    assert not again.failed and not again.changed and again["action"] == "unchanged", again
    assert again["gateways_updated"] is None
    return check, real


def test_add_check_real_check_real(tmp_path, publisher):
    state = publisher.state
    check = run_module(tmp_path, MODULE, present(publisher), check=True, diff=True)
    assert state.client_cert_writes() == [] and state.client_certs == {}, "check mode wrote"
    assert check["diff"]["before"] == {}
    assert check["diff"]["after"]["fingerprint"] == sha256(PARTNER) and check["diff"]["after"]["tier"] == "Gold"

    writes = []
    check, real = four_runs(tmp_path, present(publisher), first_action="added")
    writes = state.client_cert_writes()
    assert [call[:2] for call in writes] == [("POST", f"/api/am/publisher/v4/apis/{API_ID}/client-certs/PRODUCTION")]
    assert entry(publisher)["der"] == der(PARTNER)  # accepted although API-M answers 201, not the spec's 200
    assert entry(publisher)["tier"] == "Gold"
    assert real["route"] == "client-certs"
    assert real["api"] == {"id": API_ID, "name": "OrdersAPI", "version": "1.0.0", "context": "/ordersapi/1.0.0"}
    served = real["certificate"]
    assert served["fingerprint"] == sha256(PARTNER) and served["key_type"] == "PRODUCTION" and served["tier"] == "Gold"
    assert served["status"] == "active" and "partner-a.clients.test" in served["subject"]
    # not deployed: the gateways still hold the old set, and the result says so
    assert real["gateways_updated"] is False and real["revision"] is None and real["deployed_to"] == []
    assert any("not yet on gateways" in warning for warning in real.get("warnings", [])), real
    assert state.revision_writes() == []
    assert ("PRODUCTION", "partner-a") not in state.gateway_client_certs(API_ID)


def test_replace_by_certificate(tmp_path, publisher):
    publisher.state.put_client_cert(API_ID, "partner-a", der(PARTNER), "Gold")
    check, real = four_runs(tmp_path, present(publisher, PARTNER_NEW), first_action="replaced")
    assert check["diff"]["before"]["fingerprint"] == sha256(PARTNER)
    assert check["diff"]["after"]["fingerprint"] == sha256(PARTNER_NEW)
    assert [call[0] for call in publisher.state.client_cert_writes()] == ["PUT"]
    assert entry(publisher)["der"] == der(PARTNER_NEW) and entry(publisher)["tier"] == "Gold"
    assert real["certificate"]["fingerprint"] == sha256(PARTNER_NEW)


def test_replace_by_tier(tmp_path, publisher):
    publisher.state.put_client_cert(API_ID, "partner-a", der(PARTNER), "Gold")
    check, _real = four_runs(tmp_path, present(publisher, tier="Unlimited"), first_action="replaced")
    assert check["diff"]["before"]["tier"] == "Gold" and check["diff"]["after"]["tier"] == "Unlimited"
    assert check["diff"]["before"]["fingerprint"] == check["diff"]["after"]["fingerprint"]
    assert [call[0] for call in publisher.state.client_cert_writes()] == ["PUT"]
    assert entry(publisher)["tier"] == "Unlimited" and entry(publisher)["der"] == der(PARTNER)


def test_tier_omitted_keeps_the_tier(tmp_path, publisher):
    publisher.state.put_client_cert(API_ID, "partner-a", der(PARTNER), "Gold")
    given = present(publisher)
    del given["tier"]
    result = run_module(tmp_path, MODULE, given)
    assert not result.failed and not result.changed and result["certificate"]["tier"] == "Gold", result


def test_remove_check_real_check_real(tmp_path, publisher):
    publisher.state.put_client_cert(API_ID, "partner-a", der(PARTNER), "Gold")
    absent = args(publisher, api_id=API_ID, alias="partner-a", state="absent")
    check, real = four_runs(tmp_path, absent, first_action="removed")
    assert check["diff"]["after"] == {} and check["diff"]["before"]["fingerprint"] == sha256(PARTNER)
    assert real["certificate"] is None
    assert entry(publisher) is None
    assert [call[0] for call in publisher.state.client_cert_writes()] == ["DELETE"]


def test_sandbox_key_type_in_any_case(tmp_path, publisher):
    given = present(publisher, key_type="sandbox", tier="Unlimited")
    _check, real = four_runs(tmp_path, given, first_action="added")
    assert real["certificate"]["key_type"] == "SANDBOX"
    assert entry(publisher, key_type="SANDBOX")["tier"] == "Unlimited" and entry(publisher) is None
    assert publisher.state.client_cert_writes()[0][1].endswith("/client-certs/SANDBOX")


def test_api_by_name_and_version_exact(tmp_path, publisher):
    # WSO2's search matches loosely: OrdersAPIv2 and the 1.0.0-beta version are found by the search too
    publisher.state.add_api("OrdersAPIv2", "1.0.0")
    publisher.state.add_api("OrdersAPI", "1.0.0-beta")
    given = present(publisher, api_name="OrdersAPI", api_version_name="1.0.0")
    del given["api_id"]
    _check, real = four_runs(tmp_path, given, first_action="added")
    assert real["api"]["id"] == API_ID
    assert entry(publisher)["der"] == der(PARTNER)
    searches = [call for call in publisher.state.calls if call[1] == "/api/am/publisher/v4/apis"]
    assert searches and "query=name" in searches[0][2]


def test_unknown_api_and_ambiguous_name_are_clear_errors(tmp_path, publisher):
    given = present(publisher, api_name="NoSuchAPI", api_version_name="1.0.0")
    del given["api_id"]
    result = run_module(tmp_path, MODULE, given)
    assert result.failed and "no API named 'NoSuchAPI' with version '1.0.0'" in result["msg"], result

    publisher.state.add_api("OrdersAPI", "1.0.0", provider="someone-else")
    given = present(publisher, api_name="OrdersAPI", api_version_name="1.0.0")
    del given["api_id"]
    result = run_module(tmp_path, MODULE, given, check=True)
    assert result.failed and "2 APIs are named 'OrdersAPI'" in result["msg"] and "give api_id" in result["msg"], result

    result = run_module(tmp_path, MODULE, present(publisher, api_id="0000-missing"))
    assert result.failed and "no API with id '0000-missing'" in result["msg"], result
    assert publisher.state.client_cert_writes() == []


def test_alias_taken_for_the_key_type_is_a_clear_409(tmp_path, publisher):
    # another API of the tenant holds the alias for PRODUCTION: this API's list does not show it, POST answers 409
    other_api = publisher.state.add_api("PaymentsAPI", "2.0.0")
    publisher.state.put_client_cert(other_api, "partner-a", der(OTHER), "Gold")
    result = run_module(tmp_path, MODULE, present(publisher))
    assert result.failed, result
    assert "HTTP 409" in result["msg"] and "already exists for the key type PRODUCTION" in result["msg"], result["msg"]
    assert "choose another alias" in result["msg"]
    assert entry(publisher) is None


def test_expired_certificate_is_refused_before_any_write(tmp_path, publisher):
    expired, _key = expired_cert()
    result = run_module(tmp_path, MODULE, present(publisher, expired))
    assert result.failed and "expired" in result["msg"] and "Certificate Expired" in result["msg"], result
    assert publisher.state.calls == []


def test_bad_key_type_and_long_alias_are_refused_before_any_call(tmp_path, publisher):
    result = run_module(tmp_path, MODULE, present(publisher, key_type="STAGING"))
    assert result.failed and "key_type 'STAGING' is not PRODUCTION or SANDBOX" in result["msg"], result
    result = run_module(tmp_path, MODULE, present(publisher, alias="a" * 31))
    assert result.failed and "1 to 30" in result["msg"], result
    assert publisher.state.calls == []


def test_unknown_tier_is_refused_before_any_write(tmp_path, publisher):
    result = run_module(tmp_path, MODULE, present(publisher, tier="Platinum"), check=True)
    assert result.failed and "tier 'Platinum' is not a subscription tier" in result["msg"], result
    assert "Gold, Unlimited" in result["msg"]
    result = run_module(tmp_path, MODULE, present(publisher, tier="Platinum"))
    assert result.failed and "tier 'Platinum'" in result["msg"], result
    assert publisher.state.client_cert_writes() == []


def test_tier_is_required_to_add(tmp_path, publisher):
    given = present(publisher)
    del given["tier"]
    result = run_module(tmp_path, MODULE, given, check=True)
    assert result.failed and "tier is required to add" in result["msg"], result


def test_revision_created_and_deployed_to_the_current_environments(tmp_path, publisher):
    state = publisher.state
    before = {dep["name"]: dep["revisionUuid"] for dep in state.apis[API_ID]["deployments"]}
    given = present(publisher, deploy_revision=True)

    check = run_module(tmp_path, MODULE, given, check=True)
    assert not check.failed and check.changed, check
    assert check["gateways_updated"] is True and sorted(check["deployed_to"]) == ["Default", "External"]
    assert check["revision"] is None
    assert state.revision_writes() == [] and state.client_cert_writes() == []

    real = run_module(tmp_path, MODULE, given)
    assert not real.failed and real.changed and real["action"] == "added", real
    assert real["gateways_updated"] is True and sorted(real["deployed_to"]) == ["Default", "External"]
    assert not any("not yet on gateways" in warning for warning in real.get("warnings", []))
    revision = real["revision"]
    assert revision["id"] and revision["display_name"] == "Revision 2"
    assert [call[1].rsplit("/", 1)[1] for call in state.revision_writes()] == ["revisions", "deploy-revision"]
    assert ("POST", f"/api/am/publisher/v4/apis/{API_ID}/deploy-revision", f"revisionId={revision['id']}") in state.calls
    after = {dep["name"]: dep for dep in state.apis[API_ID]["deployments"]}
    assert sorted(after) == sorted(before) and all(dep["revisionUuid"] == revision["id"] for dep in after.values())
    assert after["External"]["vhost"] == "gw.example.com"
    for environment in ("Default", "External"):
        assert state.gateway_client_certs(API_ID, environment)[("PRODUCTION", "partner-a")] == ("Gold", der(PARTNER))

    again = run_module(tmp_path, MODULE, given)
    assert not again.failed and not again.changed and again["revision"] is None, again
    assert len(state.revision_writes()) == 2, "an unchanged run deployed"


def test_api_deployed_nowhere_says_so(tmp_path, publisher):
    undeployed = publisher.state.add_api("DraftAPI", "0.1.0", deployed_to=())
    result = run_module(tmp_path, MODULE, present(publisher, api_id=undeployed, deploy_revision=True))
    assert not result.failed and result.changed and result["gateways_updated"] is False, result
    assert any("deployed to no gateway environment" in warning for warning in result.get("warnings", [])), result
    assert publisher.state.revision_writes() == []


def test_failed_deployment_says_what_was_added_and_what_not(tmp_path, publisher):
    publisher.state.fail_next_deploys = 1
    result = run_module(tmp_path, MODULE, present(publisher, deploy_revision=True))
    assert result.failed, result
    message = result["msg"]
    assert "client certificate 'partner-a' (PRODUCTION) added for API 'OrdersAPI' 1.0.0 on the Publisher" in message
    assert "was created, but it is NOT on the gateways" in message and "HTTP 500" in message, message
    assert entry(publisher)["der"] == der(PARTNER)


def test_too_many_revisions_is_named(tmp_path, publisher):
    for _index in range(4):
        publisher.state.new_revision(publisher.state.apis[API_ID], "older")
    result = run_module(tmp_path, MODULE, present(publisher, deploy_revision=True))
    assert result.failed and "NOT on the gateways" in result["msg"] and "at most 5 revisions" in result["msg"], result


def test_deprecated_route_on_a_server_that_only_has_it(tmp_path, publisher):
    publisher.state.client_cert_routes = {"client-certificates"}  # API-M before 4.4
    _check, real = four_runs(tmp_path, present(publisher), first_action="added")
    assert real["route"] == "client-certificates"
    assert [call[:2] for call in publisher.state.client_cert_writes()] == [
        ("POST", f"/api/am/publisher/v4/apis/{API_ID}/client-certificates")]
    assert entry(publisher)["der"] == der(PARTNER)

    _check, _real = four_runs(tmp_path, present(publisher, PARTNER_NEW, tier="Unlimited"), first_action="replaced")
    assert entry(publisher)["der"] == der(PARTNER_NEW) and entry(publisher)["tier"] == "Unlimited"

    sandbox = run_module(tmp_path, MODULE, present(publisher, key_type="SANDBOX"))
    assert sandbox.failed and "key_type SANDBOX needs the client-certs route" in sandbox["msg"], sandbox

    explicit = run_module(tmp_path, MODULE, present(publisher, alias="partner-c", route="client-certs"))
    assert explicit.failed and "HTTP 404" in explicit["msg"] and "no such client-certificate route" in explicit["msg"]


def test_deprecated_route_chosen_explicitly(tmp_path, publisher):
    result = run_module(tmp_path, MODULE, present(publisher, route="client-certificates"))
    assert not result.failed and result["route"] == "client-certificates", result
    assert entry(publisher)["der"] == der(PARTNER)
    refused = run_module(tmp_path, MODULE, present(publisher, route="client-certificates", key_type="SANDBOX"))
    assert refused.failed and "PRODUCTION certificates only" in refused["msg"], refused


def test_least_scopes_are_asked_for(tmp_path, publisher):
    run_module(tmp_path, MODULE, present(publisher))
    granted = [grant["scopes"] for grant in publisher.state.tokens.values()]
    assert granted == [{"apim:api_view", "apim:client_certificates_view"},
                       {"apim:api_view", "apim:client_certificates_view", "apim:client_certificates_add"}]


def test_delete_needs_the_update_scope_not_manage(tmp_path, publisher):
    publisher.state.put_client_cert(API_ID, "partner-a", der(PARTNER), "Gold")
    publisher.state.add_user("manager", "Manager-Pass-2", scopes={"apim:api_view", "apim:client_certificates_manage"})
    absent = args(publisher, api_id=API_ID, alias="partner-a", state="absent", username="manager",
                  password="Manager-Pass-2")
    for check in (True, False):
        result = run_module(tmp_path, MODULE, absent, check=check)
        assert result.failed and "lacks a scope" in result["msg"] and "to delete" in result["msg"], result
        assert "apim:client_certificates_update" in result["msg"]
    assert publisher.state.client_cert_writes() == [] and entry(publisher) is not None

    added = run_module(tmp_path, MODULE, dict(absent, alias="partner-b", state="present", certificate=pem(OTHER),
                                              tier="Gold"))
    assert not added.failed and added["action"] == "added", added  # ..._manage covers add


def test_revision_needs_a_publish_scope(tmp_path, publisher):
    publisher.state.add_user("creator", "Creator-Pass-3",
                             scopes={"apim:api_view", "apim:client_certificates_view", "apim:client_certificates_add"})
    given = present(publisher, username="creator", password="Creator-Pass-3", deploy_revision=True)
    result = run_module(tmp_path, MODULE, given, check=True)
    assert result.failed and "to deploy" in result["msg"] and "apim:api_publish" in result["msg"], result
    assert publisher.state.client_cert_writes() == []


def test_no_secret_in_any_output_at_vvvv(tmp_path, publisher):
    first, out_first = run_module_raw(tmp_path, MODULE, present(publisher, deploy_revision=True), verbosity=4, diff=True)
    assert not first.failed, first
    publisher.state.fail_next_deploys = 1
    second, out_second = run_module_raw(tmp_path, MODULE, present(publisher, PARTNER_NEW, deploy_revision=True),
                                        verbosity=4, diff=True)
    assert second.failed
    issued = list(publisher.state.issued_secrets)
    assert len(issued) >= 3
    for output in (out_first, out_second):
        for secret in [PASSWORD] + issued:
            assert secret not in output, "a secret appears in ansible-playbook's output"


def test_token_auth(tmp_path, publisher):
    token = publisher.state.issue_token("admin", {"apim:api_manage"})
    given = present(publisher, token=token, deploy_revision=True)
    del given["username"], given["password"]
    result, output = run_module_raw(tmp_path, MODULE, given, verbosity=4)
    assert not result.failed and result["action"] == "added" and result["gateways_updated"] is True, result
    assert token not in output
