# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ssl_profile's plan: the TOML edit of the owned keys (_toml_splice), re-parsed to prove nothing else changed, and
the sslprofiles.xml WSO2 would render from the result (part of _ssl_profiles: load -> plan -> validate -> apply).

Owned keys of deployment.toml (nothing else is ever changed):
  [transport.passthru_https.sender.ssl_profile] interval
  [keystore.tls] file_name, type, password, key_password      (the default '*' profile's keystore)
  [truststore] file_name, type, password                      (the default '*' profile's truststore)
  [[keystore.ssl_profile.custom]]                            (one entry per backend server list)
"""

from __future__ import annotations

import copy
import dataclasses
import math

from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError, SslProfileError
from ansible_collections.apim.certificates.plugins.module_utils._masking import mask_toml, mask_xml
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profile_request import Request, server_key
from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import render_sslprofiles
from ansible_collections.apim.certificates.plugins.module_utils._toml_splice import TomlEditor
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import (
    CUSTOM,
    CUSTOM_KEYSTORE_FIELDS,
    CUSTOM_TRUSTSTORE_FIELDS,
    DEFAULT_STORE_TYPE,
    INTERVAL,
    KEYSTORE_TLS,
    MIN_INTERVAL_MS,
    PROTECTED,
    TRUSTSTORE,
    Wso2Values,
    custom_profiles,
    interval_ms,
    keep_live_truststore,
    profiles_from_values,
    toml_text_values,
)
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profiles_load import Current

try:
    import tomlkit
except ImportError:  # pragma: no cover
    tomlkit = None


# --- plan -----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class StoreCheck:
    what: str  # e.g. "the truststore of the custom SSL profile 'orders.internal:443'"
    location: str
    store_type: str
    password: str
    key_password: str | None = None


@dataclasses.dataclass
class Plan:
    current: Current
    new_text: str
    new_values: dict
    actions: dict
    profiles: list  # XmlProfile, as sslprofiles.xml has (or would have) them
    new_xml: bytes | None
    interval: int
    interval_changed: bool
    default_stores_changed: bool
    kept_live_location: str | None
    warnings: list
    store_checks: list
    started_interval: int | None = None

    @property
    def toml_changed(self) -> bool:
        return self.new_text != self.current.text

    @property
    def xml_changed(self) -> bool:
        return self.new_xml is not None

    @property
    def changed(self) -> bool:
        return self.toml_changed or self.xml_changed

    @property
    def restart_required(self) -> bool:
        """Whether the change only takes effect at the next restart (what sslprofiles.xml does not carry)."""
        if not self.toml_changed:
            return False
        return not self.current.live or self.interval_changed or self.default_stores_changed

    @property
    def reload_within_ms(self) -> int | None:
        """How soon the running gateway picks up sslprofiles.xml: the interval it was started with (deployment.toml
        before this run; a change of the interval needs a restart)."""
        if not self.current.live or self.started_interval is None:
            return None
        return max(self.started_interval, MIN_INTERVAL_MS)

    def diff(self) -> list:
        """before/after of each file, every password masked; Ansible renders them as a unified diff."""
        current = self.current
        out = [{
            "before_header": current.deployment_toml,
            "after_header": current.deployment_toml,
            "before": mask_toml(current.text),
            "after": mask_toml(self.new_text),
        }]
        if current.sslprofiles_path is not None:
            before = current.xml_bytes.decode("iso-8859-1") if current.xml_bytes is not None else ""
            after = self.new_xml.decode("iso-8859-1") if self.new_xml is not None else before
            out.append({
                "before_header": current.sslprofiles_path,
                "after_header": current.sslprofiles_path,
                "before": mask_xml(before),
                "after": mask_xml(after),
            })
        return out


def _same(field: str, current, desired: str) -> bool:
    if current is None:
        return False
    if field == "type":
        return str(current).strip().upper() == desired.strip().upper()
    return str(current) == desired


def plan_changes(current: Current, request: Request) -> Plan:
    """Everything a run would change, checked: the new TOML text (verified by parsing it again) and sslprofiles.xml."""
    source = current.deployment_toml
    editor = TomlEditor(current.text, source)
    warnings = list(request.warnings)
    expected = copy.deepcopy(current.values)
    resolved = Wso2Values(current.values, current.home)

    def set_value(path: tuple, value) -> None:
        written = editor.set(path, value)
        _put(expected, path, written)

    # The interval and the default profile's stores: compared as WSO2 reads them (defaults, $ref{} resolved).
    interval_changed = False
    try:
        started_interval = interval_ms(current.values, source)
    except GatewayConfigError:
        if request.interval is None:
            raise
        started_interval = None  # not a number: the requested value replaces it
    if request.interval is not None:
        if started_interval != request.interval:
            set_value(INTERVAL, request.interval)
            interval_changed = True
    default_stores_changed = False
    for table, given in ((KEYSTORE_TLS, request.keystore), (TRUSTSTORE, request.truststore)):
        for field_name, value in given.items():
            key = ".".join(table + (field_name,))
            raw = resolved.raw(key)
            effective = resolved.text(key) if raw is not None and not PROTECTED.search(str(raw)) else raw
            if not _same(field_name, effective, value):
                set_value(table + (field_name,), value)
                default_stores_changed = True

    actions = _plan_custom_profiles(editor, current, request, expected, source)

    new_text = editor.result()
    new_values = _verify(new_text, expected, source)

    interval = interval_ms(new_values, source)
    profiles = profiles_from_values(new_values, current.home, strict=current.live)
    kept = None
    new_xml = None
    if current.live:
        truststore_file = Wso2Values(new_values, current.home).text("truststore.file_name")
        profiles, kept = keep_live_truststore(profiles, current.xml_profiles, truststore_file)
        if kept is not None and default_stores_changed and (
                "type" in request.truststore or "password" in request.truststore):
            warnings.append(
                f"the default profile keeps its live truststore {kept}, the gateway's start-up copy of "
                f"{truststore_file}; it was made with the previous [truststore] settings, which it keeps until restart"
            )
        if current.xml_profiles is None:
            warnings.append(f"{current.sslprofiles_path} does not exist; it is created")
            new_xml = render_sslprofiles(profiles)
        elif [p.meaning() for p in current.xml_profiles] != [p.meaning() for p in profiles]:
            removed = {servers for servers, action in actions.items() if action == "removed"}
            dropped = {p.servers for p in current.xml_profiles} - {p.servers for p in profiles} - removed
            for servers in sorted(dropped):
                warnings.append(
                    f"{current.sslprofiles_path} had a profile for '{servers}' that {source} does not define; "
                    "it is dropped, as the gateway would drop it at its next restart"
                )
            new_xml = render_sslprofiles(profiles)
    plan = Plan(
        current=current, new_text=new_text, new_values=new_values, actions=actions, profiles=profiles,
        new_xml=new_xml, interval=interval, interval_changed=interval_changed,
        default_stores_changed=default_stores_changed, kept_live_location=kept, warnings=warnings, store_checks=[],
        started_interval=started_interval,
    )
    plan.store_checks = _store_checks(plan)
    return plan


def _plan_custom_profiles(editor: TomlEditor, current: Current, request: Request, expected: dict, source: str) -> dict:
    existing = custom_profiles(current.values)
    headers = editor.array_headers(CUSTOM)
    if existing and len(headers) != len(existing):
        raise SslProfileError(
            f"{source}: keystore.ssl_profile.custom is not written as [[keystore.ssl_profile.custom]] tables "
            "(an inline array?); ssl_profile edits only the array-of-tables form"
        )
    for index, item in enumerate(existing):
        if not isinstance(item, dict) or "servers" not in item:
            raise GatewayConfigError(
                f"{source}: line {headers[index].line}: this [[keystore.ssl_profile.custom]] entry has no servers"
            )
    keys = [server_key(item["servers"]) for item in existing]
    by_key: dict = {}
    for index, key in enumerate(keys):
        if key in by_key:
            raise GatewayConfigError(
                f"{source}: lines {headers[by_key[key]].line} and {headers[index].line} both define the custom SSL "
                f"profile for '{existing[index]['servers']}'; remove one"
            )
        by_key[key] = index

    actions: dict = {str(item["servers"]): "unchanged" for item in existing}
    removed: set = set()
    kept_by_request: set = set()
    additions = []
    for desired in request.custom_profiles:
        index = by_key.get(desired.key)
        if desired.state == "absent":
            if index is not None:
                removed.add(index)
                actions[str(existing[index]["servers"])] = "removed"
            else:
                actions.setdefault(desired.servers, "unchanged")
            continue
        if index is None:
            additions.append(desired)
            actions[desired.servers] = "added"
            continue
        kept_by_request.add(index)
        item = existing[index]
        changed = False
        for store_name, given in (("keystore", desired.keystore), ("truststore", desired.truststore)):
            store = item.get(store_name) if isinstance(item.get(store_name), dict) else {}
            for field_name, value in given.items():
                if not _same(field_name, store.get(field_name), value):
                    path = CUSTOM + (index, store_name, field_name)
                    _put(expected, path, editor.set(path, value))
                    changed = True
        actions[str(item["servers"])] = "updated" if changed else "unchanged"
    if request.exclusive:
        for index, item in enumerate(existing):
            if index not in kept_by_request and index not in removed:
                removed.add(index)
                actions[str(item["servers"])] = "removed"

    # A server may be in one profile only: check the profiles that remain.
    owner: dict = {}
    remaining = [(str(existing[i]["servers"]), keys[i]) for i in range(len(existing)) if i not in removed]
    remaining += [(d.servers, d.key) for d in additions]
    for servers, key in remaining:
        for host in sorted(key):
            if host in owner:
                raise SslProfileError(
                    f"server '{host}' would be in two custom SSL profiles, '{owner[host]}' and '{servers}'; a server may "
                    f"belong to one profile only: list it in one of them (state: absent removes a profile)"
                )
            owner[host] = servers

    for index in sorted(removed, reverse=True):
        editor.remove_entry(CUSTOM, index)
        del _get(expected, CUSTOM)[index]
    for desired in additions:
        entry_keys = [(("servers",), desired.servers)]
        entry_value: dict = {"servers": desired.servers}
        for store_name, given, fields in (("keystore", desired.keystore, CUSTOM_KEYSTORE_FIELDS),
                                          ("truststore", desired.truststore, CUSTOM_TRUSTSTORE_FIELDS)):
            given = dict(given)
            missing = [f for f in ("location", "password") if f not in given]
            if missing:
                raise SslProfileError(
                    f"custom profile '{desired.servers}' is new and has no {store_name}."
                    f"{' or '.join(missing)}: WSO2 renders an empty value and the gateway cannot load its profiles; "
                    f"give {store_name} location and password"
                )
            given.setdefault("type", DEFAULT_STORE_TYPE)
            if store_name == "keystore" and "password" in given:
                given.setdefault("key_password", given["password"])
            for field_name in fields:
                if field_name in given:
                    entry_keys.append(((store_name, field_name), given[field_name]))
                    entry_value.setdefault(store_name, {})[field_name] = given[field_name]
        editor.append_entry(CUSTOM, entry_keys)
        _setdefault_path(expected, CUSTOM, []).append(entry_value)
    return actions


def _get(values: dict, path: tuple):
    node = values
    for part in path:
        node = node[part]
    return node


def _setdefault_path(values: dict, path: tuple, default):
    node = values
    for part in path[:-1]:
        node = node.setdefault(part, {})
    return node.setdefault(path[-1], default)


def _put(values: dict, path: tuple, value) -> None:
    node = values
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[path[-1]] = value


def prune_empty(value):
    """value without empty tables and arrays (tomlkit and the plan may disagree on whether an emptied table stays)."""
    if isinstance(value, dict):
        pruned = {k: prune_empty(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v != {} and v != []}
    if isinstance(value, list):
        return [prune_empty(v) for v in value]
    return value


def _verify(new_text: str, expected: dict, source: str) -> dict:
    """Parse the new text; it must hold exactly the expected values (owned keys changed, nothing else)."""
    try:
        values = toml_text_values(new_text, source, tomlkit.parse(new_text))
    except Exception as exc:  # noqa: BLE001 - any parse failure means the edit is wrong
        raise SslProfileError(
            f"{source}: the planned edit would not be valid TOML ({type(exc).__name__}); nothing was written. "
            "Please report this with the layout of the file's [keystore] and [[keystore.ssl_profile.custom]] tables"
        ) from None
    if not _equal_values(prune_empty(values), prune_empty(expected)):
        raise SslProfileError(
            f"{source}: the planned edit would change more than the SSL profile keys; nothing was written. "
            "Please report this with the layout of the file's [keystore] and [[keystore.ssl_profile.custom]] tables"
        )
    return values


def _equal_values(left, right) -> bool:
    """Equality of TOML values in which nan equals nan (TOML allows nan; nan != nan would fail every run)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal_values(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_equal_values(a, b) for a, b in zip(left, right))
    return left == right


def _store_checks(plan: Plan) -> list:
    checks = []
    seen = set()
    for profile in plan.profiles:
        name = "default SSL profile ('*')" if profile.is_default else f"custom SSL profile '{profile.servers}'"
        for kind, store in (("keystore", profile.keystore), ("truststore", profile.truststore)):
            if store is None:
                continue
            key = (store.location, store.store_type, store.password)
            if key in seen:
                continue
            seen.add(key)
            checks.append(StoreCheck(f"the {kind} of the {name}", store.location, store.store_type, store.password,
                                     store.key_password))
    if plan.kept_live_location is not None:
        # The persistent truststore deployment.toml names is what the gateway copies at its next start.
        default = profiles_from_values(plan.new_values, plan.current.home, strict=False)[0].truststore
        checks.append(StoreCheck("the persistent truststore of the default SSL profile ('*')", default.location,
                                 default.store_type, default.password))
    return checks
