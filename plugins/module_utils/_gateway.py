# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an API-M gateway node trusts, read from its own files.

From <apim_home>/repository/conf/deployment.toml (with WSO2's defaults where a key is absent) and the live
sslprofiles.xml: the persistent truststore, the truststore each SSL profile uses right now (on 4.x the default
profile points at a start-up copy such as client-truststore-temp.jks), the profile that serves a backend
host:port, and how soon the gateway reloads after sslprofiles.xml is touched.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import xml.etree.ElementTree as ET

from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError, GatewayConfigError
from ansible_collections.apim.certificates.plugins.module_utils._fileio import read_bytes

try:
    import tomllib  # Python 3.11+: a read-only parser, about 50x faster than tomlkit (which edits keep using)
except ImportError:  # pragma: no cover - Python < 3.11
    tomllib = None

# tomlkit is imported when a file is edited, or read where tomllib is absent: ~20 ms a read-only run never needs.
HAS_TOMLKIT = importlib.util.find_spec("tomlkit") is not None

DEPLOYMENT_TOML = os.path.join("repository", "conf", "deployment.toml")
SECURITY_DIR = "repository/resources/security"
DEFAULT_SSLPROFILES = f"{SECURITY_DIR}/sslprofiles.xml"
DEFAULT_INTERVAL_MS = 600000
MIN_INTERVAL_MS = 60000  # Synapse clamps anything shorter to this
DEFAULT_HOSTNAME_VERIFIER = "DefaultAndLocalhost"

# WSO2's defaults (key-mappings.json / default.json of API-M 4.x) for the keys this collection reads.
DEFAULTS = {
    "keystore.primary.file_name": "wso2carbon.jks",
    "keystore.primary.type": "JKS",
    "keystore.primary.password": "wso2carbon",
    "keystore.primary.key_password": "wso2carbon",
    "keystore.tls.file_name": "$ref{keystore.primary.file_name}",
    "keystore.tls.type": "$ref{keystore.primary.type}",
    "keystore.tls.password": "$ref{keystore.primary.password}",
    "keystore.tls.key_password": "$ref{keystore.primary.key_password}",
    "truststore.file_name": "client-truststore.jks",
    "truststore.type": "JKS",
    "truststore.password": "wso2carbon",
    "keystore.ssl_profile.default.servers": "*",
    "transport.passthru_https.sender.ssl_profile.file_path": DEFAULT_SSLPROFILES,
    "transport.passthru_https.sender.ssl_profile.interval": DEFAULT_INTERVAL_MS,
    "transport.passthru_https.sender.parameters.HostnameVerifier": DEFAULT_HOSTNAME_VERIFIER,
}

_REF = re.compile(r"^\$ref\{([^}]+)\}$")
_REF_INSIDE = re.compile(r"\$ref\{([^}]+)\}")
_PROTECTED = re.compile(r"\$(secret|env|sys)\{[^}]*\}")


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

    @property
    def reload_within_ms(self) -> int:
        return max(self.interval_ms, MIN_INTERVAL_MS)

    def profile_for(self, host: str | None, port: int | None) -> SslProfile:
        """The live profile Synapse uses for host:port: an exact server match first, '*' last."""
        if host is not None:
            wanted = f"{host}:{port}".lower()
            for profile in self.live_profiles:
                if wanted in (s.lower() for s in profile.servers):
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


def _split_servers(servers: str) -> list:
    return [s.strip() for s in str(servers).split(",") if s.strip()]


def flatten(table, prefix: str = "") -> dict:
    """Nested TOML tables as dotted keys; arrays of tables are kept as lists of plain dicts."""
    flat = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _toml_text(path: str) -> str:
    data = read_bytes(path, "deployment.toml")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GatewayConfigError(f"{path} is not UTF-8 text (byte {exc.start})") from None


def read_toml(path: str) -> dict:
    """deployment.toml as plain data, for reading only: with tomllib where Python has it, else (and for the error
    message of a file tomllib refuses) through load_toml()."""
    if tomllib is not None:
        try:
            return tomllib.loads(_toml_text(path))
        except (tomllib.TOMLDecodeError, ValueError, TypeError):
            pass  # let tomlkit decide, and word the error as it always has
    return load_toml(path).unwrap()


def load_toml(path: str):
    """Parse deployment.toml with tomlkit (which keeps every byte for later edits)."""
    if not HAS_TOMLKIT:
        raise GatewayConfigError("the Python library tomlkit is required to read deployment.toml; install it with 'pip install tomlkit'")
    import tomlkit  # pylint: disable=import-outside-toplevel
    import tomlkit.exceptions  # pylint: disable=import-outside-toplevel

    text = _toml_text(path)
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise GatewayConfigError(f"{path} is not valid TOML: line {exc.line}, column {exc.col}: {_parse_reason(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - tomlkit raises a few non-ParseError errors on odd input
        raise GatewayConfigError(f"{path} is not valid TOML: {exc}") from None


def _parse_reason(exc) -> str:
    text = str(exc)
    return re.sub(r" at line \d+ col \d+$", "", text)


class _Resolver:
    def __init__(self, config: dict, source: str):
        self.config = config
        self.source = source

    def get(self, key: str, depth: int = 0):
        value = self.config.get(key, DEFAULTS.get(key))
        if isinstance(value, str) and depth < 10:
            match = _REF.match(value.strip())
            if match:
                return self.get(match.group(1), depth + 1)
            # a reference inside a longer value, e.g. "repository/resources/security/$ref{keystore.tls.file_name}"
            return _REF_INSIDE.sub(lambda m: str(self.get(m.group(1), depth + 1)), value)
        return value

    def password(self, key: str):
        value = self.get(key)
        if value is None:
            return None, None
        value = str(value)
        found = _PROTECTED.search(value)
        if found:
            return None, found.group(0)
        return value, None


def resolve_location(apim_home: str, location: str) -> str:
    location = location.replace("${carbon.home}", apim_home).replace("$sys{carbon.home}", apim_home)
    if os.path.isabs(location):
        return os.path.normpath(location)
    return os.path.normpath(os.path.join(apim_home, location))


def _interval(resolver: _Resolver, path: str) -> int:
    raw = resolver.get("transport.passthru_https.sender.ssl_profile.interval")
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        raise GatewayConfigError(
            f"{path}: [transport.passthru_https.sender.ssl_profile] interval is '{raw}', not a number of milliseconds"
        ) from None


def _custom_truststores(apim_home: str, config: dict, path: str) -> dict:
    customs = config.get("keystore.ssl_profile.custom", [])
    if not isinstance(customs, list):
        raise GatewayConfigError(f"{path}: keystore.ssl_profile.custom must be an array of tables ([[keystore.ssl_profile.custom]])")
    stores = {}
    for index, item in enumerate(customs):
        if not isinstance(item, dict) or "servers" not in item:
            raise GatewayConfigError(f"{path}: [[keystore.ssl_profile.custom]] number {index + 1} has no servers")
        trust = flatten(item)
        location = trust.get("truststore.location")
        if location is None:
            continue
        resolver = _Resolver(dict(trust), path)
        password, protected = resolver.password("truststore.password")
        stores[str(item["servers"])] = StoreRef(
            str(location), resolve_location(apim_home, str(location)), str(trust.get("truststore.type", "JKS")),
            password, protected,
        )
    return stores


def parse_sslprofiles(path: str, apim_home: str) -> list:
    """The profiles of an sslprofiles.xml file, in file order."""
    data = read_bytes(path, "sslprofiles.xml")
    try:
        root = ET.fromstring(data)
    except (LookupError, ValueError) as exc:  # an unknown encoding declaration, for one
        raise GatewayConfigError(f"{path} cannot be read as XML: {exc}") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise GatewayConfigError(f"{path} is not well-formed XML: line {line}, column {column + 1}: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    profiles = []
    for number, element in enumerate(root.iter("profile"), start=1):
        servers_text = (element.findtext("servers") or "").strip()
        if not servers_text:
            raise GatewayConfigError(f"{path}: <profile> number {number} has no <servers>")
        profiles.append(SslProfile(
            _split_servers(servers_text),
            _xml_store(element.find("KeyStore"), apim_home),
            _xml_store(element.find("TrustStore"), apim_home),
            (element.get("novalidatecert") or "").strip().lower() == "true",
        ))
    if root.tag != "parameter":
        raise GatewayConfigError(f"{path}: the root element is <{root.tag}>, not <parameter name=\"customSSLProfiles\">")
    return profiles


def _xml_store(element, apim_home: str) -> StoreRef | None:
    if element is None:
        return None
    location = (element.findtext("Location") or "").strip()
    if not location:
        return None
    password_element = element.find("Password")
    password = (password_element.text or "") if password_element is not None else None
    protected = None
    if password_element is not None:
        secret_alias = next((v for k, v in password_element.attrib.items() if k.endswith("secretAlias")), None)
        if secret_alias:
            protected, password = f"secure vault alias '{secret_alias}'", None
        elif password is not None and _PROTECTED.search(password):
            protected, password = _PROTECTED.search(password).group(0), None
    return StoreRef(
        location, resolve_location(apim_home, location), (element.findtext("Type") or "JKS").strip(), password, protected,
        key_password=element.findtext("KeyPassword"),
    )


def resolve_gateway(apim_home: str) -> GatewayConfig:
    """Everything the collection needs to know about a gateway node's trust configuration."""
    apim_home = os.path.abspath(apim_home)
    if not os.path.isdir(apim_home):
        raise GatewayConfigError(f"apim_home {apim_home} is not a directory")
    toml_path = os.path.join(apim_home, DEPLOYMENT_TOML)
    config = flatten(read_toml(toml_path))
    resolver = _Resolver(config, toml_path)

    trust_password, trust_protected = resolver.password("truststore.password")
    file_name = str(resolver.get("truststore.file_name"))
    persistent = StoreRef(
        f"{SECURITY_DIR}/{file_name}", resolve_location(apim_home, f"{SECURITY_DIR}/{file_name}"),
        str(resolver.get("truststore.type")), trust_password, trust_protected,
    )
    sslprofiles_path = resolve_location(apim_home, str(resolver.get("transport.passthru_https.sender.ssl_profile.file_path")))
    return GatewayConfig(
        apim_home=apim_home,
        deployment_toml=toml_path,
        sslprofiles_path=sslprofiles_path,
        interval_ms=_interval(resolver, toml_path),
        hostname_verifier=str(resolver.get("transport.passthru_https.sender.parameters.HostnameVerifier")),
        persistent_truststore=persistent,
        custom_truststores=_custom_truststores(apim_home, config, toml_path),
        live_profiles=parse_sslprofiles(sslprofiles_path, apim_home),
        config=config,
    )


def store_targets(config, requests: list, password, store_type) -> list:
    """endpoint_certificate's stores on this node: one StoreTarget per distinct file (live and persistent truststore
    of the profile serving each endpoint), each with the aliases that belong in it. requests: (host, port, desired)."""
    from ansible_collections.apim.certificates.plugins.module_utils._truststore import StoreTarget  # pylint: disable=import-outside-toplevel

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
