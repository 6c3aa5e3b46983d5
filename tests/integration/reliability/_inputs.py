"""Small, fast inputs for the reliability suite: stores, keystores, gateway homes, certificates in odd forms."""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import shutil
import socket
import textwrap

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, NoEncryption, PrivateFormat, pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support.gateway import profile_xml
from ansible_collections.apim.certificates.tests.support.pki import der, make_cert, pem
from ansible_collections.apim.certificates.tests.support.servers import serving

SECURITY = os.path.join("repository", "resources", "security")

GATEWAY_TOML = """\
[server]
hostname = "gw.example.internal"   # the node's name

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


def seed_store(path: str, password: str, store_type: str = "JKS", entries=None) -> str:
    """A truststore with one (or the given) trusted certificates."""
    entries = entries if entries is not None else [("existing", make_cert("existing.test")[0])]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ts.converge_truststore(path, password, [ts.DesiredCertificate(alias, "present", cert) for alias, cert in entries],
                           store_type=store_type, create=True)
    return path


def jks_keystore(path: str, alias: str, password: str) -> str:
    """A JKS keystore with one private key entry, as wso2carbon.jks is."""
    import jks  # pylint: disable=import-outside-toplevel

    cert, key = make_cert("localhost")
    entry = jks.PrivateKeyEntry.new(alias, [cert.public_bytes(Encoding.DER)],
                                    key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()), "pkcs8")
    with open(path, "wb") as handle:
        handle.write(jks.KeyStore.new("jks", [entry]).saves(password))
    return path


def pkcs12_keystore(path: str, alias: str, password: str) -> str:
    cert, key = make_cert("client.test")
    with open(path, "wb") as handle:
        handle.write(pkcs12.serialize_key_and_certificates(alias.encode(), key, cert, None,
                                                           BestAvailableEncryption(password.encode())))
    return path


def gateway_home(home: str, *, toml_text: str = GATEWAY_TOML, temp_copy: bool = True, xml_text: str | None = None,
                 live_dir: str | None = None, password: str = "wso2carbon") -> dict:
    """An API-M 4.x gateway home: deployment.toml, client-truststore.jks, its start-up copy, wso2carbon.jks, sslprofiles.xml.

    live_dir puts the start-up copy in another folder (sslprofiles.xml then points there).
    """
    conf = os.path.join(home, "repository", "conf")
    security = os.path.join(home, SECURITY)
    os.makedirs(conf, exist_ok=True)
    os.makedirs(security, exist_ok=True)
    toml_path = os.path.join(conf, "deployment.toml")
    with open(toml_path, "w", encoding="utf-8") as handle:
        handle.write(toml_text)
    persistent = seed_store(os.path.join(security, "client-truststore.jks"), password,
                            entries=[("gateway_certificate_alias", make_cert("gateway.test")[0])])
    jks_keystore(os.path.join(security, "wso2carbon.jks"), "wso2carbon", password)
    live = persistent
    live_location = "repository/resources/security/client-truststore.jks"
    if temp_copy:
        folder = live_dir or security
        os.makedirs(folder, exist_ok=True)
        live = os.path.join(folder, "client-truststore-temp.jks")
        shutil.copyfile(persistent, live)
        live_location = os.path.abspath(live)
    sslprofiles = os.path.join(security, "sslprofiles.xml")
    with open(sslprofiles, "w", encoding="utf-8") as handle:
        handle.write(xml_text if xml_text is not None else
                     profile_xml([("*", "repository/resources/security/wso2carbon.jks", live_location, password)]))
    return {"home": home, "deployment_toml": toml_path, "persistent": persistent, "live": live, "sslprofiles": sslprofiles,
            "security": security, "conf": conf}


# --- certificates in odd forms ---------------------------------------------------------------------------


def pem_of(label: str, data: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(data).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def truncated_pem(cert) -> str:
    """A PEM block whose DER was cut in half (valid base64, broken certificate)."""
    data = der(cert)
    return pem_of("CERTIFICATE", data[: (len(data) // 2) // 3 * 3])


def pem_cut_before_end(cert) -> str:
    text = pem(cert)
    return text[: len(text) // 2]


def csr_pem() -> str:
    _cert, key = make_cert("csr.test")
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr.test")]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(Encoding.PEM).decode()


def encrypted_key_pem() -> str:
    _cert, key = make_cert("key.test")
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"k3y-file-pass")).decode()


def public_key_pem() -> str:
    _cert, key = make_cert("pub.test")
    return key.public_key().public_bytes(Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def private_key_der() -> bytes:
    _cert, key = make_cert("der-key.test")
    return key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


def malformed_subject_der() -> bytes:
    """A certificate whose DER structure is intact but whose subject and issuer CN are not valid UTF-8.

    cryptography loads it (names are parsed lazily) and raises ValueError when the subject is read.
    """
    cert, _key = make_cert("zzzzzz.malformed.test")
    data = bytearray(der(cert))
    start = 0
    while True:
        index = data.find(b"zzzzzz", start)
        if index < 0:
            break
        data[index] = 0xFF
        start = index + 1
    return bytes(data)


# --- endpoints --------------------------------------------------------------------------------------------


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Plain(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def plain_http_server():
    """An HTTP (not HTTPS) server on 127.0.0.1; yields its port."""
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Plain)) as port:
        yield port
