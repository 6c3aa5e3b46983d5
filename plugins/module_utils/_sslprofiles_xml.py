# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sslprofiles.xml model: the one reader and the one writer of the file a gateway reloads its SSL profiles from.

A profile is its servers, its KeyStore and its TrustStore (Location, Type, Password, KeyPassword) as written:
locations are not resolved and passwords not interpreted here. A secure-vault password
(<Password svns:secretAlias="alias"/>) reads as ``svns:secretAlias=alias``. What a location or a password means on a
node is _gateway's concern; what WSO2 renders from deployment.toml is _wso2_config's.
"""

from __future__ import annotations

import dataclasses
import os
import re
import xml.etree.ElementTree as ET

from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError, SslProfileError
from ansible_collections.apim.certificates.plugins.module_utils._fileio import read_bytes
from ansible_collections.apim.certificates.plugins.module_utils._profile_families import SENDER

SVNS = "http://org.wso2.securevault/configuration"
SECRET_ALIAS_PREFIX = "svns:secretAlias="
XML_NEW_FILE_MODE = 0o600
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclasses.dataclass(frozen=True)
class XmlStore:
    location: str
    store_type: str
    password: str
    key_password: str | None = None  # KeyStore only


@dataclasses.dataclass(frozen=True)
class XmlProfile:
    servers: str  # "" for a family without servers (the listener)
    keystore: XmlStore | None
    truststore: XmlStore | None
    novalidatecert: bool = False
    settings: tuple = ()  # (element, text) of the family's other elements, e.g. the listener's SSLVerifyClient

    def meaning(self) -> tuple:
        return (tuple(s.strip() for s in self.servers.split(",") if s.strip()), self.novalidatecert, self.keystore, self.truststore)

    @property
    def is_default(self) -> bool:
        return "*" in [s.strip() for s in self.servers.split(",")]

    def facts(self) -> dict:
        def store(s):
            return None if s is None else {"location": s.location, "type": s.store_type}
        return {"servers": self.servers, "keystore": store(self.keystore), "truststore": store(self.truststore)}


def read_sslprofiles(path: str, missing_ok: bool = True, family=SENDER) -> list | None:
    """The profiles of a family's profile file (sslprofiles.xml by default, listenerprofiles.xml for the listener);
    None when it does not exist and missing_ok."""
    if missing_ok and not os.path.lexists(path):
        return None
    return parse_sslprofiles(read_bytes(path, os.path.basename(family.profile_file)), path, family)


def parse_sslprofiles(data: bytes, path: str, family=SENDER) -> list:
    """The <profile> children of <parameter name="...">, in file order, as Synapse reads them (the root's direct
    <profile> children: ClientConnFactoryBuilder for the sender, ServerConnFactoryBuilder for the listener). A sender
    profile needs its <servers>; a listener profile has none."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise GatewayConfigError(f"{path} is not well-formed XML ({exc}); fix or remove it") from None
    except (LookupError, ValueError) as exc:  # an unknown encoding declaration, for one
        raise GatewayConfigError(f"{path} cannot be read as XML ({exc}); fix or remove it") from None
    if root.tag != "parameter":
        raise GatewayConfigError(f"{path}: the root element is <{root.tag}>, not <parameter name=\"{family.root_name}\">")
    profiles = []
    for number, element in enumerate(root.findall("profile"), start=1):
        servers = element.findtext("servers")
        if family.has_servers and (servers is None or not servers.strip()):
            raise GatewayConfigError(f"{path}: <profile> number {number} has no <servers>")
        profiles.append(XmlProfile(
            (servers or "").strip(),
            _read_xml_store(element.find("KeyStore"), key=True),
            _read_xml_store(element.find("TrustStore"), key=False),
            (element.get("novalidatecert") or "").strip().lower() == "true",
            tuple((name, (element.findtext(name) or "").strip()) for name in family.elements
                  if name != "servers" and element.find(name) is not None),
        ))
    return profiles


def _read_xml_store(element, key: bool) -> XmlStore | None:
    if element is None:
        return None

    def secret(name):
        child = element.find(name)
        if child is None:
            return None
        # secure vault: <Password svns:secretAlias="..."/> (any namespace prefix bound to the attribute)
        alias = next((v for k, v in child.attrib.items() if k == "secretAlias" or k.endswith("}secretAlias")), None)
        return f"{SECRET_ALIAS_PREFIX}{alias}" if alias else (child.text or "")

    return XmlStore(
        (element.findtext("Location") or "").strip(),
        (element.findtext("Type") or "").strip(),
        secret("Password") or "",
        (secret("KeyPassword") or "") if key else None,
    )


def render_sslprofiles(profiles: list) -> bytes:
    """sslprofiles.xml as WSO2's sslprofiles.xml.j2 lays it out, with XML special characters escaped."""
    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        f'<parameter name="customSSLProfiles" xmlns:svns="{SVNS}">',
    ]
    for profile in profiles:
        lines.append("    <profile>")
        lines.append(f"        <servers>{_xml_text(profile.servers, 'servers')}</servers>")
        for tag, store in (("KeyStore", profile.keystore), ("TrustStore", profile.truststore)):
            if store is None:
                continue
            lines.append(f"        <{tag}>")
            lines.append(f"            <Location>{_xml_text(store.location, tag + ' Location')}</Location>")
            lines.append(f"            <Type>{_xml_text(store.store_type, tag + ' Type')}</Type>")
            lines.append(f"            <Password>{_xml_text(store.password, tag + ' Password')}</Password>")
            if store.key_password is not None:
                lines.append(f"            <KeyPassword>{_xml_text(store.key_password, tag + ' KeyPassword')}</KeyPassword>")
            lines.append(f"        </{tag}>")
        lines.append("    </profile>")
    lines.append("</parameter>")
    return ("\n".join(lines) + "\n").encode("iso-8859-1", "xmlcharrefreplace")


def _xml_escape(value: str) -> str:
    """What xml.sax.saxutils.escape does (& < >), without its import: it pulls in urllib.request and http.client,
    about 40 ms of every module run that reads sslprofiles.xml (docs/performance.md)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_text(value: str, what: str) -> str:
    if _XML_ILLEGAL.search(value):
        raise SslProfileError(f"the {what} of an SSL profile contains a control character that XML 1.0 cannot hold")
    return _xml_escape(value)
