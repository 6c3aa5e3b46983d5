# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an API-M gateway node trusts, from its own files: the one answer to "which truststore is live".

From deployment.toml (read by _wso2_config, with WSO2's defaults) and the live sslprofiles.xml (read by
_sslprofiles_xml): the persistent truststore, the truststore each SSL profile uses right now (on 4.x the default
profile points at a start-up copy such as client-truststore-temp.jks), the profile that serves a backend
host:port, and how soon the gateway reloads after sslprofiles.xml is touched. endpoint_certificate (gateway mode),
truststore_info (gateway mode) and, through them, the gateway_sync role all ask this module.
"""

from __future__ import annotations

import dataclasses
import os

from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError, GatewayConfigError
from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import SECRET_ALIAS_PREFIX, read_sslprofiles
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import (
    DEPLOYMENT_TOML,
    HOSTNAME_VERIFIER,
    MIN_INTERVAL_MS,
    PROTECTED,
    SECURITY_DIR,
    Wso2Values,
    custom_profiles,
    flatten,
    interval_ms,
    profile_file_location,
    read_toml_values,
    reload_period,
    resolve_location,
    sslprofiles_location,
)
from ansible_collections.apim.certificates.plugins.module_utils._profile_families import LISTENER, SENDER


@dataclasses.dataclass
class StoreRef:
    """A keystore or truststore as a configuration file names it."""

    location: str  # as written in the file
    path: str  # absolute
    store_type: str
    password: str | None  # None when protected (secure vault, $env, $sys) or absent
    protected: str | None = None  # e.g. "$secret{truststore_password}" when the password is not in plain text
    key_password: str | None = None

    def require_password(self, what: str) -> str:
        if self.password is None:
            if self.protected:
                raise GatewayConfigError(
                    f"the password of {what} {self.path} is protected ({self.protected}); give password"
                )
            raise GatewayConfigError(f"no password is configured for {what} {self.path}; give password")
        return self.password


@dataclasses.dataclass
class SslProfile:
    servers: list
    keystore: StoreRef | None
    truststore: StoreRef | None
    novalidatecert: bool = False

    @property
    def is_default(self) -> bool:
        return "*" in self.servers


@dataclasses.dataclass
class ListenerView:
    """The HTTPS listener's SSL profile (listenerprofiles.xml: one profile, no servers) and what reloads it."""

    path: str  # listenerprofiles.xml
    keystore: StoreRef | None
    truststore: StoreRef | None  # checks API consumers' client certificates; by default client-truststore.jks
    settings: dict  # the profile's other elements as written (bindAddress, SSLVerifyClient, ...)
    reload_within_ms: dict  # reloader name -> how soon it picks up a change, in ms (_profile_families.LISTENER)

    def facts(self) -> dict:
        return {"path": self.path, "truststore": self.truststore.path if self.truststore else None,
                "keystore": self.keystore.path if self.keystore else None, "settings": dict(self.settings),
                "reload_within_ms": dict(self.reload_within_ms)}


@dataclasses.dataclass
class GatewayConfig:
    apim_home: str
    deployment_toml: str
    sslprofiles_path: str
    interval_ms: int  # as configured
    hostname_verifier: str
    persistent_truststore: StoreRef  # [truststore] of deployment.toml
    custom_truststores: dict  # servers string -> StoreRef, from deployment.toml's custom profiles
    live_profiles: list  # SslProfile, as sslprofiles.xml has them now
    config: dict  # flattened deployment.toml values
    listener: ListenerView | None = None  # None where the node has no listenerprofiles.xml
    persistent_keystore: StoreRef | None = None  # [keystore.tls] of deployment.toml: the default profile's key pair
    custom_keystores: dict = dataclasses.field(default_factory=dict)  # servers string -> StoreRef, custom profiles

    def profile_file(self, family) -> str:
        """The profile file a family's first reloader watches: touching it makes the running gateway reload."""
        if family is SENDER:
            return self.sslprofiles_path
        return self.listener.path if self.listener is not None else resolve_location(self.apim_home, family.profile_file)

    def families_of(self, path: str) -> list:
        """Which profile families use the store at path now: 'sender' (with the profile's servers), 'listener'."""
        key = os.path.realpath(path)
        found = [f"sender ({','.join(p.servers)})" for p in self.live_profiles
                 if p.truststore is not None and os.path.realpath(p.truststore.path) == key]
        if self.listener is not None and self.listener.truststore is not None \
                and os.path.realpath(self.listener.truststore.path) == key:
            found.append("listener")
        return found

    @property
    def reload_within_ms(self) -> int:
        return max(self.interval_ms, MIN_INTERVAL_MS)

    def profile_for(self, host: str | None, port: int | None) -> SslProfile:
        """The live profile Synapse uses for host:port: an exact, case-sensitive server match first, '*' last
        (ClientConnFactory.getSSLContext looks up hostName + ":" + port as it is)."""
        if host is not None:
            wanted = f"{host}:{port}"
            for profile in self.live_profiles:
                if wanted in profile.servers:
                    return profile
        for profile in self.live_profiles:
            if profile.is_default:
                return profile
        raise GatewayConfigError(
            f"{self.sslprofiles_path} has no profile for {host}:{port} and no default ('*') profile"
        )

    def persistent_truststore_for(self, profile: SslProfile) -> StoreRef:
        """Where deployment.toml keeps the truststore of profile, so a change survives the next restart."""
        if profile.is_default:
            return self.persistent_truststore
        key = ",".join(profile.servers)
        wanted = sorted(s.lower() for s in profile.servers)
        for servers, store in self.custom_truststores.items():
            if sorted(s.lower() for s in _split_servers(servers)) == wanted:
                return store
        raise GatewayConfigError(
            f"the SSL profile for '{key}' in {self.sslprofiles_path} is not in {self.deployment_toml}; "
            "a restart would drop it: add it with apim.certificates.ssl_profile"
        )

    def persistent_keystore_for(self, profile: SslProfile) -> StoreRef:
        """Where deployment.toml keeps the keystore (the key pair the gateway presents) of profile."""
        if profile.is_default:
            if self.persistent_keystore is None:
                raise GatewayConfigError(f"{self.deployment_toml} names no [keystore.tls] keystore")
            return self.persistent_keystore
        wanted = sorted(s.lower() for s in profile.servers)
        for servers, store in self.custom_keystores.items():
            if sorted(s.lower() for s in _split_servers(servers)) == wanted:
                return store
        raise GatewayConfigError(
            f"the SSL profile for '{','.join(profile.servers)}' in {self.sslprofiles_path} has no keystore in "
            f"{self.deployment_toml} ([[keystore.ssl_profile.custom]] keystore.location); a restart would drop it: "
            "add it with apim.certificates.ssl_profile"
        )


def _split_servers(servers: str) -> list:
    return [s.strip() for s in str(servers).split(",") if s.strip()]


def _custom_truststores(apim_home: str, values: dict, path: str) -> dict:
    customs = flatten(values).get("keystore.ssl_profile.custom", [])
    if not isinstance(customs, list):
        raise GatewayConfigError(f"{path}: keystore.ssl_profile.custom must be an array of tables ([[keystore.ssl_profile.custom]])")
    stores = {}
    for index, item in enumerate(custom_profiles(values)):
        if not isinstance(item, dict) or "servers" not in item:
            raise GatewayConfigError(f"{path}: [[keystore.ssl_profile.custom]] number {index + 1} has no servers")
        trust = flatten(item)
        location = trust.get("truststore.location")
        if location is None:
            continue
        password, protected = Wso2Values(trust).password("truststore.password")
        stores[str(item["servers"])] = StoreRef(
            str(location), resolve_location(apim_home, str(location)), str(trust.get("truststore.type", "JKS")),
            password, protected,
        )
    return stores


def _custom_keystores(apim_home: str, values: dict) -> dict:
    stores = {}
    for item in custom_profiles(values):
        if not isinstance(item, dict) or "servers" not in item:
            continue  # _custom_truststores names the problem
        fields = Wso2Values(flatten(item))
        location = fields.get("keystore.location")
        if location is None:
            continue
        password, protected = fields.password("keystore.password")
        key_password, _key_protected = fields.password("keystore.key_password")
        stores[str(item["servers"])] = StoreRef(
            str(location), resolve_location(apim_home, str(location)), str(fields.get("keystore.type") or "JKS"),
            password, protected, key_password=key_password,
        )
    return stores


def _tls_keystore(apim_home: str, wso2: Wso2Values) -> StoreRef:
    password, protected = wso2.password("keystore.tls.password")
    key_password, _key_protected = wso2.password("keystore.tls.key_password")
    location = f"{SECURITY_DIR}/{wso2.get('keystore.tls.file_name')}"
    return StoreRef(location, resolve_location(apim_home, location), str(wso2.get("keystore.tls.type")), password,
                    protected, key_password=key_password)


def live_profiles(path: str, apim_home: str) -> list:
    """The SSL profiles the gateway uses now (sslprofiles.xml), in file order, as SslProfile with absolute paths."""
    return [
        SslProfile(_split_servers(profile.servers), _store_ref(profile.keystore, apim_home),
                   _store_ref(profile.truststore, apim_home), profile.novalidatecert)
        for profile in read_sslprofiles(path, missing_ok=False)
    ]


def _store_ref(store, apim_home: str) -> StoreRef | None:
    """A KeyStore or TrustStore of sslprofiles.xml as a StoreRef; None without a Location."""
    if store is None or not store.location:
        return None
    password, protected = store.password, None
    if password.startswith(SECRET_ALIAS_PREFIX):
        protected, password = f"secure vault alias '{password[len(SECRET_ALIAS_PREFIX):]}'", None
    elif PROTECTED.search(password):
        protected, password = PROTECTED.search(password).group(0), None
    return StoreRef(store.location, resolve_location(apim_home, store.location), store.store_type or "JKS", password,
                    protected, key_password=store.key_password)


def resolve_gateway(apim_home: str) -> GatewayConfig:
    """Everything the collection needs to know about a gateway node's trust configuration."""
    apim_home = os.path.abspath(apim_home)
    if not os.path.isdir(apim_home):
        raise GatewayConfigError(f"apim_home {apim_home} is not a directory")
    toml_path = os.path.join(apim_home, DEPLOYMENT_TOML)
    values = read_toml_values(toml_path)
    wso2 = Wso2Values(values, apim_home)
    trust_password, trust_protected = wso2.password("truststore.password")
    file_name = str(wso2.get("truststore.file_name"))
    persistent = StoreRef(
        f"{SECURITY_DIR}/{file_name}", resolve_location(apim_home, f"{SECURITY_DIR}/{file_name}"),
        str(wso2.get("truststore.type")), trust_password, trust_protected,
    )
    sslprofiles_path = sslprofiles_location(values, apim_home)
    listener = _listener(values, apim_home, toml_path)
    return GatewayConfig(
        apim_home=apim_home,
        deployment_toml=toml_path,
        sslprofiles_path=sslprofiles_path,
        interval_ms=interval_ms(values, toml_path),
        hostname_verifier=str(wso2.get(HOSTNAME_VERIFIER)),
        persistent_truststore=persistent,
        custom_truststores=_custom_truststores(apim_home, values, toml_path),
        live_profiles=live_profiles(sslprofiles_path, apim_home),
        config=wso2.flat,
        listener=listener,
        persistent_keystore=_tls_keystore(apim_home, wso2),
        custom_keystores=_custom_keystores(apim_home, values),
    )


def _listener(values: dict, apim_home: str, toml_path: str) -> ListenerView | None:
    """The listener's profile as listenerprofiles.xml has it now, with its reloaders' periods from deployment.toml."""
    path = profile_file_location(values, apim_home, LISTENER)
    profiles = read_sslprofiles(path, missing_ok=True, family=LISTENER)
    if not profiles:
        return None
    profile = profiles[0]  # Synapse's listener uses one profile
    periods = {reloader.name: max(reloader.to_ms(reload_period(values, toml_path, reloader)), reloader.minimum)
               for reloader in LISTENER.reloaders}
    return ListenerView(path, _store_ref(profile.keystore, apim_home), _store_ref(profile.truststore, apim_home),
                        dict(profile.settings), periods)


def touch_profile(config, family, check_mode: bool) -> str:
    """Make the running gateway reload family's profiles (_profile_families: SENDER's sslprofiles.xml, LISTENER's
    listenerprofiles.xml): touch the file its reloader watches, or in check mode fail as touching it would. The one
    reload step of every writer (truststores, keystores, listener certificates); returns the file."""
    from ansible_collections.apim.certificates.plugins.module_utils._errors import FileWriteError  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._fileio import touch, touch_problem  # pylint: disable=import-outside-toplevel

    reload_file = config.profile_file(family)
    if check_mode:
        problem = touch_problem(reload_file)
        if problem:
            raise FileWriteError(problem)
    else:
        touch(reload_file)
    return reload_file


def store_targets(config, requests: list, password, store_type) -> list:
    """endpoint_certificate's stores on this node: one StoreTarget per distinct file (live and persistent truststore
    of the profile serving each endpoint), each with the aliases that belong in it. requests: (host, port, desired)."""
    from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import StoreTarget  # pylint: disable=import-outside-toplevel

    targets = {}
    for host, port, desired in requests:
        profile = config.profile_for(host, port)
        where = f"profile '{','.join(profile.servers)}'"
        if profile.truststore is None:
            raise CertificateError(f"the SSL {where} in {config.sslprofiles_path} has no TrustStore")
        keys = []
        for role, ref in (("live", profile.truststore), ("persistent", config.persistent_truststore_for(profile))):
            key = os.path.realpath(ref.path)
            if key not in targets:
                secret = password if password is not None else ref.require_password(f"the {role} truststore of {where}")
                targets[key] = StoreTarget(ref.path, secret, store_type, role=role, desired=[])
            elif role not in targets[key].role.split("+"):
                targets[key].role += f"+{role}"
            if key not in keys:
                keys.append(key)
        for key in keys:
            targets[key].desired.extend(desired)
    return list(targets.values())
