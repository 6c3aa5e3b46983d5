# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What endpoint_certificate does, without Ansible: resolve the requests, route them to stores, converge, reload.

Two modes. With a path: every alias goes into that one store. With an API-M home: each alias goes into the live
truststore of the SSL profile that serves its endpoint (as sslprofiles.xml names it now) and into the store
deployment.toml keeps for that profile (so it survives a restart), then sslprofiles.xml is touched so the gateway
reloads within one interval.
"""

from __future__ import annotations

import collections

from ansible_collections.apim.certificates.plugins.module_utils import _desired
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError
from ansible_collections.apim.certificates.plugins.module_utils._profile_families import SENDER
from ansible_collections.apim.certificates.plugins.module_utils._truststore import converge_truststores
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import Record, StoreTarget


class CertificateRequest(Record):
    """One alias as the user asked for it."""

    __slots__ = ("alias", "state", "certificate", "certificate_path", "endpoint", "fingerprint", "spki_pins", "chain", "source")
    _defaults = {"state": "present", "certificate": None, "certificate_path": None, "endpoint": None, "fingerprint": None,
                 "spki_pins": None, "chain": None, "source": "certificate"}


def request_from_item(item: dict, source: str) -> CertificateRequest:
    """A CertificateRequest from one certificates[] item as Ansible gives it (an option's alias, such as trust for
    chain, arrives beside the option's own name)."""
    fields = {key: value for key, value in item.items() if key in CertificateRequest.__slots__ and key != "source"}
    if fields.get("chain") is None and item.get("trust") is not None:
        fields["chain"] = item["trust"]
    return CertificateRequest(source=source, **fields)


class Options(Record):
    """chain None: leaf for fetched certificates, all for given content (a request's own chain wins). warn_leaf_only:
    warn when a fetched CA-issued leaf is trusted alone (gateway_trust's trust checks say it instead)."""

    __slots__ = ("strict_alias", "chain", "tenant_id", "timeout", "replace", "allow_expired", "create", "backup", "reload",
                 "warn_leaf_only")
    _defaults = {"strict_alias": True, "chain": None, "tenant_id": None, "timeout": 10.0, "replace": True, "allow_expired": False,
                 "create": False, "backup": False, "reload": True, "warn_leaf_only": True}


class Resolved(Record):
    __slots__ = ("desired", "host", "port")


def resolve_request(request: CertificateRequest, options: Options, warnings: list) -> Resolved:
    alias = _desired.validate_alias(request.alias, strict=options.strict_alias)
    source = f"{request.source} for alias '{alias}'"
    host = port = None
    if request.endpoint:
        # Imported here: ssl/socket (endpoints) and tomlkit/ElementTree (gateway mode) cost ~10 ms of start-up
        # that a path-mode task with given content never needs. AnsiballZ still packs both (it scans nested imports).
        from ansible_collections.apim.certificates.plugins.module_utils._endpoint import parse_endpoint  # pylint: disable=import-outside-toplevel

        host, port = parse_endpoint(request.endpoint)
    chain = None
    chain_mode = request.chain or options.chain
    pinned = bool(request.fingerprint or request.spki_pins)
    if request.state == "present":
        given = [name for name in ("certificate", "certificate_path") if getattr(request, name) is not None]
        if len(given) > 1:
            raise CertificateError(f"{source}: give certificate or certificate_path, not both")
        if pinned:
            _chain().parse_pins(request.fingerprint, request.spki_pins)  # a malformed pin is named before any connection
        if given:
            chain = _desired.load_certificate_input(
                certificate=request.certificate, certificate_path=request.certificate_path, source=source
            )
            chain_mode = chain_mode or "all"
        elif request.endpoint:
            from ansible_collections.apim.certificates.plugins.module_utils._endpoint import fetch_certificates  # pylint: disable=import-outside-toplevel

            chain, fetched_warnings = fetch_certificates(request.endpoint, pinned=pinned, timeout=options.timeout)
            warnings.extend(fetched_warnings)
            chain_mode = chain_mode or "leaf"
            source = f"{source} (the chain {host}:{port} presented)"
        else:
            raise CertificateError(f"{source}: state is present but none of certificate, certificate_path or endpoint is given")
        if pinned:
            _chain().check_pins(chain, request.fingerprint, request.spki_pins, source)
        if chain_mode in ("issuer", "root"):
            chain = _chain().select(chain, chain_mode, source)
            chain_mode = "all"
        elif chain_mode == "leaf" and request.endpoint and not given and options.warn_leaf_only:
            warning = _chain().leaf_only_warning(chain, f"{host}:{port}")
            if warning:
                warnings.append(warning)
    items = _desired.desired_items(alias, request.state, chain, chain=chain_mode or "all", tenant_id=options.tenant_id, source=source)
    return Resolved(items, host, port)


def _chain():
    """_chain, imported when a pin or a CA choice needs it (its path building loads cryptography)."""
    from ansible_collections.apim.certificates.plugins.module_utils import _chain as chain  # pylint: disable=import-outside-toplevel

    return chain


def _merge_results(stores: list, order: list) -> list:
    """Per alias, the action that mattered: the first store (live first) that changed it, else unchanged."""
    merged = {}
    for result in stores:
        for change in result.plan.changes:
            current = merged.get(change.alias)
            if current is None or (current["action"] == "unchanged" and change.action != "unchanged"):
                merged[change.alias] = change.result()
    return [merged[alias] for alias in order if alias in merged]


def manage(requests: list, options: Options, *, path=None, password=None, store_type="auto", apim_home=None, check_mode=False) -> dict:
    """Do (or, in check mode, predict) what the requests ask. Returns the module's result and warnings."""
    return converge(requests, options, path=path, password=password, store_type=store_type, apim_home=apim_home,
                    check_mode=check_mode)[0]


def converge(requests: list, options: Options, *, path=None, password=None, store_type="auto", apim_home=None, config=None,
             check_mode=False) -> tuple:
    """manage(), and the ConvergeResult of every store (what gateway_trust predicts the stores from in check mode).

    config: the node's GatewayConfig when the caller has already resolved apim_home (it is not parsed twice).
    """
    warnings = []
    resolved = [resolve_request(request, options, warnings) for request in requests]
    order = [item.alias for r in resolved for item in r.desired]
    duplicates = sorted(alias for alias, count in collections.Counter(order).items() if count > 1)
    if duplicates:
        raise CertificateError(f"alias {', '.join(repr(a) for a in duplicates)} is given twice; aliases are case-insensitive")
    if apim_home is None:
        targets = [StoreTarget(path, password, store_type, desired=[i for r in resolved for i in r.desired])]
        config = None
    else:
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.apim.certificates.plugins.module_utils._gateway import resolve_gateway, store_targets

        config = config or resolve_gateway(apim_home)
        targets = store_targets(config, [(r.host, r.port, r.desired) for r in resolved], password, store_type)

    result, outcomes = apply_targets(targets, order, options, config=config, family=SENDER, path=path,
                                     check_mode=check_mode, warnings=warnings)
    return result, outcomes


def apply_targets(targets: list, order: list, options: Options, *, config, family, path=None, check_mode=False,
                  warnings=None) -> tuple:
    """Converge the StoreTargets (or predict, in check mode) and touch the profile file of family (_profile_families:
    SENDER's sslprofiles.xml, LISTENER's listenerprofiles.xml) when a store changed, so that the running gateway
    reloads it. The one apply step of endpoint_certificate and listener_certificate. Returns (result, outcomes)."""
    warnings = [] if warnings is None else warnings
    outcomes = converge_truststores(
        targets, replace=options.replace, allow_expired=options.allow_expired, create=options.create,
        backup=options.backup, check_mode=check_mode,
    )
    for outcome in outcomes:
        for warning in outcome.plan.warnings:
            if warning not in warnings:
                warnings.append(warning)
    changed = any(outcome.changed for outcome in outcomes)
    result = {
        "changed": changed,
        "results": _merge_results(outcomes, order),
        "store_type": outcomes[0].store_type,
        "created": any(outcome.created for outcome in outcomes),
        "diff": _diff(outcomes),
    }
    backups = [o.backup_file for o in outcomes if o.backup_file]
    if backups:
        result["backup_file"] = backups[0]
        result["backup_files"] = backups
    if config is None:
        result["path"] = path
    else:
        result["stores"] = [
            {"path": o.path, "role": o.role, "store_type": o.store_type, "changed": o.changed, "created": o.created,
             "results": o.plan.results()}
            for o in outcomes
        ]
        if family is SENDER:
            result["sslprofiles_path"] = config.sslprofiles_path
            result["reload_within_ms"] = config.reload_within_ms
        result["touched"] = None
        if changed and options.reload:
            from ansible_collections.apim.certificates.plugins.module_utils._gateway import touch_profile  # pylint: disable=import-outside-toplevel

            result["touched"] = touch_profile(config, family, check_mode)
    result["warnings"] = warnings
    return result, outcomes


def _diff(outcomes: list) -> dict:
    if len(outcomes) == 1:
        return outcomes[0].diff()
    before, after = {}, {}
    for outcome in outcomes:
        diff = outcome.plan.diff(outcome.before)
        if diff["before"]:
            before[outcome.path] = diff["before"]
        if diff["after"]:
            after[outcome.path] = diff["after"]
    return {"before": before, "after": after}
