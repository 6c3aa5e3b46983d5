# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an ssl_profile task asks for: its options checked and normalised into a Request (no file is read here).

Servers are host:port lists as Synapse matches them (lower-case, each server in one profile only); ``server_key``
is the identity of an existing profile's servers, read leniently.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re

from ansible_collections.apim.certificates.plugins.module_utils._errors import SslProfileError
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import (
    CUSTOM_KEYSTORE_FIELDS,
    CUSTOM_TRUSTSTORE_FIELDS,
    DEPLOYMENT_TOML,
    KEYSTORE_FIELDS,
    MIN_INTERVAL_MS,
    SECURITY_DIR,
    TRUSTSTORE_FIELDS,
)

_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$")


@dataclasses.dataclass
class DesiredProfile:
    servers: str  # as given
    hosts: tuple  # host:port entries, lower-case, as given order
    keystore: dict  # only the keys given
    truststore: dict
    state: str = "present"

    @property
    def key(self) -> frozenset:
        return frozenset(self.hosts)


@dataclasses.dataclass
class Request:
    apim_home: str | None = None
    path: str | None = None
    sslprofiles_path: str | None = None
    live: bool | None = None
    interval: int | None = None
    keystore: dict = dataclasses.field(default_factory=dict)
    truststore: dict = dataclasses.field(default_factory=dict)
    custom_profiles: list = dataclasses.field(default_factory=list)
    exclusive: bool = False
    validate_stores: bool = True
    warnings: list = dataclasses.field(default_factory=list)

    @classmethod
    def from_params(cls, params: dict) -> "Request":
        """Check and normalise module parameters (a plain dict); raises SslProfileError with what to fix."""
        apim_home, path = params.get("apim_home"), params.get("path")
        if (apim_home is None) == (path is None):
            raise SslProfileError("give apim_home (the API-M home) or path (a deployment.toml), not both")
        live = params.get("live")
        if live is None:
            live = apim_home is not None
        interval = params.get("interval")
        if interval is not None and interval < MIN_INTERVAL_MS:
            raise SslProfileError(
                f"interval {interval} ms is below {MIN_INTERVAL_MS} ms, the shortest interval the gateway honours "
                f"(Synapse raises anything lower to {MIN_INTERVAL_MS}); give at least {MIN_INTERVAL_MS}"
            )
        request = cls(
            apim_home=apim_home, path=path, sslprofiles_path=params.get("sslprofiles_path"), live=live,
            interval=interval,
            keystore=_given(params.get("keystore"), KEYSTORE_FIELDS, "keystore", "file_name"),
            truststore=_given(params.get("truststore"), TRUSTSTORE_FIELDS, "truststore", "file_name"),
            exclusive=bool(params.get("exclusive")),
            validate_stores=params.get("validate_stores", True) is not False,
        )
        if request.sslprofiles_path is not None and not live:
            request.warnings.append("sslprofiles_path is ignored because live is false")
        seen: dict = {}
        for number, item in enumerate(params.get("custom_profiles") or [], start=1):
            where = f"custom_profiles[{number - 1}]"
            hosts = parse_servers(item.get("servers"), where, request.warnings)
            for host in hosts:
                if host in seen:
                    raise SslProfileError(
                        f"{where}: server '{host}' is also in custom_profiles[{seen[host]}]; "
                        "a server may belong to one SSL profile only"
                    )
                seen[host] = number - 1
            request.custom_profiles.append(DesiredProfile(
                servers=str(item["servers"]).strip(), hosts=hosts,
                keystore=_given(item.get("keystore"), CUSTOM_KEYSTORE_FIELDS, f"{where}.keystore", "location"),
                truststore=_given(item.get("truststore"), CUSTOM_TRUSTSTORE_FIELDS, f"{where}.truststore", "location"),
                state=item.get("state") or "present",
            ))
        return request

    @property
    def deployment_toml(self) -> str:
        if self.path is not None:
            return os.path.abspath(self.path)
        return os.path.join(os.path.abspath(self.apim_home), DEPLOYMENT_TOML)

    @property
    def home(self) -> str | None:
        """The API-M home relative store locations resolve against, when it can be known."""
        if self.apim_home is not None:
            return os.path.abspath(self.apim_home)
        for candidate, tail in ((self.deployment_toml, DEPLOYMENT_TOML),
                                (self.sslprofiles_path, os.path.join(SECURITY_DIR, "sslprofiles.xml"))):
            if candidate and os.path.abspath(candidate).endswith(os.sep + os.path.normpath(tail)):
                return os.path.abspath(candidate)[:-len(os.path.normpath(tail)) - 1] or os.sep
        return None


def _given(options, fields: tuple, where: str, name_field: str) -> dict:
    given = {k: v for k, v in (options or {}).items() if k in fields and v is not None}
    for field in (name_field, "type"):
        if field in given and not str(given[field]).strip():
            raise SslProfileError(f"{where}.{field} must not be empty")
    return {k: str(v) for k, v in given.items()}


def parse_servers(servers, where: str = "servers", warnings: list | None = None) -> tuple:
    """The host:port entries of a servers list (lower-case). Raises SslProfileError on anything WSO2 cannot match."""
    if servers is None or not str(servers).strip():
        raise SslProfileError(f"{where}: servers is empty; give comma-separated host:port entries, e.g. 'orders.internal:443'")
    hosts = []
    for raw in str(servers).split(","):
        entry = raw.strip()
        if entry == "*":
            raise SslProfileError(
                f"{where}: '*' is the default SSL profile; it cannot be removed or given as custom servers "
                "(set its stores with the keystore and truststore options)"
            )
        if not entry:
            raise SslProfileError(f"{where}: servers '{servers}' has an empty entry; give comma-separated host:port entries")
        match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([^:\s\[\]]+):(\d+)", entry)
        if not match:
            raise SslProfileError(
                f"{where}: '{entry}' is not host:port; every entry of servers needs a port, e.g. '{entry.split(':')[0] or 'host'}:443'"
            )
        host, port = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        if not 1 <= int(port) <= 65535:
            raise SslProfileError(f"{where}: '{entry}' has port {int(port)}; a port is 1 to 65535")
        is_ip = False
        try:
            ipaddress.ip_address(host)
            is_ip = True
        except ValueError:
            if match.group(1) or not _HOST.match(host):
                raise SslProfileError(f"{where}: '{entry}': '{host}' is not a host name or IP address") from None
        if is_ip and warnings is not None:
            warnings.append(
                f"{where}: '{entry}' uses an IP address; WSO2 advises host names (the gateway matches the host "
                "exactly as the endpoint URL writes it)"
            )
        normalized = f"{host.lower()}:{int(port)}" if not match.group(1) else f"[{host.lower()}]:{int(port)}"
        if normalized in hosts:
            raise SslProfileError(f"{where}: servers lists '{entry}' twice")
        hosts.append(normalized)
    return tuple(hosts)


def server_key(servers) -> frozenset:
    """The identity of an existing profile's servers (lenient: existing files are not re-validated)."""
    out = set()
    for raw in str(servers).split(","):
        entry = raw.strip().lower()
        if entry:
            host, _colon, port = entry.rpartition(":")
            out.add(f"{host}:{int(port)}" if port.isdigit() and host else entry)
    return frozenset(out)
