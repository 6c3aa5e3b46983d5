"""publisher_endpoint_certificate run by ansible-playbook against the contract Publisher (no real API-M runs here).

The contract server (tests/support/publisher_server.py) validates every Publisher API request against WSO2's OpenAPI
document and answers as API-M 4.x does (../shared/docs/publisher-api.md); each test ends by checking that no request
broke the document.
"""

from __future__ import annotations

import os
import socket

import pytest

from tests.support.ansible import run_module, run_module_raw
from tests.support.pki import der, expired_cert, make_cert, not_valid_after, not_valid_before, pem, sha256
from tests.support.publisher_server import SPEC, SPEC_MISSING, publisher_server

pytestmark = pytest.mark.skipif(not os.path.exists(SPEC), reason=SPEC_MISSING)

MODULE = "apim.certificates.publisher_endpoint_certificate"
PASSWORD = "Pub-Secret-9f3e"
ORDERS, _k1 = make_cert("orders.backend.test")
ORDERS_NEW, _k2 = make_cert("orders.backend.test")
PAYMENTS, _k3 = make_cert("payments.backend.test", key_kind="ec")
ENDPOINT = "https://orders.internal:8443"


@pytest.fixture
def publisher():
    with publisher_server() as server:
        server.state.add_user("admin", PASSWORD)
        yield server
        assert server.state.violations == [], "requests the OpenAPI document does not allow"
        assert not [call for call in server.state.calls if call[0] == "PUT"], "PUT never propagates: never use it"


def args(server, **extra):
    base = {"publisher_url": server.url, "ca_path": server.ca_file, "username": "admin", "password": PASSWORD}
    base.update(extra)
    return base


def present(server, cert=ORDERS, alias="orders", endpoint=ENDPOINT, **extra):
    return args(server, alias=alias, endpoint=endpoint, certificate=pem(cert), **extra)


def test_add_check_real_check_real(tmp_path, publisher):
    state = publisher.state

    check = run_module(tmp_path, MODULE, present(publisher), check=True, diff=True)
    assert not check.failed, check
    assert check.changed and check["action"] == "added"
    assert check["diff"]["before"] == {}
    assert check["diff"]["after"]["fingerprint"] == sha256(ORDERS)
    assert state.writes() == [] and state.rows == {}, "check mode wrote"

    real = run_module(tmp_path, MODULE, present(publisher), diff=True)
    assert not real.failed, real
    assert real.changed and real["action"] == "added"
    assert real["diff"] == check["diff"]
    assert state.rows["orders"]["der"] == der(ORDERS)  # accepted although API-M answers 201, not the spec's 200
    served = real["certificate"]
    assert served["fingerprint"] == sha256(ORDERS)
    assert served["endpoint"] == ENDPOINT and served["alias"] == "orders"
    assert served["status"] == "active"
    assert served["valid_to"] == not_valid_after(ORDERS).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert served["valid_from"] == not_valid_before(ORDERS).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "orders.backend.test" in served["subject"]

    writes = len(state.writes())
    again_check = run_module(tmp_path, MODULE, present(publisher), check=True, diff=True)
    assert not again_check.failed and not again_check.changed, again_check
    assert again_check["action"] == "unchanged"
    assert again_check["diff"]["before"] == again_check["diff"]["after"]
    again = run_module(tmp_path, MODULE, present(publisher))
    assert not again.failed and not again.changed and again["action"] == "unchanged", again
    assert len(state.writes()) == writes, "an unchanged run wrote"


def test_certificate_path_der_file_is_read(tmp_path, publisher):
    path = tmp_path / "orders.der"
    path.write_bytes(der(ORDERS))
    result = run_module(tmp_path, MODULE, args(publisher, alias="orders", endpoint=ENDPOINT, certificate_path=str(path)))
    assert not result.failed and result["action"] == "added", result
    assert publisher.state.rows["orders"]["der"] == der(ORDERS)


def test_replace_is_delete_then_post_and_check_mode_writes_nothing(tmp_path, publisher):
    publisher.state.put_row("orders", ENDPOINT, der(ORDERS))

    check = run_module(tmp_path, MODULE, present(publisher, ORDERS_NEW), check=True, diff=True)
    assert not check.failed and check.changed and check["action"] == "replaced", check
    assert check["diff"]["before"]["fingerprint"] == sha256(ORDERS)
    assert check["diff"]["after"]["fingerprint"] == sha256(ORDERS_NEW)
    assert publisher.state.writes() == []

    real = run_module(tmp_path, MODULE, present(publisher, ORDERS_NEW), diff=True)
    assert not real.failed and real.changed and real["action"] == "replaced", real
    assert [call[0] for call in publisher.state.writes()] == ["DELETE", "POST"]
    assert publisher.state.rows["orders"]["der"] == der(ORDERS_NEW)
    assert real["certificate"]["fingerprint"] == sha256(ORDERS_NEW)


def test_a_new_endpoint_alone_is_a_replacement(tmp_path, publisher):
    publisher.state.put_row("orders", "https://old.internal", der(ORDERS))
    result = run_module(tmp_path, MODULE, present(publisher), diff=True)
    assert not result.failed and result["action"] == "replaced", result
    assert result["diff"]["before"]["endpoint"] == "https://old.internal"
    assert publisher.state.rows["orders"]["endpoint"] == ENDPOINT


def test_failed_post_after_delete_restores_the_old_certificate(tmp_path, publisher):
    publisher.state.put_row("orders", ENDPOINT, der(ORDERS))
    publisher.state.fail_next_posts = 1

    result = run_module(tmp_path, MODULE, present(publisher, ORDERS_NEW))
    assert result.failed
    assert "old certificate was deleted" in result["msg"] and "was put back" in result["msg"], result["msg"]
    assert "HTTP 500" in result["msg"]
    assert publisher.state.rows["orders"]["der"] == der(ORDERS)
    assert publisher.state.rows["orders"]["endpoint"] == ENDPOINT


def test_failed_restore_says_the_alias_is_absent(tmp_path, publisher):
    publisher.state.put_row("orders", ENDPOINT, der(ORDERS))
    publisher.state.fail_next_posts = 2

    result = run_module(tmp_path, MODULE, present(publisher, ORDERS_NEW))
    assert result.failed
    assert "ABSENT" in result["msg"] and sha256(ORDERS) in result["msg"], result["msg"]
    assert "orders" not in publisher.state.rows


def test_absent_check_real_again(tmp_path, publisher):
    publisher.state.put_row("orders", ENDPOINT, der(ORDERS))
    absent = args(publisher, alias="orders", state="absent")

    check = run_module(tmp_path, MODULE, absent, check=True, diff=True)
    assert not check.failed and check.changed and check["action"] == "removed", check
    assert check["diff"]["after"] == {} and check["diff"]["before"]["fingerprint"] == sha256(ORDERS)
    assert publisher.state.writes() == [] and "orders" in publisher.state.rows

    real = run_module(tmp_path, MODULE, absent, diff=True)
    assert not real.failed and real.changed and real["action"] == "removed", real
    assert real["certificate"] is None
    assert "orders" not in publisher.state.rows

    again = run_module(tmp_path, MODULE, absent)
    assert not again.failed and not again.changed and again["action"] == "unchanged", again


def test_delete_answering_500_with_the_row_gone_is_removed(tmp_path, publisher):
    # The Publisher node's truststore lacks the alias: API-M deletes the row, then answers 500.
    publisher.state.put_row("orders", ENDPOINT, der(ORDERS), truststore=False)
    result = run_module(tmp_path, MODULE, args(publisher, alias="orders", state="absent"))
    assert not result.failed, result
    assert result.changed and result["action"] == "removed"
    assert ("DELETE", "/api/am/publisher/v4/endpoint-certificates/orders", "") in publisher.state.calls
    assert ("GET", "/api/am/publisher/v4/endpoint-certificates/orders", "") in publisher.state.calls


def test_duplicate_alias_in_another_case_is_named(tmp_path, publisher):
    publisher.state.put_row("backend", ENDPOINT, der(ORDERS))
    result = run_module(tmp_path, MODULE, present(publisher, PAYMENTS, alias="Backend"))
    assert result.failed
    assert "HTTP 409" in result["msg"] and "already exists in the trust store" in result["msg"], result["msg"]
    assert "'backend'" in result["msg"] and "case-insensitively" in result["msg"]
    assert publisher.state.rows["backend"]["der"] == der(ORDERS)


def test_alias_held_only_by_the_truststore_is_a_409(tmp_path, publisher):
    result = run_module(tmp_path, MODULE, present(publisher, alias="WSO2Carbon"))
    assert result.failed and "HTTP 409" in result["msg"], result
    assert "choose another alias" in result["msg"]


def test_alias_of_another_tenant_gets_a_clear_message(tmp_path, publisher):
    publisher.state.put_row("shared", ENDPOINT, der(ORDERS), tenant="other.example.com")
    result = run_module(tmp_path, MODULE, present(publisher, alias="shared"))
    assert result.failed
    assert "HTTP 500" in result["msg"] and "another tenant" in result["msg"], result["msg"]
    assert publisher.state.rows["shared"]["tenant"] == "other.example.com"


def test_tenant_user_manages_its_tenant(tmp_path, publisher):
    publisher.state.add_user("ops@tenant.example.com", "Tenant-Pass-1", tenant_id=7)
    tenant = present(publisher, alias="orders", username="ops@tenant.example.com", password="Tenant-Pass-1")
    result = run_module(tmp_path, MODULE, tenant)
    assert not result.failed and result["action"] == "added", result
    assert publisher.state.rows["orders"]["tenant"] == "tenant.example.com"
    # The super tenant does not see it, and cannot take the alias (aliases are unique across tenants).
    other = run_module(tmp_path, MODULE, present(publisher, alias="orders"))
    assert other.failed and "another tenant" in other["msg"], other


def test_expired_certificate_is_refused_before_any_call(tmp_path, publisher):
    expired, _key = expired_cert()
    result = run_module(tmp_path, MODULE, present(publisher, expired))
    assert result.failed
    assert "expired" in result["msg"] and "Certificate Expired" in result["msg"], result["msg"]
    assert publisher.state.calls == []


@pytest.mark.parametrize("content, says", [
    ("not a certificate at all", "not a certificate"),
    (pem(ORDERS) + pem(PAYMENTS), "holds 2 certificates"),
])
def test_bad_certificate_content_is_refused_before_any_call(tmp_path, publisher, content, says):
    result = run_module(tmp_path, MODULE, args(publisher, alias="orders", endpoint=ENDPOINT, certificate=content))
    assert result.failed and says in result["msg"], result
    assert publisher.state.calls == []


def test_alias_longer_than_the_publisher_takes(tmp_path, publisher):
    result = run_module(tmp_path, MODULE, present(publisher, alias="a" * 31))
    assert result.failed and "1 to 30" in result["msg"], result
    assert publisher.state.calls == []


def test_wrong_password_is_said_plainly_and_not_shown(tmp_path, publisher):
    result, output = run_module_raw(tmp_path, MODULE, present(publisher, password="Wrong-Pass-77"), verbosity=4)
    assert result.failed
    assert "username 'admin' or its password" in result["msg"], result["msg"]
    assert "Wrong-Pass-77" not in output


def test_wrong_password_with_a_client_is_said_plainly(tmp_path, publisher):
    client = _client(publisher)
    result = run_module(tmp_path, MODULE, present(publisher, password="Wrong-Pass-77", **client))
    assert result.failed and "Wrong username or password for 'admin'" in result["msg"], result


def test_missing_scope_is_said_and_nothing_written(tmp_path, publisher):
    publisher.state.add_user("viewer", "Viewer-Pass-1", scopes={"apim:ep_certificates_view", "apim:api_view"})
    result = run_module(tmp_path, MODULE, present(publisher, username="viewer", password="Viewer-Pass-1"))
    assert result.failed
    assert "lacks a scope" in result["msg"] and "to add" in result["msg"] and "apim:ep_certificates_add" in result["msg"]
    assert publisher.state.writes() == []


def test_check_mode_reports_the_missing_scope_the_real_run_would_hit(tmp_path, publisher):
    publisher.state.add_user("viewer", "Viewer-Pass-1", scopes={"apim:ep_certificates_view", "apim:api_view"})
    result = run_module(tmp_path, MODULE, present(publisher, username="viewer", password="Viewer-Pass-1"), check=True)
    assert result.failed and "lacks a scope" in result["msg"] and "apim:ep_certificates_add" in result["msg"], result
    assert publisher.state.writes() == []


def test_least_scopes_are_asked_for(tmp_path, publisher):
    run_module(tmp_path, MODULE, present(publisher))
    granted = [grant["scopes"] for grant in publisher.state.tokens.values()]
    assert granted == [{"apim:ep_certificates_view"}, {"apim:ep_certificates_view", "apim:ep_certificates_add"}]


def test_manage_scope_is_the_fallback(tmp_path, publisher):
    publisher.state.add_user("manager", "Manager-Pass-1", scopes={"apim:ep_certificates_manage"})
    result = run_module(tmp_path, MODULE, present(publisher, username="manager", password="Manager-Pass-1"))
    assert not result.failed and result["action"] == "added", result


def test_token_without_the_scope_is_said(tmp_path, publisher):
    token = publisher.state.issue_token("admin", {"apim:subscription_view"})
    given = present(publisher, token=token)
    del given["username"], given["password"]
    result = run_module(tmp_path, MODULE, given)
    assert result.failed and "HTTP 401" in result["msg"] and "lacks the scope" in result["msg"], result


def test_token_auth(tmp_path, publisher):
    token = publisher.state.issue_token("admin", {"apim:ep_certificates_manage"})
    given = present(publisher, token=token)
    del given["username"], given["password"]
    result, output = run_module_raw(tmp_path, MODULE, given, verbosity=4)
    assert not result.failed and result["action"] == "added", result
    assert token not in output
    assert not [call for call in publisher.state.calls if call[1] in ("/oauth2/token", "/client-registration/v0.17/register")]


def _client(server) -> dict:
    """An OAuth client registered beforehand, as an administrator would."""
    server.state.clients["fixed-client"] = {"secret": "Fixed-Client-Secret-5", "owner": "admin", "name": "fixed",
                                            "grants": ["password"]}
    server.state.issued_secrets.append("Fixed-Client-Secret-5")
    return {"client_id": "fixed-client", "client_secret": "Fixed-Client-Secret-5"}


def test_client_id_and_secret_skip_dcr(tmp_path, publisher):
    result = run_module(tmp_path, MODULE, present(publisher, **_client(publisher)))
    assert not result.failed and result["action"] == "added", result
    assert not [call for call in publisher.state.calls if call[1] == "/client-registration/v0.17/register"]


def test_no_secret_in_any_output_at_vvvv(tmp_path, publisher):
    # A real change, a failing replacement and a diff, all at -vvvv.
    first, out_first = run_module_raw(tmp_path, MODULE, present(publisher), verbosity=4, diff=True)
    assert not first.failed, first
    publisher.state.fail_next_posts = 1
    second, out_second = run_module_raw(tmp_path, MODULE, present(publisher, ORDERS_NEW), verbosity=4, diff=True)
    assert second.failed
    issued = list(publisher.state.issued_secrets)
    assert len(issued) >= 3  # a client secret and tokens were handed out
    for output in (out_first, out_second):
        for secret in [PASSWORD] + issued:
            assert secret not in output, "a secret appears in ansible-playbook's output"


@pytest.mark.parametrize("version, scope", [("v3", "apim:ep_certificates_view"), ("v1", "apim:api_view")])
def test_older_api_versions(tmp_path, publisher, version, scope):
    result = run_module(tmp_path, MODULE, present(publisher, api_version=version))
    assert not result.failed and result["action"] == "added", result
    assert ("POST", f"/api/am/publisher/{version}/endpoint-certificates", "") in publisher.state.calls
    assert scope in list(publisher.state.tokens.values())[0]["scopes"]


def test_unreachable_publisher(tmp_path, publisher):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    result = run_module(tmp_path, MODULE, present(publisher, publisher_url=f"https://127.0.0.1:{port}", timeout=5))
    assert result.failed
    assert "register an OAuth client" in result["msg"] and "connection refused" in result["msg"], result["msg"]


def test_timeout_is_honoured(tmp_path, publisher):
    with socket.socket() as silent:  # accepts connections (backlog) and never answers the TLS handshake
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        given = present(publisher, publisher_url=f"https://127.0.0.1:{silent.getsockname()[1]}", timeout=2)
        result = run_module(tmp_path, MODULE, given)
    assert result.failed
    assert "no answer from" in result["msg"] and "within 2 s (timeout)" in result["msg"], result["msg"]


def test_tls_failure_without_ca_path(tmp_path, publisher):
    given = present(publisher)
    del given["ca_path"]
    result = run_module(tmp_path, MODULE, given)
    assert result.failed
    assert "TLS verification" in result["msg"] and "ca_path" in result["msg"], result["msg"]
    assert publisher.state.calls == []


def test_validate_certs_false_reaches_the_publisher(tmp_path, publisher):
    given = present(publisher, validate_certs=False)
    del given["ca_path"]
    result = run_module(tmp_path, MODULE, given)
    assert not result.failed and result["action"] == "added", result
