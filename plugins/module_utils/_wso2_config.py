# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WSO2 API-M's configuration, read one way for every module and the role: the one reader of deployment.toml.

deployment.toml is read with WSO2's defaults for absent keys (key-mappings.json / default.json of API-M 4.x) and its
$ref{...} references resolved, as WSO2's config mapper does at start-up. Passwords given as $secret{...} (secure
vault), $env{...} or $sys{...} are reported as protected, never guessed. From those values:

- the reload interval (``interval_ms``) and where sslprofiles.xml lives (``sslprofiles_location``);
- the SSL profiles WSO2 renders into sslprofiles.xml (``profiles_from_values``), and the 4.x rule that keeps the
  default profile's live start-up copy of the truststore (``keep_live_truststore``).

sslprofiles.xml itself is read and written by _sslprofiles_xml; what a node trusts, from both files, is _gateway's.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re

from ansible_collections.apim.certificates.plugins.module_utils._compat import MissingLibraryError, toml_values
from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError, SslProfileError
from ansible_collections.apim.certificates.plugins.module_utils._fileio import read_bytes
from ansible_collections.apim.certificates.plugins.module_utils._profile_families import FAMILIES, SECURITY_DIR, SENDER
from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import XmlProfile, XmlStore

# tomlkit is imported when a file is edited, or read where tomllib is absent: about 20 ms a read-only run on Python
# 3.11+ never needs (tomllib reads deployment.toml about 50 times faster).
HAS_TOMLKIT = importlib.util.find_spec("tomlkit") is not None

DEPLOYMENT_TOML = os.path.join("repository", "conf", "deployment.toml")
# The profile files, their keys and their reloaders are data (_profile_families); these names are the sender's.
DEFAULT_SSLPROFILES = SENDER.profile_file
DEFAULT_INTERVAL_MS = SENDER.reloader.period_default
MIN_INTERVAL_MS = SENDER.reloader.minimum  # Synapse clamps anything shorter to this
DEFAULT_HOSTNAME_VERIFIER = "DefaultAndLocalhost"

# Key paths of deployment.toml that the collection reads or owns.
CUSTOM = ("keystore", "ssl_profile", "custom")
INTERVAL = tuple(SENDER.reloader.period_key.split("."))
SSLPROFILES_FILE_PATH = SENDER.file_path_key
HOSTNAME_VERIFIER = "transport.passthru_https.sender.parameters.HostnameVerifier"
KEYSTORE_TLS = ("keystore", "tls")
TRUSTSTORE = ("truststore",)
KEYSTORE_FIELDS = ("file_name", "type", "password", "key_password")
TRUSTSTORE_FIELDS = ("file_name", "type", "password")
CUSTOM_KEYSTORE_FIELDS = ("location", "type", "password", "key_password")
CUSTOM_TRUSTSTORE_FIELDS = ("location", "type", "password")
DEFAULT_STORE_TYPE = "JKS"

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
    SSLPROFILES_FILE_PATH: DEFAULT_SSLPROFILES,
    HOSTNAME_VERIFIER: DEFAULT_HOSTNAME_VERIFIER,
}
for _family in FAMILIES:
    DEFAULTS.update(_family.toml_keys)
    DEFAULTS.update({reloader.period_key: reloader.period_default for reloader in _family.reloaders})

PROTECTED = re.compile(r"\$(secret|env|sys)\{[^}]*\}")  # a value WSO2 resolves at start-up: never guessed here
_UNRESOLVABLE = re.compile(r"\$(env|sys)\{(?!carbon\.home\})[^}]*\}")
_REF = re.compile(r"\$ref\{([^}]+)\}")
_WHOLE_REF = re.compile(r"^\$ref\{([^}]+)\}$")
_MAX_REF_DEPTH = 10


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


def load_toml(path: str, text: str | None = None):
    """Parse deployment.toml with tomlkit (which keeps every byte for later edits: ssl_profile needs it)."""
    if not HAS_TOMLKIT:
        raise MissingLibraryError("tomlkit", "0.9.2", f"editing {path}")
    import tomlkit  # pylint: disable=import-outside-toplevel
    import tomlkit.exceptions  # pylint: disable=import-outside-toplevel

    text = _toml_text(path) if text is None else text
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise GatewayConfigError(f"{path} is not valid TOML: line {exc.line}, column {exc.col}: {_parse_reason(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - tomlkit raises a few non-ParseError errors on odd input
        raise GatewayConfigError(f"{path} is not valid TOML: {exc}") from None


def tomllib_module():
    """The standard library's TOML reader (Python 3.11+), or None."""
    try:
        import tomllib  # novermin  # pylint: disable=import-outside-toplevel  # guarded: Python 3.11+ only
    except ImportError:
        return None
    return tomllib


def toml_text_values(text: str, path: str, document=None) -> dict:
    """The values of deployment.toml's text, as plain Python: the one reading of its values every module uses.

    The standard library's tomllib (Python 3.11+) where the node has it: it follows the TOML specification
    exactly (tomlkit before 0.15.2 misreads an array of tables split by other tables, as in one of WSO2's own
    sample files), and reads about 50 times faster. Else tomlkit's reading (document: tomlkit's parse of text,
    when the caller has it). A file tomllib refuses is reported as tomlkit reports it (line and column), where
    tomlkit is there.
    """
    tomllib = tomllib_module()
    if tomllib is not None:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            if HAS_TOMLKIT:
                load_toml(path, text)  # raises with tomlkit's line/column message, as it always has
            raise GatewayConfigError(f"{path} is not valid TOML: {exc}") from None
    if document is None:
        if not HAS_TOMLKIT:
            raise MissingLibraryError("tomlkit", "0.9.2", f"reading {path} (or Python 3.11+, whose tomllib reads it)")
        document = load_toml(path, text)
    return toml_values(document)


def read_toml_values(path: str) -> dict:
    """deployment.toml's values as plain Python (see toml_text_values)."""
    return toml_text_values(_toml_text(path), path)


def _parse_reason(exc) -> str:
    return re.sub(r" at line \d+ col \d+$", "", str(exc))


def resolve_location(apim_home: str, location: str) -> str:
    """A store or file location as WSO2 resolves it: ${carbon.home} and $sys{carbon.home}, relative to the home."""
    location = location.replace("${carbon.home}", apim_home).replace("$sys{carbon.home}", apim_home)
    if os.path.isabs(location):
        return os.path.normpath(location)
    return os.path.normpath(os.path.join(apim_home, location))


class Wso2Values:
    """deployment.toml values as WSO2's config mapper sees them: defaults for absent keys, $ref{} resolved.

    values: the document's values (nested tables or already flattened dotted keys)."""

    def __init__(self, values: dict, home: str | None = None):
        self.flat = flatten(values)
        self.home = home

    def raw(self, key: str):
        """The value as written, or WSO2's default when the key is absent (None when it has none)."""
        return self.flat.get(key, DEFAULTS.get(key))

    def get(self, key: str, depth: int = 0):
        """The value with references resolved; a value that is one whole $ref{} keeps the referenced value's type."""
        value = self.raw(key)
        if isinstance(value, str) and depth < _MAX_REF_DEPTH:
            match = _WHOLE_REF.match(value.strip())
            if match:
                return self.get(match.group(1), depth + 1)
            return self.text(key, value, depth)
        return value

    def text(self, key: str, value=None, depth: int = 0) -> str:
        """value (by default the key's) as text, every $ref{} inside it resolved; '' for an absent key."""
        value = self.raw(key) if value is None else value
        if value is None:
            return ""
        value = str(value)
        if depth > _MAX_REF_DEPTH:
            return value
        return _REF.sub(lambda match: self.text(match.group(1), None, depth + 1), value)

    def password(self, key: str) -> tuple:
        """(password, None), or (None, the protecting expression such as '$secret{alias}'), or (None, None)."""
        value = self.get(key)
        if value is None:
            return None, None
        value = str(value)
        found = PROTECTED.search(value)
        if found:
            return None, found.group(0)
        return value, None


def interval_ms(values: dict, source: str) -> int:
    """The configured sslprofiles.xml reload interval in ms (not clamped; see MIN_INTERVAL_MS)."""
    return reload_period(values, source, SENDER.reloader)


def reload_period(values: dict, source: str, reloader) -> int:
    """How often a reloader (_profile_families) looks, as configured, in its own unit (not clamped)."""
    raw = Wso2Values(values).get(reloader.period_key)
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        table, key = reloader.period_key.rsplit(".", 1)
        unit = "milliseconds" if reloader.period_unit == "ms" else "seconds"
        raise GatewayConfigError(f"{source}: [{table}] {key} is '{raw}', not a number of {unit}") from None


def sslprofiles_location(values: dict, home: str) -> str:
    """The absolute path of the sslprofiles.xml the gateway watches."""
    return profile_file_location(values, home, SENDER)


def profile_file_location(values: dict, home: str, family) -> str:
    """The absolute path of a family's profile file (moved by its deployment.toml key, where it has one)."""
    if family.file_path_key is None:
        return resolve_location(home, family.profile_file)
    return resolve_location(home, Wso2Values(values, home).text(family.file_path_key))


def profiles_from_values(values: dict, home: str | None, *, strict: bool) -> list:
    """The profiles WSO2's sslprofiles.xml.j2 renders from these deployment.toml values.

    With strict, a value WSO2 resolves from the gateway's environment ($env{}, $sys{} other than carbon.home)
    is refused: only the gateway can render it.
    """
    resolved = Wso2Values(values, home)

    def text(key, raw=None, where=None):
        value = resolved.text(key, raw)
        found = _UNRESOLVABLE.search(value) if strict else None
        if found:
            raise SslProfileError(
                f"{where or key} uses {found.group(0)}, which WSO2 resolves from the gateway's environment at "
                "start-up; ssl_profile cannot render sslprofiles.xml from it: set live to false (the change then "
                "takes effect at the next restart)"
            )
        if home is not None:
            value = value.replace("$sys{carbon.home}", home).replace("${carbon.home}", home)
        return value

    profiles = [XmlProfile(
        text("keystore.ssl_profile.default.servers"),
        XmlStore(f"{SECURITY_DIR}/{text('keystore.tls.file_name')}", text("keystore.tls.type"),
                 text("keystore.tls.password"), text("keystore.tls.key_password")),
        XmlStore(f"{SECURITY_DIR}/{text('truststore.file_name')}", text("truststore.type"), text("truststore.password")),
    )]
    for item in custom_profiles(values):
        flat = flatten(item) if isinstance(item, dict) else {}
        fields = {
            name: text(name, flat.get(name, ""), f"{name} of the custom SSL profile '{flat.get('servers', '')}'")
            for name in ("servers",) + tuple(f"keystore.{f}" for f in CUSTOM_KEYSTORE_FIELDS)
            + tuple(f"truststore.{f}" for f in CUSTOM_TRUSTSTORE_FIELDS)
        }
        profiles.append(XmlProfile(
            fields["servers"],
            XmlStore(*(fields[f"keystore.{f}"] for f in CUSTOM_KEYSTORE_FIELDS)),
            XmlStore(*(fields[f"truststore.{f}"] for f in CUSTOM_TRUSTSTORE_FIELDS)),
        ))
    return profiles


def custom_profiles(values: dict) -> list:
    """The [[keystore.ssl_profile.custom]] entries of deployment.toml values ([] when there are none)."""
    node = values
    for part in CUSTOM:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return []
    return node if isinstance(node, list) else []


def keep_live_truststore(rendered: list, live: list | None, truststore_file_name: str):
    """The 4.x rule: keep the default profile's live TrustStore Location when it is the gateway's start-up copy.

    A gateway copies the persistent truststore (say client-truststore.jks) at start-up to a file whose name is
    the persistent store's stem, '-', and a suffix (client-truststore-temp.jks, client-truststore-sender.ks),
    and points sslprofiles.xml at the copy. Re-rendering would point the gateway back at the persistent file and
    drop what it deployed into the copy, so a default-profile Location that differs from the rendered one and
    whose file name starts with '<stem>-' is kept. Returns (profiles, kept Location or None).
    """
    if not live:
        return rendered, None
    current = next((p for p in live if p.is_default), None)
    default = rendered[0]
    if current is None or current.truststore is None or default.truststore is None:
        return rendered, None
    live_location = current.truststore.location
    stem = os.path.splitext(os.path.basename(truststore_file_name))[0]
    if live_location and live_location != default.truststore.location \
            and os.path.basename(live_location).startswith(stem + "-"):
        kept = dataclasses.replace(default, truststore=dataclasses.replace(default.truststore, location=live_location))
        return [kept] + rendered[1:], live_location
    return rendered, None
