# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""API client certificates (mutual SSL for APIs) through the API-M Publisher: check the request, find the API and
the route, read what the Publisher holds, plan, apply, and optionally create and deploy a revision. Used by
publisher_client_certificate and publisher_client_certificate_info.

Idempotent by content: the SHA-256 of the certificate the Publisher serves for the alias and the tier are compared
with the desired ones. A replacement is one PUT carrying what changed (certificate and/or tier): for client
certificates the PUT writes the database, like POST and DELETE. None of them reaches a gateway: gateways get the
change with the next deployed API revision, which this module creates and deploys when asked to.
"""

from __future__ import annotations

import datetime

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError, PublisherError
from ansible_collections.apim.certificates.plugins.module_utils._publisher import (
    CONNECTION_OPTIONS,
    check_alias,
    facts_from_der,
    one_certificate,
    to_pem,
)
from ansible_collections.apim.certificates.plugins.module_utils._publisher_client import Connection, Credentials
from ansible_collections.apim.certificates.plugins.module_utils._publisher_client_certs import (
    KEY_TYPES,
    ROUTES,
    ClientCertsClient,
    RouteMissing,
    client_cert_session,
)

ROUTE_CHOICES = ("auto",) + ROUTES
NOT_ON_GATEWAYS = ("not yet on gateways: the Publisher holds the change, but gateways get it only with the next "
                   "deployed revision of the API (set deploy_revision: true, or deploy one in the Publisher)")
_READ = ("find", "view")
_NEEDS = {"added": _READ + ("add",), "replaced": _READ + ("update",), "removed": _READ + ("delete",)}


def connect_with(params: dict) -> ClientCertsClient:
    """A client for the Publisher's client certificates, from the connection options of a module's parameters."""
    connection = Connection(params["publisher_url"], api_version=params.get("api_version") or "v4",
                            validate_certs=params.get("validate_certs", True), ca_path=params.get("ca_path"),
                            timeout=params.get("timeout") or 30)
    credentials = Credentials(**{name: params.get(name) for name in
                                 ("username", "password", "token", "client_id", "client_secret")})
    return ClientCertsClient(client_cert_session(connection, credentials))


def connection_params(params: dict) -> dict:
    return {name: params.get(name) for name in CONNECTION_OPTIONS}


def normalize_key_type(key_type) -> str:
    """PRODUCTION or SANDBOX, given in any case (as the Publisher takes it); anything else is refused."""
    value = key_type.strip().upper() if isinstance(key_type, str) else ""
    if value not in KEY_TYPES:
        raise PublisherError(f"key_type {key_type!r} is not PRODUCTION or SANDBOX (any case): the Publisher answers "
                             "400 for any other key type")
    return value


class ApiSelector:
    """How the API is named: its id, or its name and version."""

    __slots__ = ("api_id", "name", "version")

    def __init__(self, api_id: str | None = None, name: str | None = None, version: str | None = None):
        if api_id and (name or version):
            raise PublisherError("give api_id, or api_name with api_version, not both")
        if not api_id and not (name and version):
            raise PublisherError("give api_id, or api_name with api_version, to name the API")
        self.api_id = api_id
        self.name = name
        self.version = version


class Desired:
    __slots__ = ("alias", "key_type", "state", "tier", "der", "info")

    def __init__(self, alias: str, key_type: str, state: str, tier: str | None = None, der: bytes | None = None,
                 info=None):
        self.alias = alias
        self.key_type = key_type
        self.state = state
        self.tier = tier
        self.der = der
        self.info = info


def load_desired(*, alias: str, key_type: str = "PRODUCTION", state: str = "present", tier: str | None = None,
                 certificate=None, certificate_path: str | None = None,
                 now: datetime.datetime | None = None) -> Desired:
    """Check the request before any call: alias, key type, tier, one certificate, not expired."""
    check_alias(alias)
    key_type = normalize_key_type(key_type)
    if tier is not None and not tier.strip():
        raise PublisherError(f"tier is empty (alias '{alias}'): give a subscription tier name, e.g. Gold or Unlimited")
    if state == "absent":
        return Desired(alias, key_type, state)
    if certificate is None and certificate_path is None:
        raise PublisherError(f"certificate or certificate_path is required with state=present (alias '{alias}')")
    info = one_certificate(certificate, certificate_path, f"client certificate for alias '{alias}'",
                           "the Publisher keeps one per alias: give each client certificate under its own alias", now=now)
    return Desired(alias, key_type, state, tier, info.der, info)


# --- the API and the route ----------------------------------------------------------------------------------

def resolve_api(client: ClientCertsClient, selector: ApiSelector) -> dict:
    """{id, name, version, context, policies} of the one API the selector names; a clear error otherwise."""
    if selector.api_id:
        api = client.get_api(selector.api_id, _READ)
        if api is None:
            raise PublisherError(f"find the API: the Publisher has no API with id '{selector.api_id}' (HTTP 404), "
                                 "or the user cannot see it")
        return _api_facts(api, selector.api_id)
    found = [api for api in client.search_apis(selector.name, selector.version, _READ)
             if api.get("name") == selector.name and api.get("version") == selector.version]
    if not found:
        raise PublisherError(f"find the API: the Publisher has no API named '{selector.name}' with version "
                             f"'{selector.version}' (exact match), or the user cannot see it")
    if len(found) > 1:
        ids = ", ".join(f"{api.get('id')} (provider {api.get('provider')})" for api in found)
        raise PublisherError(f"find the API: {len(found)} APIs are named '{selector.name}' with version "
                             f"'{selector.version}': {ids}; give api_id instead")
    api = client.get_api(found[0]["id"], _READ) or found[0]
    return _api_facts(api, found[0]["id"])


def _api_facts(api: dict, api_id: str) -> dict:
    policies = api.get("policies")
    return {"id": api.get("id") or api_id, "name": api.get("name"), "version": api.get("version"),
            "context": api.get("context"), "policies": policies if isinstance(policies, list) else None}


def choose_route(client: ClientCertsClient, route: str, api_id: str, key_type: str, alias: str | None = None):
    """(route, listed certificates for alias, or for all when alias is None). auto: client-certs, or the
    deprecated route where the server has no client-certs (API-M before 4.4)."""
    if route not in ROUTE_CHOICES:
        raise PublisherError(f"route '{route}' is not one of {', '.join(ROUTE_CHOICES)}")
    if route == "client-certificates" and key_type != "PRODUCTION":
        raise PublisherError(f"key_type {key_type}: the deprecated client-certificates route holds PRODUCTION "
                             "certificates only; use route client-certs (API-M 4.4+)")
    tried = ("client-certs", "client-certificates") if route == "auto" else (route,)
    for candidate in tried:
        if candidate == "client-certificates" and key_type != "PRODUCTION":
            raise PublisherError(f"key_type {key_type} needs the client-certs route (API-M 4.4+), which this "
                                 "Publisher does not have; older versions hold PRODUCTION client certificates only")
        try:
            return candidate, client.list_certificates(candidate, api_id, key_type, _READ, alias=alias)
        except RouteMissing as exc:
            if candidate == tried[-1]:
                raise PublisherError(f"{exc}: this Publisher has no such client-certificate route (route "
                                     f"{route}; the deprecated one exists before API-M 4.4 and after, client-certs "
                                     "from 4.4)") from None
    raise PublisherError("no route")  # not reached


# --- plan and apply -----------------------------------------------------------------------------------------

class Current:
    __slots__ = ("alias", "tier", "der")

    def __init__(self, alias: str, tier: str | None, der: bytes):
        self.alias = alias
        self.tier = tier
        self.der = der


def read_der(data: bytes, what: str) -> bytes:
    """The DER of what the Publisher serves (DER, PEM, or base64 without the PEM lines)."""
    try:
        found = certs.read_certificates(data, what)
    except CertificateError as exc:
        raise PublisherError(f"{what}: the Publisher serves content that is not a certificate ({exc})") from None
    return found[0].der


def read_current(client: ClientCertsClient, route: str, api_id: str, key_type: str, alias: str,
                 listed: list) -> Current | None:
    matches = [item for item in listed if item.get("alias") == alias]
    if not matches:
        return None
    data = client.certificate_content(route, api_id, key_type, alias, _READ)
    if data is None:
        return None
    return Current(alias, matches[0].get("tier"), read_der(data, f"client certificate '{alias}' ({key_type})"))


class Plan:
    __slots__ = ("action", "certificate", "tier")

    def __init__(self, action: str, certificate: bool = False, tier: bool = False):
        self.action = action
        self.certificate = certificate  # the certificate changes
        self.tier = tier  # the tier changes


def plan(current: Current | None, desired: Desired) -> Plan:
    if desired.state == "absent":
        return Plan("removed" if current is not None else "unchanged")
    if current is None:
        if not desired.tier:
            raise PublisherError(f"tier is required to add client certificate '{desired.alias}' "
                                 f"({desired.key_type}): the Publisher applies a subscription tier to its requests")
        return Plan("added", certificate=True, tier=True)
    certificate = current.der != desired.der
    tier = desired.tier is not None and desired.tier != current.tier
    return Plan("replaced" if certificate or tier else "unchanged", certificate, tier)


def check_tier(api: dict, desired: Desired, the_plan: Plan) -> None:
    """A tier the API does not offer is refused before any write (the API's subscription tiers, when listed)."""
    if not the_plan.tier or not api.get("policies"):
        return
    if desired.tier not in api["policies"]:
        raise PublisherError(f"tier '{desired.tier}' is not a subscription tier of API '{api.get('name')}' "
                             f"{api.get('version')} (it has: {', '.join(api['policies'])}): give one of them")


def apply(client: ClientCertsClient, route: str, api_id: str, the_plan: Plan, desired: Desired) -> None:
    needs = _NEEDS[the_plan.action]
    if the_plan.action == "added":
        client.add_certificate(route, api_id, desired.key_type, desired.alias, to_pem(desired.der), desired.tier, needs)
    elif the_plan.action == "replaced":
        client.update_certificate(route, api_id, desired.key_type, desired.alias,
                                  to_pem(desired.der) if the_plan.certificate else None,
                                  desired.tier if the_plan.tier else None, needs)
    elif the_plan.action == "removed":
        client.delete_certificate(route, api_id, desired.key_type, desired.alias, needs)


def deployment_targets(deployments: list) -> list:
    """Where the API is deployed now, as deploy-revision takes it: [{name, vhost, displayOnDevportal}]."""
    targets, seen = [], set()
    for item in deployments:
        if item.get("status") == "REJECTED" or not item.get("name"):
            continue
        key = (item["name"], item.get("vhost"))
        if key in seen:
            continue
        seen.add(key)
        target = {"name": item["name"], "displayOnDevportal": bool(item.get("displayOnDevportal", True))}
        if item.get("vhost"):
            target["vhost"] = item["vhost"]
        targets.append(target)
    return targets


def _describe(desired: Desired, api: dict, action: str) -> str:
    return (f"client certificate '{desired.alias}' ({desired.key_type}) {action} for API '{api.get('name')}' "
            f"{api.get('version')}")


def deploy(client: ClientCertsClient, api: dict, targets: list, desired: Desired, action: str) -> dict:
    """Create a revision and deploy it where the API is deployed now; a failure says what is done and what not."""
    needs = _NEEDS[action] + ("deploy",)
    done = _describe(desired, api, action)
    try:
        revision = client.create_revision(api["id"], f"apim.certificates: {done}", needs)
    except PublisherError as exc:
        raise PublisherError(f"{done} on the Publisher, but it is NOT on the gateways: {exc}") from None
    try:
        client.deploy_revision(api["id"], revision["id"], targets, needs)
    except PublisherError as exc:
        raise PublisherError(f"{done} on the Publisher and revision {revision['id']} "
                             f"({revision.get('displayName')}) was created, but it is NOT on the gateways: deploying "
                             f"it to {', '.join(t['name'] for t in targets)} failed: {exc}") from None
    return {"id": revision["id"], "display_name": revision.get("displayName")}


def cert_facts(alias: str, key_type: str, tier: str | None, der: bytes, info: dict | None = None) -> dict:
    facts = facts_from_der(alias, None, der, info)
    facts.pop("endpoint", None)
    facts.update({"key_type": key_type, "tier": tier})
    return facts


def _diff_side(facts: dict | None) -> dict:
    if not facts:
        return {}
    return {key: facts[key] for key in ("alias", "key_type", "tier", "fingerprint", "subject", "valid_to")}


def manage(client: ClientCertsClient, selector: ApiSelector, desired: Desired, *, route: str = "auto",
           deploy_revision: bool = False, check_mode: bool = False) -> dict:
    """Make the API's client certificate under alias what desired says; no write in check mode."""
    api = resolve_api(client, selector)
    chosen, listed = choose_route(client, route, api["id"], desired.key_type, desired.alias)
    current = read_current(client, chosen, api["id"], desired.key_type, desired.alias, listed)
    the_plan = plan(current, desired)
    check_tier(api, desired, the_plan)
    action = the_plan.action
    warnings = []
    targets = None
    if action != "unchanged":
        needs = _NEEDS[action] + (("deploy",) if deploy_revision else ())
        client.session.token(needs)  # a scope the write needs is missing: fail before anything is written
        if deploy_revision:
            targets = deployment_targets(client.deployments(api["id"], needs))
    before = cert_facts(current.alias, desired.key_type, current.tier, current.der) if current else None
    if action == "unchanged":
        after = cert_facts(desired.alias, desired.key_type, current.tier, current.der,
                           client.certificate_info(chosen, api["id"], desired.key_type, desired.alias, _READ)) \
            if current else None
    elif desired.state == "absent":
        after = None
    else:
        after = cert_facts(desired.alias, desired.key_type, desired.tier if the_plan.tier else current.tier,
                           desired.der)
    if action != "unchanged" and not check_mode:
        apply(client, chosen, api["id"], the_plan, desired)
        if desired.state == "present":
            after = _served(client, chosen, api["id"], desired)
    revision, gateways_updated = None, None
    if action != "unchanged":
        gateways_updated = False
        if not deploy_revision:
            warnings.append(f"{_describe(desired, api, action)}: {NOT_ON_GATEWAYS}")
        elif not targets:
            warnings.append(f"{_describe(desired, api, action)}: the API is deployed to no gateway environment, so "
                            "no revision was deployed; gateways get the change with the API's first deployment")
        elif check_mode:
            gateways_updated = True
        else:
            revision = deploy(client, api, targets, desired, action)
            gateways_updated = True
    return {
        "changed": action != "unchanged",
        "action": action,
        "route": chosen,
        "api": {key: api[key] for key in ("id", "name", "version", "context")},
        "certificate": after,
        "gateways_updated": gateways_updated,
        "revision": revision,
        "deployed_to": [target["name"] for target in targets] if gateways_updated else [],
        "warnings": warnings,
        "diff": {"before": _diff_side(before), "after": _diff_side(after)},
    }


def _served(client: ClientCertsClient, route: str, api_id: str, desired: Desired) -> dict:
    listed = client.list_certificates(route, api_id, desired.key_type, _READ, alias=desired.alias)
    current = read_current(client, route, api_id, desired.key_type, desired.alias, listed)
    if current is None:
        raise PublisherError(f"add client certificate '{desired.alias}' ({desired.key_type}): the Publisher accepted "
                             "it but does not serve it afterwards")
    info = client.certificate_info(route, api_id, desired.key_type, desired.alias, _READ)
    return cert_facts(desired.alias, desired.key_type, current.tier, current.der, info)


def report(client: ClientCertsClient, selector: ApiSelector, *, key_type: str | None = None,
           alias: str | None = None, route: str = "auto") -> dict:
    """The API's client certificates (both key types unless one is given), each with its facts."""
    if alias is not None:
        check_alias(alias)
    api = resolve_api(client, selector)
    key_types = [normalize_key_type(key_type)] if key_type else list(KEY_TYPES)
    chosen, listed = choose_route(client, route, api["id"], key_types[0], alias)
    if chosen == "client-certificates" and not key_type:
        key_types = ["PRODUCTION"]
    found = []
    for index, kind in enumerate(key_types):
        if index:
            listed = client.list_certificates(chosen, api["id"], kind, _READ, alias=alias)
        for item in listed:
            name = item.get("alias")
            if alias is not None and name != alias:
                continue
            data = client.certificate_content(chosen, api["id"], kind, name, _READ)
            if data is None:  # removed between the list and now
                continue
            der = read_der(data, f"client certificate '{name}' ({kind})")
            found.append(cert_facts(name, kind, item.get("tier"), der,
                                    client.certificate_info(chosen, api["id"], kind, name, _READ)))
    return {"api": {key: api[key] for key in ("id", "name", "version", "context")}, "route": chosen,
            "certificates": found}
