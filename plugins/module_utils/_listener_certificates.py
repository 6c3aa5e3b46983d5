# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""listener_certificate: API client certificates (and client CAs) in the HTTPS listener's truststore of a node.

The listener side of mutual TLS (../shared/docs/mutual-tls.md, part B): API consumers present certificates to the
gateway's HTTPS listener, which checks them against the truststore of its one profile in listenerprofiles.xml
(client-truststore.jks by default, the same file as the sender's persistent truststore). The gateway itself writes
the certificates of a mutual-SSL API there, when a revision of that API is deployed, as
'<KEYTYPE>_<alias>_<tenantId>' (KEYTYPE PRODUCTION or SANDBOX, the super tenant -1234). This service writes the same
entries, under the same names, into the listener's truststore and the persistent truststore (one store when they
are the same file), then touches listenerprofiles.xml so that the listener reloads its profile.

Every alias this service writes or removes has the gateway's client-certificate form, so the sender side (prune,
drop filters, safe_to_remove: _ownership) never removes it, and this service's `exclusive` removes only aliases of
that form: the sender's backend certificates in a shared store are never touched.
"""

from __future__ import annotations

import os

from ansible_collections.apim.certificates.plugins.module_utils import _desired
from ansible_collections.apim.certificates.plugins.module_utils._endpoint_certificates import Options, apply_targets
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError, GatewayConfigError
from ansible_collections.apim.certificates.plugins.module_utils._gateway import resolve_gateway
from ansible_collections.apim.certificates.plugins.module_utils._ownership import CLIENT_CERTIFICATE
from ansible_collections.apim.certificates.plugins.module_utils._profile_families import LISTENER
from ansible_collections.apim.certificates.plugins.module_utils._truststore import load_truststore
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import DesiredCertificate, StoreTarget, normalize_alias

KEY_TYPES = ("PRODUCTION", "SANDBOX")
SUPER_TENANT = -1234
# One client certificate as listener_certificate's certificates[] and gateway_trust's listener_certificates[] take it
# (AnsibleModule suboptions).
CERTIFICATE_OPTIONS = dict(
    alias=dict(type="str", required=True),
    key_type=dict(type="str", choices=list(KEY_TYPES), default="PRODUCTION"),
    tenant_id=dict(type="int", default=SUPER_TENANT),
    certificate=dict(type="str"),
    certificate_path=dict(type="path"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def gateway_alias(alias: str, key_type: str = "PRODUCTION", tenant_id: int = SUPER_TENANT) -> str:
    """The alias the gateway stores an API client certificate under: '<KEYTYPE>_<alias>_<tenantId>' (lower-cased by
    the keystore), as carbon-apimgt's CertificateMgtUtils names it."""
    return normalize_alias(f"{key_type.upper()}_{alias}_{int(tenant_id)}")


def _wanted(item: dict, index: int, strict: bool) -> DesiredCertificate:
    where = f"certificates[{index}]"
    alias = _desired_alias(item, where, strict)
    key_type = str(item.get("key_type") or "PRODUCTION").upper()
    if key_type not in KEY_TYPES:
        raise CertificateError(f"{where}: key_type {item.get('key_type')!r} is neither PRODUCTION nor SANDBOX")
    tenant = item.get("tenant_id")
    tenant = SUPER_TENANT if tenant is None else tenant
    if isinstance(tenant, bool) or not isinstance(tenant, int):
        raise CertificateError(f"{where}: tenant_id {tenant!r} is not a whole number (the super tenant is -1234)")
    stored = gateway_alias(alias, key_type, tenant)
    source = f"{where} for alias '{alias}' ({stored})"
    state = item.get("state") or "present"
    if state == "absent":
        return DesiredCertificate(stored, "absent", None, source)
    given = [name for name in ("certificate", "certificate_path") if item.get(name) is not None]
    if len(given) != 1:
        raise CertificateError(f"{source}: give exactly one of certificate or certificate_path")
    chain = _desired.load_certificate_input(certificate=item.get("certificate"), certificate_path=item.get("certificate_path"),
                                            source=source)
    if len(chain) > 1:
        raise CertificateError(
            f"{source}: {len(chain)} certificates were given; the listener holds one certificate per alias, as the "
            "gateway does: give the client certificate alone, or the CA that issues the client certificates, one alias each"
        )
    return DesiredCertificate(stored, "present", chain[0], source)


def _desired_alias(item: dict, where: str, strict: bool) -> str:
    try:
        return _desired.validate_alias(item.get("alias"), strict=strict)
    except CertificateError as exc:
        raise CertificateError(f"{where}: {exc}") from None


def _targets(config, password, store_type: str) -> list:
    """StoreTargets: the listener's truststore (listenerprofiles.xml) and the persistent truststore (deployment.toml's
    [truststore]), one target when they are the same file."""
    listener = config.listener
    if listener is None:
        raise GatewayConfigError(
            f"{config.profile_file(LISTENER)} does not exist or has no profile: this node's HTTPS listener has no dynamic "
            "SSL profile to reload (API-M 4.x renders listenerprofiles.xml at start-up); start the gateway once, or "
            "check apim_home"
        )
    if listener.truststore is None:
        raise GatewayConfigError(f"the listener profile in {listener.path} has no TrustStore")
    targets = {}
    for role, ref in (("listener", listener.truststore), ("persistent", config.persistent_truststore)):
        key = os.path.realpath(ref.path)
        if key in targets:
            targets[key].role += f"+{role}"
            continue
        secret = password if password is not None else ref.require_password(f"the {role} truststore")
        targets[key] = StoreTarget(ref.path, secret, store_type, role=role, desired=[])
    return list(targets.values())


def converge(certificates: list, *, apim_home: str, password=None, store_type: str = "auto", exclusive: bool = False,
             options: Options | None = None, check_mode: bool = False, config=None) -> dict:
    """listener_certificate's result (with 'warnings' and 'diff' for the module to take out)."""
    return _converge(certificates, apim_home=apim_home, password=password, store_type=store_type, exclusive=exclusive,
                     options=options, check_mode=check_mode, config=config)[0]


def _converge(certificates: list, *, apim_home: str, password, store_type: str, exclusive: bool, options, check_mode: bool,
              config=None) -> tuple:
    """(result, outcomes, config, [(the store before the run, its target)])."""
    options = options or Options()
    desired = [_wanted(dict(item), index, options.strict_alias) for index, item in enumerate(certificates)]
    seen = {}
    for item in desired:
        if item.alias in seen:
            raise CertificateError(f"{item.source} and {seen[item.alias]} name the same gateway alias '{item.alias}'")
        seen[item.alias] = item.source
    config = config or resolve_gateway(apim_home)
    targets = _targets(config, password, store_type)
    order = [item.alias for item in desired]
    removed = []
    for target in targets:
        target.desired.extend(desired)
        if exclusive:  # which client-certificate aliases the stores hold now (converge re-reads them under its lock)
            held = load_truststore(target.path, target.password, store_type)
            for alias in sorted(held.entries):
                if CLIENT_CERTIFICATE.match(alias) and alias not in seen:
                    target.desired.append(DesiredCertificate(alias, "absent", None, f"exclusive: '{alias}' is not named"))
                    if alias not in removed:
                        removed.append(alias)
    order += [alias for alias in removed if alias not in order]
    result, outcomes = apply_targets(targets, order, options, config=config, family=LISTENER, check_mode=check_mode)
    before = [(outcome.before, target) for outcome, target in zip(outcomes, targets)]
    listener = config.listener
    result["listener_profiles_path"] = listener.path
    result["truststore"] = listener.truststore.path
    result["live_within_ms"] = dict(listener.reload_within_ms)
    result["live_within"] = _live_within(listener.reload_within_ms) if result["changed"] else []
    result["requested"] = [{"alias": item.alias, "state": item.state} for item in desired] + \
        [{"alias": alias, "state": "absent"} for alias in removed]
    return result, outcomes, config, before


def _client_state(store, role: str) -> dict:
    """A store as the role compares it across nodes (_fleet's drift and verification): its client-certificate aliases."""
    return {"path": store.path, "role": role, "store_type": store.store_type,
            "entries": {alias: entry.sha256 for alias, entry in store.entries.items() if CLIENT_CERTIFICATE.match(alias)},
            "duplicates": []}


def sync(certificates: list, *, apim_home: str, password=None, store_type: str = "auto", exclusive: bool = False,
         checks=(), options: Options | None = None, check_mode: bool = False, config=None) -> dict:
    """gateway_trust's listener part: converge (or predict), the listener's stores before and after (client-certificate
    aliases), and whether each client certificate of checks is accepted by the listener's truststore after the run."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._truststore import apply_plan

    result, outcomes, config, before = _converge(certificates, apim_home=apim_home, password=password, store_type=store_type,
                                                 exclusive=exclusive, options=options, check_mode=check_mode, config=config)
    result.pop("stores", None)
    result.pop("created", None)
    result.pop("store_type", None)
    after = []
    for (held, target), outcome in zip(before, outcomes):
        if not outcome.changed:
            after.append((held, target))
        elif check_mode:
            after.append((apply_plan(outcome.before, outcome.plan), target))
        else:
            after.append((load_truststore(target.path, target.password, store_type), target))
    result["before"] = {"stores": [_client_state(store, target.role) for store, target in before]}
    result["after"] = {"stores": [_client_state(store, target.role) for store, target in after]}
    listener_store = next(store for store, target in after if "listener" in target.role.split("+"))
    result["checks"] = client_checks(list(checks), listener_store)
    return result


def client_checks(checks: list, store, now=None) -> list:
    """For each {name, certificate}: would the listener's TLS handshake accept this client certificate (with the
    chain given after it)? A PKIX path to a certificate of the store, every certificate valid now, and, as Java's
    EndEntityChecker asks of a TLS client, digitalSignature in keyUsage and clientAuth in extendedKeyUsage when the
    certificate has those extensions."""
    from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._info import _anchors  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._trustcheck import check_trust  # pylint: disable=import-outside-toplevel

    verdicts = []
    for index, check in enumerate(checks):
        name = str(check.get("name") or f"listener_checks[{index}]")
        chain = certs.parse_certificates(check.get("certificate") or "", f"listener_checks[{index}] ({name})")
        ders = [certs.certificate_der(cert) for cert in chain]
        verdict = check_trust(chain, _anchors(store, ders), "", "AllowAll", now)
        problem = _client_use_problem(chain[0]) if verdict["trusted"] else None
        if problem:
            verdict = dict(verdict, trusted=False, reason=problem)
        verdicts.append({"name": name, "accepted": verdict["trusted"], "reason": verdict["reason"], "anchor": verdict["anchor"],
                         "fingerprint": certs.sha256_fingerprint(ders[0]), "truststore": store.path})
    return verdicts


def _client_use_problem(cert) -> str | None:
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import ExtendedKeyUsageOID  # pylint: disable=import-outside-toplevel

    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.digital_signature:
        return "its keyUsage lacks digitalSignature, which a TLS client certificate needs (Java refuses it)"
    try:
        purposes = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if ExtendedKeyUsageOID.CLIENT_AUTH not in purposes and x509.ObjectIdentifier("2.5.29.37.0") not in purposes:
        return "its extendedKeyUsage lacks clientAuth, so it is not a TLS client certificate (Java refuses it)"
    return None


def _live_within(periods: dict) -> list:
    """What the result says about when the change takes effect, per reloader (_profile_families.LISTENER)."""
    said = []
    for reloader in LISTENER.reloaders:
        ms = periods.get(reloader.name)
        if ms is None:
            continue
        what = ("the HTTPS listener reloads its SSL profile" if reloader.watches == "profile file" else
                "client certificates forwarded in a header by a load balancer are checked against the new store")
        key = reloader.period_key
        said.append(f"{what} within {ms / 1000:g} s ({key})")
    return said
