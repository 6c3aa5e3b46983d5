"""Unit tests run twice in `make test`: with the pinned libraries, and on the library floor the collection claims
for managed nodes (cryptography 3.4.8, tomlkit 0.9.2, no pyjks: `make unit-floor`). On the floor, the tests of
operations that need a newer cryptography (writing PKCS12 stores) are skipped here with the reason, and
test_library_floor.py asserts that those operations fail with the message that names the library and version, and
runs what the floor can do with PKCS12 stores (the collection's own reader; opening a store only cryptography reads)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.apim.certificates.tests.support.pki import cryptography_has

_NEEDS = (
    ("pkcs12", "pkcs12_write", "writing PKCS12 truststores needs cryptography >= 45.0.0 (this run is on the library floor)"),
    ("p12", "pkcs12_write", "writing PKCS12 truststores needs cryptography >= 45.0.0 (this run is on the library floor)"),
)


def _tomlkit_reads_split_arrays() -> bool:
    """tomlkit before 0.15.2 misreads WSO2's sample whose [[resource.access_control]] tables are split by others."""
    import tomlkit  # pylint: disable=import-outside-toplevel

    try:
        import tomllib  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import
        return True  # the values come from tomllib, which reads it right, and the edit is a text splice
    except ImportError:
        pass

    from ansible_collections.apim.certificates.tests.support import FIXTURES  # pylint: disable=import-outside-toplevel

    path = os.path.join(FIXTURES, "apim-4.x-master", "samples", "endpointCertificate-test-deployment.toml")
    if not os.path.exists(path):
        return True  # those tests skip anyway
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return tomlkit.parse(text).as_string() == text


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    split_arrays = None
    for item in items:
        if item.get_closest_marker("floor"):
            continue
        if "endpointcertificate-test-deployment" in item.nodeid.lower():
            if split_arrays is None:
                split_arrays = _tomlkit_reads_split_arrays()
            if not split_arrays:
                item.add_marker(pytest.mark.skip(reason="this tomlkit misreads the file's split [[resource.access_control]] "
                                                        "tables; ssl_profile refuses it (test_library_floor.py checks that)"))
                continue
        name = item.nodeid.lower()
        for word, feature, reason in _NEEDS:
            if word in name and not cryptography_has(feature):
                item.add_marker(pytest.mark.skip(reason=reason))
                break
