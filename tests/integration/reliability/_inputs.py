"""Small, fast inputs for the reliability suite: stores, keystores, gateway homes, certificates in odd forms."""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import socket
import textwrap

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, NoEncryption, PrivateFormat, pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.support import gateway as _gateway
from ansible_collections.apim.certificates.tests.support.gateway import TOML_KEYSTORE_TLS, TOML_PROFILE_RELOAD, TOML_TRUSTSTORE, gateway_toml, make_gateway_node
from ansible_collections.apim.certificates.tests.support.pki import der, make_cert, pem
from ansible_collections.apim.certificates.tests.support.servers import serving

SECURITY = _gateway.SECURITY

GATEWAY_TOML = gateway_toml('hostname = "gw.example.internal"   # the node\'s name', TOML_KEYSTORE_TLS, TOML_TRUSTSTORE, TOML_PROFILE_RELOAD)


def seed_store(path: str, password: str, store_type: str = "JKS", entries=None) -> str:
    """A truststore with one (or the given) trusted certificates."""
    entries = entries if entries is not None else [("existing", make_cert("existing.test")[0])]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ts.converge_truststore(path, password, [ts.DesiredCertificate(alias, "present", cert) for alias, cert in entries],
                           store_type=store_type, create=True)
    return path


jks_keystore = _gateway.jks_keystore  # (path, alias, password): a JKS keystore with one private key entry


def pkcs12_keystore(path: str, alias: str, password: str) -> str:
    cert, key = make_cert("client.test")
    with open(path, "wb") as handle:
        handle.write(pkcs12.serialize_key_and_certificates(alias.encode(), key, cert, None,
                                                           BestAvailableEncryption(password.encode())))
    return path


def gateway_home(home: str, *, toml_text: str = GATEWAY_TOML, temp_copy: bool = True, xml_text: str | None = None,
                 live_dir: str | None = None, password: str = "wso2carbon") -> dict:
    """A small API-M 4.x gateway home (make_gateway_node): deployment.toml, client-truststore.jks with one certificate
    (alias gateway_certificate_alias), its start-up copy, wso2carbon.jks with a private key, sslprofiles.xml; no listener.
    Returns make_gateway_node's paths (listenerprofiles aside) and the security and conf folders.

    live_dir puts the start-up copy in another folder (sslprofiles.xml then points there).
    """
    node = make_gateway_node(home, toml_text=toml_text, temp_copy=temp_copy, xml_text=xml_text, live_dir=live_dir, password=password,
                             entries=[("gateway_certificate_alias", make_cert("gateway.test")[0])], own_keystore=True, listener=False)
    del node["listenerprofiles"]  # None: no listener
    return dict(node, security=os.path.dirname(node["persistent"]), conf=os.path.dirname(node["deployment_toml"]))


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
