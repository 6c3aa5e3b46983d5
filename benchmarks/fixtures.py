"""Inputs of the benchmarks: WSO2's stock truststore (or an equivalent), backend certificates, a 10,000-entry store.

The 10,000-entry store is WSO2's 146 stock entries plus 9,854 distinct self-signed CA certificates whose key types
and sizes follow the stock store's own mix (RSA 2048/4096, EC P-256/P-384): listing cost per entry depends on the
key type (verifying an EC P-384 self-signature costs about 4x an RSA one), so a store of one key type only would
flatter or punish the library. SHA-1 signatures (18 stock roots) cannot be made with cryptography; those get
SHA-256, which is slower to check, so the generated part errs on the expensive side. It is cached in
build/bench/cache (about 10 s to make).
"""

from __future__ import annotations

import collections
import datetime
import os
import random

from benchmarks._common import CACHE, PASSWORD, STOCK_TRUSTSTORE, SYSTEM_CAS, ensure_dir

FIXTURE_VERSION = "1"  # bump to rebuild the cached stores when their recipe changes
UTC = datetime.timezone.utc


def _x509():
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel

    return x509, hashes, ec, rsa, NameOID


def stock_store() -> tuple:
    """(path, description) of a pristine 146-entry stock truststore. Never modified: callers copy it."""
    if os.path.exists(STOCK_TRUSTSTORE):
        return STOCK_TRUSTSTORE, "WSO2 API-M 4.x stock client-truststore.jks"
    path = os.path.join(ensure_dir(CACHE), f"stock-equivalent-v{FIXTURE_VERSION}.jks")
    if not os.path.exists(path):
        _build_stock_equivalent(path)
    return path, f"equivalent of WSO2's stock store: CAs from {SYSTEM_CAS} (../shared is absent)"


def _build_stock_equivalent(path: str, count: int = 146) -> None:
    from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts  # pylint: disable=import-outside-toplevel

    with open(SYSTEM_CAS, "rb") as handle:
        found = certs.parse_certificates(handle.read(), SYSTEM_CAS)
    desired = {}
    for cert in found:
        alias = cert.subject.rfc4514_string().lower().replace(" ", "_").replace("=", "_")[:60] + " [jdk]"
        desired.setdefault(alias, ts.DesiredCertificate(alias, "present", cert))
        if len(desired) >= count:
            break
    tmp = path + ".tmp"
    ts.converge_truststore(tmp, PASSWORD, list(desired.values()), create=True, allow_expired=True)
    os.replace(tmp, path)


def key_mix(store_path: str) -> list:
    """[((key type, size), share)] of the stock store's certificates."""
    from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts  # pylint: disable=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._facts import public_key_facts  # pylint: disable=import-outside-toplevel

    store = ts.load_truststore(store_path, PASSWORD)
    counts = collections.Counter()
    for entry in store.entries.values():
        facts = public_key_facts(certs.load_der_certificate(entry.certificate))
        if facts["type"] in ("RSA", "EC") and facts["size"] in (2048, 3072, 4096, 256, 384, 521):
            counts[(facts["type"], facts["size"])] += 1
    total = sum(counts.values())
    return [(kind, n / total) for kind, n in counts.most_common()]


class _Keys:
    """A few keys per (type, size): signing is what matters, and distinct keys per certificate would add nothing."""

    def __init__(self):
        self._pool = {}

    def get(self, kind, index):
        _x509_module, _hashes, ec, rsa, _oid = _x509()
        slot = (kind, index % 3)
        if slot not in self._pool:
            key_type, size = kind
            if key_type == "RSA":
                self._pool[slot] = rsa.generate_private_key(public_exponent=65537, key_size=size)
            else:
                curve = {256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1}[size]
                self._pool[slot] = ec.generate_private_key(curve())
        return self._pool[slot]


def make_ca_certificate(index: int, kind, keys: _Keys):
    """A self-signed CA certificate shaped like a public root (CN, O, C; CA basic constraints; key usage; SKI)."""
    x509, hashes, _ec, _rsa, NameOID = _x509()  # pylint: disable=invalid-name
    key = keys.get(kind, index)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Benchmark Trust Services {index % 97}"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Benchmark Root CA {index:05d}"),
    ])
    algorithm = hashes.SHA384() if kind == ("EC", 384) else hashes.SHA256()
    now = datetime.datetime.now(UTC)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=365)).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, algorithm)
    )


def large_store(entries: int = 10_000, log=print) -> tuple:
    """(path, description) of a cached store of `entries` entries: the stock ones plus generated CAs (see module doc)."""
    stock, stock_description = stock_store()
    path = os.path.join(ensure_dir(CACHE), f"store-{entries}-v{FIXTURE_VERSION}.jks")
    if not os.path.exists(path):
        from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs  # pylint: disable=import-outside-toplevel
        from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts  # pylint: disable=import-outside-toplevel

        log(f"  making a {entries}-entry store (once; cached in {os.path.relpath(path)})")
        store = ts.load_truststore(stock, PASSWORD)
        mix = key_mix(stock)
        keys = _Keys()
        entries_map = dict(store.entries)
        missing = entries - len(entries_map)
        plan = []
        for kind, share in mix:
            plan += [kind] * round(share * missing)
        plan = (plan + [mix[0][0]] * missing)[:missing]
        random.Random(0).shuffle(plan)  # kinds interleaved, the same order every time
        for index, kind in enumerate(plan, start=1):
            cert = make_ca_certificate(index, kind, keys)
            alias = f"cn_benchmark_root_ca_{index:05d},o_benchmark_trust_services_{index % 97},c_us [jdk]"
            entries_map[alias] = ts.TruststoreEntry(alias, ts.TRUSTED_CERT, certs.certificate_der(cert), 1_700_000_000_000)
        big = ts.Truststore(path, "JKS", entries_map)
        data = ts.serialize_truststore(big, PASSWORD)
        with open(path + ".tmp", "wb") as handle:
            handle.write(data)
        os.replace(path + ".tmp", path)
    return path, f"{entries} entries: {stock_description} + generated CAs with the stock key-type mix"


def backend_certificates(count: int) -> list:
    """count distinct self-signed backend certificates (RSA 2048, like tests/support/pki.py) as (alias, PEM), cached."""
    path = os.path.join(ensure_dir(CACHE), f"backends-{count}-v{FIXTURE_VERSION}.pem")
    if not os.path.exists(path):
        from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem  # pylint: disable=import-outside-toplevel

        with open(path + ".tmp", "w", encoding="ascii") as handle:
            for index in range(count):
                cert, _key = make_cert(f"backend-{index:03d}.bench.internal", days=825)
                handle.write(pem(cert))
        os.replace(path + ".tmp", path)
    with open(path, encoding="ascii") as handle:
        text = handle.read()
    blocks = [block + "-----END CERTIFICATE-----\n" for block in text.split("-----END CERTIFICATE-----\n") if block.strip()]
    return [(f"bench-backend-{index:03d}", block) for index, block in enumerate(blocks)]


def write_pem(path: str, pem_text: str) -> str:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(pem_text)
    return path
