"""The Publisher route's pure logic: Java dates, the plan, what is refused before any call, error texts."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _publisher as pub
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError, PublisherError
from ansible_collections.apim.certificates.plugins.module_utils._publisher_client import (
    Connection,
    Credentials,
    Response,
    dcr_client_name,
    java_date_to_datetime,
    wso2_message,
)
from tests.support.pki import der, expired_cert, make_cert, not_valid_after, not_valid_before, pem, sha256

UTC = datetime.timezone.utc
CERT, _KEY = make_cert("unit.backend.test")
OTHER, _OTHER_KEY = make_cert("other.backend.test")


@pytest.mark.parametrize("text, expected", [
    ("Wed Jan 01 00:00:00 UTC 2025", datetime.datetime(2025, 1, 1, tzinfo=UTC)),
    ("Wed Jan 01 00:00:00 GMT 2025", datetime.datetime(2025, 1, 1, tzinfo=UTC)),
    ("Wed Jan 01 01:00:00 CET 2025", datetime.datetime(2025, 1, 1, tzinfo=UTC)),
    ("Tue Jul 01 02:00:00 CEST 2025", datetime.datetime(2025, 7, 1, tzinfo=UTC)),
    ("Tue Dec 31 19:00:00 EST 2024", datetime.datetime(2025, 1, 1, tzinfo=UTC)),
    ("Wed Jan 01 05:30:00 GMT+05:30 2025", datetime.datetime(2025, 1, 1, tzinfo=UTC)),
    ("Tue Dec 31 21:00:00 GMT-03:00 2024", datetime.datetime(2025, 1, 1, tzinfo=UTC)),
    ("Sat Feb 01 09:00:00 JST 2025", datetime.datetime(2025, 2, 1, tzinfo=UTC)),
    # Ambiguous (India, Israel, Ireland) or unknown zones, and what is no Java date, give None.
    ("Wed Jan 01 05:30:00 IST 2025", None),
    ("Wed Jan 01 00:00:00 XYZ 2025", None),
    ("2025-01-01T00:00:00Z", None),
    ("Wed Feb 30 00:00:00 UTC 2025", None),
    ("", None),
    (None, None),
])
def test_java_dates(text, expected):
    assert java_date_to_datetime(text) == expected


def test_facts_convert_java_dates_and_fall_back_to_the_certificate():
    info = {"status": "Active", "subject": "CN=unit.backend.test",
            "validity": {"from": "Wed Jan 01 01:00:00 CET 2025", "to": "Fri Jan 01 01:00:00 CET 2027"}}
    facts = pub.facts_from_der("a", "https://e", der(CERT), info)
    assert facts["valid_from"] == "2025-01-01T00:00:00Z" and facts["valid_to"] == "2027-01-01T00:00:00Z"
    assert facts["status"] == "active" and facts["fingerprint"] == sha256(CERT)

    ambiguous = {"status": "Active", "validity": {"from": "Wed Jan 01 05:30:00 IST 2025", "to": "x"}}
    facts = pub.facts_from_der("a", "https://e", der(CERT), ambiguous)
    assert facts["valid_to"] == not_valid_after(CERT).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert facts["valid_from"] == not_valid_before(CERT).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("current, desired, action", [
    (None, ("present", "https://e", CERT), "added"),
    (("https://e", CERT), ("present", "https://e", CERT), "unchanged"),
    (("https://e", CERT), ("present", "https://e", OTHER), "replaced"),
    (("https://old", CERT), ("present", "https://e", CERT), "replaced"),
    (("https://e", CERT), ("absent", None, None), "removed"),
    (None, ("absent", None, None), "unchanged"),
])
def test_plan(current, desired, action):
    now = pub.Current("a", current[0], der(current[1])) if current else None
    state, endpoint, cert = desired
    wanted = pub.load_desired(alias="a", state=state, endpoint=endpoint, certificate=pem(cert) if cert else None)
    assert pub.plan(now, wanted) == action


def test_expired_is_refused_with_its_date():
    expired, _key = expired_cert()
    with pytest.raises(ApimCertificatesError) as caught:
        pub.load_desired(alias="a", endpoint="https://e", certificate=pem(expired))
    assert "expired on " + not_valid_after(expired).strftime("%Y-%m-%d") in str(caught.value)
    assert "Certificate Expired" in str(caught.value)


def test_expiry_is_judged_at_the_moment_given():
    later = not_valid_after(CERT) + datetime.timedelta(seconds=1)
    with pytest.raises(ApimCertificatesError, match="expired"):
        pub.load_desired(alias="a", endpoint="https://e", certificate=pem(CERT), now=later)


@pytest.mark.parametrize("kwargs, says", [
    ({"alias": "a" * 31}, "1 to 30"),
    ({"alias": ""}, "alias is empty"),
    ({"alias": "a/b"}, "slash"),
    ({"alias": " a"}, "surrounding spaces"),
    ({"endpoint": None}, "endpoint is required"),
    ({"certificate": None}, "certificate or certificate_path is required"),
    ({"certificate": pem(CERT) + pem(OTHER)}, "holds 2 certificates"),
    ({"certificate": "garbage"}, "not a certificate"),
    ({"certificate": None, "certificate_path": "/nonexistent/cert.pem"}, "cannot read /nonexistent/cert.pem"),
])
def test_refused_before_any_call(kwargs, says):
    given = {"alias": "a", "endpoint": "https://e", "certificate": pem(CERT)}
    given.update(kwargs)
    with pytest.raises(ApimCertificatesError, match=says):
        pub.load_desired(**given)


def test_absent_needs_no_certificate():
    assert pub.load_desired(alias="a", state="absent").der is None


def test_pem_round_trip():
    assert pub.to_pem(der(CERT)) == pem(CERT)


@pytest.mark.parametrize("body, expected", [
    (b'{"code":409,"message":"The alias \'a\' already exists in the trust store.","description":"x"}',
     "The alias 'a' already exists in the trust store.: x"),
    (b'{"code":401,"message":"","description":"Unauthenticated request"}', "Unauthenticated request"),
    (b'{"error":"invalid_grant","error_description":"Authentication failed for admin"}',
     "invalid_grant: Authentication failed for admin"),
    (b"<html>proxy error</html>", "'<html>proxy error</html>'"),
    (b"", "(empty)"),
])
def test_wso2_messages(body, expected):
    assert wso2_message(body) == expected


@pytest.mark.parametrize("kwargs, says", [
    ({"publisher_url": "apim.example.com:9443"}, "is not a URL"),
    ({"publisher_url": "https://a:9443", "api_version": "v5"}, "api_version"),
    ({"publisher_url": "https://a:9443/api/am/publisher/v4"}, "holds the API's path"),
])
def test_connection_is_checked(kwargs, says):
    with pytest.raises(PublisherError, match=says):
        Connection(**kwargs)


def test_connection_paths():
    connection = Connection("https://apim.example.com:9443/", api_version="v3")
    assert connection.base == "https://apim.example.com:9443/api/am/publisher/v3"
    behind_proxy = Connection("https://proxy.example.com/apim/")
    assert behind_proxy.base == "https://proxy.example.com/apim/api/am/publisher/v4"
    assert behind_proxy.server == "https://proxy.example.com/apim"


@pytest.mark.parametrize("kwargs, says", [
    ({}, "give username and password"),
    ({"username": "admin"}, "give username and password"),
    ({"token": "t", "username": "admin"}, "token is given"),
    ({"username": "a", "password": "p", "client_id": "c"}, "go together"),
])
def test_credentials_are_checked(kwargs, says):
    with pytest.raises(PublisherError, match=says):
        Credentials(**kwargs)


def test_dcr_client_name_is_stable_and_plain():
    assert dcr_client_name("ops@tenant.example.com") == "apim_certificates_ops_tenant_example_com"


def test_failure_messages_name_operation_status_and_wso2s_words():
    from ansible_collections.apim.certificates.plugins.module_utils._publisher_client import failure

    error = failure("delete the certificate for alias 'a' (DELETE)", Response(404, {}, b'{"code":404,"message":"Certificate for alias \'a\' is not found."}'))
    assert str(error) == "delete the certificate for alias 'a' (DELETE): HTTP 404: Certificate for alias 'a' is not found."
