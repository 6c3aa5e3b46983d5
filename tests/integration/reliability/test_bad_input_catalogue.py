"""The bad input catalogue: every input here must give a failed task whose message names the input and the reason,
no Python traceback (no unhandled exception), and every file byte-for-byte as it was, with nothing created.

New ground only: the cases of tests/integration/test_endpoint_certificate.py (FAILURES), test_gateway_mode.py and
test_ssl_profile.py are not repeated (see ALREADY_COVERED, which the count includes).

Each group runs as ansible-playbook runs of at most CHUNK cases (a task per case, ignore_errors, results read back by
task name; the role's cases are inventory hosts of one play). One test per run reports every failing case by its id;
known bugs are strict xfails, one per case. Every case has its own folder; it is snapshotted (content hash, mode,
links, folders) before and after the run, so "unchanged" also means "no temp file, backup or new file left behind".

How the conditions root ignores are made (the suite runs as root):
- unreadable file / read-only folder: ansible-playbook runs under ``setpriv`` without CAP_DAC_OVERRIDE and
  CAP_DAC_READ_SEARCH, so file modes bind it (mode 000 file, mode 0555 folder); skipped with the reason if impossible
  (not root: modes bind already, no setpriv needed);
- a file that cannot be replaced: ``chattr +i`` (immutable) on the file;
- disk full: a 64 KiB tmpfs mounted on the case's folder and filled to the last block by a filler file (skipped with
  the reason where mount is not allowed); the mounts and immutable flags are undone right after the run.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
import typing
import warnings

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apim.certificates.tests.integration.reliability import _inputs as inp
from ansible_collections.apim.certificates.tests.integration.reliability._support import (
    DROP_DAC,
    assert_clean_failure,
    can_drop_dac,
    chattr,
    fill_filesystem,
    mount_tmpfs,
    play,
    run_plays,
    snapshot,
    snapshot_diff,
    task,
    umount,
)
from ansible_collections.apim.certificates.tests.support.pki import der, key_pem, make_cert, pem, sha256

EC = "apim.certificates.endpoint_certificate"
EK = "apim.certificates.endpoint_keystore"
INFO = "apim.certificates.truststore_info"
SSL = "apim.certificates.ssl_profile"
ROLE = "role"
PW = "Catal0gue-Store-pw"

# Groups: one ansible-playbook run each (cut in chunks of CHUNK tasks).
G_EC = "endpoint_certificate"
G_EK = "endpoint_keystore"
G_INFO = "truststore_info"
G_SSL = "ssl_profile"
G_PRIV = "unprivileged"  # run under setpriv, without CAP_DAC_OVERRIDE
G_FS = "filesystem"  # immutable files, full disks
G_BUGS = "known_bugs"
G_ROLE = "role"

A, _A_KEY = make_cert("a.backend.test")
B, _B_KEY = make_cert("b.backend.test")
CA, CA_KEY = make_cert("Catalogue CA", ca=True)
LEAF, _LEAF_KEY = make_cert("leaf.backend.test", issuer=CA, issuer_key=CA_KEY)
NOT_CA, _NOT_CA_KEY = make_cert("Not A CA", issuer=CA, issuer_key=CA_KEY)
NOT_CA_LEAF, _NOT_CA_LEAF_KEY = make_cert("under.not-a-ca.test", issuer=NOT_CA, issuer_key=_NOT_CA_KEY)


def _long_chain(length: int) -> list:
    cert, key = make_cert("Long CA 0", ca=True)
    chain = [cert]
    for index in range(1, length):
        cert, key = make_cert(f"Long CA {index}", ca=index < length - 1, issuer=cert, issuer_key=key)
        chain.insert(0, cert)
    return chain


LONG_CHAIN = _long_chain(11)


class Skip(Exception):
    """A case that cannot be set up on this machine (the reason is printed as the test's skip reason)."""


@dataclasses.dataclass
class Case:
    group: str
    id: str
    target: str  # a module, or ROLE
    expect: str  # regex on the failure message; {d} is the case's folder
    setup: typing.Callable  # setup(folder, context) -> module args (or, for the role, host vars)
    bug: str | None = None  # a known bug: the case is a strict xfail
    chunk: str = ""  # the playbook run it belongs to: its group, cut in pieces of CHUNK tasks so xdist workers share them
    restored: str | None = None  # a file (relative to the case's folder) that must be written, then restored


CASES: list = []
CHUNK = 10


def case(group, case_id, target, expect, bug=None, restored=None):
    def register(setup):
        index = sum(1 for c in CASES if c.group == group)
        chunk = group if group == G_ROLE else f"{group}-{index // CHUNK}"
        CASES.append(Case(group, case_id, target, expect, setup, bug, chunk, restored))
        return setup
    return register


class Context:
    """What a group's setups share: cleanups to run after the playbook, and endpoints that live that long."""

    def __init__(self):
        self.cleanups: list = []
        self.http_port: int | None = None


def store(d, store_type="JKS", name=None, entries=None):
    return inp.seed_store(os.path.join(d, name or f"store.{store_type.lower()}"), PW, store_type, entries)


def add(path, **extra):
    args = {"path": path, "password": PW, "alias": "new", "certificate": pem(B)}
    args.update(extra)
    return {k: v for k, v in args.items() if v is not None}


# === endpoint_certificate =================================================================================


@case(G_EC, "certificate-pem-der-truncated", EC,
      r"certificate for alias 'new': PEM block 'CERTIFICATE' number 1 is not a valid X\.509 certificate \(truncated or corrupt\)")
def setup_certificate_pem_der_truncated(d, ctx):
    return add(store(d), certificate=inp.truncated_pem(B))


@case(G_EC, "certificate-pem-cut-before-end", EC,
      r"certificate for alias 'new': a '-----BEGIN' marker without a complete PEM block \(truncated\?\)")
def setup_certificate_pem_cut_before_end(d, ctx):
    return add(store(d), certificate=inp.pem_cut_before_end(B))


@case(G_EC, "certificate-pem-bad-base64", EC, r"certificate for alias 'new': PEM block 'CERTIFICATE' is not valid base64")
def setup_certificate_pem_bad_base64(d, ctx):
    return add(store(d), certificate="-----BEGIN CERTIFICATE-----\nMIIB$$not*base64!!\n-----END CERTIFICATE-----\n")


@case(G_EC, "certificate-is-a-csr", EC,
      r"certificate for alias 'new': found a certificate signing request \(PEM block 'CERTIFICATE REQUEST'\)")
def setup_certificate_is_a_csr(d, ctx):
    return add(store(d), certificate=inp.csr_pem())


@case(G_EC, "certificate-is-an-encrypted-private-key", EC,
      r"certificate for alias 'new': found a private key \(PEM block 'ENCRYPTED PRIVATE KEY'\); only certificates")
def setup_certificate_is_an_encrypted_private_key(d, ctx):
    return add(store(d), certificate=inp.encrypted_key_pem())


@case(G_EC, "certificate-is-a-public-key", EC, r"certificate for alias 'new': found a bare public key \(PEM block 'PUBLIC KEY'\)")
def setup_certificate_is_a_public_key(d, ctx):
    return add(store(d), certificate=inp.public_key_pem())


@case(G_EC, "certificate-file-is-a-der-private-key", EC,
      r"certificate for alias 'new' \(certificate_path {d}/key\.der\): found a private key \(DER\), not a certificate")
def setup_certificate_file_is_a_der_private_key(d, ctx):
    path = os.path.join(d, "key.der")
    with open(path, "wb") as handle:
        handle.write(inp.private_key_der())
    return add(store(d), certificate=None, certificate_path=path)


@case(G_EC, "certificate-file-is-truncated-der", EC,
      r"certificate for alias 'new' \(certificate_path {d}/cut\.der\): not a certificate")
def setup_certificate_file_is_truncated_der(d, ctx):
    path = os.path.join(d, "cut.der")
    with open(path, "wb") as handle:
        handle.write(der(B)[:300])
    return add(store(d), certificate=None, certificate_path=path)


@case(G_EC, "certificate-file-is-a-directory", EC, r"certificate file {d}/certs is a directory, not a file")
def setup_certificate_file_is_a_directory(d, ctx):
    os.makedirs(os.path.join(d, "certs"))
    return add(store(d), certificate=None, certificate_path=os.path.join(d, "certs"))


@case(G_EC, "store-zero-bytes", EC, r"truststore {d}/empty\.jks is empty \(0 bytes\)")
def setup_store_zero_bytes(d, ctx):
    path = os.path.join(d, "empty.jks")
    open(path, "wb").close()
    return add(path)


@case(G_EC, "store-is-a-directory", EC, r"truststore {d}/dir\.jks is a directory, not a file")
def setup_store_is_a_directory(d, ctx):
    os.makedirs(os.path.join(d, "dir.jks"))
    return add(os.path.join(d, "dir.jks"), create=True)


@case(G_EC, "store-is-a-dangling-symlink", EC, r"truststore {d}/link\.jks is a dangling symbolic link")
def setup_store_is_a_dangling_symlink(d, ctx):
    os.symlink(os.path.join(d, "gone.jks"), os.path.join(d, "link.jks"))
    return add(os.path.join(d, "link.jks"), create=True)


@case(G_EC, "store-is-a-pem-file", EC, r"truststore {d}/ca\.pem is not a Java keystore: its first bytes \(0x2d2d2d2d\)")
def setup_store_is_a_pem_file(d, ctx):
    path = os.path.join(d, "ca.pem")
    with open(path, "w", encoding="ascii") as handle:
        handle.write(pem(A))
    return add(path)


@case(G_EC, "store-jks-version-1", EC, r"truststore {d}/old\.jks: unsupported JKS version 1 \(expected 2\)")
def setup_store_jks_version_1(d, ctx):
    path = os.path.join(d, "old.jks")
    with open(path, "wb") as handle:
        handle.write(b"\xfe\xed\xfe\xed\x00\x00\x00\x01\x00\x00\x00\x00" + b"\x00" * 20)
    return add(path)


@case(G_EC, "store-pkcs12-wrong-password", EC, r"truststore {d}/store\.pkcs12: wrong password \(the PKCS12 MAC or encryption does not verify with it\)")
def setup_store_pkcs12_wrong_password(d, ctx):
    return add(store(d, "PKCS12"), password="Not-the-Catal0gue-pw")


@case(G_EC, "store-jceks-wrong-password", EC, r"truststore {d}/store\.jceks: wrong password \(the JCEKS integrity check failed\)")
def setup_store_jceks_wrong_password(d, ctx):
    return add(store(d, "JCEKS"), password="Not-the-Catal0gue-pw")


@case(G_EC, "store-pkcs12-declared-jks", EC, r"truststore {d}/store\.pkcs12: store_type is JKS but the file is a PKCS12 store")
def setup_store_pkcs12_declared_jks(d, ctx):
    return add(store(d, "PKCS12"), store_type="JKS")


@case(G_EC, "store-pkcs12-truncated", EC, r"truststore {d}/cut\.p12 is corrupt or truncated \(PKCS12")
def setup_store_pkcs12_truncated(d, ctx):
    data = open(store(d, "PKCS12"), "rb").read()
    path = os.path.join(d, "cut.p12")
    with open(path, "wb") as handle:
        handle.write(data[: len(data) - 40])
    return add(path)


@case(G_EC, "store-jceks-corrupt-entry", EC, r"truststore {d}/store\.jceks: unknown JCEKS entry tag 9")
def setup_store_jceks_corrupt_entry(d, ctx):
    path = store(d, "JCEKS")
    data = bytearray(open(path, "rb").read())
    data[12:16] = b"\x00\x00\x00\x09"  # the first entry's tag
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    return add(path)


@case(G_EC, "alias-with-a-control-character", EC, r"alias 'bad\\talias' contains a control character")
def setup_alias_with_a_control_character(d, ctx):
    return add(store(d), alias="bad\talias")


@case(G_EC, "alias-with-surrounding-space", EC, r"alias ' padded' starts or ends with white space")
def setup_alias_with_surrounding_space(d, ctx):
    return add(store(d), alias=" padded")


@case(G_EC, "alias-longer-than-a-java-keystore-holds", EC,
      r"alias 'x{40}\.\.\.' is too long for a Java keystore")
def setup_alias_longer_than_a_java_keystore_holds(d, ctx):
    return add(store(d), alias="x" * 70000, strict_alias=False)


@case(G_EC, "batch-chain-alias-collides", EC, r"alias 'chain-1' is given twice")
def setup_batch_chain_alias_collides(d, ctx):
    return {"path": store(d), "password": PW, "certificates": [
        {"alias": "chain", "certificate": pem(LEAF) + pem(CA)}, {"alias": "chain-1", "certificate": pem(A)}]}


@case(G_EC, "batch-item-with-certificate-and-path", EC,
      r"certificates\[1\] for alias 'two': give certificate or certificate_path, not both")
def setup_batch_item_with_certificate_and_path(d, ctx):
    path = os.path.join(d, "b.pem")
    with open(path, "w", encoding="ascii") as handle:
        handle.write(pem(B))
    return {"path": store(d), "password": PW, "certificates": [
        {"alias": "one", "certificate": pem(A)}, {"alias": "two", "certificate": pem(B), "certificate_path": path}]}


@case(G_EC, "fingerprint-malformed", EC, r"fingerprint 'sha1:12:34' is not a SHA-256 fingerprint")
def setup_fingerprint_malformed(d, ctx):
    return add(store(d), fingerprint="sha1:12:34")


@case(G_EC, "spki-pin-not-a-sha256", EC, r"spki_pins item 'sha256/bm90IGEgcGlu' is not a SHA-256 SPKI pin: give sha256/<base64 of 32 bytes>")
def setup_spki_pin_not_a_sha256(d, ctx):
    return add(store(d), spki_pins=["sha256/bm90IGEgcGlu"])


@case(G_EC, "trust-issuer-of-a-self-signed-leaf", EC, r"certificate for alias 'new': the chain holds no CA: '[^']*b\.backend\.test[^']*' "
      r"\(SHA-256 [0-9A-F:]{95}, SPKI sha256/[A-Za-z0-9+/=]{44}\) is self-signed, so there is no issuer to trust")
def setup_trust_issuer_of_a_self_signed_leaf(d, ctx):
    return add(store(d), trust="issuer")


@case(G_EC, "trust-issuer-whose-signature-does-not-verify", EC,
      r"certificate for alias 'new': cannot trust the issuer: the chain presents '[^']*Catalogue CA[^']*', but its key does not verify")
def setup_trust_issuer_whose_signature_does_not_verify(d, ctx):
    impostor, _key = make_cert("Catalogue CA", ca=True)  # the CA's name, another key
    return add(store(d), certificate=pem(LEAF) + pem(impostor), chain="issuer")


@case(G_EC, "trust-issuer-that-is-not-a-ca", EC, r"certificate for alias 'new': '[^']*Not A CA[^']*' \(SHA-256 .*signed the chain but is not a CA")
def setup_trust_issuer_that_is_not_a_ca(d, ctx):
    return add(store(d), certificate=pem(NOT_CA_LEAF) + pem(NOT_CA), chain="issuer")


@case(G_EC, "trust-root-of-a-chain-longer-than-ten", EC, r"certificate for alias 'new': the chain has 11 certificates; at most 10 are accepted")
def setup_trust_root_of_a_chain_longer_than_ten(d, ctx):
    return add(store(d), certificate="".join(pem(c) for c in LONG_CHAIN), chain="root")


@case(G_EC, "fingerprint-does-not-match-the-certificate", EC,
      r"certificate for alias 'new': no certificate of the chain matches a pin\. Pins: fingerprint [0-9A-F:]{95}\. Verified chain: leaf "
      r"'[^']+' \(SHA-256 [0-9A-F:]{95}, SPKI sha256/[A-Za-z0-9+/=]{44}\)\. Nothing was written")
def setup_fingerprint_does_not_match_the_certificate(d, ctx):
    return add(store(d), fingerprint=sha256(A))


@case(G_EC, "endpoint-http-not-https", EC, r"endpoint 'http://127\.0\.0\.1:8080/' is not an https:// URL")
def setup_endpoint_http_not_https(d, ctx):
    return add(store(d), certificate=None, endpoint="http://127.0.0.1:8080/")


@case(G_EC, "endpoint-port-out-of-range", EC, r"endpoint 'https://backend\.test:99999/' is not a valid URL")
def setup_endpoint_port_out_of_range(d, ctx):
    return add(store(d), certificate=None, endpoint="https://backend.test:99999/")


@case(G_EC, "endpoint-speaks-plain-http", EC,
      r"TLS handshake with 127\.0\.0\.1:\d+ failed \(.+\); is it a TLS endpoint\?")
def setup_endpoint_speaks_plain_http(d, ctx):
    return add(store(d), certificate=None, endpoint=f"https://127.0.0.1:{ctx.http_port}/", timeout=5)


@case(G_EC, "unknown-option", EC, r"Unsupported parameters for \(apim\.certificates\.endpoint_certificate\) module: passwd")
def setup_unknown_option(d, ctx):
    return add(store(d), passwd=PW)


@case(G_EC, "replace-a-private-key-entry", EC,
      r"alias 'wso2carbon' in truststore {d}/wso2carbon\.jks is a PrivateKeyEntry; refusing to replace a key entry")
def setup_replace_a_private_key_entry(d, ctx):
    return add(inp.jks_keystore(os.path.join(d, "wso2carbon.jks"), "wso2carbon", PW), alias="wso2carbon")


@case(G_EC, "remove-a-private-key-entry", EC,
      r"alias 'wso2carbon' in truststore {d}/wso2carbon\.jks is a PrivateKeyEntry, not a trusted certificate; this module does not remove keys")
def setup_remove_a_private_key_entry(d, ctx):
    return add(inp.jks_keystore(os.path.join(d, "wso2carbon.jks"), "wso2carbon", PW), alias="wso2carbon",
               certificate=None, state="absent")


@case(G_EC, "pkcs12-keystore-as-truststore", EC,
      r"truststore {d}/client\.p12 holds PrivateKeyEntry 'client'; this collection rewrites PKCS12 stores only when they hold trusted certificates alone")
def setup_pkcs12_keystore_as_truststore(d, ctx):
    return add(inp.pkcs12_keystore(os.path.join(d, "client.p12"), "client", PW))


@case(G_EC, "gateway-no-profile-for-the-endpoint", EC,
      r"{d}/wso2am/repository/resources/security/sslprofiles\.xml has no profile for orders\.internal:443 and no default \('\*'\) profile")
def setup_gateway_no_profile_for_the_endpoint(d, ctx):
    from ansible_collections.apim.certificates.tests.support.gateway import profile_xml  # pylint: disable=import-outside-toplevel

    node = inp.gateway_home(os.path.join(d, "wso2am"), xml_text=profile_xml(
        [("payments.internal:443", "repository/resources/security/wso2carbon.jks", "repository/resources/security/client-truststore.jks")]))
    return {"apim_home": node["home"], "alias": "orders", "endpoint": "https://orders.internal/", "certificate": pem(B)}


@case(G_EC, "gateway-live-profile-missing-from-deployment-toml", EC,
      r"the SSL profile for 'payments\.internal:443' in .*sslprofiles\.xml is not in .*deployment\.toml; a restart would drop it")
def setup_gateway_live_profile_missing_from_deployment_toml(d, ctx):
    from ansible_collections.apim.certificates.tests.support.gateway import profile_xml  # pylint: disable=import-outside-toplevel

    home = os.path.join(d, "wso2am")
    custom = os.path.join(d, "payments.jks")
    xml = profile_xml([("*", "repository/resources/security/wso2carbon.jks", "repository/resources/security/client-truststore.jks"),
                       ("payments.internal:443", "repository/resources/security/wso2carbon.jks", custom)])
    node = inp.gateway_home(home, xml_text=xml, temp_copy=False)
    inp.seed_store(custom, "wso2carbon")
    return {"apim_home": node["home"], "alias": "payments", "endpoint": "https://payments.internal/", "certificate": pem(B)}


# === endpoint_keystore ====================================================================================
# a key pair given wrong, or a keystore the gateway could not use after the change (tests/integration/
# test_endpoint_keystore.py has more, run in check mode too)

EK_PASSPHRASE = "Catal0gue-Passphrase"
EK_CA_KEY = ec.generate_private_key(ec.SECP256R1())
EK_CA, _EK_CA_KEY = make_cert("Catalogue Client CA", ca=True, sans=[], key=EK_CA_KEY)
EK_LEAF_KEY = ec.generate_private_key(ec.SECP256R1())
EK_LEAF, _EK_LEAF_KEY = make_cert("client.catalogue.test", issuer=EK_CA, issuer_key=EK_CA_KEY, key=EK_LEAF_KEY)
EK_OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
EK_ENCRYPTED = EK_LEAF_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(EK_PASSPHRASE.encode())).decode()


EK_INCOMPLETE = r"the chain is incomplete: it ends at .*client\.catalogue\.test.*; add the issuing CA"
EK_MISMATCH = r"the private key does not match the certificate given"


def key_pair(d, **extra):
    args = {"path": os.path.join(d, "keystore.jks"), "password": PW, "key_password": PW, "alias": "client", "create": True,
            "private_key": EK_ENCRYPTED, "private_key_passphrase": EK_PASSPHRASE, "certificate": pem(EK_LEAF) + pem(EK_CA)}
    args.update(extra)
    return {k: v for k, v in args.items() if v is not None}


def keystore_with_key(path, key_password, store_type="JKS"):
    """A keystore holding another key entry, written by the library (not the module under test's run)."""
    from ansible_collections.apim.certificates.plugins.module_utils import _keystore as ks  # pylint: disable=import-outside-toplevel

    other, _other_key = make_cert("other.catalogue.test", key=EK_OTHER_KEY)
    request = ks.resolve_request({"alias": "other", "private_key": key_pem(EK_OTHER_KEY), "certificate": pem(other)})
    ks.manage(request, ks.Options(create=True), path=path, password=PW, key_password=key_password, store_type=store_type)
    return path


@case(G_EK, "keystore-key-without-certificate", EK, r"key pair for alias 'client': a private key without its certificate")
def setup_keystore_key_without_certificate(d, ctx):
    return key_pair(d, certificate=None)


@case(G_EK, "keystore-certificate-without-key", EK, r"key pair for alias 'client': a certificate without its private key")
def setup_keystore_certificate_without_key(d, ctx):
    return key_pair(d, private_key=None, private_key_passphrase=None)


@case(G_EK, "keystore-wrong-passphrase", EK,
      r"key pair for alias 'client' \(private_key\): the private key cannot be decrypted with private_key_passphrase")
def setup_keystore_wrong_passphrase(d, ctx):
    return key_pair(d, private_key_passphrase="wrong-passphrase")


@case(G_EK, "keystore-key-for-another-certificate", EK, EK_MISMATCH)
def setup_keystore_key_for_another_certificate(d, ctx):
    return key_pair(d, private_key=key_pem(EK_OTHER_KEY), private_key_passphrase=None)


@case(G_EK, "keystore-store-password-but-no-key-password", EK,
      r"keystore {d}/keystore\.jks: key_password is required for a JKS keystore")
def setup_keystore_store_password_but_no_key_password(d, ctx):
    return key_pair(d, key_password=None)


@case(G_EK, "keystore-pkcs12-with-another-key-password", EK, r"a PKCS12 keystore has one password for the store and its keys")
def setup_keystore_pkcs12_with_another_key_password(d, ctx):
    return key_pair(d, path=os.path.join(d, "keystore.p12"), store_type="PKCS12", key_password="not-the-store-password")


@case(G_EK, "keystore-incomplete-chain", EK, EK_INCOMPLETE)
def setup_keystore_incomplete_chain(d, ctx):
    return key_pair(d, certificate=pem(EK_LEAF))


@case(G_EK, "keystore-other-key-entry-with-another-key-password", EK,
      r"keystore {d}/keystore\.jks: its key entry 'other' does not open with key_password")
def setup_keystore_other_key_entry_with_another_key_password(d, ctx):
    keystore_with_key(os.path.join(d, "keystore.jks"), "another-key-password")
    return key_pair(d, create=None)


@case(G_EK, "keystore-pkcs12-holding-another-entry", EK, r"holds 'other' \(PrivateKeyEntry\) besides alias 'client'")
def setup_keystore_pkcs12_holding_another_entry(d, ctx):
    keystore_with_key(os.path.join(d, "keystore.p12"), PW, "PKCS12")
    return key_pair(d, path=os.path.join(d, "keystore.p12"), key_password=None)


@case(G_EK, "keystore-jceks-non-ascii-key-password", EK, r"a JCEKS key password must be printable ASCII")
def setup_keystore_jceks_non_ascii_key_password(d, ctx):
    return key_pair(d, path=os.path.join(d, "keystore.jceks"), store_type="JCEKS", key_password="clé-privée")


@case(G_EK, "keystore-pkcs12-bundle-wrong-password", EK,
      r"\(pkcs12_path {d}/client\.p12\): cannot open the PKCS#12 bundle: wrong pkcs12_password")
def setup_keystore_pkcs12_bundle_wrong_password(d, ctx):
    bundle = os.path.join(d, "client.p12")
    with open(bundle, "wb") as handle:
        handle.write(pkcs12.serialize_key_and_certificates(
            b"client", EK_LEAF_KEY, EK_LEAF, [EK_CA], serialization.BestAvailableEncryption(b"bundle-password")))
    return key_pair(d, private_key=None, private_key_passphrase=None, certificate=None, pkcs12_path=bundle,
                    pkcs12_password="wrong")


@case(G_EK, "keystore-alias-is-a-trusted-certificate", EK, r"alias 'a' in keystore {d}/store\.jks is a trustedCertEntry, not a key entry")
def setup_keystore_alias_is_a_trusted_certificate(d, ctx):
    path = store(d, entries=[("a", A)])
    return key_pair(d, path=path, alias="a", create=None)


def gateway_key_pair(d, **extra):
    """A key pair for the default profile's keystore of a gateway home (its wso2carbon.jks, password wso2carbon)."""
    node = inp.gateway_home(os.path.join(d, "wso2am"))
    # key_pair's key and chain; the keystore, its passwords and create come from the gateway's profile
    options = dict({"path": None, "password": None, "key_password": None, "create": None}, **extra)
    return key_pair(d, apim_home=node["home"], **options)


@case(G_EK, "keystore-gateway-key-for-another-certificate", EK, EK_MISMATCH)
def setup_keystore_gateway_key_for_another_certificate(d, ctx):
    return gateway_key_pair(d, private_key=key_pem(EK_OTHER_KEY), private_key_passphrase=None)


@case(G_EK, "keystore-gateway-incomplete-chain", EK, EK_INCOMPLETE)
def setup_keystore_gateway_incomplete_chain(d, ctx):
    return gateway_key_pair(d, certificate=pem(EK_LEAF))


@case(G_EK, "keystore-gateway-wrong-keystore-password", EK,
      r"keystore {d}/wso2am/repository/resources/security/wso2carbon\.jks: wrong password \(the JKS integrity check failed\)")
def setup_keystore_gateway_wrong_keystore_password(d, ctx):
    return gateway_key_pair(d, password="not-the-keystore-password")


@case(G_EK, "keystore-gateway-its-key-entry-with-another-key-password", EK,
      r"wso2carbon\.jks: its key entry 'wso2carbon' does not open with key_password")
def setup_keystore_gateway_its_key_entry_with_another_key_password(d, ctx):
    return gateway_key_pair(d, key_password="not-the-key-password")


# === truststore_info ======================================================================================


@case(G_INFO, "info-unknown-option", INFO, r"Unsupported parameters for \(apim\.certificates\.truststore_info\) module: aliases")
def setup_info_unknown_option(d, ctx):
    return {"path": store(d), "password": PW, "aliases": ["x"]}


@case(G_INFO, "info-pkcs12-wrong-password", INFO, r"truststore {d}/store\.pkcs12: wrong password \(the PKCS12 MAC or encryption does not verify with it\)")
def setup_info_pkcs12_wrong_password(d, ctx):
    return {"path": store(d, "PKCS12"), "password": "Not-the-Catal0gue-pw"}


@case(G_INFO, "info-pkcs12-without-password", INFO,
      r"truststore {d}/store\.pkcs12: a PKCS12 store can only be read with its password; give password")
def setup_info_pkcs12_without_password(d, ctx):
    return {"path": store(d, "PKCS12")}


@case(G_INFO, "info-jks-truncated-hash", INFO,
      r"truststore {d}/store\.jks is corrupt or truncated \(JKS: the integrity hash is missing or damaged\)")
def setup_info_jks_truncated_hash(d, ctx):
    path = store(d)
    data = open(path, "rb").read()
    with open(path, "wb") as handle:
        handle.write(data[:-7])
    return {"path": path}


@case(G_INFO, "info-gateway-malformed-toml", INFO, r"{d}/wso2am/repository/conf/deployment\.toml is not valid TOML: line 2")
def setup_info_gateway_malformed_toml(d, ctx):
    node = inp.gateway_home(os.path.join(d, "wso2am"), toml_text='[truststore]\npassword = "unterminated\n')
    return {"apim_home": node["home"]}


@case(G_INFO, "info-gateway-toml-not-utf8", INFO, r"{d}/wso2am/repository/conf/deployment\.toml is not UTF-8 text \(byte \d+\)")
def setup_info_gateway_toml_not_utf8(d, ctx):
    node = inp.gateway_home(os.path.join(d, "wso2am"))
    with open(node["deployment_toml"], "ab") as handle:
        handle.write(b'\n[server]\nname = "caf\xe9"\n')
    return {"apim_home": node["home"]}


@case(G_INFO, "info-gateway-interval-not-a-number", INFO,
      r"deployment\.toml: \[transport\.passthru_https\.sender\.ssl_profile\] interval is 'soon', not a number of milliseconds")
def setup_info_gateway_interval_not_a_number(d, ctx):
    node = inp.gateway_home(os.path.join(d, "wso2am"), toml_text=inp.GATEWAY_TOML.replace("interval = 600000", 'interval = "soon"'))
    return {"apim_home": node["home"]}


@case(G_INFO, "info-gateway-custom-profile-without-servers", INFO,
      r"deployment\.toml: \[\[keystore\.ssl_profile\.custom\]\] number 1 has no servers")
def setup_info_gateway_custom_profile_without_servers(d, ctx):
    toml = inp.GATEWAY_TOML + '\n[[keystore.ssl_profile.custom]]\ntruststore.location = "/x.jks"\n'
    node = inp.gateway_home(os.path.join(d, "wso2am"), toml_text=toml)
    return {"apim_home": node["home"]}


@case(G_INFO, "info-gateway-sslprofiles-wrong-root", INFO,
      r"{d}/wso2am/repository/resources/security/sslprofiles\.xml: the root element is <profiles>")
def setup_info_gateway_sslprofiles_wrong_root(d, ctx):
    node = inp.gateway_home(os.path.join(d, "wso2am"), xml_text="<profiles><profile><servers>*</servers></profile></profiles>")
    return {"apim_home": node["home"]}


@case(G_INFO, "info-gateway-profile-without-servers", INFO,
      r"sslprofiles\.xml: <profile> number 1 has no <servers>")
def setup_info_gateway_profile_without_servers(d, ctx):
    node = inp.gateway_home(os.path.join(d, "wso2am"), xml_text='<parameter name="customSSLProfiles"><profile></profile></parameter>')
    return {"apim_home": node["home"]}


@case(G_INFO, "info-gateway-home-is-a-file", INFO, r"apim_home {d}/wso2am is not a directory")
def setup_info_gateway_home_is_a_file(d, ctx):
    path = os.path.join(d, "wso2am")
    open(path, "w", encoding="ascii").close()
    return {"apim_home": path}


@case(G_INFO, "info-gateway-secure-vault-password", INFO,
      r"the password of the live truststore .*client-truststore-temp\.jks is protected \(secure vault alias 'truststore'\); give password")
def setup_info_gateway_secure_vault_password(d, ctx):
    node = inp.gateway_home(os.path.join(d, "wso2am"))
    xml = open(node["sslprofiles"], encoding="utf-8").read().replace(
        "<TrustStore>\n            <Location>", "<TrustStore>\n            <Location>", 1)
    xml = xml.replace('<parameter name="customSSLProfiles">',
                      '<parameter name="customSSLProfiles" xmlns:svns="http://org.wso2.securevault/configuration">')
    head, tail = xml.split("<TrustStore>", 1)
    tail = tail.replace("<Password>wso2carbon</Password>", '<Password svns:secretAlias="truststore">password</Password>', 1)
    with open(node["sslprofiles"], "w", encoding="utf-8") as handle:
        handle.write(head + "<TrustStore>" + tail)
    return {"apim_home": node["home"]}


@case(G_INFO, "info-verify-endpoint-not-https", INFO, r"endpoint 'ftp://backend\.test/' is not an https:// URL")
def setup_info_verify_endpoint_not_https(d, ctx):
    return {"path": store(d), "password": PW, "verify_endpoints": ["ftp://backend.test/"]}


# === ssl_profile ===========================================================================================


def ssl_node(d, toml_extra: str = "", toml_text: str | None = None, **kwargs) -> dict:
    return inp.gateway_home(os.path.join(d, "wso2am"), toml_text=toml_text if toml_text is not None else inp.GATEWAY_TOML + toml_extra,
                            **kwargs)


def custom_profile(d, servers="orders.internal:443", **overrides) -> dict:
    """A complete, valid custom profile with its own stores (so validate_stores passes unless a case breaks it)."""
    truststore = inp.seed_store(os.path.join(d, "orders-truststore.jks"), PW)
    keystore = inp.pkcs12_keystore(os.path.join(d, "orders-client.p12"), "orders-client", PW)
    profile = {"servers": servers, "keystore": {"location": keystore, "type": "PKCS12", "password": PW},
               "truststore": {"location": truststore, "password": PW}}
    profile.update(overrides)
    return profile


EXISTING = """
[[keystore.ssl_profile.custom]]
servers = "a.internal:443,b.internal:443"
truststore.location = "repository/resources/security/client-truststore.jks"
truststore.password = "wso2carbon"
"""


@case(G_SSL, "ssl-unknown-option", SSL, r"Unsupported parameters for \(apim\.certificates\.ssl_profile\) module: intervall")
def setup_ssl_unknown_option(d, ctx):
    return {"apim_home": ssl_node(d)["home"], "intervall": 120000}


@case(G_SSL, "ssl-server-shared-with-an-existing-profile", SSL,
      r"server 'b\.internal:443' would be in two custom SSL profiles, 'a\.internal:443,b\.internal:443' and 'b\.internal:443,c\.internal:443'")
def setup_ssl_server_shared_with_an_existing_profile(d, ctx):
    node = ssl_node(d, EXISTING)
    return {"apim_home": node["home"], "custom_profiles": [custom_profile(d, "b.internal:443,c.internal:443")]}


@case(G_SSL, "ssl-same-profile-twice-in-deployment-toml", SSL,
      r"deployment\.toml: lines \d+ and \d+ both define the custom SSL profile for 'B\.internal:443, a\.internal:443'; remove one")
def setup_ssl_same_profile_twice_in_deployment_toml(d, ctx):
    twice = EXISTING + EXISTING.replace('"a.internal:443,b.internal:443"', '"B.internal:443, a.internal:443"')
    return {"apim_home": ssl_node(d, twice)["home"], "interval": 120000}


@case(G_SSL, "ssl-new-profile-without-truststore-location", SSL,
      r"custom profile 'orders\.internal:443' is new and has no truststore\.location: .* give truststore location and password")
def setup_ssl_new_profile_without_truststore_location(d, ctx):
    profile = custom_profile(d)
    profile["truststore"] = {"password": PW}
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [profile]}


@case(G_SSL, "ssl-servers-port-out-of-range", SSL,
      r"custom_profiles\[0\]: 'orders\.internal:70000' has port 70000; a port is 1 to 65535")
def setup_ssl_servers_port_out_of_range(d, ctx):
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [custom_profile(d, "orders.internal:70000")]}


@case(G_SSL, "ssl-servers-bad-host-name", SSL,
      r"custom_profiles\[0\]: 'bad!host:443': 'bad!host' is not a host name or IP address")
def setup_ssl_servers_bad_host_name(d, ctx):
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [custom_profile(d, "bad!host:443")]}


@case(G_SSL, "ssl-servers-empty", SSL, r"custom_profiles\[0\]: servers is empty")
def setup_ssl_servers_empty(d, ctx):
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [custom_profile(d, " ")]}


@case(G_SSL, "ssl-servers-list-an-entry-twice", SSL, r"custom_profiles\[0\]: servers lists 'Orders\.internal:443' twice")
def setup_ssl_servers_list_an_entry_twice(d, ctx):
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [custom_profile(d, "orders.internal:443,Orders.internal:443")]}


@case(G_SSL, "ssl-truststore-file-name-empty", SSL, r"truststore\.file_name must not be empty")
def setup_ssl_truststore_file_name_empty(d, ctx):
    return {"apim_home": ssl_node(d)["home"], "truststore": {"file_name": "  "}}


@case(G_SSL, "ssl-control-character-in-a-password", SSL,
      r"the TrustStore Password of an SSL profile contains a control character that XML 1\.0 cannot hold")
def setup_ssl_control_character_in_a_password(d, ctx):
    profile = custom_profile(d)
    profile["truststore"]["password"] = "pw-with-\x07-bell"
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [profile], "validate_stores": False}


@case(G_SSL, "ssl-store-type-java-cannot-open", SSL,
      r"validate_stores: the truststore of the custom SSL profile 'orders\.internal:443' \({d}/orders\.jceks\) "
      r"is a JCEKS store but its type says PKCS12; Java cannot open it as PKCS12")
def setup_ssl_store_type_java_cannot_open(d, ctx):
    profile = custom_profile(d)
    profile["truststore"] = {"location": inp.seed_store(os.path.join(d, "orders.jceks"), PW, "JCEKS"), "type": "PKCS12",
                             "password": PW}
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [profile]}


@case(G_SSL, "ssl-store-location-is-a-directory", SSL,
      r"validate_stores: the truststore of the custom SSL profile 'orders\.internal:443' cannot be opened: truststore {d}/stores is a directory")
def setup_ssl_store_location_is_a_directory(d, ctx):
    os.makedirs(os.path.join(d, "stores"))
    profile = custom_profile(d)
    profile["truststore"]["location"] = os.path.join(d, "stores")
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [profile]}


@case(G_SSL, "ssl-keystore-wrong-password", SSL,
      r"validate_stores: the keystore of the custom SSL profile 'orders\.internal:443' cannot be opened: keystore {d}/orders-client\.p12: wrong password")
def setup_ssl_keystore_wrong_password(d, ctx):
    profile = custom_profile(d)
    profile["keystore"]["password"] = "Not-the-Catal0gue-pw"
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [profile]}


@case(G_SSL, "ssl-interval-in-toml-not-a-number", SSL,
      r"deployment\.toml: \[transport\.passthru_https\.sender\.ssl_profile\] interval is '10 minutes', not a number of milliseconds")
def setup_ssl_interval_in_toml_not_a_number(d, ctx):
    node = ssl_node(d, toml_text=inp.GATEWAY_TOML.replace("interval = 600000", 'interval = "10 minutes"'))
    return {"apim_home": node["home"], "custom_profiles": [custom_profile(d)]}


@case(G_SSL, "ssl-sslprofiles-wrong-root", SSL,
      r"{d}/wso2am/repository/resources/security/sslprofiles\.xml: the root element is <profiles>")
def setup_ssl_sslprofiles_wrong_root(d, ctx):
    node = ssl_node(d, xml_text="<profiles/>")
    return {"apim_home": node["home"], "custom_profiles": [custom_profile(d)]}


@case(G_SSL, "ssl-deployment-toml-missing", SSL, r"{d}/nowhere/deployment\.toml does not exist or is not a file")
def setup_ssl_deployment_toml_missing(d, ctx):
    return {"path": os.path.join(d, "nowhere", "deployment.toml"), "interval": 120000}


@case(G_SSL, "ssl-live-without-an-apim-home", SSL,
      r"live is true but the API-M home of {d}/deployment\.toml is unknown: give sslprofiles_path, use apim_home, or set live to false")
def setup_ssl_live_without_an_apim_home(d, ctx):
    path = os.path.join(d, "deployment.toml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(inp.GATEWAY_TOML)
    return {"path": path, "live": True, "interval": 120000}


@case(G_SSL, "ssl-custom-profiles-as-an-inline-array", SSL,
      r"deployment\.toml: keystore\.ssl_profile\.custom is not written as \[\[keystore\.ssl_profile\.custom\]\] tables")
def setup_ssl_custom_profiles_as_an_inline_array(d, ctx):
    toml = inp.GATEWAY_TOML + '\n[keystore.ssl_profile]\ncustom = [{servers = "x.internal:443"}]\n'
    return {"apim_home": ssl_node(d, toml_text=toml)["home"], "custom_profiles": [custom_profile(d)]}


@case(G_SSL, "ssl-env-reference-with-live", SSL,
      r"truststore\.location of the custom SSL profile 'orders\.internal:443' uses \$env\{ORDERS_TRUSTSTORE\}, which WSO2 resolves")
def setup_ssl_env_reference_with_live(d, ctx):
    profile = custom_profile(d)
    profile["truststore"]["location"] = "$env{ORDERS_TRUSTSTORE}"
    return {"apim_home": ssl_node(d)["home"], "custom_profiles": [profile], "validate_stores": False}


DENIED = r"permission denied for the account \S+; run the task with become: true"


# === under setpriv: file modes bind root too ==============================================================


def _needs_dac_drop():
    reason = can_drop_dac()
    if reason:
        raise Skip(reason)


@case(G_PRIV, "store-unreadable", EC, r"cannot read truststore {d}/store\.jks \(owned by \S+\): " + DENIED)
def setup_store_unreadable(d, ctx):
    _needs_dac_drop()
    path = store(d)
    os.chmod(path, 0o000)
    return add(path)


@case(G_PRIV, "certificate-file-unreadable", EC, r"cannot read certificate file {d}/b\.pem \(owned by \S+\): " + DENIED)
def setup_certificate_file_unreadable(d, ctx):
    _needs_dac_drop()
    path = os.path.join(d, "b.pem")
    with open(path, "w", encoding="ascii") as handle:
        handle.write(pem(B))
    os.chmod(path, 0o000)
    return add(store(d), certificate=None, certificate_path=path)


@case(G_PRIV, "store-directory-read-only", EC,
      r"cannot write truststore {d}/ro/store\.jks \(owned by \S+\): " + DENIED)
def setup_store_directory_read_only(d, ctx):
    _needs_dac_drop()
    path = inp.seed_store(os.path.join(d, "ro", "store.jks"), PW)
    os.chmod(os.path.dirname(path), 0o555)
    ctx.cleanups.append(lambda: os.chmod(os.path.dirname(path), 0o755))
    return add(path)


@case(G_PRIV, "gateway-security-directory-read-only", EC,
      r"cannot write truststore {d}/wso2am/repository/resources/security/client-truststore\S*\.jks \(owned by \S+\): " + DENIED)
def setup_gateway_security_directory_read_only(d, ctx):
    _needs_dac_drop()
    node = inp.gateway_home(os.path.join(d, "wso2am"))
    os.chmod(node["security"], 0o555)
    ctx.cleanups.append(lambda: os.chmod(node["security"], 0o755))
    return {"apim_home": node["home"], "alias": "orders", "certificate": pem(B)}


@case(G_PRIV, "info-store-unreadable", INFO, r"cannot read truststore {d}/store\.jks \(owned by \S+\): " + DENIED)
def setup_info_store_unreadable(d, ctx):
    _needs_dac_drop()
    path = store(d)
    os.chmod(path, 0o000)
    return {"path": path, "password": PW}


@case(G_PRIV, "ssl-deployment-toml-unreadable", SSL,
      r"cannot read deployment\.toml {d}/wso2am/repository/conf/deployment\.toml \(owned by \S+\): " + DENIED)
def setup_ssl_deployment_toml_unreadable(d, ctx):
    _needs_dac_drop()
    node = ssl_node(d)
    os.chmod(node["deployment_toml"], 0o000)
    return {"apim_home": node["home"], "interval": 120000}


@case(G_PRIV, "ssl-conf-directory-read-only", SSL,
      r"cannot write deployment\.toml {d}/wso2am/repository/conf/deployment\.toml \(owned by \S+\): " + DENIED)
def setup_ssl_conf_directory_read_only(d, ctx):
    _needs_dac_drop()
    node = ssl_node(d)
    os.chmod(node["conf"], 0o555)
    ctx.cleanups.append(lambda: os.chmod(node["conf"], 0o755))
    return {"apim_home": node["home"], "interval": 120000}


# === immutable files and full disks =======================================================================


def _immutable(ctx, path):
    reason = chattr(path, "+i")
    if reason:
        raise Skip(reason)
    ctx.cleanups.append(lambda: chattr(path, "-i"))


def _full_tmpfs(ctx, folder, populate):
    """Mount a 64 KiB tmpfs on folder, let populate() write its files, then fill it to the last byte."""
    reason = mount_tmpfs(folder, "64k")
    if reason:
        raise Skip(reason)
    ctx.cleanups.append(lambda: umount(folder))
    populate()
    fill_filesystem(folder)


@case(G_FS, "store-immutable", EC, r"cannot write {d}/store\.jks: Operation not permitted; the file was left as it was")
def setup_store_immutable(d, ctx):
    path = store(d)
    _immutable(ctx, path)
    return add(path)


@case(G_FS, "ssl-sslprofiles-xml-immutable", SSL,
      # refused before deployment.toml is written (the write check runs first); nothing to restore
      r"cannot write .*/sslprofiles\.xml: Operation not permitted; the file was left as it was")
def setup_ssl_sslprofiles_xml_immutable(d, ctx):
    node = ssl_node(d)
    _immutable(ctx, node["sslprofiles"])
    return {"apim_home": node["home"], "custom_profiles": [custom_profile(d)]}


@case(G_FS, "disk-full-store", EC, r"cannot write {d}/full/store\.jks: no space left on device; the file was left as it was")
def setup_disk_full_store(d, ctx):
    folder = os.path.join(d, "full")
    _full_tmpfs(ctx, folder, lambda: inp.seed_store(os.path.join(folder, "store.jks"), PW))
    return add(os.path.join(folder, "store.jks"))


@case(G_FS, "disk-full-persistent-store-live-store-restored", EC,
      r"cannot write {d}/wso2am/repository/resources/security/client-truststore\.jks: no space left on device; the file was left as it was",
      restored="live/client-truststore-temp.jks")
def setup_disk_full_persistent_store_live_store_restored(d, ctx):
    home = os.path.join(d, "wso2am")
    security = os.path.join(home, "repository", "resources", "security")
    nodes = {}

    def populate():
        nodes.update(inp.gateway_home(home, live_dir=os.path.join(d, "live")))

    _full_tmpfs(ctx, security, populate)
    return {"apim_home": home, "alias": "orders", "certificate": pem(B)}


@case(G_FS, "disk-full-sslprofiles-xml-deployment-toml-restored", SSL,
      r"cannot write {d}/xml/sslprofiles\.xml: no space left on device; the file was left as it was; "
      r"{d}/wso2am/repository/conf/deployment\.toml was restored to its original content",
      restored="wso2am/repository/conf/deployment.toml")
def setup_disk_full_sslprofiles_xml_deployment_toml_restored(d, ctx):
    folder = os.path.join(d, "xml")
    toml = inp.GATEWAY_TOML.replace("interval = 600000", f'interval = 600000\nfile_path = "{folder}/sslprofiles.xml"')
    node = ssl_node(d, toml_text=toml)

    def populate():
        shutil.copyfile(node["sslprofiles"], os.path.join(folder, "sslprofiles.xml"))

    _full_tmpfs(ctx, folder, populate)
    return {"apim_home": node["home"], "custom_profiles": [custom_profile(d)]}


@case(G_FS, "disk-full-deployment-toml", SSL,
      r"cannot write {d}/wso2am/repository/conf/deployment\.toml: no space left on device; the file was left as it was")
def setup_disk_full_deployment_toml(d, ctx):
    home = os.path.join(d, "wso2am")
    conf = os.path.join(home, "repository", "conf")
    _full_tmpfs(ctx, conf, lambda: inp.gateway_home(home))
    return {"apim_home": home, "interval": 120000}


# === cases that were known bugs (now fixed: bug=None runs them with the rest of the catalogue) ================

# A certificate whose subject is not valid UTF-8 was a known bug (a crash, then a refusal). Java reads such a
# certificate, so the collection now stores it and describes it from the DER (docs/java-rules.md):
# tests/interop/test_certificate_corpus.py proves that with cryptography's own invalid_utf8_common_name.pem.


BUG_NUL = None  # fixed: _pkcs12 refuses a NUL in a PKCS12 password as a wrong password


@case(G_BUGS, "store-pkcs12-password-with-a-nul", EC, r"truststore {d}/store\.pkcs12: wrong password", bug=BUG_NUL)
def setup_store_pkcs12_password_with_a_nul(d, ctx):
    return add(store(d, "PKCS12"), password="Catal0gue\x00-pw")


BUG_ENCODING = None  # fixed: both sslprofiles.xml readers turn LookupError into a message naming the file
BAD_ENCODING_XML = '<?xml version="1.0" encoding="ISO-885-1"?>\n<parameter name="customSSLProfiles"/>\n'


@case(G_BUGS, "gateway-sslprofiles-unknown-encoding", EC, r"sslprofiles\.xml.*ISO-885-1", bug=BUG_ENCODING)
def setup_gateway_sslprofiles_unknown_encoding(d, ctx):
    node = inp.gateway_home(os.path.join(d, "wso2am"), xml_text=BAD_ENCODING_XML)
    return {"apim_home": node["home"], "alias": "orders", "certificate": pem(B)}


@case(G_BUGS, "info-sslprofiles-unknown-encoding", INFO, r"sslprofiles\.xml.*ISO-885-1", bug=BUG_ENCODING)
def setup_info_sslprofiles_unknown_encoding(d, ctx):
    return {"apim_home": inp.gateway_home(os.path.join(d, "wso2am"), xml_text=BAD_ENCODING_XML)["home"]}


@case(G_BUGS, "ssl-sslprofiles-unknown-encoding", SSL, r"sslprofiles\.xml.*ISO-885-1", bug=BUG_ENCODING)
def setup_ssl_sslprofiles_unknown_encoding(d, ctx):
    return {"apim_home": ssl_node(d, xml_text=BAD_ENCODING_XML)["home"], "custom_profiles": [custom_profile(d)]}


# === the role ================================================================================================


def role_node(d):
    return inp.gateway_home(os.path.join(d, "wso2am"))


@case(G_ROLE, "role-source-not-a-choice", ROLE, r"value of gateway_sync_source must be one of: declared, primary, got: bogus")
def setup_role_source_not_a_choice(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"], "gateway_sync_source": "bogus"}


@case(G_ROLE, "role-apim-home-missing", ROLE, r"missing required arguments: gateway_sync_apim_home")
def setup_role_apim_home_missing(d, ctx):
    role_node(d)
    return {}


@case(G_ROLE, "role-certificate-item-unknown-key", ROLE, r"gateway_sync_certificates.*fingerprnt")
def setup_role_certificate_item_unknown_key(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"],
            "gateway_sync_certificates": [{"alias": "orders", "certificate": pem(B), "fingerprnt": sha256(A)}]}


@case(G_ROLE, "role-home-is-not-a-gateway", ROLE, r"{d}/empty/repository/conf/deployment\.toml does not exist")
def setup_role_home_is_not_a_gateway(d, ctx):
    os.makedirs(os.path.join(d, "empty"))
    return {"gateway_sync_apim_home": os.path.join(d, "empty")}


@case(G_ROLE, "role-wrong-truststore-password", ROLE,
      r"truststore {d}/wso2am/repository/resources/security/client-truststore-temp\.jks: wrong password")
def setup_role_wrong_truststore_password(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"], "gateway_sync_truststore_password": "Not-the-R0le-pw"}


@case(G_ROLE, "role-garbage-certificate", ROLE, r"certificates\[0\] for alias 'orders': not a certificate")
def setup_role_garbage_certificate(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"],
            "gateway_sync_certificates": [{"alias": "orders", "certificate": "-- not a certificate --"}]}


@case(G_ROLE, "role-duplicate-aliases", ROLE, r"alias 'orders' is given twice; aliases are case-insensitive")
def setup_role_duplicate_aliases(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"],
            "gateway_sync_certificates": [{"alias": "Orders", "certificate": pem(A)}, {"alias": "orders", "certificate": pem(B)}]}


@case(G_ROLE, "role-pin-does-not-match", ROLE,
      r"certificates\[0\] for alias 'orders': no certificate of the chain matches a pin\. Pins: fingerprint [0-9A-F:]{95}")
def setup_role_pin_does_not_match(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"],
            "gateway_sync_certificates": [{"alias": "orders", "certificate": pem(B), "fingerprint": sha256(A)}]}


@case(G_ROLE, "role-endpoint-unreachable", ROLE, r"cannot connect to 127\.0\.0\.1:\d+: Connection refused")
def setup_role_endpoint_unreachable(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"], "gateway_sync_endpoint_timeout": 3,
            "gateway_sync_certificates": [{"alias": "orders", "endpoint": f"https://127.0.0.1:{inp.closed_port()}/",
                                           "fingerprint": sha256(A)}]}


@case(G_ROLE, "role-interval-below-60000", ROLE, r"interval 1000 ms is below 60000 ms")
def setup_role_interval_below_60000(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"], "gateway_sync_ssl_profile": {"interval": 1000}}


@case(G_ROLE, "role-malformed-deployment-toml", ROLE, r"{d}/wso2am/repository/conf/deployment\.toml is not valid TOML: line \d+")
def setup_role_malformed_deployment_toml(d, ctx):
    return {"gateway_sync_apim_home": inp.gateway_home(os.path.join(d, "wso2am"), toml_text="[truststore\n")["home"]}


@case(G_ROLE, "role-primary-not-in-inventory", ROLE,
      r"gateway_sync_source is 'primary': set gateway_sync_primary to the inventory hostname of the node to replicate \('ghost' is not one\)")
def setup_role_primary_not_in_inventory(d, ctx):
    return {"gateway_sync_apim_home": role_node(d)["home"], "gateway_sync_source": "primary", "gateway_sync_primary": "ghost"}


# Cases of the list that other test files already prove (counted, not repeated).
ALREADY_COVERED = {
    "tests/integration/test_endpoint_certificate.py::test_bad_input_fails_cleanly_and_changes_nothing": [
        "wrong password", "corrupt store", "truncated store", "wrong declared type", "unknown store type",
        "garbage certificate", "private key as certificate", "expired certificate", "alias too long",
        "alias with space", "empty alias", "missing certificate file", "no certificate", "no password"],
    "tests/integration/test_endpoint_certificate.py": ["duplicate aliases in batch", "missing store without create"],
    "tests/integration/test_gateway_mode.py": ["bad-toml", "no-toml", "bad-xml", "no-xml", "no-live-store",
                                               "secure vault password", "wrong pin", "endpoint silent (not TLS)",
                                               "endpoint closed"],
    "tests/integration/test_ssl_profile.py": ["interval below 60000", "servers without port", "'*' as custom",
                                              "duplicate servers in one request", "store wrong password",
                                              "missing store", "malformed TOML", "malformed sslprofiles.xml"],
}

GROUP_OPTIONS = {G_PRIV: {"prefix": DROP_DAC or ()}}


# --- running a group ----------------------------------------------------------------------------------------


def _inode(folder: str, relative: str | None):
    """(inode, mtime) of a file: a rewrite with the same bytes changes the mtime, even where the inode number is reused."""
    if not relative:
        return None
    st = os.stat(os.path.join(folder, relative))
    return [st.st_ino, st.st_mtime_ns]


def _module_group(folder: str, cases: list, options: dict) -> dict:
    ctx = Context()
    out = {"cases": {}, "output": ""}
    tasks, ready = [], []
    with inp.plain_http_server() as http_port:
        ctx.http_port = http_port
        try:
            for item in cases:
                d = os.path.join(folder, item.id)
                os.makedirs(d)
                try:
                    args = item.setup(d, ctx)
                except Skip as exc:
                    out["cases"][item.id] = {"skip": str(exc)}
                    continue
                out["cases"][item.id] = {"folder": d, "before": snapshot(d), "inode": _inode(d, item.restored)}
                tasks.append(task(item.id, item.target, args))
                ready.append(item)
            if tasks:
                records, output, _rc = run_plays(folder, [play(tasks)], **options)
                out["output"] = output
                results = {r["_task"]: r for r in records}
                for item in ready:
                    entry = out["cases"][item.id]
                    entry["record"] = results.get(item.id)
                    entry["after"] = snapshot(entry["folder"])
                    entry["inode_after"] = _inode(entry["folder"], item.restored)
        finally:
            for cleanup in reversed(ctx.cleanups):
                cleanup()
    return out


def _role_group(folder: str, cases: list, options: dict) -> dict:
    """Each case is an inventory host with its own gateway node; a healthy canary keeps the play going for the
    last case, which needs a play of its own (a run_once check)."""
    ctx = Context()
    out = {"cases": {}, "output": ""}
    hosts, alone = {}, {}
    for item in cases:
        d = os.path.join(folder, item.id)
        os.makedirs(d)
        host_vars = item.setup(d, ctx)
        host_vars.update({"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
        (alone if item.id == "role-primary-not-in-inventory" else hosts)[item.id] = host_vars
        out["cases"][item.id] = {"folder": d, "before": snapshot(d)}
    canary = os.path.join(folder, "canary")
    hosts["canary"] = {"gateway_sync_apim_home": role_node(canary)["home"], "ansible_connection": "local",
                       "ansible_python_interpreter": sys.executable}
    inventory = {"all": {"children": {"cases": {"hosts": hosts}, "alone": {"hosts": alone}}}}
    role = [{"role": "apim.certificates.gateway_sync"}]
    plays = [{"name": "cases", "hosts": "cases", "gather_facts": False, "roles": role},
             {"name": "alone", "hosts": "alone", "gather_facts": False, "roles": role}]
    records, output, _rc = run_plays(folder, plays, inventory=inventory, forks=4, **options)
    out["output"] = output
    for item in cases:
        entry = out["cases"][item.id]
        failed = [r for r in records if r.get("_host") == item.id and r.get("_status") == "failed"]
        entry["record"] = failed[0] if failed else None
        entry["after"] = snapshot(entry["folder"])
    out["canary"] = [r for r in records if r.get("_host") == "canary" and r.get("_status") == "failed"]
    return out


@pytest.fixture(scope="module")
def groups(once):
    cache = {}

    def get(chunk):
        if chunk not in cache:
            members = [c for c in CASES if c.chunk == chunk]
            runner = _role_group if members[0].group == G_ROLE else _module_group
            options = dict(GROUP_OPTIONS.get(members[0].group, {}))
            cache[chunk] = once(f"catalogue-{chunk}", lambda folder: runner(folder, members, options))
        return cache[chunk]

    return get


def check_case(item, entry) -> str | None:
    """Why case item failed the catalogue's rules, or None."""
    if "skip" in entry:
        return None
    try:
        assert_clean_failure(entry["record"], item.expect.replace("{d}", re.escape(entry["folder"])), item.id)
    except AssertionError as exc:
        return str(exc).splitlines()[0]
    changes = snapshot_diff(entry["before"], entry["after"])
    if changes:
        return f"{item.id}: files changed: {changes}"
    if item.restored and entry["inode"] == entry.get("inode_after"):
        return f"{item.id}: {item.restored} was never written, so its restore was not exercised"
    return None


CHUNKS = sorted({c.chunk for c in CASES if not c.bug})


@pytest.mark.parametrize("chunk", CHUNKS)
def test_bad_inputs_fail_cleanly_and_change_nothing(groups, chunk):
    """Every case of one playbook run: a failed task naming the input and the reason, no crash, no file touched."""
    group = groups(chunk)
    members = [c for c in CASES if c.chunk == chunk]
    skipped = {c.id: group["cases"][c.id]["skip"] for c in members if "skip" in group["cases"][c.id]}
    problems = [problem for c in members if (problem := check_case(c, group["cases"][c.id]))]
    assert "Traceback (most recent call last)" not in group["output"]
    if chunk == G_ROLE:
        assert group["canary"] == [], "the healthy node failed next to the broken ones"
    assert problems == [], "\n".join(problems)
    if skipped and len(skipped) == len(members):
        pytest.skip("; ".join(f"{k}: {v}" for k, v in skipped.items()))
    if skipped:
        warnings.warn(f"catalogue cases skipped on this machine: {skipped}")


KNOWN_BUGS = [pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=c.bug)) for c in CASES if c.bug]


@pytest.mark.skipif(not KNOWN_BUGS, reason="no known bug in the catalogue: every case that showed one is fixed")
@pytest.mark.parametrize("item", KNOWN_BUGS or [None])
def test_known_bug(groups, item):
    """A known bug in plugins/: the case fails the catalogue's rules today (strict xfail)."""
    problem = check_case(item, groups(item.chunk)["cases"][item.id])
    assert problem is None, problem


def test_the_catalogue_is_large_and_distinct():
    ids = [c.id for c in CASES if not c.bug]
    assert len(ids) == len(set(ids))
    assert {c.target for c in CASES} == {EC, EK, INFO, SSL, ROLE}, "every module and the role"
    assert len(ids) >= 30
