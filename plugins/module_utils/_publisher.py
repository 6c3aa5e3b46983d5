# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Endpoint certificates through the API-M Publisher: load the desired certificate, read what the Publisher serves,
plan, apply, report. Used by publisher_endpoint_certificate and publisher_endpoint_certificate_info.

Idempotent by content: the DER the Publisher serves for the alias and its endpoint are compared with the desired
ones. A replacement is DELETE then POST, never PUT (on 4.x a PUT rewrites only the Publisher node's truststore; the
database and the gateways keep the old certificate), and the old certificate is put back when the POST fails.
"""

from __future__ import annotations

import base64
import datetime
import re

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError, PublisherError
from ansible_collections.apim.certificates.plugins.module_utils._publisher_client import (
    Connection,
    Credentials,
    PublisherClient,
    Session,
    java_date_to_datetime,
)

ALIAS_MAX = 30

# The connection options both Publisher modules take (documented in the apim.certificates.publisher doc fragment).
CONNECTION_OPTIONS = dict(
    publisher_url=dict(type="str", required=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    token=dict(type="str", no_log=True),
    client_id=dict(type="str"),
    client_secret=dict(type="str", no_log=True),
    api_version=dict(type="str", choices=["v1", "v2", "v3", "v4"], default="v4"),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=30),
)
CONNECTION_RULES = dict(
    mutually_exclusive=[("token", "username"), ("token", "password"), ("token", "client_id"), ("token", "client_secret")],
    required_together=[("username", "password"), ("client_id", "client_secret")],
    required_one_of=[("username", "token")],
)
_BAD_ALIAS = re.compile(r"[\x00-\x1f\x7f/\\]")


def connect_with(params: dict) -> PublisherClient:
    """connect() with the CONNECTION_OPTIONS out of a module's parameters."""
    return connect(**{name: params.get(name) for name in CONNECTION_OPTIONS})


def connect(*, publisher_url: str, api_version: str = "v4", validate_certs: bool = True, ca_path: str | None = None,
            timeout: float = 30, username: str | None = None, password: str | None = None, token: str | None = None,
            client_id: str | None = None, client_secret: str | None = None) -> PublisherClient:
    """A client for the Publisher; nothing is sent until the first call."""
    connection = Connection(publisher_url, api_version=api_version, validate_certs=validate_certs,
                            ca_path=ca_path, timeout=timeout)
    credentials = Credentials(username=username, password=password, token=token, client_id=client_id,
                              client_secret=client_secret)
    return PublisherClient(Session(connection, credentials))


def check_alias(alias) -> str:
    if not isinstance(alias, str) or not alias.strip():
        raise PublisherError("alias is empty: the Publisher needs an alias of 1 to 30 characters")
    if len(alias) > ALIAS_MAX:
        raise PublisherError(f"alias '{alias}' has {len(alias)} characters: the Publisher takes 1 to {ALIAS_MAX}")
    if _BAD_ALIAS.search(alias) or alias != alias.strip():
        raise PublisherError(f"alias {alias!r} holds a slash, a backslash, a control character or surrounding spaces: "
                             "the Publisher's URLs cannot carry it")
    return alias


class Desired:
    """What the alias should hold: state, endpoint and the certificate (one, DER) when present."""

    __slots__ = ("alias", "state", "endpoint", "der", "info")

    def __init__(self, alias: str, state: str, endpoint: str | None = None, der: bytes | None = None, info=None):
        self.alias = alias
        self.state = state
        self.endpoint = endpoint
        self.der = der
        self.info = info


def one_certificate(certificate, certificate_path, source: str, one_per_alias: str, now=None):
    """The CertificateInfo of the one certificate given as content or as a file on the host running the module,
    refused when it is several (one_per_alias says why and what to do) or expired (the Publisher answers 400)."""
    if certificate is None:
        try:
            with open(certificate_path, "rb") as handle:
                certificate = handle.read()
        except OSError as exc:
            raise CertificateError(f"{source}: cannot read {certificate_path}: {exc.strerror}") from None
        source = f"{source} ({certificate_path})"
    found = certs.read_certificates(certificate, source)
    if len(found) != 1:
        raise CertificateError(f"{source}: holds {len(found)} certificates; {one_per_alias}")
    info = found[0]
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if info.not_after <= now:
        raise CertificateError(
            f"{source}: the certificate expired on {certs.iso_utc(info.not_after)} ({info.subject}); the Publisher "
            "refuses expired certificates (HTTP 400 'Certificate Expired'): give a renewed certificate"
        )
    return info


def load_desired(*, alias: str, state: str = "present", endpoint: str | None = None, certificate=None,
                 certificate_path: str | None = None, now: datetime.datetime | None = None) -> Desired:
    """Check the request before any call: alias, one certificate, not expired (API-M would answer 400)."""
    check_alias(alias)
    if state == "absent":
        return Desired(alias, state)
    if not endpoint or not endpoint.strip():
        raise PublisherError(f"endpoint is required with state=present (alias '{alias}'): the Publisher stores every "
                             "certificate with the endpoint it is for, e.g. https://orders.internal:8443")
    if certificate is None and certificate_path is None:
        raise PublisherError(f"certificate or certificate_path is required with state=present (alias '{alias}')")
    info = one_certificate(certificate, certificate_path, f"certificate for alias '{alias}'",
                           "the Publisher stores one per alias (a bundle would leave only its first in the Publisher's "
                           "truststore): give the one to trust, each other under its own alias", now=now)
    return Desired(alias, state, endpoint, info.der, info)


class Current:
    """What the Publisher holds under the alias: the DER it serves and the endpoint it lists."""

    __slots__ = ("alias", "endpoint", "der")

    def __init__(self, alias: str, endpoint: str | None, der: bytes):
        self.alias = alias
        self.endpoint = endpoint
        self.der = der


def read_current(client: PublisherClient, alias: str) -> Current | None:
    der = client.certificate_content(alias)
    if der is None:
        return None
    listed = [item for item in client.list_certificates(alias=alias) if item.get("alias") == alias]
    return Current(alias, listed[0].get("endpoint") if listed else None, der)


def plan(current: Current | None, desired: Desired) -> str:
    """added, replaced, removed or unchanged."""
    if desired.state == "absent":
        return "removed" if current is not None else "unchanged"
    if current is None:
        return "added"
    if current.der == desired.der and current.endpoint == desired.endpoint:
        return "unchanged"
    return "replaced"


def to_pem(der: bytes) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


# The kinds of call each action makes: its token is asked for before the first write, so that a missing scope
# fails before anything is deleted.
_NEEDS = {"added": ("view", "add"), "removed": ("view", "update"), "replaced": ("view", "add", "update")}


def apply(client: PublisherClient, action: str, current: Current | None, desired: Desired) -> None:
    alias = desired.alias
    if action in _NEEDS:
        client.session.token(_NEEDS[action])
    if action == "added":
        client.add_certificate(alias, desired.endpoint, to_pem(desired.der))
    elif action == "removed":
        client.delete_certificate(alias)
    elif action == "replaced":
        client.delete_certificate(alias)
        try:
            client.add_certificate(alias, desired.endpoint, to_pem(desired.der))
        except PublisherError as exc:
            raise PublisherError(_restore(client, current, exc)) from None


def _restore(client: PublisherClient, current: Current, exc: PublisherError) -> str:
    said = (f"replace the certificate for alias '{current.alias}': the old certificate was deleted, then adding the "
            f"new one failed ({exc})")
    if current.endpoint is None:
        return (f"{said}; the old certificate (SHA-256 {certs.sha256_fingerprint(current.der)}) could not be put back "
                "because its endpoint is unknown: the alias is now absent from the Publisher")
    try:
        client.add_certificate(current.alias, current.endpoint, to_pem(current.der))
    except PublisherError as again:
        return (f"{said}; putting the old certificate (SHA-256 {certs.sha256_fingerprint(current.der)}) back failed "
                f"too ({again}): the alias is now ABSENT from the Publisher and its gateways")
    return f"{said}; the old certificate was put back, so the alias holds what it held before"


def facts_from_der(alias: str, endpoint: str | None, der: bytes, info: dict | None = None) -> dict:
    """The certificate as results report it: the Publisher's status and validity (its Java dates as ISO 8601),
    falling back to the certificate's own where the Publisher gives none or an ambiguous zone; the subject as
    RFC 4514 from the certificate, so that it reads the same whichever way it was obtained."""
    try:
        parsed = certs.describe_der(der)
    except ValueError:
        parsed = None
    info = info or {}
    validity = info.get("validity") or {}
    valid_from = java_date_to_datetime(validity.get("from"))
    valid_to = java_date_to_datetime(validity.get("to"))
    if parsed is not None:
        valid_from = valid_from or parsed.not_before
        valid_to = valid_to or parsed.not_after
    status = info.get("status")
    if isinstance(status, str) and status:
        status = status.lower()
    elif valid_from and valid_to:
        status = certs.status_between(valid_from, valid_to)
    else:
        status = None
    return {
        "alias": alias,
        "endpoint": endpoint,
        "status": status,
        "subject": parsed.subject if parsed is not None else info.get("subject"),
        "valid_from": certs.iso_utc(valid_from) if valid_from else None,
        "valid_to": certs.iso_utc(valid_to) if valid_to else None,
        "fingerprint": certs.sha256_fingerprint(der),
    }


def served_facts(client: PublisherClient, alias: str) -> dict | None:
    """What the Publisher serves for alias now, or None."""
    current = read_current(client, alias)
    if current is None:
        return None
    return facts_from_der(alias, current.endpoint, current.der, client.certificate_info(alias))


def _diff_side(facts: dict | None) -> dict:
    if not facts:
        return {}
    return {key: facts[key] for key in ("alias", "endpoint", "fingerprint", "subject", "valid_to")}


def manage(client: PublisherClient, desired: Desired, *, check_mode: bool = False) -> dict:
    """Make the Publisher hold desired; return changed, action, certificate and diff. No write in check mode."""
    current = read_current(client, desired.alias)
    action = plan(current, desired)
    if check_mode and action in _NEEDS:
        # ask for the token the real run would write with (no write call): a scope it lacks fails the audit too
        client.session.token(_NEEDS[action])
    before = facts_from_der(current.alias, current.endpoint, current.der) if current is not None else None
    if desired.state == "absent":
        after = None
        if action != "unchanged" and not check_mode:
            apply(client, action, current, desired)
    elif action == "unchanged":
        after = facts_from_der(desired.alias, current.endpoint, current.der, client.certificate_info(desired.alias))
    elif check_mode:
        after = facts_from_der(desired.alias, desired.endpoint, desired.der)  # what the Publisher would serve
    else:
        apply(client, action, current, desired)
        after = served_facts(client, desired.alias)
        if after is None:
            raise PublisherError(f"add the certificate for alias '{desired.alias}': the Publisher accepted it but "
                                 "does not serve it afterwards")
    return {
        "changed": action != "unchanged",
        "action": action,
        "certificate": after,
        "diff": {"before": _diff_side(before), "after": _diff_side(after)},
    }


def report(client: PublisherClient, *, alias: str | None = None, endpoint: str | None = None,
           usage: bool = True) -> list:
    """The certificates matching both filters (exact), each with its facts and the APIs that use it."""
    if alias is not None:
        check_alias(alias)
    listed = client.list_certificates(alias=alias, endpoint=endpoint)
    selected = [item for item in listed
                if (alias is None or item.get("alias") == alias) and (endpoint is None or item.get("endpoint") == endpoint)]
    # The usage resource exists from API-M 4.2 (v4) on.
    with_usage = usage and client.connection.api_version == "v4"
    result = []
    for item in selected:
        name = item.get("alias")
        der = client.certificate_content(name)
        if der is None:  # removed between the list and now
            continue
        facts = facts_from_der(name, item.get("endpoint"), der, client.certificate_info(name))
        facts["apis"] = [_api_facts(api) for api in client.certificate_usage(name)] if with_usage else None
        result.append(facts)
    return result


def _api_facts(api: dict) -> dict:
    return {key: api.get(key) for key in ("id", "name", "version", "context", "provider")}
