"""_gateway: one answer to "which SSL profile is live", the same for every module (one reader of sslprofiles.xml)."""

from __future__ import annotations

import os

from ansible_collections.apim.certificates.plugins.module_utils import _gateway as gw
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profile_request as request
from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profiles as sp
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import DEPLOYMENT_TOML, SECURITY_DIR

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
