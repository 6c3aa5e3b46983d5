"""Fixtures for the Java interop tests: one set of real certificates and one compiled TLS client per session."""

from __future__ import annotations

import dataclasses
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.apim.certificates.tests.support import java
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256


@dataclasses.dataclass(frozen=True)
class Cert:
    cert: object
    key: object

    @property
    def pem(self) -> str:
        return pem(self.cert)

    @property
    def sha256(self) -> str:
        return sha256(self.cert)

    def write(self, directory) -> str:
        path = os.path.join(str(directory), f"{self.sha256.replace(':', '')[:16]}.pem")
        with open(path, "w") as handle:
            handle.write(self.pem)
        return path


@dataclasses.dataclass(frozen=True)
class Certs:
    rsa: Cert
    rsa_new: Cert
    ec: Cert
    ec_new: Cert
    ec_module: Cert
    root: Cert
    intermediate: Cert
    leaf: Cert
    small_ca: Cert
    small_leaf: Cert
    unrelated: Cert
    extra: Cert

    @property
    def chain_pem(self) -> str:
        """A bundle as operators paste it: leaf, intermediate, root."""
        return self.leaf.pem + self.intermediate.pem + self.root.pem


@pytest.fixture(scope="session")
def certs() -> Certs:
    def make(cn, **kwargs):
        return Cert(*make_cert(cn, **kwargs))

    root = make("Interop Root CA", ca=True, sans=[])
    intermediate = make("Interop Issuing CA", ca=True, sans=[], issuer=root.cert, issuer_key=root.key)
    leaf = make("chain.backend.test", issuer=intermediate.cert, issuer_key=intermediate.key)
    small_ca = make("Interop Small CA", ca=True, sans=[], key_kind="ec")
    small_leaf = make("small-chain.backend.test", key_kind="ec", issuer=small_ca.cert, issuer_key=small_ca.key)
    return Certs(
        rsa=make("rsa.backend.test"),
        rsa_new=make("rsa.backend.test"),
        ec=make("ec.backend.test", key_kind="ec"),
        ec_new=make("ec.backend.test", key_kind="ec"),
        ec_module=make("ec-module.backend.test", key_kind="ec"),
        root=root,
        intermediate=intermediate,
        leaf=leaf,
        small_ca=small_ca,
        small_leaf=small_leaf,
        unrelated=make("unrelated.backend.test"),
        extra=make("extra.backend.test", key_kind="ec"),
    )


@pytest.fixture(scope="session")
def server_cert() -> Cert:
    """A fresh self-signed certificate (own key, shared with nothing else) for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    return Cert(*make_cert("localhost", sans=["localhost", "127.0.0.1"], key=key))


@pytest.fixture(scope="session")
def tls_client(tmp_path_factory) -> str:
    """The TlsClient class, compiled once per session; skipped (not failed) where there is no JDK."""
    if not (java.JAVA and java.KEYTOOL):
        pytest.skip(java.JAVA_MISSING)
    return java.compile_client(str(tmp_path_factory.mktemp("tlsclient")))
