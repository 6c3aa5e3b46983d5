"""A contract server for the API-M Publisher's endpoint certificates, on 127.0.0.1 over HTTPS with its own CA.

Built from WSO2's OpenAPI document (../shared/fixtures/wso2/publisher-api/publisher-api.yaml) and from what API-M 4.x
really answers (../shared/docs/publisher-api.md). Every request to the Publisher API is validated against the OpenAPI
document with openapi-core; a request the document does not allow is answered 400 and recorded in
``state.violations``, which the tests require to stay empty. DCR and the token endpoint are not in the document;
they are implemented from its description (JSON body with clientName/owner/grantType, form-encoded password grant).

The quirks it reproduces: 201 on add; 409 for an alias taken in the same tenant or in the Publisher node's truststore
(case-insensitive); 500 for an alias owned by another tenant; 400 "Certificate Expired"; 500 for content that is not
a certificate; a DELETE that answers 500 when the node's truststore lacks the alias although the row is gone; a PUT
that rewrites only the node's truststore; Java Date.toString() dates; 401 "Unauthenticated request" for a token
without a scope the operation accepts; pagination with next/previous links.

API client certificates (mutual SSL for APIs, ../shared/docs/mutual-tls.md): ``/apis/{apiId}/client-certs/{keyType}``
and the deprecated ``/apis/{apiId}/client-certificates`` (PRODUCTION); ``state.client_cert_routes`` without
``client-certs`` is a server before API-M 4.4 (404 there). Quirks: 201 on add with ``{alias, apiId, tier}``; 409 for an
alias taken for the key type (per tenant, across APIs); 400 for an expired certificate and for a key type other than
PRODUCTION/SANDBOX (any case); DELETE accepting ``apim:client_certificates_update`` but not ``..._manage``. With them:
the API search (loose, as WSO2's), the API, its deployments, revisions (at most 5) and deploy-revision; a revision
snapshots the API's client certificates, and ``state.gateway_client_certs`` is what an environment's gateways hold.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import re
import secrets
import ssl
import tempfile
import logging
import threading
import uuid
import warnings
from urllib.parse import parse_qs

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support.pki import key_pem, make_cert, not_valid_after, not_valid_before, pem

SPEC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                    "shared", "fixtures", "wso2", "publisher-api", "publisher-api.yaml")
SPEC_MISSING = f"the Publisher OpenAPI document is not there ({SPEC}: ../shared is absent)"

VIEW = {"apim:api_view", "apim:api_manage", "apim:ep_certificates_view", "apim:ep_certificates_manage"}
ADD = {"apim:api_create", "apim:api_manage", "apim:ep_certificates_add", "apim:ep_certificates_manage"}
UPDATE = {"apim:api_create", "apim:api_manage", "apim:ep_certificates_update", "apim:ep_certificates_manage"}
# Client certificates (mutual SSL for APIs) and the API calls they need, from the OpenAPI document.
CC_VIEW = {"apim:api_view", "apim:api_manage", "apim:client_certificates_view", "apim:client_certificates_manage"}
CC_ADD = {"apim:api_create", "apim:api_manage", "apim:client_certificates_add", "apim:client_certificates_manage"}
CC_UPDATE = {"apim:api_create", "apim:api_manage", "apim:client_certificates_update", "apim:client_certificates_manage"}
CC_DELETE = {"apim:api_create", "apim:api_manage", "apim:client_certificates_update"}  # no ..._manage
API_SEARCH = {"apim:api_view", "apim:api_manage", "apim:api_import_export", "apim:api_list_view"}
API_GET = {"apim:api_view", "apim:api_manage", "apim:api_import_export", "apim:api_product_import_export"}
DEPLOYMENTS_VIEW = {"apim:api_view", "apim:api_create", "apim:api_manage", "apim:api_publish"}
REVISION_CREATE = {"apim:api_create", "apim:api_manage", "apim:api_publish", "apim:api_import_export"}
REVISION_DEPLOY = {"apim:api_create", "apim:api_manage", "apim:api_publish"}
KEY_TYPES = ("PRODUCTION", "SANDBOX")
MAX_REVISIONS = 5
ALL_SCOPES = (VIEW | ADD | UPDATE | CC_VIEW | CC_ADD | CC_UPDATE | CC_DELETE | API_SEARCH | API_GET | DEPLOYMENTS_VIEW
              | REVISION_CREATE | REVISION_DEPLOY)
SUPER_TENANT = "carbon.super"

_SPEC_CACHE = {}


class _SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML without timestamp conversion: the document holds example dates that are no dates."""


_SpecLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _string_keys(node):
    """JSON's view of the document: response codes such as 200 are keys, and keys are strings."""
    if isinstance(node, dict):
        return {str(key): _string_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_string_keys(item) for item in node]
    return node


def openapi():
    """The OpenAPI document as openapi-core's OpenAPI, its server set to any /api/am/publisher/<version> here."""
    if "openapi" not in _SPEC_CACHE:
        from openapi_core import Config, OpenAPI  # pylint: disable=import-outside-toplevel

        with open(SPEC, encoding="utf-8") as handle:
            document = _string_keys(yaml.load(handle, Loader=_SpecLoader))  # noqa: S506 - a SafeLoader subclass
        document["servers"] = [{
            "url": "/api/am/publisher/{version}",
            "variables": {"version": {"default": "v4", "enum": ["v1", "v2", "v3", "v4"]}},
        }]
        # The document is WSO2's and is not under test: skip openapi-spec-validator's slow check of it.
        _SPEC_CACHE["openapi"] = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
    return _SPEC_CACHE["openapi"]


def java_date(moment: datetime.datetime, zone: str = "UTC", offset_minutes: int = 0) -> str:
    """Java's Date.toString(): 'Wed Jan 01 00:00:00 UTC 2025', in the server's zone."""
    local = moment.astimezone(datetime.timezone(datetime.timedelta(minutes=offset_minutes)))
    return local.strftime("%a %b %d %H:%M:%S ") + zone + local.strftime(" %Y")


class User:
    def __init__(self, name: str, password: str, scopes=ALL_SCOPES, tenant_id: int = -1234):
        self.name = name
        self.password = password
        self.scopes = set(scopes)
        self.tenant = name.rsplit("@", 1)[1] if "@" in name else SUPER_TENANT
        self.tenant_id = tenant_id


class State:
    """What the server holds and saw. Tests read and arrange it directly."""

    def __init__(self):
        self.users = {}
        self.clients = {}  # client_id -> dict(secret, owner, name)
        self.tokens = {}  # token -> dict(user, scopes)
        self.rows = {}  # alias -> dict(alias, endpoint, der, tenant): the AM_CERTIFICATE_METADATA table
        self.truststore = {"wso2carbon": b"stock"}  # the Publisher node's truststore: lower-case alias -> DER
        self.usage = {}  # alias -> list of API metadata
        self.calls = []  # (method, path, query string)
        self.violations = []  # requests the OpenAPI document does not allow
        self.fail_next_posts = 0  # that many next POSTs of a certificate answer 500
        self.zone = ("UTC", 0)  # the JVM's zone for Date.toString()
        self.issued_secrets = []  # every client secret and token handed out (for leak checks)
        self.lock = threading.Lock()
        # Client certificates: (api id, KEY TYPE, alias) -> dict(alias, api_id, key_type, tier, der, tenant)
        self.client_certs = {}
        self.apis = {}  # api id -> dict(id, name, version, context, provider, policies, tenant, revisions, deployments)
        self.environments = {"Default": "localhost", "External": "gw.example.com"}  # gateway environment -> vhost
        self.client_cert_routes = {"client-certs", "client-certificates"}  # a server before API-M 4.4: no client-certs
        self.fail_next_deploys = 0  # that many next deploy-revision calls answer 500

    def add_api(self, name: str, version: str, *, api_id: str | None = None, policies=("Gold", "Unlimited"),
                deployed_to=("Default",), provider: str = "admin", tenant: str = SUPER_TENANT) -> str:
        """An API, deployed (revision 1) to the given gateway environments."""
        api_id = api_id or str(uuid.uuid4())
        api = {"id": api_id, "name": name, "version": version, "context": f"/{name.lower()}/{version}",
               "provider": provider, "policies": list(policies), "tenant": tenant, "revisions": [], "deployments": []}
        self.apis[api_id] = api
        if deployed_to:
            revision = self.new_revision(api, "initial")
            api["deployments"] = [self.deployment(revision["id"], name) for name in deployed_to]
        return api_id

    def put_client_cert(self, api_id: str, alias: str, der: bytes, tier: str = "Gold", key_type: str = "PRODUCTION"):
        self.client_certs[(api_id, key_type, alias)] = {"alias": alias, "api_id": api_id, "key_type": key_type,
                                                        "tier": tier, "der": der,
                                                        "tenant": self.apis[api_id]["tenant"]}

    def new_revision(self, api: dict, description: str) -> dict:
        number = max([rev["number"] for rev in api["revisions"]] or [0]) + 1
        revision = {"id": str(uuid.uuid4()), "number": number, "description": description,
                    "client_certs": {key: dict(value) for key, value in self.client_certs.items() if key[0] == api["id"]}}
        api["revisions"].append(revision)
        return revision

    def deployment(self, revision_id: str, environment: str, display: bool = True) -> dict:
        return {"revisionUuid": revision_id, "name": environment, "vhost": self.environments[environment],
                "displayOnDevportal": display, "status": "APPROVED", "deployedTime": "2026-12-01T10:00:00Z"}

    def gateway_client_certs(self, api_id: str, environment: str = "Default") -> dict:
        """What the gateways of an environment hold for the API: the deployed revision's client certificates,
        (KEY TYPE, alias) -> (tier, der)."""
        api = self.apis[api_id]
        deployed = [dep["revisionUuid"] for dep in api["deployments"] if dep["name"] == environment]
        revisions = [rev for rev in api["revisions"] if deployed and rev["id"] == deployed[0]]
        if not revisions:
            return {}
        return {(key[1], key[2]): (value["tier"], value["der"]) for key, value in revisions[0]["client_certs"].items()}

    def client_cert_writes(self) -> list:
        return [call for call in self.calls if call[0] in ("POST", "PUT", "DELETE") and "/client-cert" in call[1]]

    def revision_writes(self) -> list:
        return [call for call in self.calls if call[0] == "POST" and call[1].endswith(("/revisions", "/deploy-revision"))]

    def add_user(self, name: str, password: str, scopes=ALL_SCOPES, tenant_id: int = -1234) -> User:
        self.users[name] = User(name, password, scopes, tenant_id)
        return self.users[name]

    def issue_token(self, user: str, scopes) -> str:
        token = str(uuid.uuid4())
        self.tokens[token] = {"user": self.users[user], "scopes": set(scopes)}
        self.issued_secrets.append(token)
        return token

    def put_row(self, alias: str, endpoint: str, der: bytes, tenant: str = SUPER_TENANT, truststore: bool = True):
        self.rows[alias] = {"alias": alias, "endpoint": endpoint, "der": der, "tenant": tenant}
        if truststore:
            self.truststore[alias.lower()] = der

    def writes(self) -> list:
        return [call for call in self.calls if call[0] in ("POST", "PUT", "DELETE") and "/endpoint-certificates" in call[1]]


def _error(status: int, message: str, description: str = "") -> Response:
    body = {"code": status, "message": message, "description": description or message, "moreInfo": "", "error": []}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _unauthenticated() -> Response:
    return Response(json.dumps({"code": 401, "message": "", "description": "Unauthenticated request"}), status=401,
                    content_type="application/json")


def _internal_error() -> Response:
    return _error(500, "Internal server error", "The server encountered an internal error. Please contact administrator.")


def _basic(request: Request):
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None, None
    try:
        user, _sep, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except ValueError:
        return None, None
    return user, secret


def _java_subject(cert) -> str:
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(cert.subject.rdns))


def _validated_request_class():
    from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest  # pylint: disable=import-outside-toplevel

    class ValidatedRequest(WerkzeugOpenAPIRequest):
        """openapi-core's werkzeug adapter. openapi-core splits media type parameters at every '=', so a quoted
        multipart boundary holding '=' (Python's email package makes those, and they are valid, RFC 2046) is renamed
        to one without, in the header and the body alike, before validation. The request itself is untouched."""

        def __init__(self, request):
            super().__init__(request)
            self._body = request.get_data(as_text=False)
            self._content_type = request.content_type or "application/octet-stream"
            boundary = request.mimetype_params.get("boundary")
            if request.mimetype == "multipart/form-data" and boundary and "=" in boundary:
                plain = "b" + uuid.uuid4().hex
                self._body = self._body.replace(("--" + boundary).encode("ascii"), ("--" + plain).encode("ascii"))
                self._content_type = f"multipart/form-data; boundary={plain}"

        @property
        def body(self):
            return self._body

        @property
        def content_type(self):
            return self._content_type

    return ValidatedRequest


def _ValidatedRequest(request):  # noqa: N802 - a class made on first use
    if "request_class" not in _SPEC_CACHE:
        _SPEC_CACHE["request_class"] = _validated_request_class()
    return _SPEC_CACHE["request_class"](request)


class PublisherApp:
    """The WSGI application."""

    def __init__(self, state: State):
        self.state = state

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.state.lock:
            self.state.calls.append((request.method, request.path, request.query_string.decode()))
            response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/client-registration/v0.17/register" and request.method == "POST":
            return self.register(request)
        if path == "/oauth2/token" and request.method == "POST":
            return self.token(request)
        prefix = "/api/am/publisher/"
        if not path.startswith(prefix):
            return _error(404, "Not Found")
        violation = self.validate(request)
        if violation:
            self.state.violations.append(violation)
            return _error(400, "Bad Request", violation)
        rest = path[len(prefix) + 2:]
        parts = rest.strip("/").split("/")
        if parts[0] == "apis":
            return self.dispatch_apis(request, parts[1:])
        if parts[0] != "endpoint-certificates":
            return _error(404, "Not Found")
        if len(parts) == 1:
            return self.list_certificates(request) if request.method == "GET" else self.add(request)
        alias = parts[1]
        if len(parts) == 2:
            handler = {"GET": self.info, "PUT": self.update, "DELETE": self.delete}[request.method]
            return handler(request, alias)
        return self.content(request, alias) if parts[2] == "content" else self.usage(request, alias)

    def validate(self, request: Request) -> str | None:
        with warnings.catch_warnings():
            # openapi-core does not check oauth2 security schemes ("Unsupported scheme type"): scopes are checked here.
            warnings.simplefilter("ignore", UserWarning)
            errors = list(openapi().iter_request_errors(_ValidatedRequest(request)))
        if not errors:
            return None
        details = []
        for error in errors:
            details.append(f"{type(error).__name__}: {error}" + "".join(f" / {cause}" for cause in getattr(error, "schema_errors", ())))
            if error.__cause__ is not None:
                details.append(f"caused by {error.__cause__}")
        return f"{request.method} {request.full_path}: " + "; ".join(details)

    # --- OAuth ----------------------------------------------------------------------------------------

    def register(self, request: Request) -> Response:
        user_name, password = _basic(request)
        user = self.state.users.get(user_name)
        if user is None or user.password != password:
            return Response(json.dumps({"error": "invalid_client", "error_description": "Unauthorized"}), status=401,
                            content_type="application/json")
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return _error(400, "Bad Request", "the DCR body is not JSON")
        missing = [key for key in ("clientName", "owner", "grantType") if not body.get(key)]
        if missing:
            self.state.violations.append(f"DCR without {missing}")
            return _error(400, "Bad Request", f"missing {missing}")
        if body["owner"] != user.name:
            return _error(403, "Forbidden", "owner must be the authenticated user")
        for client_id, client in self.state.clients.items():
            if client["name"] == body["clientName"] and client["owner"] == user.name:
                break
        else:
            client_id = secrets.token_hex(8)
            self.state.clients[client_id] = {"secret": secrets.token_hex(12), "owner": user.name, "name": body["clientName"],
                                             "grants": body["grantType"].split()}
            self.state.issued_secrets.append(self.state.clients[client_id]["secret"])
        client = self.state.clients[client_id]
        return Response(json.dumps({
            "clientId": client_id, "clientName": client["name"], "callBackURL": body.get("callbackUrl"),
            "clientSecret": client["secret"], "isSaasApplication": bool(body.get("saasApp")), "appOwner": user.name,
            "jsonString": json.dumps({"grant_types": body["grantType"]}), "jsonAppAttribute": "{}", "tokenType": None,
        }), status=200, content_type="application/json")

    def token(self, request: Request) -> Response:
        client_id, client_secret = _basic(request)
        client = self.state.clients.get(client_id)
        if client is None or client["secret"] != client_secret:
            return Response(json.dumps({"error": "invalid_client", "error_description": "A valid OAuth client could not be found for client_id"}),
                            status=401, content_type="application/json")
        if request.mimetype != "application/x-www-form-urlencoded":
            self.state.violations.append(f"token request with {request.mimetype}")
            return Response(json.dumps({"error": "invalid_request"}), status=400, content_type="application/json")
        form = {key: values[0] for key, values in parse_qs(request.get_data(as_text=True)).items()}
        if form.get("grant_type") != "password" or "password" not in client["grants"]:
            return Response(json.dumps({"error": "unsupported_grant_type"}), status=400, content_type="application/json")
        user = self.state.users.get(form.get("username"))
        if user is None or user.password != form.get("password"):
            return Response(json.dumps({"error": "invalid_grant", "error_description": "Authentication failed for " + str(form.get("username"))}),
                            status=400, content_type="application/json")
        asked = set(form.get("scope", "").split())
        granted = (asked & user.scopes) or {"default"}
        token = self.state.issue_token(user.name, granted)
        return Response(json.dumps({"access_token": token, "refresh_token": str(uuid.uuid4()), "scope": " ".join(sorted(granted)),
                                    "token_type": "Bearer", "expires_in": 3600}), status=200, content_type="application/json")

    def _caller(self, request: Request, accepted: set):
        header = request.headers.get("Authorization", "")
        grant = self.state.tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if grant is None or not grant["scopes"] & accepted:
            return None
        return grant["user"]

    # --- endpoint certificates --------------------------------------------------------------------------

    def _rows_of(self, user: User) -> list:
        return [row for row in self.state.rows.values() if row["tenant"] == user.tenant]

    def list_certificates(self, request: Request) -> Response:
        user = self._caller(request, VIEW)
        if user is None:
            return _unauthenticated()
        alias, endpoint = request.args.get("alias"), request.args.get("endpoint")
        rows = [row for row in self._rows_of(user)
                if (alias is None and endpoint is None) or row["alias"] == alias or row["endpoint"] == endpoint]
        limit = int(request.args.get("limit", 25))
        offset = int(request.args.get("offset", 0))
        page = rows[offset:offset + limit]
        query = "".join(f"&{key}={value}" for key, value in (("alias", alias), ("endpoint", endpoint)) if value)
        following = f"/endpoint-certificates?limit={limit}&offset={offset + limit}{query}" if offset + limit < len(rows) else ""
        previous = f"/endpoint-certificates?limit={limit}&offset={max(offset - limit, 0)}{query}" if offset > 0 else ""
        return Response(json.dumps({
            "count": len(page),
            "certificates": [{"alias": row["alias"], "endpoint": row["endpoint"]} for row in page],
            "pagination": {"offset": offset, "limit": limit, "total": len(rows), "next": following, "previous": previous},
        }), status=200, content_type="application/json")

    def add(self, request: Request) -> Response:
        user = self._caller(request, ADD)
        if user is None:
            return _unauthenticated()
        alias, endpoint = request.form.get("alias", ""), request.form.get("endpoint", "")
        upload = request.files.get("certificate")
        if not alias.strip() or not endpoint.strip():
            return _error(400, "The alias and/ or endpoint should not be empty")
        if upload is None or not upload.filename:
            return _error(400, "Certificate update failed. Proper Certificate file should be provided")
        data = upload.read()
        try:
            cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
        except ValueError:
            return _internal_error()
        if self.state.fail_next_posts > 0:
            self.state.fail_next_posts -= 1
            return _internal_error()
        if not_valid_after(cert) <= datetime.datetime.now(datetime.timezone.utc):
            return _error(400, "Error while adding the certificate. Certificate Expired.")
        existing = self.state.rows.get(alias)
        if existing is not None and existing["tenant"] != user.tenant:
            return _internal_error()
        if existing is not None or alias.lower() in self.state.truststore:
            return _error(409, f"The alias '{alias}' already exists in the trust store.")
        self.state.put_row(alias, endpoint, cert.public_bytes(serialization.Encoding.DER), user.tenant)
        response = Response(json.dumps({"alias": alias, "endpoint": endpoint}), status=201, content_type="application/json")
        response.headers["Location"] = f"/certificates?alias={alias}"
        return response

    def _row(self, user: User, alias: str):
        row = self.state.rows.get(alias)
        return row if row is not None and row["tenant"] == user.tenant else None

    def info(self, request: Request, alias: str) -> Response:
        user = self._caller(request, VIEW)
        if user is None:
            return _unauthenticated()
        row = self._row(user, alias)
        if row is None:
            return _error(404, f"Certificate for Alias '{alias}' is not found.")
        cert = x509.load_der_x509_certificate(row["der"])
        zone, offset = self.state.zone
        expired = not_valid_after(cert) <= datetime.datetime.now(datetime.timezone.utc)
        return Response(json.dumps({
            "status": "Expired" if expired else "Active",
            "validity": {"from": java_date(not_valid_before(cert), zone, offset), "to": java_date(not_valid_after(cert), zone, offset)},
            "version": "3",
            "subject": _java_subject(cert),
        }), status=200, content_type="application/json")

    def content(self, request: Request, alias: str) -> Response:
        user = self._caller(request, VIEW)
        if user is None:
            return _unauthenticated()
        row = self._row(user, alias)
        if row is None:
            return _error(404, f"Certificate for Alias '{alias}' is not found.")
        response = Response(row["der"], status=200, content_type="application/octet-stream")
        response.headers["Content-Disposition"] = f'attachment; filename="{alias}.crt"'
        return response

    def usage(self, request: Request, alias: str) -> Response:
        user = self._caller(request, VIEW)
        if user is None:
            return _unauthenticated()
        apis = self.state.usage.get(alias, []) if self._row(user, alias) else []
        limit = int(request.args.get("limit", 25))
        offset = int(request.args.get("offset", 0))
        page = apis[offset:offset + limit]
        following = f"/endpoint-certificates/{alias}/usage?limit={limit}&offset={offset + limit}" if offset + limit < len(apis) else ""
        return Response(json.dumps({"count": len(page), "list": page,
                                    "pagination": {"offset": offset, "limit": limit, "total": len(apis), "next": following, "previous": ""}}),
                        status=200, content_type="application/json")

    def update(self, request: Request, alias: str) -> Response:
        """PUT as API-M 4.x does it: only the node's truststore changes; the row (and so every gateway) does not."""
        user = self._caller(request, UPDATE)
        if user is None:
            return _unauthenticated()
        row = self._row(user, alias)
        if row is None:
            return _error(404, f"Could not update the certificate. The alias '{alias}' not found.")
        upload = request.files.get("certificate")
        cert = x509.load_pem_x509_certificate(upload.read())
        self.state.truststore[alias.lower()] = cert.public_bytes(serialization.Encoding.DER)
        return Response(json.dumps({"alias": alias, "endpoint": row["endpoint"]}), status=200, content_type="application/json")

    def delete(self, request: Request, alias: str) -> Response:
        user = self._caller(request, UPDATE)
        if user is None:
            return _unauthenticated()
        row = self._row(user, alias)
        if row is None:
            return _error(404, f"Certificate for alias '{alias}' is not found.")
        del self.state.rows[alias]
        if self.state.truststore.pop(alias.lower(), None) is None:
            return _internal_error()  # the row is gone all the same
        return Response(b"", status=200)

    # --- APIs, client certificates (mutual SSL), revisions ----------------------------------------------

    def dispatch_apis(self, request: Request, parts: list) -> Response:
        method = request.method
        if not parts:
            return self.search_apis(request)
        api_id, rest = parts[0], parts[1:]
        if not rest:
            return self.get_api(request, api_id)
        resource = rest[0]
        if resource in ("client-certs", "client-certificates"):
            if resource not in self.state.client_cert_routes:
                return _error(404, "Not Found", "The requested resource is not available.")
            if resource == "client-certs":
                if len(rest) < 2:
                    return _error(404, "Not Found")
                key_type, rest = rest[1], rest[2:]
                if key_type.upper() not in KEY_TYPES:
                    return _error(400, "Bad Request", f"Invalid keyType provided: {key_type}. Key type should be "
                                                      "either PRODUCTION or SANDBOX")
                key_type = key_type.upper()
            else:
                key_type, rest = "PRODUCTION", rest[1:]
            return self.client_certificate(request, api_id, key_type, resource, rest)
        if resource == "deployments" and method == "GET":
            return self.deployments(request, api_id)
        if resource == "revisions" and method == "POST":
            return self.create_revision(request, api_id)
        if resource == "deploy-revision" and method == "POST":
            return self.deploy_revision(request, api_id)
        return _error(404, "Not Found")

    def _api(self, user: User, api_id: str):
        api = self.state.apis.get(api_id)
        return api if api is not None and api["tenant"] == user.tenant else None

    @staticmethod
    def _api_info(api: dict) -> dict:
        return {key: api[key] for key in ("id", "name", "version", "context", "provider")}

    def search_apis(self, request: Request) -> Response:
        """WSO2's search matches loosely (name contains, case-insensitive): exact matching is the caller's job."""
        user = self._caller(request, API_SEARCH)
        if user is None:
            return _unauthenticated()
        terms = {}
        for key, value in re.findall(r'(\w+):"([^"]*)"', request.args.get("query", "")):
            terms[key] = value
        apis = [api for api in self.state.apis.values() if api["tenant"] == user.tenant
                and terms.get("name", "").lower() in api["name"].lower()
                and terms.get("version", "").lower() in api["version"].lower()]
        limit = int(request.args.get("limit", 25))
        offset = int(request.args.get("offset", 0))
        page = apis[offset:offset + limit]
        return Response(json.dumps({
            "count": len(page), "list": [self._api_info(api) for api in page],
            "pagination": {"offset": offset, "limit": limit, "total": len(apis), "next": "", "previous": ""},
        }), status=200, content_type="application/json")

    def get_api(self, request: Request, api_id: str) -> Response:
        user = self._caller(request, API_GET)
        if user is None:
            return _unauthenticated()
        api = self._api(user, api_id)
        if api is None:
            return _error(404, "Not Found", f"Requested API with id '{api_id}' not found")
        body = dict(self._api_info(api), policies=api["policies"], lifeCycleStatus="PUBLISHED")
        return Response(json.dumps(body), status=200, content_type="application/json")

    def client_certificate(self, request: Request, api_id: str, key_type: str, route: str, rest: list) -> Response:
        method = request.method
        accepted = {"GET": CC_VIEW, "POST": CC_ADD, "PUT": CC_UPDATE, "DELETE": CC_DELETE}[method]
        user = self._caller(request, accepted)
        if user is None:
            return _unauthenticated()
        api = self._api(user, api_id)
        if api is None:
            return _error(404, "Not Found", f"Requested API with id '{api_id}' not found")
        if not rest:
            return self.list_client_certs(request, api, key_type, route) if method == "GET" \
                else self.add_client_cert(request, user, api, key_type)
        alias = rest[0]
        entry = self.state.client_certs.get((api_id, key_type, alias))
        if entry is None:
            return _error(404, "Not Found", f"Certificate for alias '{alias}' is not found.")
        if len(rest) == 2 and rest[1] == "content":
            response = Response(entry["der"], status=200, content_type="application/octet-stream")
            response.headers["Content-Disposition"] = f'attachment; filename="{alias}.crt"'
            return response
        if method == "GET":
            cert = x509.load_der_x509_certificate(entry["der"])
            zone, offset = self.state.zone
            expired = not_valid_after(cert) <= datetime.datetime.now(datetime.timezone.utc)
            return Response(json.dumps({
                "status": "Expired" if expired else "Active",
                "validity": {"from": java_date(not_valid_before(cert), zone, offset),
                             "to": java_date(not_valid_after(cert), zone, offset)},
                "version": "3", "subject": _java_subject(cert),
            }), status=200, content_type="application/json")
        if method == "DELETE":
            del self.state.client_certs[(api_id, key_type, alias)]
            return Response(b"", status=200)
        return self.update_client_cert(request, entry)

    def list_client_certs(self, request: Request, api: dict, key_type: str, route: str) -> Response:
        alias = request.args.get("alias")
        entries = [entry for key, entry in self.state.client_certs.items()
                   if key[0] == api["id"] and key[1] == key_type and (alias is None or entry["alias"] == alias)]
        limit = int(request.args.get("limit", 25))
        offset = int(request.args.get("offset", 0))
        page = entries[offset:offset + limit]
        base = f"/apis/{api['id']}/client-certs/{key_type}" if route == "client-certs" else f"/apis/{api['id']}/client-certificates"
        following = f"{base}?limit={limit}&offset={offset + limit}" if offset + limit < len(entries) else ""
        return Response(json.dumps({
            "count": len(page),
            "certificates": [{"alias": e["alias"], "apiId": e["api_id"], "tier": e["tier"]} for e in page],
            "pagination": {"offset": offset, "limit": limit, "total": len(entries), "next": following, "previous": ""},
        }), status=200, content_type="application/json")

    @staticmethod
    def _uploaded(request: Request):
        """(cert, None) or (None, error response)."""
        upload = request.files.get("certificate")
        if upload is None or not upload.filename:
            return None, _error(400, "Certificate update failed. Proper Certificate file should be provided")
        data = upload.read()
        try:
            cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
        except ValueError:
            return None, _internal_error()
        if not_valid_after(cert) <= datetime.datetime.now(datetime.timezone.utc):
            return None, _error(400, "Error while adding the certificate. Certificate Expired.")
        return cert, None

    def add_client_cert(self, request: Request, user: User, api: dict, key_type: str) -> Response:
        alias, tier = request.form.get("alias", ""), request.form.get("tier", "")
        if not alias.strip() or not tier.strip():
            return _error(400, "The alias and/ or tier should not be empty")
        cert, refused = self._uploaded(request)
        if refused is not None:
            return refused
        # The alias is unique per tenant and key type (across APIs).
        if any(key[1] == key_type and key[2] == alias and entry["tenant"] == user.tenant
               for key, entry in self.state.client_certs.items()):
            return _error(409, f"The alias '{alias}' already exists for the key type {key_type}.")
        self.state.put_client_cert(api["id"], alias, cert.public_bytes(serialization.Encoding.DER), tier, key_type)
        # API-M answers 201; the document says 200.
        return Response(json.dumps({"alias": alias, "apiId": api["id"], "tier": tier}), status=201,
                        content_type="application/json")

    def update_client_cert(self, request: Request, entry: dict) -> Response:
        if "certificate" in request.files:
            cert, refused = self._uploaded(request)
            if refused is not None:
                return refused
            entry["der"] = cert.public_bytes(serialization.Encoding.DER)
        tier = request.form.get("tier")
        if tier:
            entry["tier"] = tier
        return Response(json.dumps({"alias": entry["alias"], "apiId": entry["api_id"], "tier": entry["tier"]}),
                        status=200, content_type="application/json")

    def deployments(self, request: Request, api_id: str) -> Response:
        user = self._caller(request, DEPLOYMENTS_VIEW)
        if user is None:
            return _unauthenticated()
        api = self._api(user, api_id)
        if api is None:
            return _error(404, "Not Found", f"Requested API with id '{api_id}' not found")
        return Response(json.dumps({"list": api["deployments"]}), status=200, content_type="application/json")

    def _revision_body(self, api: dict, revision: dict) -> dict:
        return {"id": revision["id"], "displayName": f"Revision {revision['number']}",
                "description": revision["description"], "createdTime": "2026-12-07T10:00:00Z",
                "apiInfo": {"id": api["id"]},
                "deploymentInfo": [dep for dep in api["deployments"] if dep["revisionUuid"] == revision["id"]]}

    def create_revision(self, request: Request, api_id: str) -> Response:
        user = self._caller(request, REVISION_CREATE)
        if user is None:
            return _unauthenticated()
        api = self._api(user, api_id)
        if api is None:
            return _error(404, "Not Found", f"Requested API with id '{api_id}' not found")
        if len(api["revisions"]) >= MAX_REVISIONS:
            return _error(400, "Maximum number of revisions per API has reached. Need to remove stale revision to "
                               "create a new Revision for API with API UUID: " + api_id)
        body = json.loads(request.get_data() or b"{}")
        revision = self.state.new_revision(api, body.get("description", ""))
        return Response(json.dumps(self._revision_body(api, revision)), status=201, content_type="application/json")

    def deploy_revision(self, request: Request, api_id: str) -> Response:
        user = self._caller(request, REVISION_DEPLOY)
        if user is None:
            return _unauthenticated()
        api = self._api(user, api_id)
        if api is None:
            return _error(404, "Not Found", f"Requested API with id '{api_id}' not found")
        revision_id = request.args.get("revisionId")
        if not any(rev["id"] == revision_id for rev in api["revisions"]):
            return _error(404, "Not Found", f"Revision '{revision_id}' not found")
        if self.state.fail_next_deploys > 0:
            self.state.fail_next_deploys -= 1
            return _internal_error()
        targets = json.loads(request.get_data() or b"[]")
        unknown = [target.get("name") for target in targets if target.get("name") not in self.state.environments]
        if unknown or not targets:
            return _error(400, "Bad Request", f"Gateway environment not found: {unknown}")
        deployed = []
        for target in targets:
            api["deployments"] = [dep for dep in api["deployments"] if dep["name"] != target["name"]]
            deployment = self.state.deployment(revision_id, target["name"], target.get("displayOnDevportal", True))
            api["deployments"].append(deployment)
            deployed.append(deployment)
        return Response(json.dumps(deployed), status=201, content_type="application/json")


class PublisherServer:
    """The running server: its URL, the CA file that verifies it, and its state."""

    def __init__(self, url: str, ca_file: str, state: State, port: int):
        self.url = url
        self.ca_file = ca_file
        self.state = state
        self.port = port


@contextlib.contextmanager
def publisher_server():
    """Serve the contract Publisher on https://127.0.0.1:<free port> with a CA of its own."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    state = State()
    ca_cert, ca_key = make_cert("apim.certificates test Publisher CA", ca=True, sans=[], days=30)
    server_cert, server_key = make_cert("127.0.0.1", issuer=ca_cert, issuer_key=ca_key, sans=["127.0.0.1", "localhost"],
                                        days=30)
    with tempfile.TemporaryDirectory() as tmp:
        ca_file = os.path.join(tmp, "publisher-ca.pem")
        cert_file = os.path.join(tmp, "publisher.pem")
        key_file = os.path.join(tmp, "publisher.key")
        with open(ca_file, "w", encoding="ascii") as handle:
            handle.write(pem(ca_cert))
        with open(cert_file, "w", encoding="ascii") as handle:
            handle.write(pem(server_cert))
        with open(key_file, "w", encoding="ascii") as handle:
            handle.write(key_pem(server_key))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = make_server("127.0.0.1", 0, PublisherApp(state), threaded=True, ssl_context=context)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield PublisherServer(f"https://127.0.0.1:{server.port}", ca_file, state, server.port)
        finally:
            server.shutdown()
            server.server_close()
