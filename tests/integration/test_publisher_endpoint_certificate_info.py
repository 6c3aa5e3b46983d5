"""publisher_endpoint_certificate_info run by ansible-playbook against the contract Publisher (no real API-M here)."""

from __future__ import annotations

import datetime
import os

import pytest

from tests.support.ansible import run_module
from tests.support.pki import der, expired_cert, make_cert, not_valid_after, not_valid_before, sha256
from tests.support.publisher_server import SPEC, SPEC_MISSING, publisher_server

pytestmark = pytest.mark.skipif(not os.path.exists(SPEC), reason=SPEC_MISSING)

INFO = "apim.certificates.publisher_endpoint_certificate_info"
PASSWORD = "Info-Secret-4a1b"
CERTS = [make_cert(f"backend{index}.test")[0] for index in range(30)]
ORDERS_API = {"id": "0123-api", "name": "OrdersAPI", "context": "/orders", "version": "1.0.0", "provider": "admin"}


@pytest.fixture
def publisher():
    with publisher_server() as server:
        server.state.add_user("admin", PASSWORD)
        for index, cert in enumerate(CERTS):
            server.state.put_row(f"backend{index:02d}", f"https://backend{index % 3}.internal", der(cert))
        server.state.usage["backend00"] = [ORDERS_API]
        yield server
        assert server.state.violations == [], "requests the OpenAPI document does not allow"
        assert server.state.writes() == [], "an info module wrote"


def args(server, **extra):
    base = {"publisher_url": server.url, "ca_path": server.ca_file, "username": "admin", "password": PASSWORD}
    base.update(extra)
    return base


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_page_with_facts_usage_and_iso_dates_in_check_mode(tmp_path, publisher):
    expired, _key = expired_cert()
    publisher.state.put_row("old-backend", "https://old.internal", der(expired))
    publisher.state.zone = ("CET", 60)  # the JVM prints its own zone: Wed Jan 01 01:00:00 CET 2025

    result = run_module(tmp_path, INFO, args(publisher), check=True)
    assert not result.failed and not result.changed, result
    assert result["count"] == 31
    by_alias = {item["alias"]: item for item in result["certificates"]}
    assert sorted(by_alias) == sorted([f"backend{i:02d}" for i in range(30)] + ["old-backend"])
    first = by_alias["backend00"]
    assert first["fingerprint"] == sha256(CERTS[0])
    assert first["endpoint"] == "https://backend0.internal"
    assert first["status"] == "active"
    assert first["valid_to"] == _iso(not_valid_after(CERTS[0]))
    assert first["valid_from"] == _iso(not_valid_before(CERTS[0]))
    assert first["apis"] == [ORDERS_API]
    assert by_alias["backend01"]["apis"] == []
    assert by_alias["old-backend"]["status"] == "expired"
    assert by_alias["old-backend"]["valid_to"] == _iso(not_valid_after(expired))
    offsets = [call[2] for call in publisher.state.calls if call[1].endswith("/endpoint-certificates")]
    assert offsets == ["limit=25&offset=0", "limit=25&offset=25"], "the second page was not read"


def test_filters_are_exact_and_both_must_match(tmp_path, publisher):
    both = run_module(tmp_path, INFO, args(publisher, alias="backend04", endpoint="https://backend1.internal"))
    assert not both.failed, both
    assert [item["alias"] for item in both["certificates"]] == ["backend04"]

    neither = run_module(tmp_path, INFO, args(publisher, alias="backend04", endpoint="https://backend2.internal"))
    assert not neither.failed and neither["certificates"] == [] and neither["count"] == 0, neither

    usage_calls = len([call for call in publisher.state.calls if call[1].endswith("/usage")])
    by_endpoint = run_module(tmp_path, INFO, args(publisher, endpoint="https://backend2.internal", usage=False))
    assert not by_endpoint.failed, by_endpoint
    assert [item["alias"] for item in by_endpoint["certificates"]] == [f"backend{i:02d}" for i in range(2, 30, 3)]
    assert all(item["apis"] is None for item in by_endpoint["certificates"])
    assert len([call for call in publisher.state.calls if call[1].endswith("/usage")]) == usage_calls


def test_v3_has_no_usage_and_asks_only_for_view(tmp_path, publisher):
    result = run_module(tmp_path, INFO, args(publisher, api_version="v3", alias="backend00"))
    assert not result.failed and result["count"] == 1, result
    assert result["certificates"][0]["apis"] is None
    assert [grant["scopes"] for grant in publisher.state.tokens.values()] == [{"apim:ep_certificates_view"}]


def test_tenant_sees_only_its_own(tmp_path, publisher):
    publisher.state.add_user("ops@tenant.example.com", "Tenant-Pass-2", tenant_id=3)
    mine, _key = make_cert("tenant.backend.test")
    publisher.state.put_row("tenant-backend", "https://t.internal", der(mine), tenant="tenant.example.com")
    result = run_module(tmp_path, INFO, args(publisher, username="ops@tenant.example.com", password="Tenant-Pass-2"))
    assert not result.failed, result
    assert [item["alias"] for item in result["certificates"]] == ["tenant-backend"]
