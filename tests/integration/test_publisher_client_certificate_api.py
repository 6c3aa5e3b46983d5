"""The Publisher's own 400 and 409 answers for client certificates, met through the library's client.

The module refuses an expired certificate and a bad key type before any call, so it never meets these answers; a
caller that reaches them (a certificate expiring between the check and the call, a Publisher that differs) still gets
a clear error naming the operation, the status and WSO2's message.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.apim.certificates.plugins.module_utils._errors import PublisherError
from ansible_collections.apim.certificates.plugins.module_utils._publisher_mtls import connect_with
from tests.support.pki import der, expired_cert, make_cert, pem
from tests.support.publisher_server import SPEC, SPEC_MISSING, publisher_server

pytestmark = pytest.mark.skipif(not os.path.exists(SPEC), reason=SPEC_MISSING)

PASSWORD = "Api-Mtls-5b1f"
API_ID = "7a1c3e55-0000-4000-8000-00000000c003"
CERT, _key = make_cert("client.test")
NEEDS = ("find", "view", "add", "update", "delete")


@pytest.fixture
def publisher():
    with publisher_server() as server:
        server.state.add_user("admin", PASSWORD)
        server.state.add_api("OrdersAPI", "1.0.0", api_id=API_ID)
        yield server
        assert server.state.violations == [], "requests the OpenAPI document does not allow"


@pytest.fixture
def client(publisher):
    return connect_with({"publisher_url": publisher.url, "ca_path": publisher.ca_file, "username": "admin",
                         "password": PASSWORD})


def test_expired_certificate_answers_400_with_a_clear_error(publisher, client):
    expired, _expired_key = expired_cert()
    with pytest.raises(PublisherError) as raised:
        client.add_certificate("client-certs", API_ID, "PRODUCTION", "old", pem(expired), "Gold", NEEDS)
    message = str(raised.value)
    assert "add client certificate 'old' (PRODUCTION) (POST): HTTP 400" in message
    assert "Certificate Expired" in message and "give a valid one" in message


@pytest.mark.parametrize("key_type", ["STAGING", "production "])
def test_other_key_type_answers_400(publisher, client, key_type):
    with pytest.raises(PublisherError) as raised:
        client.add_certificate("client-certs", API_ID, key_type, "c", pem(CERT), "Gold", NEEDS)
    assert "HTTP 400" in str(raised.value) and "Key type should be either PRODUCTION or SANDBOX" in str(raised.value)


def test_key_type_is_case_insensitive_on_the_server(publisher, client):
    client.add_certificate("client-certs", API_ID, "sandbox", "c", pem(CERT), "Gold", NEEDS)
    assert publisher.state.client_certs[(API_ID, "SANDBOX", "c")]["der"] == der(CERT)


def test_existing_alias_answers_409_for_its_key_type_only(publisher, client):
    client.add_certificate("client-certs", API_ID, "PRODUCTION", "c", pem(CERT), "Gold", NEEDS)
    with pytest.raises(PublisherError) as raised:
        client.add_certificate("client-certs", API_ID, "PRODUCTION", "c", pem(CERT), "Gold", NEEDS)
    assert "HTTP 409" in str(raised.value) and "choose another alias" in str(raised.value)
    client.add_certificate("client-certs", API_ID, "SANDBOX", "c", pem(CERT), "Gold", NEEDS)


def test_add_answers_201_with_alias_api_id_and_tier(publisher, client):
    client.add_certificate("client-certs", API_ID, "PRODUCTION", "c", pem(CERT), "Gold", NEEDS)
    posts = [call for call in publisher.state.calls if call[0] == "POST" and "/client-certs/" in call[1]]
    assert len(posts) == 1
    listed = client.list_certificates("client-certs", API_ID, "PRODUCTION", NEEDS)
    assert listed == [{"alias": "c", "apiId": API_ID, "tier": "Gold"}]
