"""Lay out a stock-looking API-M 4.x gateway node for the integration targets, with no code of the collection.

    make_gateway.py DIR

DIR/certs/<name>.pem and DIR/certs/facts.json (SHA-256 of each, keytool's form): three backend certificates valid
for a year (orders, payments, billing), self-signed, made with cryptography.
DIR/wso2am: an API-M home as a 4.x gateway has it after start-up: repository/conf/deployment.toml,
repository/resources/security/ with wso2carbon.jks (a private key entry), client-truststore.jks (two CA
certificates) and its start-up copy client-truststore-temp.jks, and sslprofiles.xml pointing the default profile at
that copy. Passwords are WSO2's default, 'wso2carbon'. pyjks writes the stores: the collection's own codec is what
is under test, so it does not build the fixture.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import sys

import jks
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PASSWORD = "wso2carbon"
SECURITY = os.path.join("repository", "resources", "security")

DEPLOYMENT_TOML = """\
[server]
hostname = "gateway.example.internal"
node_ip = "127.0.0.1"
server_role = "gateway-worker"

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

SSLPROFILES_XML = """\
<?xml version="1.0" encoding="ISO-8859-1"?>
<parameter name="customSSLProfiles">
    <profile>
        <servers>*</servers>
        <KeyStore>
            <Location>repository/resources/security/wso2carbon.jks</Location>
            <Type>JKS</Type>
            <Password>wso2carbon</Password>
            <KeyPassword>wso2carbon</KeyPassword>
        </KeyStore>
        <TrustStore>
            <Location>repository/resources/security/client-truststore-temp.jks</Location>
            <Type>JKS</Type>
            <Password>wso2carbon</Password>
        </TrustStore>
    </profile>
</parameter>
"""


def certificate(common_name: str, ca: bool = False):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "apim.certificates integration"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
    return builder.sign(key, hashes.SHA256()), key


def keytool_sha256(cert) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def main(directory: str) -> None:
    certs_dir = os.path.join(directory, "certs")
    home = os.path.join(directory, "wso2am")
    security = os.path.join(home, SECURITY)
    os.makedirs(certs_dir)
    os.makedirs(os.path.join(home, "repository", "conf"))
    os.makedirs(security)
    facts = {}
    for name in ("orders", "payments", "billing"):
        cert, _key = certificate(f"{name}.backend.internal")
        with open(os.path.join(certs_dir, f"{name}.pem"), "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        facts[name] = keytool_sha256(cert)
    cas = {}
    for name in ("example root ca", "example other root ca"):
        cert, _key = certificate(name.title(), ca=True)
        cas[name.replace(" ", "-")] = cert
        facts[name.replace(" ", "-")] = keytool_sha256(cert)
    trusted = [jks.TrustedCertEntry.new(alias, cert.public_bytes(serialization.Encoding.DER)) for alias, cert in cas.items()]
    jks.KeyStore.new("jks", trusted).save(os.path.join(security, "client-truststore.jks"), PASSWORD)
    shutil.copyfile(os.path.join(security, "client-truststore.jks"), os.path.join(security, "client-truststore-temp.jks"))
    server, key = certificate("localhost")
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    entry = jks.PrivateKeyEntry.new("wso2carbon", [server.public_bytes(serialization.Encoding.DER)], pkcs8, "pkcs8")
    entry.encrypt(PASSWORD)
    jks.KeyStore.new("jks", [entry]).save(os.path.join(security, "wso2carbon.jks"), PASSWORD)
    with open(os.path.join(home, "repository", "conf", "deployment.toml"), "w", encoding="utf-8") as handle:
        handle.write(DEPLOYMENT_TOML)
    with open(os.path.join(security, "sslprofiles.xml"), "w", encoding="iso-8859-1") as handle:
        handle.write(SSLPROFILES_XML)
    # written at the gateway's start-up, an hour ago: a touch by a module is then a visibly newer modification time
    startup = os.stat(os.path.join(security, "sslprofiles.xml")).st_mtime - 3600
    os.utime(os.path.join(security, "sslprofiles.xml"), (startup, startup))
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o700 if name in dirs else 0o600)
    with open(os.path.join(certs_dir, "facts.json"), "w", encoding="utf-8") as handle:
        json.dump(facts, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
