# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A client for the endpoint certificates of the API-M Publisher REST API, as API-M really answers.

What it handles (see docs/publisher.md): DCR and a password-grant token with the least scopes an operation needs,
falling back from the fine-grained ``apim:ep_certificates_*`` scopes to ``..._manage`` and to the API-wide scopes;
201 (not the spec's 200) on add; a DELETE that answers 500 although the row is gone; pagination; Java
``Date.toString()`` dates. Every failure is a PublisherError naming the operation, the HTTP status and WSO2's message.
No password, client secret or token ever enters a message: they travel in headers and form bodies only.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import socket
import ssl
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit

from ansible_collections.apim.certificates.plugins.module_utils._errors import PublisherError

API_VERSIONS = ("v1", "v2", "v3", "v4")
DCR_PATH = "/client-registration/v0.17/register"
TOKEN_PATH = "/oauth2/token"
PAGE_SIZE = 25
_MAX_PAGES = 10000

# The scopes each kind of call accepts (any one of them), from carbon-apimgt's publisher-api.yaml.
ACCEPTED_SCOPES = {
    "view": ("apim:ep_certificates_view", "apim:ep_certificates_manage", "apim:api_view", "apim:api_manage"),
    "add": ("apim:ep_certificates_add", "apim:ep_certificates_manage", "apim:api_create", "apim:api_manage"),
    "update": ("apim:ep_certificates_update", "apim:ep_certificates_manage", "apim:api_create", "apim:api_manage"),
}
# What to ask the token endpoint for, least first. It grants the subset the user's roles allow, so a set that does
# not cover the needs is followed by the next one. API-M 3.2 and 4.0 (v1, v2) know only the API-wide scopes.
_SCOPE_SETS = (
    {"view": "apim:ep_certificates_view", "add": "apim:ep_certificates_add", "update": "apim:ep_certificates_update"},
    {"view": "apim:ep_certificates_manage", "add": "apim:ep_certificates_manage", "update": "apim:ep_certificates_manage"},
    {"view": "apim:api_view", "add": "apim:api_create", "update": "apim:api_create"},
)
_LEGACY_VERSIONS = ("v1", "v2")


class Response:
    """An HTTP answer: status, headers (lower-case names) and body bytes."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self, operation: str):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            raise PublisherError(f"{operation}: HTTP {self.status} with a body that is not JSON: {_excerpt(self.body)}") from None


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    return repr(text[:200]) if text else "(empty)"


def wso2_message(body: bytes) -> str:
    """WSO2's own words from an error body: message and description, or an OAuth error, or the raw text."""
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return _excerpt(body)
    if not isinstance(data, dict):
        return _excerpt(body)
    parts = []
    for key in ("message", "description", "error", "error_description"):
        value = data.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in parts:
            parts.append(value.strip())
    return ": ".join(parts) if parts else _excerpt(body)


def failure(operation: str, response: Response, hint: str = "") -> PublisherError:
    message = f"{operation}: HTTP {response.status}: {wso2_message(response.body)}"
    return PublisherError(f"{message}. {hint}" if hint else message)


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode("utf-8")).decode("ascii")


class Connection:
    """Where the Publisher is and how to reach it. publisher_url is the server, e.g. https://apim.example.com:9443."""

    def __init__(self, publisher_url: str, *, api_version: str = "v4", validate_certs: bool = True,
                 ca_path: str | None = None, timeout: float = 30):
        parts = urlsplit(publisher_url or "")
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise PublisherError(
                f"publisher_url '{publisher_url}' is not a URL like https://apim.example.com:9443 (scheme, host, port)"
            )
        if api_version not in API_VERSIONS:
            raise PublisherError(f"api_version '{api_version}' is not one of {', '.join(API_VERSIONS)}")
        if "/api/am/" in parts.path or parts.query:
            raise PublisherError(
                f"publisher_url '{publisher_url}' holds the API's path: give the server only, e.g. "
                f"{parts.scheme}://{parts.netloc} (the module adds /api/am/publisher/<api_version>)"
            )
        # A path is kept, for a Publisher behind a reverse proxy under a prefix.
        self.server = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.api_version = api_version
        self.base = f"{self.server}/api/am/publisher/{api_version}"
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout

    def request(self, operation: str, method: str, url: str, *, data: bytes | None = None,
                headers: dict | None = None) -> Response:
        """Send one request; an HTTP error status is returned, a transport failure raised as PublisherError."""
        # Ansible's HTTP client, imported on first use: the pure logic here is usable (and unit-tested on the
        # oldest node libraries) without ansible-core.
        from ansible.module_utils.urls import ConnectionError as UrlsConnectionError  # pylint: disable=import-outside-toplevel
        from ansible.module_utils.urls import open_url  # pylint: disable=import-outside-toplevel

        try:
            answer = open_url(
                url, data=data, headers=headers or {}, method=method, timeout=self.timeout,
                validate_certs=self.validate_certs, ca_path=self.ca_path, follow_redirects="none",
                force_basic_auth=False, use_netrc=False, http_agent="apim.certificates",
            )
            with answer:
                return Response(answer.getcode(), {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except HTTPError as exc:
            try:
                body = exc.read() if exc.fp is not None else b""
            except OSError:
                body = b""
            return Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, body)
        except (URLError, UrlsConnectionError, socket.timeout, ssl.SSLError, OSError) as exc:
            raise PublisherError(f"{operation}: {self._transport_problem(exc)}") from None

    def _transport_problem(self, exc: Exception) -> str:
        reason = getattr(exc, "reason", None) or exc
        text = str(reason)
        if isinstance(reason, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text \
                or "certificate verify" in text.lower() or "validate the ssl certificate" in text.lower():
            return (f"TLS verification of {self.server} failed ({text}). Give ca_path (the CA that signed the "
                    "Publisher's certificate), or validate_certs: false on a trusted network")
        if isinstance(reason, ConnectionRefusedError) or "refused" in text.lower():
            return f"cannot connect to {self.server}: connection refused (is API-M running, is publisher_url right?)"
        if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in text.lower():
            return f"no answer from {self.server} within {self.timeout} s (timeout)"
        return f"cannot reach {self.server}: {text}"


class Credentials:
    """How to get a token: a token as given, or DCR (unless client_id/client_secret) and the password grant."""

    def __init__(self, *, username: str | None = None, password: str | None = None, token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None):
        if token:
            if username or password or client_id or client_secret:
                raise PublisherError("token is given: give neither username/password nor client_id/client_secret")
        elif not (username and password):
            raise PublisherError("give username and password (a DCR client and a token are then obtained), or a token")
        if bool(client_id) != bool(client_secret):
            raise PublisherError("client_id and client_secret go together: give both or neither")
        self.username = username
        self.password = password
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret


def dcr_client_name(username: str) -> str:
    """A stable client name per user: DCR returns the existing client for a known name, so no client piles up."""
    return "apim_certificates_" + re.sub(r"[^A-Za-z0-9_]", "_", username)


class Session:
    """Tokens for the needs of a run ('view', 'add', 'update'), obtained once per set of needs."""

    def __init__(self, connection: Connection, credentials: Credentials, *, accepted_scopes: dict | None = None,
                 scope_sets: tuple | None = None, legacy_scope_sets: tuple | None = None,
                 roles_hint: str = "admin, or Internal/creator for endpoint certificates"):
        """accepted_scopes, scope_sets and legacy_scope_sets (for api_version v1/v2) describe another family of
        operations (e.g. client certificates); by default, the endpoint certificates'."""
        self.connection = connection
        self.credentials = credentials
        self.accepted_scopes = accepted_scopes or ACCEPTED_SCOPES
        self.scope_sets = scope_sets or _SCOPE_SETS
        self.legacy_scope_sets = legacy_scope_sets or _SCOPE_SETS[2:]
        self.roles_hint = roles_hint
        self._client = None
        self._tokens = {}

    def token(self, needs) -> str:
        if self.credentials.token:
            return self.credentials.token
        key = frozenset(needs)
        for cached_needs, token in self._tokens.items():
            if key <= cached_needs:
                return token
        token = self._password_grant(key)
        self._tokens[key] = token
        return token

    def _oauth_client(self) -> tuple:
        if self.credentials.client_id:
            return self.credentials.client_id, self.credentials.client_secret
        if self._client is None:
            self._client = self._register()
        return self._client

    def _register(self) -> tuple:
        operation = "register an OAuth client (DCR)"
        user = self.credentials.username
        body = json.dumps({
            "callbackUrl": "www.example.com", "clientName": dcr_client_name(user), "owner": user,
            "grantType": "password refresh_token", "saasApp": True,
        }).encode("utf-8")
        response = self.connection.request(
            operation, "POST", self.connection.server + DCR_PATH, data=body,
            headers={"Content-Type": "application/json", "Authorization": _basic(user, self.credentials.password)},
        )
        if response.status == 401:
            raise failure(operation, response, f"The Publisher refused the username '{user}' or its password: "
                                               "check them (a tenant user is user@tenant-domain)")
        if response.status == 403:
            raise failure(operation, response, f"User '{user}' may not register OAuth clients; give client_id and "
                                               "client_secret of a client registered for it, or a token")
        if response.status not in (200, 201):
            raise failure(operation, response)
        data = response.json(operation)
        if not isinstance(data, dict) or not data.get("clientId") or not data.get("clientSecret"):
            raise PublisherError(f"{operation}: HTTP {response.status} without clientId and clientSecret")
        return data["clientId"], data["clientSecret"]

    def _password_grant(self, needs: frozenset) -> str:
        client_id, client_secret = self._oauth_client()
        legacy = self.connection.api_version in _LEGACY_VERSIONS
        scope_sets = self.legacy_scope_sets if legacy else self.scope_sets
        accepted = self.accepted_scopes
        granted_any = set()
        for scope_set in scope_sets:
            asked = sorted({scope_set[need] for need in needs})
            token, granted = self._request_token(client_id, client_secret, asked)
            granted_any.update(granted)
            if all(any(scope in granted for scope in accepted[need]) for need in needs):
                return token
        missing = [need for need in sorted(needs) if not any(s in granted_any for s in accepted[need])]
        wanted = "; ".join(f"to {need}: one of {', '.join(accepted[need])}" for need in missing)
        raise PublisherError(
            f"get a token: user '{self.credentials.username}' lacks a scope this needs ({wanted}); the token endpoint "
            f"granted only: {' '.join(sorted(granted_any)) or 'no scope'}. Give the user a role that holds them "
            f"({self.roles_hint})"
        )

    def _request_token(self, client_id: str, client_secret: str, scopes: list) -> tuple:
        operation = "get a token (password grant)"
        form = urlencode({
            "grant_type": "password", "username": self.credentials.username, "password": self.credentials.password,
            "scope": " ".join(scopes),
        }).encode("ascii")
        response = self.connection.request(
            operation, "POST", self.connection.server + TOKEN_PATH, data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": _basic(client_id, client_secret)},
        )
        if response.status != 200:
            error = ""
            try:
                error = json.loads(response.body.decode("utf-8")).get("error", "")
            except (ValueError, AttributeError):
                pass
            if error == "invalid_grant":
                raise failure(operation, response, f"Wrong username or password for '{self.credentials.username}' "
                                                   "(a tenant user is user@tenant-domain)")
            if error == "invalid_client" or response.status == 401:
                raise failure(operation, response, "The OAuth client was refused: check client_id and client_secret")
            raise failure(operation, response)
        data = response.json(operation)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise PublisherError(f"{operation}: HTTP 200 without an access_token")
        granted = data.get("scope")
        return token, set(granted.split()) if isinstance(granted, str) else set(scopes)


class ApiClient:
    """One authorized call to the Publisher (token for the needs, 401 and 403 worded) and paged lists: what every
    client of a Publisher resource shares. accepted_scopes: need -> the scopes that grant it, for the 401 message."""

    accepted_scopes = ACCEPTED_SCOPES

    def __init__(self, session: Session):
        self.session = session
        self.connection = session.connection

    def _call(self, operation: str, method: str, path: str, needs, *, query: dict | None = None,
              data: bytes | None = None, content_type: str | None = None, accept: str = "application/json") -> Response:
        url = self.connection.base + path + ("?" + urlencode(query) if query else "")
        headers = {"Authorization": "Bearer " + self.session.token(needs), "Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        response = self.connection.request(operation, method, url, data=data, headers=headers)
        if response.status == 401:
            accepted = "; ".join(f"to {need}: one of {', '.join(self.accepted_scopes[need])}" for need in sorted(needs))
            raise failure(operation, response, "The token was refused: it is invalid or expired, or it lacks the "
                                               f"scope this needs ({accepted})")
        if response.status == 403:
            raise failure(operation, response, "The user may not do this (missing permission or scope)")
        return response

    def _paged(self, operation: str, path: str, query: dict, key: str, needs, missing=None) -> list:
        """Every item of a paged list (limit/offset, pagination.total or .next). missing: the exception class a 404
        raises (a route this Publisher does not have); otherwise any status but 200 is a failure."""
        items = []
        offset = 0
        for _page in range(_MAX_PAGES):
            response = self._call(operation, "GET", path, needs, query=dict(query, limit=PAGE_SIZE, offset=offset))
            if response.status == 404 and missing is not None:
                raise missing(f"{operation}: HTTP 404: the Publisher has no {path}")
            if response.status != 200:
                raise failure(operation, response)
            data = response.json(operation)
            page = (data.get(key) if isinstance(data, dict) else None) or []
            items.extend(page)
            pagination = (data.get("pagination") if isinstance(data, dict) else None) or {}
            total = pagination.get("total")
            if not page or (len(items) >= total if isinstance(total, int) else not pagination.get("next")):
                break
            offset += len(page)
        return items


class PublisherClient(ApiClient):
    """The endpoint-certificates operations. Each returns data or None for 'not found', and raises otherwise."""

    @staticmethod
    def _alias_path(alias: str, suffix: str = "") -> str:
        return "/endpoint-certificates/" + quote(alias, safe="") + suffix

    def list_certificates(self, alias: str | None = None, endpoint: str | None = None) -> list:
        """Every certificate matching the filter (the API's: alias = ? OR endpoint = ?), across all pages."""
        query = {}
        if alias:
            query["alias"] = alias
        if endpoint:
            query["endpoint"] = endpoint
        return self._pages("list endpoint certificates", "/endpoint-certificates", query, "certificates")

    def _pages(self, operation: str, path: str, query: dict, key: str) -> list:
        return self._paged(operation, path, query, key, ("view",))

    def certificate_info(self, alias: str) -> dict | None:
        operation = f"get certificate information for alias '{alias}'"
        response = self._call(operation, "GET", self._alias_path(alias), ("view",))
        if response.status == 404:
            return None
        if response.status != 200:
            raise failure(operation, response)
        data = response.json(operation)
        return data if isinstance(data, dict) else {}

    def certificate_content(self, alias: str) -> bytes | None:
        operation = f"download the certificate for alias '{alias}'"
        response = self._call(operation, "GET", self._alias_path(alias, "/content"), ("view",),
                              accept="application/octet-stream")
        if response.status == 404:
            return None
        if response.status != 200:
            raise failure(operation, response)
        return response.body

    def certificate_usage(self, alias: str) -> list:
        return self._pages(f"list the APIs that use alias '{alias}'", self._alias_path(alias, "/usage"), {}, "list")

    def add_certificate(self, alias: str, endpoint: str, pem: str) -> None:
        from ansible.module_utils.urls import prepare_multipart  # pylint: disable=import-outside-toplevel

        operation = f"add the certificate for alias '{alias}' (POST)"
        content_type, body = prepare_multipart({
            "alias": alias,
            "endpoint": endpoint,
            # The file part needs a filename, or API-M answers 400 "Proper Certificate file should be provided".
            "certificate": {"content": pem, "filename": f"{alias}.crt", "mime_type": "application/x-x509-ca-cert"},
        })
        response = self._call(operation, "POST", "/endpoint-certificates", ("view", "add"), data=body,
                              content_type=content_type)
        if response.status in (200, 201):  # API-M answers 201; its spec says 200
            return
        if response.status == 409:
            raise failure(operation, response, _conflict_hint(alias, self._case_twins(alias)))
        if response.status == 500:
            raise failure(operation, response, (
                f"API-M answers 500 when the alias '{alias}' belongs to another tenant (aliases are unique across "
                "tenants) or when it cannot read the certificate: choose another alias, or ask the tenant that owns it"
            ))
        if response.status == 400 and b"xpired" in response.body:
            raise failure(operation, response, "The certificate has expired: give a valid one")
        raise failure(operation, response)

    def _case_twins(self, alias: str) -> list:
        try:
            listed = self.list_certificates()
        except PublisherError:
            return []
        return [item.get("alias") for item in listed
                if isinstance(item.get("alias"), str) and item["alias"].lower() == alias.lower() and item["alias"] != alias]

    def delete_certificate(self, alias: str) -> None:
        """DELETE; a 500 while the row is gone (API-M's truststore lacked the alias) is confirmed with a GET."""
        operation = f"delete the certificate for alias '{alias}' (DELETE)"
        response = self._call(operation, "DELETE", self._alias_path(alias), ("view", "update"))
        if response.status == 200:
            return
        if response.status == 500 and self.certificate_info(alias) is None:
            return
        raise failure(operation, response)


def _conflict_hint(alias: str, twins: list) -> str:
    if twins:
        names = ", ".join(f"'{twin}'" for twin in twins)
        return (f"The alias {names} already exists, and the truststore compares aliases case-insensitively: "
                f"use {names} as the alias")
    return (f"The alias '{alias}' is taken in the Publisher node's truststore (aliases are compared case-insensitively "
            "there, and some, like wso2carbon, have no Publisher entry): choose another alias")


_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_JAVA_DATE = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\S+) (\d{4})$"
)
_ZONE_OFFSET = re.compile(r"^(?:GMT|UTC)([+-])(\d{1,2}):?(\d{2})?$")
# Zone abbreviations Java prints that mean one offset only (IST, CST, BST... are ambiguous and left out).
_ZONES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "CET": 60, "CEST": 120, "MET": 60, "MEST": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "EST": -300, "EDT": -240, "MDT": -360, "MST": -420, "PDT": -420,
    "PST": -480, "AKST": -540, "AKDT": -480, "HST": -600, "JST": 540, "KST": 540, "SGT": 480, "HKT": 480,
    "AEST": 600, "AEDT": 660, "ACST": 570, "AWST": 480, "NZST": 720, "NZDT": 780, "PKT": 300, "NPT": 345,
}


def java_date_to_datetime(text) -> datetime.datetime | None:
    """A Java Date.toString() ('Wed Jan 01 00:00:00 UTC 2025') as an aware datetime; None when it is not one
    or its zone abbreviation is ambiguous."""
    match = _JAVA_DATE.match(text.strip()) if isinstance(text, str) else None
    if not match or match.group(1) not in _MONTHS:
        return None
    month_name, day, hour, minute, second, zone, year = match.groups()
    offset = _ZONES.get(zone)
    numeric = _ZONE_OFFSET.match(zone)
    if offset is None and numeric:
        sign, hours, minutes = numeric.groups()
        offset = (1 if sign == "+" else -1) * (int(hours) * 60 + int(minutes or 0))
    if offset is None:
        return None
    try:
        local = datetime.datetime(int(year), _MONTHS[month_name], int(day), int(hour), int(minute), int(second),
                                  tzinfo=datetime.timezone(datetime.timedelta(minutes=offset)))
    except ValueError:
        return None
    return local.astimezone(datetime.timezone.utc)
