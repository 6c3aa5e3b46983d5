"""Simulated API-M gateway nodes: the files a real 4.x gateway has, laid out under an API-M home.

deployment.toml (a real one from ../shared/fixtures when present, else our own gateway-style file), the
persistent client-truststore.jks (public CAs), sslprofiles.xml as a 4.x gateway rewrites it at start-up
(default profile pointing at client-truststore-temp.jks), and that start-up copy.
"""

from __future__ import annotations

import os
import shutil

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "wso2")
STOCK_TRUSTSTORE = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "client-truststore.jks")
STOCK_KEYSTORE = os.path.join(FIXTURES, "carbon-kernel-4.9.x", "wso2carbon.jks")
GATEWAY_TOML = os.path.join(FIXTURES, "apim-4.x-master", "gateway", "deployment.toml")
LISTENER_PROFILES = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "listenerprofiles.xml")
# listenerprofiles.xml as API-M 4.x ships it, for where ../shared is absent
OWN_LISTENER_PROFILES = """<?xml version="1.0" encoding="ISO-8859-1"?>
<parameter name="SSLProfiles">
<profile>
        <bindAddress>0.0.0.0</bindAddress>
         <KeyStore>
            <Location>repository/resources/security/wso2carbon.jks</Location>
            <Type>JKS</Type>
            <Password>wso2carbon</Password>
            <KeyPassword>wso2carbon</KeyPassword>
        </KeyStore>
        <TrustStore>
            <Location>repository/resources/security/client-truststore.jks</Location>
            <Type>JKS</Type>
            <Password>wso2carbon</Password>
        </TrustStore>
        <SSLVerifyClient>optional</SSLVerifyClient>
    </profile>
</parameter>
"""
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"

SECURITY = os.path.join("repository", "resources", "security")

OWN_TOML = """\
[server]
hostname = "gateway.example.internal"
node_ip = "127.0.0.1"
server_role = "gateway-worker"

[user_store]
type = "database_unique_id"

[keystore.tls]
file_name =  "wso2carbon.jks"
type =  "JKS"
password =  "wso2carbon"
alias =  "wso2carbon"
key_password =  "wso2carbon"

[truststore]
file_name = "client-truststore.jks"
type = "JKS"
password = "wso2carbon"

# Backends are called over HTTPS; SSL profiles reload from sslprofiles.xml.
[transport.passthru_https.sender.ssl_profile]
interval = 600000
"""


def profile_xml(profiles) -> str:
    """sslprofiles.xml with the given (servers, keystore location, truststore location[, truststore password]) profiles."""
    parts = ['<?xml version="1.0" encoding="ISO-8859-1"?>', '<parameter name="customSSLProfiles">']
    for servers, keystore, truststore, *rest in profiles:
        trust_password = rest[0] if rest else "wso2carbon"
        parts.append(f"""    <profile>
        <servers>{servers}</servers>
        <KeyStore>
            <Location>{keystore}</Location>
            <Type>JKS</Type>
            <Password>wso2carbon</Password>
            <KeyPassword>wso2carbon</KeyPassword>
        </KeyStore>
        <TrustStore>
            <Location>{truststore}</Location>
            <Type>JKS</Type>
            <Password>{trust_password}</Password>
        </TrustStore>
    </profile>""")
    parts.append("</parameter>\n")
    return "\n".join(parts)


def public_ca_certificates(limit: int = 40) -> list:
    """Some public CA certificates from the system bundle (WSO2's stock store holds the JDK's)."""
    if os.path.exists(SYSTEM_CAS):
        with open(SYSTEM_CAS, "rb") as handle:
            data = handle.read()
        found = []
        for cert in certs.parse_certificates(data, SYSTEM_CAS):
            if certs.validity_status(cert) == "active":
                found.append(cert)
            if len(found) >= limit:
                break
        return found
    from ansible_collections.apim.certificates.tests.support.pki import make_cert  # pylint: disable=import-outside-toplevel

    return [make_cert(f"Public Root CA {i}", ca=True)[0] for i in range(5)]


def _ca_alias(cert) -> str:
    return cert.subject.rfc4514_string().lower().replace(" ", "_").replace("=", "_")[:60] + " [jdk]"


def make_gateway_node(home: str, *, temp_copy: bool = True, extra_profiles=(), toml_text: str | None = None,
                      use_stock_store: bool = True, listener: bool = True) -> dict:
    """Lay out an API-M 4.x gateway home. Returns the paths of its files.

    listener: also the HTTPS listener's listenerprofiles.xml (WSO2's own file when ../shared is present), whose
    truststore is the persistent client-truststore.jks, as on a 4.x gateway."""
    conf = os.path.join(home, "repository", "conf")
    security = os.path.join(home, SECURITY)
    os.makedirs(conf, exist_ok=True)
    os.makedirs(security, exist_ok=True)
    toml_path = os.path.join(conf, "deployment.toml")
    if toml_text is None:
        toml_text = open(GATEWAY_TOML, encoding="utf-8").read() if os.path.exists(GATEWAY_TOML) else OWN_TOML
    with open(toml_path, "w", encoding="utf-8") as handle:
        handle.write(toml_text)

    persistent = os.path.join(security, "client-truststore.jks")
    if use_stock_store and os.path.exists(STOCK_TRUSTSTORE):
        shutil.copyfile(STOCK_TRUSTSTORE, persistent)
    else:
        desired = [ts.DesiredCertificate(_ca_alias(c), "present", c) for c in public_ca_certificates()]
        unique = {d.alias: d for d in desired}
        ts.converge_truststore(persistent, "wso2carbon", list(unique.values()), create=True, allow_expired=True)
    os.chmod(persistent, 0o644)

    # the default profile's keystore, so that ssl_profile's validate_stores can open it
    keystore = os.path.join(security, "wso2carbon.jks")
    if use_stock_store and os.path.exists(STOCK_KEYSTORE):
        shutil.copyfile(STOCK_KEYSTORE, keystore)
    elif not os.path.exists(keystore):
        from ansible_collections.apim.certificates.tests.support.pki import make_cert  # pylint: disable=import-outside-toplevel

        ts.converge_truststore(keystore, "wso2carbon", [ts.DesiredCertificate("wso2carbon", "present", make_cert("wso2carbon")[0])],
                               create=True)

    live_location = "repository/resources/security/client-truststore.jks"
    live = persistent
    if temp_copy:
        live = os.path.join(security, "client-truststore-temp.jks")
        shutil.copyfile(persistent, live)
        live_location = os.path.abspath(live)  # 4.x writes an absolute path to the copy
    profiles = [("*", "repository/resources/security/wso2carbon.jks", live_location), *extra_profiles]
    sslprofiles = os.path.join(security, "sslprofiles.xml")
    with open(sslprofiles, "w", encoding="utf-8") as handle:
        handle.write(profile_xml(profiles))
    listenerprofiles = os.path.join(security, "listenerprofiles.xml")
    if listener:
        if os.path.exists(LISTENER_PROFILES):
            shutil.copyfile(LISTENER_PROFILES, listenerprofiles)
        else:
            with open(listenerprofiles, "w", encoding="utf-8") as handle:
                handle.write(OWN_LISTENER_PROFILES)
    return {
        "home": home, "deployment_toml": toml_path, "persistent": persistent, "live": live,
        "sslprofiles": sslprofiles, "keystore": keystore, "listenerprofiles": listenerprofiles if listener else None,
    }
