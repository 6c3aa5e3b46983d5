"""A local HTTPS backend with a certificate of the test's choosing, on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import http.server
import os
import ssl
import tempfile
import threading

from ansible_collections.apim.certificates.tests.support.pki import key_pem, pem


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def https_server(cert, key, chain=()):
    """Serve HTTPS on 127.0.0.1:<free port>; yields the port. chain: extra certificates sent after cert."""
    with _backend(cert, key, chain, renewable=False) as backend:
        yield backend.port


@contextlib.contextmanager
def renewable_https_server(cert, key, chain=()):
    """As https_server, but yields a Backend whose renew() swaps the served certificate without changing the port."""
    with _backend(cert, key, chain, renewable=True) as backend:
        yield backend


class Backend:
    """A running HTTPS backend whose certificate can be renewed in place (same host and port, new certificate)."""

    def __init__(self, context, folder: str, port: int):
        self.context, self.folder, self.port = context, folder, port

    def renew(self, cert, key, chain=()) -> None:
        """Serve cert (and chain) from the next handshake on, as a backend's routine renewal does."""
        _load(self.context, self.folder, cert, key, chain)


def _load(context, folder: str, cert, key, chain) -> None:
    cert_file = os.path.join(folder, "cert.pem")
    key_file = os.path.join(folder, "key.pem")
    with open(cert_file, "w") as handle:
        handle.write(pem(cert) + "".join(pem(c) for c in chain))
    with open(key_file, "w") as handle:
        handle.write(key_pem(key))
    context.load_cert_chain(cert_file, key_file)


@contextlib.contextmanager
def _backend(cert, key, chain, renewable: bool):
    with tempfile.TemporaryDirectory() as tmp:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if renewable:
            # TLS 1.3 without tickets: no session resumption, so every handshake presents the certificate served now
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            context.options |= ssl.OP_NO_TICKET
        _load(context, tmp, cert, key, chain)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        with serving(server) as port:
            yield Backend(context, tmp, port)


@contextlib.contextmanager
def serving(server):
    """Run an http.server server in a thread for the block; yields its port, then shuts it down."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def mutual_tls_server(cert, key, client_cas):
    """Serve HTTPS on 127.0.0.1:<free port> to clients that present a certificate issued by one of client_cas
    (ssl.CERT_REQUIRED, as a backend that requires client certificates); yields (port, presented): presented gets the
    DER of each accepted client certificate, one per request. A handshake without an accepted client certificate
    fails; the server keeps serving."""
    presented: list = []

    class Recording(_Handler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            presented.append(self.connection.getpeercert(binary_form=True))
            super().do_GET()

    with tempfile.TemporaryDirectory() as tmp:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata="".join(pem(ca) for ca in client_cas))
        _load(context, tmp, cert, key, ())
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        with serving(server) as port:
            yield port, presented
