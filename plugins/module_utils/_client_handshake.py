# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Does a backend accept the gateway's key pair? One TLS handshake from the node that presents it.

The answer is named: "accepted" (the backend asked for a client certificate and the connection went on with this
one), "no certificate requested" (the backend never asked: mutual TLS is not in force there), or "refused" (the
handshake or the first read failed after the backend asked, with the TLS alert as the reason; in TLS 1.3 a
backend's verdict on the client certificate arrives after the client's side of the handshake, so the first read
decides); and, when it never got that far, "handshake failed" or "unreachable".

Whether the backend asked is seen from the handshake messages themselves (Python's ssl message callback, 3.8+):
a CertificateRequest message from the server. The backend's own certificate is not judged here (the trust checks
do that). Python's ssl loads a key only from a file: the key is written, encrypted (PKCS#8 with a random passphrase
that lives in memory only), to a private temporary folder (0700) and deleted as soon as ssl has loaded it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import tempfile

from ansible_collections.apim.certificates.plugins.module_utils._endpoint import parse_endpoint

ACCEPTED = "accepted"
NOT_REQUESTED = "no certificate requested"
REFUSED = "refused"
FAILED = "handshake failed"  # before the backend asked for a certificate (protocol, cipher, ...)
UNREACHABLE = "unreachable"


def _context(key_pair) -> ssl.SSLContext:
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the backend's certificate is the trust checks' matter
    passphrase = secrets.token_urlsafe(32)
    key = key_pair.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.BestAvailableEncryption(passphrase.encode("ascii")))
    chain = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in key_pair.chain)
    folder = tempfile.mkdtemp(prefix="apim-handshake-")  # 0700
    try:
        path = os.path.join(folder, "client.pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key + chain)
        context.load_cert_chain(path, password=passphrase)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return context


def present(endpoint: str, key_pair, timeout: float = 10.0) -> dict:
    """{endpoint, result, reason}: the backend's answer to this key pair (see the module docstring)."""
    host, port = parse_endpoint(endpoint)
    context = _context(key_pair)
    requested = []

    def watch(_conn, direction, _version, _content_type, msg_type, _data):
        if direction == "read" and msg_type == ssl._TLSMessageType.CERTIFICATE_REQUEST:  # pylint: disable=protected-access
            requested.append(True)

    context._msg_callback = watch  # pylint: disable=protected-access
    verdict = {"endpoint": endpoint, "result": None, "reason": None}
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host if not _is_ip(host) else None) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode("ascii"))
                tls.recv(1)  # TLS 1.3: the backend's refusal of the certificate arrives here
    except ssl.SSLError as exc:
        if requested:
            verdict.update(result=REFUSED, reason=f"the backend refused the certificate: {exc.reason or exc}")
        else:
            verdict.update(result=FAILED, reason=f"the TLS handshake failed before a certificate was asked for: {exc.reason or exc}")
        return verdict
    except (OSError, socket.timeout) as exc:
        verdict.update(result=UNREACHABLE, reason=f"cannot connect to {host}:{port}: {exc}")
        return verdict
    verdict["result"] = ACCEPTED if requested else NOT_REQUESTED
    return verdict


def _is_ip(host: str) -> bool:
    import ipaddress  # pylint: disable=import-outside-toplevel

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
