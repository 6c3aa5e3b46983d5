"""Does the DER reader (_der) still earn its place on the cryptography versions managed nodes have?

For each Python given (each with its own cryptography), one fresh process per sample reads one plain backend
certificate the way endpoint_certificate's add path does: (a) with _der, cryptography never imported; (b) with
cryptography's x509 loader. Samples alternate (a, b, a, b, ...), so the ratio is measured side by side in one run.

    .venv/bin/python benchmarks/der_versions.py [--samples 15] PYTHON [PYTHON ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")

PROBE = r"""
import sys, time
sys.path.insert(0, {collections!r})
data = open({cert!r}, "rb").read()
start = time.perf_counter()
if {mode!r} == "der":
    from ansible_collections.apim.certificates.plugins.module_utils import _der
    summary = _der.summarize_certificate(data)
    assert summary is not None and "cryptography" not in sys.modules
else:
    from cryptography import x509
    cert = x509.load_der_x509_certificate(data)
    cert.subject.rfc4514_string(); cert.issuer.rfc4514_string()
print((time.perf_counter() - start) * 1000)
"""


def _certificate(folder: str) -> str:
    sys.path[:0] = [ROOT, COLLECTIONS]
    from ansible_collections.apim.certificates.tests.support.pki import der, make_cert  # pylint: disable=import-outside-toplevel

    path = os.path.join(folder, "backend.der")
    with open(path, "wb") as handle:
        handle.write(der(make_cert("orders.internal", sans=["orders.internal"])[0]))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pythons", nargs="+")
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cert = _certificate(folder)
        print(f"{'python':<40} {'cryptography':>12} {'_der ms':>8} {'x509 ms':>8} {'saved ms':>9}")
        for python in args.pythons:
            version = subprocess.run([python, "-c", "import cryptography; print(cryptography.__version__)"],
                                     capture_output=True, text=True, check=True).stdout.strip()
            times = {"der": [], "x509": []}
            for _sample in range(args.samples):
                for mode in ("der", "x509"):
                    code = PROBE.format(collections=COLLECTIONS, cert=cert, mode=mode)
                    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
                    times[mode].append(float(out))
            der_ms, x509_ms = statistics.median(times["der"]), statistics.median(times["x509"])
            print(f"{python:<40} {version:>12} {der_ms:8.2f} {x509_ms:8.2f} {x509_ms - der_ms:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
