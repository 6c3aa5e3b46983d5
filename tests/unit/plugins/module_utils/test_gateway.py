"""_gateway: one answer to "which SSL profile is live", the same for every module (one reader of sslprofiles.xml)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _gateway as gw
from ansible_collections.apim.certificates.plugins.module_utils import _sslprofiles_xml as xml
from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError
from ansible_collections.apim.certificates.plugins.module_utils._profile_families import LISTENER, SENDER
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profile_request as request
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profiles as sp
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import DEPLOYMENT_TOML, SECURITY_DIR
from ansible_collections.apim.certificates.tests.support.gateway import LISTENER_PROFILES, make_gateway_node

TOML = """\
[truststore]
file_name = "client-truststore.jks"
password = "wso2carbon"

[transport.passthru_https.sender.ssl_profile]
interval = "$ref{apim.reload_interval}"

[apim]
reload_interval = 120000
"""

# A profile nested in another element is not one Synapse loads (it reads the root's direct <profile> children).
XML = """\
<?xml version="1.0" encoding="ISO-8859-1"?>
<parameter name="customSSLProfiles" xmlns:svns="http://org.wso2.securevault/configuration">
    <profile>
        <servers>*</servers>
        <TrustStore>
            <Location>repository/resources/security/client-truststore-temp.jks</Location>
            <Type>JKS</Type>
            <Password svns:secretAlias="truststore.password"/>
        </TrustStore>
    </profile>
    <retired>
        <profile>
            <servers>old.internal:443</servers>
            <TrustStore>
                <Location>repository/resources/security/old.jks</Location>
                <Type>JKS</Type>
                <Password>wso2carbon</Password>
            </TrustStore>
        </profile>
    </retired>
</parameter>
"""


def _home(tmp_path):
    home = tmp_path / "wso2am"
    os.makedirs(home / os.path.dirname(DEPLOYMENT_TOML))
    os.makedirs(home / SECURITY_DIR)
    (home / DEPLOYMENT_TOML).write_text(TOML)
    (home / SECURITY_DIR / "sslprofiles.xml").write_text(XML, encoding="iso-8859-1")
    return str(home)


def test_endpoint_certificate_and_ssl_profile_see_the_same_live_profiles(tmp_path):
    home = _home(tmp_path)
    config = gw.resolve_gateway(home)
    current = sp.load(request.Request.from_params({"apim_home": home}))
    assert [p.servers for p in config.live_profiles] == [["*"]]
    assert [p.servers for p in current.xml_profiles] == ["*"]
    # so the retired profile's backend is served by the default profile, for every module
    assert config.profile_for("old.internal", 443).servers == ["*"]


def test_secure_vault_password_and_referenced_interval_are_read_once(tmp_path):
    home = _home(tmp_path)
    config = gw.resolve_gateway(home)
    live = config.profile_for(None, None).truststore
    assert live.password is None and live.protected == "secure vault alias 'truststore.password'"
    current = sp.load(request.Request.from_params({"apim_home": home}))
    plan = sp.plan_changes(current, request.Request.from_params({"apim_home": home}))
    assert config.interval_ms == plan.interval == 120000


# --- the listener's profile family (listenerprofiles.xml: one profile, no servers) ----------------------------


@pytest.mark.skipif(not os.path.exists(LISTENER_PROFILES), reason=f"../shared/fixtures absent: {LISTENER_PROFILES} not found")
def test_wso2s_own_listenerprofiles_xml_is_read_as_the_listener_reads_it():
    with open(LISTENER_PROFILES, "rb") as handle:
        data = handle.read()
    (profile,) = xml.parse_sslprofiles(data, LISTENER_PROFILES, LISTENER)
    assert profile.servers == ""
    assert profile.truststore.location == "repository/resources/security/client-truststore.jks"
    assert profile.keystore.location == "repository/resources/security/wso2carbon.jks" and profile.keystore.key_password == "wso2carbon"
    assert dict(profile.settings) == {"bindAddress": "0.0.0.0", "SSLVerifyClient": "optional"}
    with pytest.raises(GatewayConfigError, match="has no <servers>"):
        xml.parse_sslprofiles(data, LISTENER_PROFILES, SENDER)


def test_a_node_reports_the_listener_its_truststore_and_both_reloaders(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    config = gw.resolve_gateway(node["home"])
    assert config.listener is not None and config.listener.path == node["listenerprofiles"]
    assert config.listener.truststore.path == node["persistent"]
    assert config.listener.reload_within_ms == {"listenerprofiles.xml": 600000, "header certificate reloader": 600000}
    assert config.families_of(node["persistent"]) == ["listener"], "a 4.x sender uses the start-up copy, the listener the persistent store"
    assert config.families_of(node["live"]) == ["sender (*)"]

    with open(node["deployment_toml"], "a", encoding="utf-8") as handle:
        handle.write('\n[transport.passthru_https.listener]\nssl_profile_interval = "120000"\n\n[apim.certificate_reloader]\nperiod = "300"\n')
    assert gw.resolve_gateway(node["home"]).listener.reload_within_ms == {"listenerprofiles.xml": 120000,
                                                                          "header certificate reloader": 300000}
    os.unlink(node["listenerprofiles"])
    assert gw.resolve_gateway(node["home"]).listener is None


def test_a_listener_interval_that_is_not_a_number_is_named(tmp_path):
    node = make_gateway_node(str(tmp_path / "gw"))
    with open(node["deployment_toml"], "a", encoding="utf-8") as handle:
        handle.write('\n[transport.passthru_https.listener]\nssl_profile_interval = "soon"\n')
    with pytest.raises(GatewayConfigError, match=r"\[transport\.passthru_https\.listener\] ssl_profile_interval is 'soon', not a number of milliseconds"):
        gw.resolve_gateway(node["home"])
