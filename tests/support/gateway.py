"""Simulated API-M gateway nodes: the files a real 4.x gateway has, laid out under an API-M home.

deployment.toml (a real one from ../shared/fixtures when present, else our own gateway-style file), the
persistent client-truststore.jks (public CAs), sslprofiles.xml as a 4.x gateway rewrites it at start-up
(default profile pointing at client-truststore-temp.jks), and that start-up copy.

make_gateway_node is the one builder of such homes for every test (and for the ansible-test integration targets'
setup_apim_gateway); its keyword options give a small seeded store, a fresh keystore with a private key, another
password, the start-up copy's name and folder, a relative live location or sslprofiles.xml's whole text.
"""

from __future__ import annotations

import os
import shutil

try:
    import tomllib  # an independent TOML reader, to check the collection's edits of deployment.toml with
except ImportError:  # Python < 3.11
    tomllib = None

from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, NoEncryption, PrivateFormat, pkcs12

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.pki import make_cert

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

DEFAULT_PASSWORD = "wso2carbon"  # WSO2's default for both stores

# deployment.toml's pieces, as WSO2's gateway files have them (gateway_toml joins them)
TOML_KEYSTORE_TLS = """\
[keystore.tls]
file_name =  "wso2carbon.jks"
type =  "JKS"
password =  "wso2carbon"
alias =  "wso2carbon"
key_password =  "wso2carbon"
"""
TOML_TRUSTSTORE = """\
[truststore]
file_name = "client-truststore.jks"
type = "JKS"
password = "wso2carbon"
"""
TOML_PROFILE_RELOAD = """\
# Backends are called over HTTPS; SSL profiles reload from sslprofiles.xml.
[transport.passthru_https.sender.ssl_profile]
interval = 600000
"""


def gateway_toml(server: str = 'hostname = "gw.example.internal"', *sections: str) -> str:
    """A deployment.toml: [server] with the given lines, then the given sections, a blank line between each."""
    return "\n".join(["[server]\n" + server + "\n", *sections])


OWN_TOML = gateway_toml('hostname = "gateway.example.internal"\nnode_ip = "127.0.0.1"\nserver_role = "gateway-worker"',
                        '[user_store]\ntype = "database_unique_id"\n', TOML_KEYSTORE_TLS, TOML_TRUSTSTORE, TOML_PROFILE_RELOAD)


def toml_loads(text: str) -> dict:
    """deployment.toml's values, read by tomllib (tomlkit before Python 3.11), not by the collection's splicer."""
    if tomllib is not None:
        return tomllib.loads(text)
    import tomlkit  # pylint: disable=import-outside-toplevel

    return tomlkit.parse(text).unwrap()


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
    return [make_cert(f"Public Root CA {i}", ca=True)[0] for i in range(5)]


def _ca_alias(cert) -> str:
    return cert.subject.rfc4514_string().lower().replace(" ", "_").replace("=", "_")[:60] + " [jdk]"


def jks_keystore(path: str, alias: str = "wso2carbon", password: str = DEFAULT_PASSWORD, cert=None, key=None) -> str:
    """A JKS keystore with one private key entry, as wso2carbon.jks is (pyjks writes it, not the collection)."""
    import jks  # pylint: disable=import-outside-toplevel

    if cert is None:
        cert, key = make_cert("localhost")
    entry = jks.PrivateKeyEntry.new(alias, [cert.public_bytes(Encoding.DER)],
                                    key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()), "pkcs8")
    with open(path, "wb") as handle:
        handle.write(jks.KeyStore.new("jks", [entry]).saves(password))
    return path


def write_truststore(path: str, password: str, entries, *, writer: str = "collection") -> str:
    """A JKS truststore holding the (alias, certificate) entries.

    writer "collection": the collection's own codec; "pyjks": pyjks, for a fixture independent of the code under test."""
    if writer == "pyjks":
        import jks  # pylint: disable=import-outside-toplevel

        trusted = [jks.TrustedCertEntry.new(alias, cert.public_bytes(Encoding.DER)) for alias, cert in entries]
        jks.KeyStore.new("jks", trusted).save(path, password)
    elif writer == "collection":
        ts.converge_truststore(path, password, [ts.DesiredCertificate(alias, "present", cert) for alias, cert in entries],
                               create=True, allow_expired=True)
    else:
        raise ValueError(f"writer: {writer!r}")
    return path


def backend_stores(directory: str, cert, key, trust_password: str, key_password: str) -> tuple:
    """What an SSL profile for one backend names: (orders-client.p12 with the client key, orders-truststore.jks trusting cert)."""
    os.makedirs(directory, exist_ok=True)
    truststore = os.path.join(directory, "orders-truststore.jks")
    ts.converge_truststore(truststore, trust_password, [ts.DesiredCertificate("orders", "present", cert)], store_type="JKS", create=True)
    keystore = os.path.join(directory, "orders-client.p12")
    with open(keystore, "wb") as handle:
        handle.write(pkcs12.serialize_key_and_certificates(b"orders-client", key, cert, None, BestAvailableEncryption(key_password.encode())))
    return keystore, truststore


def make_gateway_node(home: str, *, temp_copy: bool = True, extra_profiles=(), toml_text: str | None = None,
                      use_stock_store: bool = True, listener: bool = True, password: str = DEFAULT_PASSWORD, entries=None,
                      writer: str = "collection", own_keystore: bool = False, live_name: str = "client-truststore-temp.jks",
                      live_dir: str | None = None, relative_location: bool = False, xml_text: str | None = None) -> dict:
    """Lay out an API-M 4.x gateway home. Returns the paths of its files (only files, besides "home": callers hash
    every other value).

    listener: also the HTTPS listener's listenerprofiles.xml (WSO2's own file when ../shared is present), whose
    truststore is the persistent client-truststore.jks, as on a 4.x gateway.
    password: of client-truststore.jks, of wso2carbon.jks and the default profile's truststore password (write
    deployment.toml's with toml_text); WSO2's stock stores are used only with the default password.
    entries: (alias, certificate) pairs for client-truststore.jks instead of WSO2's stock store or public CAs (a small,
    fast store), written by writer ("collection" or "pyjks", see write_truststore).
    own_keystore: wso2carbon.jks is a new keystore with one private key entry "wso2carbon" instead of WSO2's.
    temp_copy, live_name, live_dir: the start-up copy of the truststore, its file name and its folder (default: next to
    client-truststore.jks); sslprofiles.xml's default profile points at it by its absolute path, as 4.x writes it, or
    relative to the home with relative_location (as 4.x's template has it). xml_text: sslprofiles.xml's text instead.
    """
    conf = os.path.join(home, "repository", "conf")
    security = os.path.join(home, SECURITY)
    os.makedirs(conf, exist_ok=True)
    os.makedirs(security, exist_ok=True)
    toml_path = os.path.join(conf, "deployment.toml")
    if toml_text is None:
        toml_text = open(GATEWAY_TOML, encoding="utf-8").read() if os.path.exists(GATEWAY_TOML) else OWN_TOML
    with open(toml_path, "w", encoding="utf-8") as handle:
        handle.write(toml_text)
    stock = use_stock_store and password == DEFAULT_PASSWORD

    persistent = os.path.join(security, "client-truststore.jks")
    if entries is not None:
        write_truststore(persistent, password, entries, writer=writer)
    elif stock and os.path.exists(STOCK_TRUSTSTORE):
        shutil.copyfile(STOCK_TRUSTSTORE, persistent)
    else:
        unique = {_ca_alias(c): c for c in public_ca_certificates()}
        write_truststore(persistent, password, list(unique.items()), writer=writer)
    os.chmod(persistent, 0o644)

    # the default profile's keystore, so that ssl_profile's validate_stores can open it
    keystore = os.path.join(security, "wso2carbon.jks")
    if own_keystore:
        jks_keystore(keystore, "wso2carbon", password)
    elif stock and os.path.exists(STOCK_KEYSTORE):
        shutil.copyfile(STOCK_KEYSTORE, keystore)
    elif not os.path.exists(keystore):
        write_truststore(keystore, password, [("wso2carbon", make_cert("wso2carbon")[0])])

    live_location = "repository/resources/security/client-truststore.jks"
    live = persistent
    if temp_copy:
        folder = live_dir or security
        os.makedirs(folder, exist_ok=True)
        live = os.path.join(folder, live_name)
        shutil.copyfile(persistent, live)
        # 4.x writes an absolute path to the copy
        live_location = os.path.relpath(live, home).replace(os.sep, "/") if relative_location else os.path.abspath(live)
    profiles = [("*", "repository/resources/security/wso2carbon.jks", live_location, password), *extra_profiles]
    sslprofiles = os.path.join(security, "sslprofiles.xml")
    with open(sslprofiles, "w", encoding="utf-8") as handle:
        handle.write(xml_text if xml_text is not None else profile_xml(profiles))
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
