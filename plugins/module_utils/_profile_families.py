# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSL profile families as data: what a gateway's sender and listener profiles are made of and what reloads them.

A family is one profile file the gateway watches and the deployment.toml keys that render it. The sender (the
gateway calling backends) has sslprofiles.xml, with one profile per set of servers. The listener (the HTTPS
listener on 8243, which checks API consumers' client certificates) has listenerprofiles.xml, with one profile and
no <servers>.

Facts: ../shared/docs/mutual-tls.md and synapse-reload.md (product-apim's axis2.xml.j2, sslprofiles.xml.j2 and
listenerprofiles.xml.j2, Synapse's ClientConnFactoryBuilder / ServerConnFactoryBuilder, carbon-apimgt's
CertificateReLoader). _wso2_config reads the keys, _sslprofiles_xml the files, _gateway puts them together for a
node. Nothing else names these files or keys.
"""

from __future__ import annotations

SECURITY_DIR = "repository/resources/security"


class Reloader:
    """What makes a running gateway pick up a change: the file it watches and how often it looks.

    watches: "profile file" (its modification time advances when touched) or "truststore" (the store file's own
    modification time: any change of the store, no touch needed). period_key: the deployment.toml key of how often it
    looks, in period_unit ("ms" or "s"), WSO2's default, the floor it clamps to, and when it looks first.
    """

    __slots__ = ("name", "watches", "period_key", "period_default", "period_unit", "minimum", "first_check")

    def __init__(self, name, watches, period_key, period_default, period_unit, minimum=0, first_check=None):
        self.name = name
        self.watches = watches
        self.period_key = period_key
        self.period_default = period_default
        self.period_unit = period_unit
        self.minimum = minimum
        self.first_check = first_check

    def to_ms(self, value: int) -> int:
        return int(value) * (1000 if self.period_unit == "s" else 1)


class ProfileFamily:
    """One family of SSL profiles (see the module docstring)."""

    __slots__ = ("name", "profile_file", "file_path_key", "root_name", "has_servers", "elements", "toml_keys",
                 "reloaders")

    def __init__(self, name, profile_file, file_path_key, root_name, has_servers, elements, toml_keys, reloaders):
        self.name = name
        self.profile_file = profile_file  # where WSO2 puts it, relative to the API-M home
        self.file_path_key = file_path_key  # the deployment.toml key that moves it, or None (hard-coded)
        self.root_name = root_name  # <parameter name="...">
        self.has_servers = has_servers  # each <profile> names its <servers>
        self.elements = elements  # the <profile> child elements besides KeyStore and TrustStore
        self.toml_keys = toml_keys  # deployment.toml key -> WSO2's default, for this family's own settings
        self.reloaders = reloaders

    @property
    def reloader(self) -> Reloader:
        """The reloader of the profile file (every family has one, first)."""
        return self.reloaders[0]


SENDER = ProfileFamily(
    name="sender",
    profile_file=f"{SECURITY_DIR}/sslprofiles.xml",
    file_path_key="transport.passthru_https.sender.ssl_profile.file_path",
    root_name="customSSLProfiles",
    has_servers=True,
    elements=("servers",),
    toml_keys={},
    reloaders=(
        # Synapse's sender checks at a fixed rate of max(interval, 60000) ms, one interval after start
        Reloader("sslprofiles.xml", "profile file", "transport.passthru_https.sender.ssl_profile.interval", 600000,
                 "ms", minimum=60000),
    ),
)

LISTENER = ProfileFamily(
    name="listener",
    profile_file=f"{SECURITY_DIR}/listenerprofiles.xml",  # hard-coded in axis2.xml.j2
    file_path_key=None,
    root_name="SSLProfiles",
    has_servers=False,
    elements=("bindAddress", "SSLVerifyClient", "HttpsProtocols", "PreferredCiphers"),
    toml_keys={"keystore.listener_profile.bind_address": "0.0.0.0", "keystore.listener_profile.ssl_verify_client": "optional"},
    reloaders=(
        Reloader("listenerprofiles.xml", "profile file", "transport.passthru_https.listener.ssl_profile_interval",
                 600000, "ms"),
        # carbon-apimgt's CertificateReLoader: client certificates a load balancer forwards in a header
        Reloader("header certificate reloader", "truststore", "apim.certificate_reloader.period", 600, "s",
                 first_check=60000),
    ),
)

FAMILIES = (SENDER, LISTENER)
