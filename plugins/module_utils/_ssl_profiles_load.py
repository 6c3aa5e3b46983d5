# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ssl_profile's load: deployment.toml (which tomlkit must reproduce byte for byte) and the live sslprofiles.xml
(part of _ssl_profiles: load -> plan -> validate -> apply)."""

from __future__ import annotations

import dataclasses
import os

from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError, SslProfileError
from ansible_collections.apim.certificates.plugins.module_utils._fileio import read_bytes
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profile_request import Request
from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import parse_sslprofiles
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import (
    load_toml,
    sslprofiles_location,
    toml_text_values,
    tomllib_module,
)

try:
    import tomlkit
except ImportError:  # pragma: no cover
    tomlkit = None


# --- load -----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Current:
    deployment_toml: str
    toml_bytes: bytes
    text: str
    values: dict
    home: str | None
    live: bool
    sslprofiles_path: str | None = None
    xml_bytes: bytes | None = None
    xml_profiles: list | None = None

    @classmethod
    def load_toml(cls, request: Request) -> "Current":
        path = request.deployment_toml
        if request.apim_home is not None and not os.path.isdir(request.apim_home):
            raise GatewayConfigError(f"apim_home {os.path.abspath(request.apim_home)} is not a directory")
        data = read_bytes(path, "deployment.toml")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GatewayConfigError(f"{path} is not UTF-8 text (byte {exc.start})") from None
        document = load_toml(path, text)
        values = toml_text_values(text, path, document)
        if document.as_string() != text and tomllib_module() is None:
            # the values came from tomlkit's reading of the file: they are only trustworthy where it reproduces it
            raise GatewayConfigError(
                f"{path}: tomlkit cannot reproduce this file byte for byte (tomlkit {getattr(tomlkit, '__version__', '')}; "
                "before 0.15.2 it misreads an array of tables split by other tables); ssl_profile leaves the file "
                "alone. Install tomlkit >= 0.15.2 on the node for this file"
            )
        current = cls(path, data, text, values, request.home, request.live)
        if request.live:
            current.sslprofiles_path = current.resolve_sslprofiles_path(request)
        return current

    def resolve_sslprofiles_path(self, request: Request) -> str:
        if request.sslprofiles_path is not None:
            return os.path.abspath(request.sslprofiles_path)
        if self.home is None:
            raise SslProfileError(
                f"live is true but the API-M home of {self.deployment_toml} is unknown: give sslprofiles_path, "
                "use apim_home, or set live to false"
            )
        return sslprofiles_location(self.values, self.home)

    def load_xml(self) -> None:
        if self.sslprofiles_path is None:
            return
        if os.path.lexists(self.sslprofiles_path):
            self.xml_bytes = read_bytes(self.sslprofiles_path, "sslprofiles.xml")
            self.xml_profiles = parse_sslprofiles(self.xml_bytes, self.sslprofiles_path)


def load(request: Request) -> Current:
    current = Current.load_toml(request)
    current.load_xml()
    return current
