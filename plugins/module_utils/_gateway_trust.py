# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What gateway_trust does on one gateway node, without Ansible: everything the gateway_sync role learns about a node.

One call reads the node's live and persistent truststores, works out what the node must hold (the declared
certificates, removals, and with prune the aliases the source does not name), converges the stores through
endpoint_certificate's code (or predicts, in check mode), re-reads what it wrote, lists what expires soon and checks
from the node that the declared endpoints are trusted. It returns the stores before and after, compactly: every
alias that is not stock (or that the run names), with its SHA-256; stock entries are only counted.
"""

from __future__ import annotations

import base64
import datetime
import os

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._endpoint_certificates import (
    CertificateRequest, Options, converge, request_from_item)
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._gateway import resolve_gateway
from ansible_collections.apim.certificates.plugins.module_utils._truststore import apply_plan, load_truststore
from ansible_collections.apim.certificates.plugins.module_utils._ownership import (
    CLIENT, DEFAULT_PROTECTED, DEFAULT_STOCK_PATTERN, STOCK, Ownership, chain_base)
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import TRUSTED_CERT, normalize_alias

# drop: the filters gateway_trust can apply to the certificates a run does not name
EXPIRED = "expired"
UNSERVED_LEAVES = "unserved_leaves"
FILTERS = (EXPIRED, UNSERVED_LEAVES)


def _gateway_stores(config, password, store_type: str) -> list:
    """[[Truststore, [roles], password]] for the default profile's live store and the persistent store, as
    truststore_info reports a gateway node (one item when both are the same file)."""
    loaded = {}
    for role, ref in (("live", config.profile_for(None, None).truststore), ("persistent", config.persistent_truststore)):
        key = os.path.realpath(ref.path)
        if key in loaded:
            loaded[key][1].append(role)
            continue
        secret = password if password is not None else ref.require_password(f"the {role} truststore")
        loaded[key] = [load_truststore(ref.path, secret, store_type), [role], secret]
    return list(loaded.values())


def store_state(store, roles: list, stock: Ownership, keep=frozenset()) -> dict:
    """One store, compactly: every non-stock alias (and every alias in keep) -> SHA-256, duplicates that are not all stock."""
    entries, by_fingerprint = {}, {}
    for alias, entry in store.entries.items():
        sha256 = entry.sha256
        if sha256 is not None:
            by_fingerprint.setdefault(sha256, []).append(alias)
        if alias in keep or not stock(alias):
            entries[alias] = sha256
    return {
        "path": store.path,
        "role": "+".join(roles),
        "store_type": store.store_type,
        "integrity_verified": store.integrity_verified,
        "count": len(store.entries),
        "entries": entries,
        "duplicates": [{"fingerprint": fp, "aliases": names} for fp, names in by_fingerprint.items()
                       if len(names) > 1 and not all(stock(a) for a in names)],
    }


def certificate_facts(stores: list, stock: Ownership, keep=frozenset()) -> dict:
    """SHA-256 -> {subject, issuer, serial_number, not_after} of every certificate store_state lists (not stock, or
    named): what the role's report files show of each (x509-certificate-exporter's labels), once per certificate."""
    from ansible_collections.apim.certificates.plugins.module_utils import _der  # pylint: disable=import-outside-toplevel

    facts = {}
    for store, _roles, _secret in stores:
        for alias, entry in store.entries.items():
            if entry.certificate is None or entry.sha256 in facts or (stock(alias) and alias not in keep):
                continue
            try:
                info = certs.describe_der(entry.certificate)
            except (ValueError, ApimCertificatesError):
                continue
            facts[entry.sha256] = {"subject": info.subject, "issuer": info.issuer,
                                   "serial_number": _der.serial_number(entry.certificate), "not_after": certs.iso_utc(info.not_after)}
    return facts


def _expiring(stores: list, stock: Ownership, within_days: int, now: datetime.datetime) -> list:
    found = {}
    for store, roles, _secret in stores:
        for alias, entry in store.entries.items():
            if entry.certificate is None or stock(alias):
                continue
            try:
                info = certs.describe_der(entry.certificate)
            except ValueError:
                continue
            days = (info.not_after - now) // datetime.timedelta(days=1)
            if days < within_days:
                item = found.setdefault((alias, info.not_after), {
                    "alias": alias, "not_after": certs.iso_utc(info.not_after), "days_remaining": days, "stores": []})
                item["stores"].extend(roles)
    return [found[key] for key in sorted(found)]


def _held_as_pinned(item: dict, config, stores: list):
    """The DER both stores already hold under the alias of a pinned endpoint certificate, else None.

    Then the certificate need not be fetched again: the pin names it, and the node holds it where the endpoint's
    SSL profile (the default one) reads it. The trust check still asks the endpoint what it presents now.
    """
    if item.get("state", "present") != "present" or not item.get("endpoint") or not item.get("fingerprint") \
            or item.get("certificate") or item.get("certificate_path"):
        return None
    from ansible_collections.apim.certificates.plugins.module_utils._endpoint import parse_endpoint  # pylint: disable=import-outside-toplevel

    try:
        host, port = parse_endpoint(item["endpoint"])
        pinned = certs.normalize_fingerprint(item["fingerprint"])
    except ApimCertificatesError:
        return None  # the normal path words the error
    if not config.profile_for(host, port).is_default:
        return None
    held = [store.entries.get(normalize_alias(str(item["alias"]))) for store, _roles, _secret in stores]
    if any(entry is None or entry.sha256 != pinned for entry in held):
        return None
    return held[0].certificate


def _requests(certificates: list, remove_aliases: list, prune: bool, stores: list, stock: Ownership, config=None) -> tuple:
    """(CertificateRequest list, requested [{alias, state}], unmanaged aliases, {alias: owner} kept for another owner)."""
    requests = []
    for index, item in enumerate(certificates):
        held = _held_as_pinned(item, config, stores) if config is not None else None
        if held is not None:
            # the held certificate is the pinned one: store it as it is (it may be the CA a chain: issuer chose)
            item = dict(item, certificate=base64.b64encode(held).decode("ascii"), chain="all")
        requests.append(request_from_item(item, f"certificates[{index}]"))
    held = {alias for store, _roles, _secret in stores for alias in store.entries}
    removals, unmanaged, owned = stock.removals(held, [str(r.alias) for r in requests], remove_aliases, prune)
    requests += [CertificateRequest(alias=alias, state="absent", source=f"remove_aliases '{alias}'") for alias in removals]
    requested = [dict({"alias": normalize_alias(str(r.alias)), "state": r.state}, **({"endpoint": r.endpoint} if r.endpoint else {}))
                 for r in requests]
    return requests, requested, unmanaged, owned


def _served(requests: list, timeout) -> tuple:
    """({endpoint: [DER, ...]} served now by every endpoint of a present request, None when one cannot be asked)
    and the warning that says which one could not."""
    from ansible_collections.apim.certificates.plugins.module_utils._endpoint import fetch_chain_der, parse_endpoint  # pylint: disable=import-outside-toplevel

    served = {}
    for request in requests:
        if not request.endpoint or request.state != "present" or request.endpoint in served:
            continue
        try:
            served[request.endpoint] = fetch_chain_der(*parse_endpoint(request.endpoint), timeout)
        except ApimCertificatesError as exc:
            return None, (f"drop: {UNSERVED_LEAVES} removed nothing, because what {request.endpoint} serves is not known "
                          f"({exc}); a certificate it may serve is never dropped unseen")
    return served, None


def _filtered(drop: list, drop_stock: bool, stores: list, requests: list, stock: Ownership, served, now) -> list:
    """The trusted certificates the drop filters remove: [{alias, reason, subject, not_after, stores}].

    Never an alias the run names (or a named alias's chain member <alias>-N), never an API client certificate (the
    Publisher's), never a key entry, and stock entries only with drop_stock. An entry that cannot be read is kept.
    """
    from ansible_collections.apim.certificates.plugins.module_utils._chain import is_ca_certificate  # pylint: disable=import-outside-toplevel

    named = {normalize_alias(str(r.alias)) for r in requests}
    served_ders = {der for chain in (served or {}).values() for der in chain}
    found = {}
    for store, roles, _secret in stores:
        for alias, entry in store.entries.items():
            if entry.entry_type != TRUSTED_CERT or entry.certificate is None or alias in named or chain_base(alias) in named:
                continue
            owner = stock.owner(alias)
            if owner == CLIENT or (owner == STOCK and not drop_stock):
                continue
            try:
                info = certs.describe_der(entry.certificate)
            except (ValueError, ApimCertificatesError):
                continue
            reason = None
            if EXPIRED in drop and info.not_after < now:
                reason = EXPIRED
            elif UNSERVED_LEAVES in drop and served is not None and entry.certificate not in served_ders \
                    and is_ca_certificate(entry.certificate) is False:
                reason = "unserved leaf"
            if reason is None:
                continue
            item = found.setdefault(alias, {"alias": alias, "reason": reason, "subject": info.subject,
                                            "not_after": certs.iso_utc(info.not_after), "stores": []})
            item["stores"].extend(roles)
    return [found[alias] for alias in sorted(found)]


def sync(*, apim_home: str, password=None, store_type: str = "auto", certificates=(), remove_aliases=(), prune: bool = False,
         protected=DEFAULT_PROTECTED, stock_pattern: str = DEFAULT_STOCK_PATTERN, options: Options | None = None,
         expiring_within_days: int = 30, verify_endpoints: bool = True, hostname_verifier=None,
         drop=(), drop_stock: bool = False, listener_certificates=None, listener_exclusive: bool = False, listener_checks=(),
         local_fact=None, check_mode: bool = False) -> dict:
    """gateway_trust's result (with 'warnings' and 'diff' for the module to take out). listener_*: the HTTPS listener's
    client certificates, converged after the sender's trust (_listener_certificates.sync), in result['listener'].
    local_fact: a file to write the node's trust to as an Ansible local fact (_local_fact), after the run, never in
    check mode; one that cannot be written is a warning (predicted in check mode), never a failure."""
    from ansible_collections.apim.certificates.plugins.module_utils import _local_fact  # pylint: disable=import-outside-toplevel

    fact_problem = _local_fact.problem(local_fact) if local_fact else None
    options = options or Options()
    stock = Ownership(protected, stock_pattern)
    now = datetime.datetime.now(datetime.timezone.utc)
    unknown = [name for name in drop if name not in FILTERS]
    if unknown:
        raise ApimCertificatesError(f"drop: unknown filter(s) {', '.join(map(repr, unknown))}; give any of {', '.join(FILTERS)}")
    config = resolve_gateway(apim_home)
    before = _gateway_stores(config, password, store_type)
    requests, requested, unmanaged, owned = _requests(list(certificates), list(remove_aliases), prune, before, stock, config)
    served, drop_warning = (_served(requests, options.timeout) if UNSERVED_LEAVES in drop else (None, None))
    dropped = _filtered(list(drop), drop_stock, before, requests, stock, served, now) if drop else []
    if dropped:
        gone = {item["alias"] for item in dropped}
        requests += [CertificateRequest(alias=item["alias"], state="absent", source=f"drop {item['reason']} '{item['alias']}'")
                     for item in dropped]
        requested += [{"alias": item["alias"], "state": "absent"} for item in dropped]
        unmanaged = [alias for alias in unmanaged if alias not in gone]

    outcomes = []
    if requests:
        result, outcomes = converge(requests, options, password=password, store_type=store_type, apim_home=apim_home,
                                    config=config, check_mode=check_mode)
        result.pop("stores", None)
        result.pop("store_type", None)
        result.pop("created", None)
    else:
        result = {"changed": False, "results": [], "diff": {"before": {}, "after": {}}, "warnings": [],
                  "sslprofiles_path": config.sslprofiles_path, "reload_within_ms": config.reload_within_ms, "touched": None}

    if not result["changed"]:
        after = before
    elif check_mode:
        # what a real run would leave: each store with its plan applied
        planned = {os.path.realpath(o.path): apply_plan(o.before, o.plan) for o in outcomes if o.changed}
        after = [[planned.get(os.path.realpath(s.path), s), roles, secret] for s, roles, secret in before]
    else:
        # read back what was written, from disk
        after = [[load_truststore(s.path, secret, store_type), roles, secret] for s, roles, secret in before]

    keep = {r["alias"] for r in requested} | {r["alias"] for r in result["results"]}
    result["before"] = {"stores": [store_state(s, roles, stock, keep) for s, roles, _secret in before]}
    result["after"] = result["before"] if after is before else {
        "stores": [store_state(s, roles, stock, keep) for s, roles, _secret in after]}
    result["requested"] = requested
    result["certificates"] = certificate_facts(after, stock, keep)
    result["dropped"] = dropped
    if drop_warning:
        result["warnings"].append(drop_warning)
    result["unmanaged"] = unmanaged
    result["owned_elsewhere"] = owned
    result["expiring_within_days"] = expiring_within_days
    result["expiring"] = _expiring(after, stock, expiring_within_days, now)
    # the gateway's own key pairs (mutual TLS to backends): reported, and a warning before they expire
    from ansible_collections.apim.certificates.plugins.module_utils._keystore_report import gateway_keystores  # pylint: disable=import-outside-toplevel

    result["keystores"], keystore_warnings = gateway_keystores(config, expiring_within_days, now)
    result["warnings"].extend(keystore_warnings)
    endpoints = []
    if verify_endpoints:
        for request in requests:
            if request.endpoint and request.state == "present" and request.endpoint not in endpoints:
                endpoints.append(request.endpoint)
    result["trust_checks"] = _trust_checks(endpoints, config, after, password, store_type, hostname_verifier, options.timeout,
                                           served or {})
    result["warnings"].extend(served_warnings(result["trust_checks"], expiring_within_days))
    if listener_certificates or listener_exclusive or listener_checks:
        _listener(result, list(listener_certificates or []), apim_home=apim_home, password=password, store_type=store_type,
                  exclusive=listener_exclusive, checks=list(listener_checks or []), options=options, config=config,
                  check_mode=check_mode)
    result["local_fact"] = None
    if local_fact:
        if not fact_problem and not check_mode:
            fact_problem = _local_fact.write(local_fact, _local_fact.content(result, apim_home=apim_home, now=now))
        if fact_problem:
            result["warnings"].append(f"{fact_problem}; the local fact was not written (the stores are converged regardless)")
        else:
            result["local_fact"] = local_fact
    return result


def _listener(result: dict, certificates: list, **kwargs) -> None:
    """The listener side, after the sender's: its result under 'listener', its diff beside the sender's."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._listener_certificates import sync as listener_sync

    listener = listener_sync(certificates, **kwargs)
    result["warnings"].extend(listener.pop("warnings", []))
    diff = listener.pop("diff", None)
    if listener["changed"]:
        result["changed"] = True
        sender = result.get("diff") or {}
        result["diff"] = [sender, diff] if (sender.get("before") or sender.get("after")) else diff
    result["listener"] = listener


def served_warnings(checks: list, within_days: int) -> list:
    """What a trust check that passed today says about tomorrow: a served leaf that expires within within_days, and
    trust that rests on a CA-issued leaf only (its next renewal breaks it)."""
    found = []
    for check in checks:
        leaf = check.get("served_leaf")
        if not leaf:
            continue
        if leaf["days_remaining"] < within_days:
            found.append(f"{check['endpoint']} serves a certificate ('{leaf['subject']}') that expires on {leaf['not_after']} "
                         f"({leaf['days_remaining']} days left)")
        if check.get("trusted_by") == "leaf" and leaf["issuer"] != leaf["subject"]:
            found.append(f"{check['endpoint']} is trusted through its leaf '{leaf['subject']}' only: the next renewal breaks "
                         f"trust; trust the issuer '{leaf['issuer']}' (chain: issuer)")
    return found


def _trust_checks(endpoints: list, config, stores: list, password, store_type: str, hostname_verifier, timeout, served) -> list:
    if not endpoints:
        return []
    # Imported here: ssl/socket and the path validation cost start-up time a run without endpoints never needs.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._info import trust_checks
    from ansible_collections.apim.certificates.plugins.module_utils._trustcheck import normalize_verifier  # pylint: disable=import-outside-toplevel

    known = {os.path.realpath(s.path): s for s, _roles, _secret in stores}

    def store_for(host, port):
        profile = config.profile_for(host, port)
        key = os.path.realpath(profile.truststore.path)
        if key not in known:
            secret = password if password is not None else profile.truststore.require_password("the live truststore")
            known[key] = load_truststore(profile.truststore.path, secret, store_type)
        return known[key], ",".join(profile.servers)

    return trust_checks(endpoints, store_for, normalize_verifier(hostname_verifier or config.hostname_verifier), timeout, served)
