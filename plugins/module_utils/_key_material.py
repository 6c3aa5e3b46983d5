# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A key pair as endpoint_keystore takes it: a private key and its certificate chain, checked and put in order.

From PEM (PKCS#1 'RSA PRIVATE KEY', SEC1 'EC PRIVATE KEY', PKCS#8 'PRIVATE KEY' and 'ENCRYPTED PRIVATE KEY', the
traditional OpenSSL encryption with DEK-Info too) or DER, with the chain as PEM; or from a PKCS#12 bundle. Key types:
RSA (2048 bits or more) and EC on the curves Java's TLS offers (P-256, P-384, P-521); Ed25519 only when asked for
(allow_ed25519), because Java has EdDSA only from JDK 15 (API-M 4.0 and 4.1 run on JDK 11, which then cannot load
the keystore at all, and that fails the gateway's whole SSL profile reload). DSA, Ed448 and other curves are refused.

The chain is ordered from the key's certificate (the leaf: the one whose public key is the key's) up, each next
certificate the one whose signature-verified subject issued the previous one. A certificate that is not on that path
is refused; a path that does not end at a self-signed root is refused unless allow_incomplete is set. Messages name
certificates by subject and fingerprint, never anything of the key.
"""

from __future__ import annotations

import base64
import binascii
import re

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._compat import not_valid_after, verify_issued_by
from ansible_collections.apim.certificates.plugins.module_utils._errors import CertificateError
from ansible_collections.apim.certificates.plugins.module_utils._fileio import read_bytes

MAX_CHAIN = 10
_KEY_BLOCK = re.compile(rb"-----BEGIN ((?:ENCRYPTED |RSA |EC |DSA |OPENSSH )?PRIVATE KEY)-----")
_EC_CURVES = {"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}


class KeyPair:
    """A private key and its chain, leaf first. pkcs8: the key's unencrypted PKCS#8 DER (kept in memory only; hidden
    from repr). chain: cryptography Certificates; ders: their DER."""

    __slots__ = ("key", "pkcs8", "chain", "ders", "complete")

    def __init__(self, key, pkcs8: bytes, chain: list, ders: list, complete: bool):
        self.key = key
        self.pkcs8 = pkcs8
        self.chain = chain
        self.ders = ders
        self.complete = complete

    def __repr__(self) -> str:
        return f"KeyPair(chain={[c.subject.rfc4514_string() for c in self.chain]!r}, key=<hidden>)"

    @property
    def fingerprints(self) -> list:
        return [certs.sha256_fingerprint(der) for der in self.ders]


def _serialization():
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    return serialization


def public_key_der(key) -> bytes:
    """The SubjectPublicKeyInfo of a private or public key (what 'the public key' is compared by)."""
    serialization = _serialization()
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_facts(key) -> dict:
    """{type, size} of a private or public key, as keytool names them (never anything of the key itself)."""
    from ansible_collections.apim.certificates.plugins.module_utils._facts import public_key_facts  # pylint: disable=import-outside-toplevel

    class _Holder:  # public_key_facts reads a certificate's public key
        def __init__(self, public):
            self._public = public

        def public_key(self):
            return self._public

    public = key.public_key() if hasattr(key, "public_key") else key
    facts = public_key_facts(_Holder(public))
    return {"type": facts["type"], "size": facts["size"]}


def check_key_type(key, source: str, allow_ed25519: bool = False) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # pylint: disable=import-outside-toplevel

    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise CertificateError(
                f"{source}: the RSA key has {key.key_size} bits; Java's TLS refuses RSA keys under 2048 bits "
                "(jdk.certpath.disabledAlgorithms): use a key of 2048 bits or more"
            )
        return
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in _EC_CURVES:
            raise CertificateError(
                f"{source}: the EC key is on curve {key.curve.name}, which Java's TLS does not offer; use P-256, "
                "P-384 or P-521 (secp256r1, secp384r1, secp521r1)"
            )
        return
    if isinstance(key, ed25519.Ed25519PrivateKey):
        if not allow_ed25519:
            raise CertificateError(
                f"{source}: the key is Ed25519, which Java reads only from JDK 15 on: a gateway on JDK 11 (API-M 4.0, "
                "4.1) cannot load the keystore, and that fails its whole SSL profile reload. Set allow_ed25519 to true "
                "where every gateway runs JDK 15 or later (API-M 4.2 and later ship JDK 17), or use an RSA or EC key"
            )
        return
    raise CertificateError(
        f"{source}: {key_facts(key)['type']} keys are not supported for a gateway's client certificate; use an RSA "
        "(2048 bits or more) or EC (P-256, P-384, P-521) key"
    )


def _pkcs8(key) -> bytes:
    serialization = _serialization()
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def load_private_key(data, passphrase: str | None, source: str):
    """The private key of PEM or DER data (bytes or text), decrypted with passphrase when it is encrypted."""
    serialization = _serialization()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or not data.strip():
        raise CertificateError(f"{source}: the content is empty")
    secret = passphrase.encode("utf-8") if passphrase is not None else None
    if b"-----BEGIN " in data:
        blocks = _KEY_BLOCK.findall(data)
        if not blocks:
            found = re.findall(rb"-----BEGIN ([A-Z0-9 ]+)-----", data)
            what = ", ".join(f"'{label.decode()}'" for label in found) or "no complete PEM block"
            raise CertificateError(f"{source}: no private key found (PEM blocks: {what}); give the key as PEM or DER")
        if len(blocks) > 1:
            raise CertificateError(f"{source}: {len(blocks)} private keys found; give exactly one")
        label = blocks[0].decode()
        if label == "OPENSSH PRIVATE KEY":
            raise CertificateError(f"{source}: an OpenSSH private key; convert it to PKCS#8 (ssh-keygen -p -m PKCS8) or give a PEM key")
        encrypted = label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in data
        start = data.index(b"-----BEGIN " + blocks[0])
        end_marker = b"-----END " + blocks[0] + b"-----"
        end = data.find(end_marker, start)
        if end < 0:
            raise CertificateError(f"{source}: the PEM block '{label}' has no END line (truncated?)")
        block = data[start:end + len(end_marker)] + b"\n"
        loader = serialization.load_pem_private_key
    else:
        encrypted = None
        block = data
        if certs.der_element_length(data) is None:
            stripped = b"".join(data.split())
            try:
                block = base64.b64decode(stripped, validate=True)
            except (binascii.Error, ValueError):
                block = b""
            if certs.der_element_length(block) is None:
                raise CertificateError(f"{source}: not a private key (neither PEM nor DER)") from None
        loader = serialization.load_der_private_key
    if encrypted and passphrase is None:
        raise CertificateError(f"{source}: the private key is encrypted; give private_key_passphrase")
    if encrypted is False and passphrase is not None:
        raise CertificateError(f"{source}: private_key_passphrase is given but the private key is not encrypted; drop it")
    try:
        return loader(block, password=secret if encrypted or encrypted is None else None)
    except TypeError as exc:
        if "not encrypted" in str(exc):
            raise CertificateError(f"{source}: private_key_passphrase is given but the private key is not encrypted; drop it") from None
        raise CertificateError(f"{source}: the private key is encrypted; give private_key_passphrase") from None
    except ValueError:
        if encrypted or (encrypted is None and passphrase is not None):
            raise CertificateError(
                f"{source}: the private key cannot be decrypted with private_key_passphrase (wrong passphrase, or a "
                "corrupt key)"
            ) from None
        raise CertificateError(f"{source}: not a valid private key (PKCS#1, PKCS#8 or SEC1; truncated or corrupt?)") from None
    except Exception as exc:  # noqa: BLE001 - cryptography's UnsupportedAlgorithm for unknown key types or ciphers
        raise CertificateError(f"{source}: cannot read this private key ({type(exc).__name__})") from None


def load_pkcs12_bundle(data: bytes, password: str | None, source: str) -> tuple:
    """(key, certificates: leaf candidate first) of a PKCS#12 bundle."""
    from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel

    if not data:
        raise CertificateError(f"{source}: the PKCS#12 bundle is empty")
    secret = password.encode("utf-8") if password is not None else None
    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, secret)
    except ValueError:
        raise CertificateError(
            f"{source}: cannot open the PKCS#12 bundle: wrong pkcs12_password, or not PKCS#12 data (corrupt?)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - unsupported PKCS12 algorithms
        raise CertificateError(f"{source}: cannot read this PKCS#12 bundle ({type(exc).__name__})") from None
    if key is None:
        raise CertificateError(f"{source}: the PKCS#12 bundle holds no private key (a truststore?); give a bundle with the key")
    chain = ([cert] if cert is not None else []) + list(others or [])
    if not chain:
        raise CertificateError(f"{source}: the PKCS#12 bundle holds a private key but no certificate; give its certificate too")
    return key, chain


def read_key_input(*, private_key=None, private_key_path=None, private_key_passphrase=None, certificate=None,
                   certificate_path=None, pkcs12=None, pkcs12_path=None, pkcs12_password=None, source: str) -> tuple:
    """(key, certificates as given) from the options; refuses a key without certificate and the reverse."""
    has_key = private_key is not None or private_key_path is not None
    has_cert = certificate is not None or certificate_path is not None
    has_bundle = pkcs12 is not None or pkcs12_path is not None
    if has_bundle:
        if has_key or has_cert:
            raise CertificateError(f"{source}: give either a PKCS#12 bundle (pkcs12, pkcs12_path) or a PEM key and certificate, not both")
        if pkcs12_path is not None:
            data = read_bytes(pkcs12_path, "PKCS#12 file")
            where = f"{source} (pkcs12_path {pkcs12_path})"
        else:
            where = f"{source} (pkcs12)"
            try:
                data = base64.b64decode(b"".join(str(pkcs12).encode("ascii", "replace").split()), validate=True)
            except (binascii.Error, ValueError):
                raise CertificateError(f"{where}: not base64; give the bundle's bytes base64-encoded (b64encode)") from None
        return load_pkcs12_bundle(data, pkcs12_password, where)
    if has_key and not has_cert:
        raise CertificateError(f"{source}: a private key without its certificate; give certificate or certificate_path (the chain, leaf first or in any order)")
    if has_cert and not has_key:
        raise CertificateError(f"{source}: a certificate without its private key; give private_key or private_key_path")
    if not has_key:
        raise CertificateError(f"{source}: state is present but no key pair is given; give private_key and certificate, or pkcs12")
    if private_key_path is not None:
        key = load_private_key(read_bytes(private_key_path, "private key file"), private_key_passphrase,
                               f"{source} (private_key_path {private_key_path})")
    else:
        key = load_private_key(private_key, private_key_passphrase, f"{source} (private_key)")
    if certificate_path is not None:
        data = read_bytes(certificate_path, "certificate file")
        chain = certs.parse_certificates(data, f"{source} (certificate_path {certificate_path})")
    else:
        chain = certs.parse_certificates(certificate, f"{source} (certificate)")
    return key, chain


def _name(cert) -> str:
    return f"{cert.subject.rfc4514_string()} (SHA-256 {certs.sha256_fingerprint(certs.certificate_der(cert))})"


def _issued(cert, issuer) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        verify_issued_by(cert, issuer)
    except Exception:  # noqa: BLE001 - InvalidSignature, unsupported algorithms: not its issuer
        return False
    return True


def order_chain(key, given: list, source: str, *, allow_incomplete: bool = False) -> tuple:
    """(chain leaf first, complete) of the certificates given for key; see the module docstring."""
    if len(given) > MAX_CHAIN:
        raise CertificateError(f"{source}: {len(given)} certificates given; a chain of at most {MAX_CHAIN} is accepted")
    wanted = public_key_der(key)
    unique, seen = [], set()
    for cert in given:
        der = certs.certificate_der(cert)
        if der not in seen:
            seen.add(der)
            unique.append(cert)
    leaves = [cert for cert in unique if public_key_der(cert.public_key()) == wanted]
    if not leaves:
        raise CertificateError(
            f"{source}: the private key does not match the certificate given ({'; '.join(_name(c) for c in unique)}): "
            "give the key that belongs to it, or its certificate"
        )
    # several certificates for one key (a renewal kept beside the new one): the one valid longest is the leaf
    leaf = max(leaves, key=not_valid_after)
    chain, rest = [leaf], [cert for cert in unique if cert is not leaf]
    while True:
        current = chain[-1]
        if current.issuer == current.subject and _issued(current, current):
            complete = True
            break
        issuer = next((cert for cert in rest if _issued(current, cert)), None)
        if issuer is None:
            complete = False
            break
        chain.append(issuer)
        rest.remove(issuer)
    if rest:
        raise CertificateError(
            f"{source}: {len(rest)} certificate(s) given are not on the chain of the key's certificate: "
            f"{'; '.join(_name(c) for c in rest)}; remove them (the chain found: {' <- '.join(c.subject.rfc4514_string() for c in chain)})"
        )
    if not complete and not allow_incomplete:
        top = chain[-1]
        raise CertificateError(
            f"{source}: the chain is incomplete: it ends at {_name(top)}, issued by {top.issuer.rfc4514_string()}, which "
            "is not given; add the issuing CA certificates up to the self-signed root, or set allow_incomplete_chain "
            "to true when the backend trusts the last one given"
        )
    return chain, complete


def key_pair(key, given: list, source: str, *, allow_incomplete: bool = False, allow_ed25519: bool = False) -> KeyPair:
    """The checked KeyPair of a key and the certificates given with it."""
    check_key_type(key, source, allow_ed25519)
    chain, complete = order_chain(key, given, source, allow_incomplete=allow_incomplete)
    return KeyPair(key, _pkcs8(key), chain, [certs.certificate_der(cert) for cert in chain], complete)


def load_pkcs8(pkcs8: bytes):
    """A private key from its PKCS#8 DER (what a keystore entry holds); ValueError when it is not one."""
    try:
        return _serialization().load_der_private_key(pkcs8, password=None)
    except Exception as exc:  # noqa: BLE001 - UnsupportedAlgorithm too
        raise ValueError(f"not a private key cryptography reads ({type(exc).__name__})") from None
