"""publisher_client_certificate_info run by ansible-playbook against the contract Publisher (no real API-M here)."""

from __future__ import annotations

import os

import pytest

from tests.support.ansible import run_module
from tests.support.pki import der, expired_cert, make_cert, not_valid_after, sha256
from tests.support.publisher_server import SPEC, SPEC_MISSING, publisher_server

pytestmark = pytest.mark.skipif(not os.path.exists(SPEC), reason=SPEC_MISSING)

INFO = "apim.certificates.publisher_client_certificate_info"
PASSWORD = "Info-Mtls-3e9a"
API_ID = "7a1c3e55-0000-4000-8000-00000000b002"
CERTS = [make_cert(f"client{index}.test")[0] for index in range(28)]
EXPIRED, _key = expired_cert()


@pytest.fixture
def publisher():
    with publisher_server() as server:
        server.state.add_user("admin", PASSWORD)
        server.state.add_api("OrdersAPI", "1.0.0", api_id=API_ID)
        for index, cert in enumerate(CERTS):
            server.state.put_client_cert(API_ID, f"client{index:02d}", der(cert), "Gold" if index % 2 else "Unlimited")
        server.state.put_client_cert(API_ID, "tester", der(CERTS[0]), "Unlimited", key_type="SANDBOX")
        server.state.put_client_cert(API_ID, "old-client", der(EXPIRED), "Gold", key_type="SANDBOX")
        yield server
        assert server.state.violations == [], "requests the OpenAPI document does not allow"
        assert server.state.client_cert_writes() == [] and server.state.revision_writes() == [], "an info module wrote"


def args(server, **extra):
    base = {"publisher_url": server.url, "ca_path": server.ca_file, "username": "admin", "password": PASSWORD}
    base.update(extra)
    return base


def test_every_page_of_both_key_types_by_name_in_check_mode(tmp_path, publisher):
    result = run_module(tmp_path, INFO, args(publisher, api_name="OrdersAPI", api_version_name="1.0.0"), check=True)
    assert not result.failed and not result.changed, result
    assert result["count"] == 30 and result["route"] == "client-certs"
    assert result["api"]["id"] == API_ID
    by_key = {(item["key_type"], item["alias"]): item for item in result["certificates"]}
    assert len([key for key in by_key if key[0] == "PRODUCTION"]) == 28
    first = by_key[("PRODUCTION", "client01")]
    assert first["fingerprint"] == sha256(CERTS[1]) and first["tier"] == "Gold" and first["status"] == "active"
    assert first["valid_to"] == not_valid_after(CERTS[1]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert by_key[("SANDBOX", "tester")]["tier"] == "Unlimited"
    assert by_key[("SANDBOX", "old-client")]["status"] == "expired"
    offsets = [call[2] for call in publisher.state.calls if call[1].endswith("/client-certs/PRODUCTION")]
    assert offsets == ["limit=25&offset=0", "limit=25&offset=25"], "the second page was not read"
    assert [grant["scopes"] for grant in publisher.state.tokens.values()] == [
        {"apim:api_view", "apim:client_certificates_view"}]


def test_filters(tmp_path, publisher):
    one = run_module(tmp_path, INFO, args(publisher, api_id=API_ID, alias="tester", key_type="sandbox"))
    assert not one.failed and [item["alias"] for item in one["certificates"]] == ["tester"], one
    none = run_module(tmp_path, INFO, args(publisher, api_id=API_ID, alias="tester", key_type="PRODUCTION"))
    assert not none.failed and none["count"] == 0, none
    bad = run_module(tmp_path, INFO, args(publisher, api_id=API_ID, key_type="STAGING"))
    assert bad.failed and "not PRODUCTION or SANDBOX" in bad["msg"], bad


def test_deprecated_route_lists_production_only(tmp_path, publisher):
    publisher.state.client_cert_routes = {"client-certificates"}
    result = run_module(tmp_path, INFO, args(publisher, api_id=API_ID))
    assert not result.failed and result["route"] == "client-certificates", result
    assert result["count"] == 28 and {item["key_type"] for item in result["certificates"]} == {"PRODUCTION"}


def test_unknown_api(tmp_path, publisher):
    result = run_module(tmp_path, INFO, args(publisher, api_name="OrdersAPI", api_version_name="9.9.9"))
    assert result.failed and "no API named 'OrdersAPI' with version '9.9.9'" in result["msg"], result
