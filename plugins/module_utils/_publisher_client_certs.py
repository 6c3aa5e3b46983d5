# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Publisher REST calls for API client certificates (mutual SSL for APIs), the API search and revisions.

Two routes to the same certificates: ``/apis/{apiId}/client-certs/{keyType}`` (API-M 4.4+, PRODUCTION and SANDBOX)
and the deprecated ``/apis/{apiId}/client-certificates`` (older versions; PRODUCTION only). What API-M answers and
what is handled here (see docs/publisher.md): 201 (the spec says 200) on add; 409 for an alias that exists for the
key type; 400 for an expired certificate or a key type other than PRODUCTION/SANDBOX; DELETE accepting only
``apim:client_certificates_update`` among the client-certificate scopes; a client-certs route that a server before
4.4 does not have (404). Every failure is a PublisherError naming the operation, the HTTP status and WSO2's message;
no secret ever enters one.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.apim.certificates.plugins.module_utils._errors import PublisherError
from ansible_collections.apim.certificates.plugins.module_utils._publisher_client import (
    ApiClient,
    Connection,
    Credentials,
    Session,
    failure,
)

ROUTES = ("client-certs", "client-certificates")
KEY_TYPES = ("PRODUCTION", "SANDBOX")

# The scopes each kind of call accepts (any one of them), from WSO2's publisher-api.yaml. "find" reads the API
# (GET /apis, GET /apis/{apiId}); "deploy" lists deployments, creates and deploys a revision. DELETE accepts no
# apim:client_certificates_manage: only ..._update among the client-certificate scopes.
ACCEPTED_SCOPES = {
    "find": ("apim:api_view", "apim:api_manage", "apim:api_import_export"),
    "view": ("apim:client_certificates_view", "apim:client_certificates_manage", "apim:api_view", "apim:api_manage"),
    "add": ("apim:client_certificates_add", "apim:client_certificates_manage", "apim:api_create", "apim:api_manage"),
    "update": ("apim:client_certificates_update", "apim:client_certificates_manage", "apim:api_create",
               "apim:api_manage"),
    "delete": ("apim:client_certificates_update", "apim:api_create", "apim:api_manage"),
    "deploy": ("apim:api_publish", "apim:api_create", "apim:api_manage"),
}
# What to ask the token endpoint for, least first (it grants the subset the user's roles allow).
SCOPE_SETS = (
    {"find": "apim:api_view", "view": "apim:client_certificates_view", "add": "apim:client_certificates_add",
     "update": "apim:client_certificates_update", "delete": "apim:client_certificates_update",
     "deploy": "apim:api_publish"},
    {"find": "apim:api_view", "view": "apim:client_certificates_manage", "add": "apim:client_certificates_manage",
     "update": "apim:client_certificates_manage", "delete": "apim:client_certificates_update",
     "deploy": "apim:api_publish"},
    {"find": "apim:api_view", "view": "apim:api_view", "add": "apim:api_create", "update": "apim:api_create",
     "delete": "apim:api_create", "deploy": "apim:api_create"},
)
ROLES_HINT = "admin, or Internal/creator and Internal/publisher for client certificates and revisions"


class RouteMissing(PublisherError):
    """The Publisher has no such route (a server before API-M 4.4 and /client-certs)."""


def client_cert_session(connection: Connection, credentials: Credentials) -> Session:
    return Session(connection, credentials, accepted_scopes=ACCEPTED_SCOPES, scope_sets=SCOPE_SETS,
                   legacy_scope_sets=SCOPE_SETS[2:], roles_hint=ROLES_HINT)


def _quoted(value: str) -> str:
    return quote(value, safe="")


def _key_label(route: str, key_type: str) -> str:
    return key_type if route == "client-certs" else "PRODUCTION, deprecated route"


class ClientCertsClient(ApiClient):
    """The calls. Each returns data, or None for 'not found', and raises PublisherError otherwise."""

    accepted_scopes = ACCEPTED_SCOPES

    def _pages(self, operation: str, path: str, query: dict, key: str, needs) -> list:
        return self._paged(operation, path, query, key, needs, missing=RouteMissing)

    # --- APIs ---------------------------------------------------------------------------------------------

    def get_api(self, api_id: str, needs) -> dict | None:
        operation = f"read the API with id '{api_id}'"
        response = self._call(operation, "GET", "/apis/" + _quoted(api_id), needs)
        if response.status == 404:
            return None
        if response.status != 200:
            raise failure(operation, response)
        data = response.json(operation)
        return data if isinstance(data, dict) else {}

    def search_apis(self, name: str, version: str, needs) -> list:
        """The APIs the search finds for name and version (the search matches loosely: callers filter exactly)."""
        query = {"query": f'name:"{name}" version:"{version}"'}
        try:
            return self._pages(f"search the API named '{name}' version '{version}'", "/apis", query, "list", needs)
        except RouteMissing as exc:
            raise PublisherError(str(exc)) from None

    # --- client certificates ------------------------------------------------------------------------------

    @staticmethod
    def collection_path(route: str, api_id: str, key_type: str) -> str:
        if route == "client-certs":
            return f"/apis/{_quoted(api_id)}/client-certs/{_quoted(key_type)}"
        return f"/apis/{_quoted(api_id)}/client-certificates"

    def _alias_path(self, route: str, api_id: str, key_type: str, alias: str, suffix: str = "") -> str:
        return self.collection_path(route, api_id, key_type) + "/" + _quoted(alias) + suffix

    def list_certificates(self, route: str, api_id: str, key_type: str, needs, alias: str | None = None) -> list:
        """[{alias, apiId, tier}], every page. RouteMissing when the server has no such route."""
        operation = f"list the client certificates ({_key_label(route, key_type)}) of API '{api_id}'"
        query = {"alias": alias} if alias else {}
        return self._pages(operation, self.collection_path(route, api_id, key_type), query, "certificates", needs)

    def certificate_info(self, route: str, api_id: str, key_type: str, alias: str, needs) -> dict | None:
        operation = f"get information on client certificate '{alias}' ({_key_label(route, key_type)})"
        response = self._call(operation, "GET", self._alias_path(route, api_id, key_type, alias), needs)
        if response.status == 404:
            return None
        if response.status != 200:
            raise failure(operation, response)
        data = response.json(operation)
        return data if isinstance(data, dict) else {}

    def certificate_content(self, route: str, api_id: str, key_type: str, alias: str, needs) -> bytes | None:
        operation = f"download client certificate '{alias}' ({_key_label(route, key_type)})"
        response = self._call(operation, "GET", self._alias_path(route, api_id, key_type, alias, "/content"), needs,
                              accept="application/octet-stream")
        if response.status == 404:
            return None
        if response.status != 200:
            raise failure(operation, response)
        return response.body

    def add_certificate(self, route: str, api_id: str, key_type: str, alias: str, pem: str, tier: str,
                        needs) -> None:
        from ansible.module_utils.urls import prepare_multipart  # pylint: disable=import-outside-toplevel

        operation = f"add client certificate '{alias}' ({_key_label(route, key_type)}) (POST)"
        content_type, body = prepare_multipart({
            "alias": alias,
            "tier": tier,
            # The file part needs a filename, as for endpoint certificates.
            "certificate": {"content": pem, "filename": f"{alias}.crt", "mime_type": "application/x-x509-ca-cert"},
        })
        response = self._call(operation, "POST", self.collection_path(route, api_id, key_type), needs, data=body,
                              content_type=content_type)
        if response.status in (200, 201):  # API-M answers 201; its spec says 200
            return
        if response.status == 409:
            raise failure(operation, response, f"The alias '{alias}' is taken for this key type (or in the gateway "
                                               "truststore's names): choose another alias, or manage that one")
        if response.status == 400 and b"xpired" in response.body:
            raise failure(operation, response, "The certificate has expired: give a valid one")
        raise failure(operation, response)

    def update_certificate(self, route: str, api_id: str, key_type: str, alias: str, pem: str | None,
                           tier: str | None, needs) -> None:
        from ansible.module_utils.urls import prepare_multipart  # pylint: disable=import-outside-toplevel

        operation = f"update client certificate '{alias}' ({_key_label(route, key_type)}) (PUT)"
        fields = {}
        if pem is not None:
            fields["certificate"] = {"content": pem, "filename": f"{alias}.crt", "mime_type": "application/x-x509-ca-cert"}
        if tier is not None:
            fields["tier"] = tier
        content_type, body = prepare_multipart(fields)
        response = self._call(operation, "PUT", self._alias_path(route, api_id, key_type, alias), needs, data=body,
                              content_type=content_type)
        if response.status == 200:
            return
        if response.status == 400 and b"xpired" in response.body:
            raise failure(operation, response, "The certificate has expired: give a valid one")
        raise failure(operation, response)

    def delete_certificate(self, route: str, api_id: str, key_type: str, alias: str, needs) -> None:
        operation = f"delete client certificate '{alias}' ({_key_label(route, key_type)}) (DELETE)"
        response = self._call(operation, "DELETE", self._alias_path(route, api_id, key_type, alias), needs)
        if response.status in (200, 204):
            return
        raise failure(operation, response)

    # --- revisions ----------------------------------------------------------------------------------------

    def deployments(self, api_id: str, needs) -> list:
        """The API's current deployments: [{name, vhost, displayOnDevportal, revisionUuid, status}]."""
        operation = f"list the deployments of API '{api_id}'"
        response = self._call(operation, "GET", f"/apis/{_quoted(api_id)}/deployments", needs)
        if response.status != 200:
            raise failure(operation, response)
        data = response.json(operation)
        # The document says {list: [...]}; accept a bare array as well.
        listed = data.get("list") if isinstance(data, dict) else data
        return [item for item in listed or [] if isinstance(item, dict)]

    def create_revision(self, api_id: str, description: str, needs) -> dict:
        operation = f"create a revision of API '{api_id}'"
        body = json.dumps({"description": description[:255]}).encode("utf-8")
        response = self._call(operation, "POST", f"/apis/{_quoted(api_id)}/revisions", needs, data=body,
                              content_type="application/json")
        if response.status not in (200, 201):
            hint = ""
            if response.status == 400 and b"aximum" in response.body:
                hint = "API-M keeps at most 5 revisions per API: delete an old, undeployed revision"
            raise failure(operation, response, hint)
        data = response.json(operation)
        if not isinstance(data, dict) or not data.get("id"):
            raise PublisherError(f"{operation}: HTTP {response.status} without the revision's id")
        return data

    def deploy_revision(self, api_id: str, revision_id: str, targets: list, needs) -> list:
        operation = f"deploy revision '{revision_id}' of API '{api_id}'"
        body = json.dumps(targets).encode("utf-8")
        response = self._call(operation, "POST", f"/apis/{_quoted(api_id)}/deploy-revision", needs,
                              query={"revisionId": revision_id}, data=body, content_type="application/json")
        if response.status not in (200, 201):
            raise failure(operation, response)
        try:
            data = json.loads(response.body.decode("utf-8")) if response.body.strip() else []
        except ValueError:
            data = []
        return data if isinstance(data, list) else []
