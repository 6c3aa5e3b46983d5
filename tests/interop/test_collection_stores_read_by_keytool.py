"""Stores the collection writes, judged by keytool.

For each store type, one store goes through three phases -- add, replace, remove -- and in each phase both
writers change it: first the library (converge_truststore, which also creates the store), then the
endpoint_certificate module. keytool must read the library's output and the module's output, detect the
store type by itself, and list exactly the aliases (lower-case), entry types and SHA-256 fingerprints that
truststore_info reports and that the certificates have.
"""

from __future__ import annotations

import pytest

from ansible_collections.apim.certificates.plugins.module_utils._truststore import DesiredCertificate, converge_truststore
from tests.interop.helpers import (
    ENDPOINT,
    INFO,
    STORE_TYPES,
    SUFFIX,
    in_parallel,
    info_entries,
    keytool_entries,
    ok,
    run_tasks,
    snapshot,
    trusted,
)
from tests.support.java import keytool, keytool_listing, needs_java

pytestmark = needs_java

PASSWORD = "Interop-Store-Pass1"


def _present(alias, cert):
    return DesiredCertificate(alias, "present", cert.cert, "interop test")


def _absent(alias):
    return DesiredCertificate(alias, "absent", None, "interop test")


def _phases(certs):
    """(name, library's desired items, module args, expected after the library, expected after the module).

    Expected maps are alias -> SHA-256 of everything the store must hold, nothing more.
    """
    after_add_lib = {"rsa-backend": certs.rsa.sha256, "ec-backend": certs.ec.sha256}
    after_add = dict(after_add_lib, **{
        "module-ec": certs.ec_module.sha256,
        "corp-chain": certs.leaf.sha256,
        "corp-chain-1": certs.intermediate.sha256,
        "corp-chain-2": certs.root.sha256,
    })
    after_replace_lib = dict(after_add, **{"rsa-backend": certs.rsa_new.sha256})
    after_replace = dict(after_replace_lib, **{"ec-backend": certs.ec_new.sha256})
    after_remove_lib = {k: v for k, v in after_replace.items() if k != "corp-chain-1"}
    after_remove = {k: v for k, v in after_remove_lib.items() if k not in ("module-ec", "rsa-backend")}
    return [
        (
            "add",
            [_present("rsa-backend", certs.rsa), _present("EC-Backend", certs.ec)],
            # batch mode: an EC certificate under a mixed-case alias and a 3-certificate bundle with chain=all
            {"certificates": [
                {"alias": "Module-EC", "certificate": certs.ec_module.pem},
                {"alias": "Corp-Chain", "certificate": certs.chain_pem},
            ], "chain": "all"},
            after_add_lib,
            after_add,
        ),
        (
            "replace",
            [_present("RSA-BACKEND", certs.rsa_new)],
            {"alias": "Ec-Backend", "certificate": certs.ec_new.pem},
            after_replace_lib,
            after_replace,
        ),
        (
            "remove",
            [_absent("Corp-Chain-1")],
            {"certificates": [{"alias": "MODULE-EC", "state": "absent"}, {"alias": "rsa-backend", "state": "absent"}]},
            after_remove_lib,
            after_remove,
        ),
    ]


_ACTIONS = {"add": "added", "replace": "replaced", "remove": "removed"}


@pytest.mark.parametrize("store_type", STORE_TYPES)
def test_library_and_module_writes_are_read_by_keytool(tmp_path, certs, store_type):
    path = str(tmp_path / f"truststore.{SUFFIX[store_type]}")
    for phase, library_items, module_args, expected_lib, expected in _phases(certs):
        outcome = converge_truststore(path, PASSWORD, library_items, store_type=store_type, create=True)
        assert outcome.changed and outcome.created == (phase == "add"), phase
        assert [change.action for change in outcome.plan.changes] == [_ACTIONS[phase]] * len(library_items)
        assert [change.alias for change in outcome.plan.changes] == [item.alias.lower() for item in library_items]

        library_output = snapshot(path, f"library-{phase}")
        module_args = dict(module_args, path=path, password=PASSWORD)
        if phase == "add":
            module_args["store_type"] = store_type  # later phases let the module detect the type
        by_library, (module_result, info_result) = in_parallel(
            lambda: keytool_listing(library_output, PASSWORD),
            lambda: run_tasks(tmp_path, (ENDPOINT, module_args), (INFO, {"path": path, "password": PASSWORD})),
        )
        by_module = keytool_listing(path, PASSWORD)

        # keytool, told nothing about the type, detects the one asked for and lists exactly what was written
        assert by_library.store_type == store_type, phase
        assert keytool_entries(by_library) == trusted(expected_lib), f"{phase}: library output"
        assert by_module.store_type == store_type, phase
        assert keytool_entries(by_module) == trusted(expected), f"{phase}: module output"
        assert all(alias == alias.lower() for alias in by_module.entries), phase

        ok(module_result)
        assert module_result.changed, phase
        assert module_result["store_type"] == store_type
        assert {r["action"] for r in module_result["results"]} == {_ACTIONS[phase]}, module_result["results"]
        if phase == "replace":
            assert module_result["results"][0]["previous_fingerprint"] == certs.ec.sha256
            assert module_result["results"][0]["fingerprint"] == certs.ec_new.sha256

        # truststore_info agrees with keytool, entry for entry
        assert info_result["store_type"] == store_type
        assert info_result["integrity_verified"] is True
        assert info_entries(info_result) == keytool_entries(by_module), phase


@pytest.mark.parametrize("store_type", STORE_TYPES)
def test_keytool_refuses_a_collection_store_with_the_wrong_password(tmp_path, certs, store_type):
    """The store is really protected: keytool opens it with its password and refuses any other."""
    path = str(tmp_path / f"protected.{SUFFIX[store_type]}")
    converge_truststore(path, PASSWORD, [_present("backend", certs.rsa)], store_type=store_type, create=True)

    right, wrong = in_parallel(
        lambda: keytool("-list", "-keystore", path, "-storetype", store_type, password=PASSWORD, check=False),
        lambda: keytool("-list", "-keystore", path, "-storetype", store_type, password=PASSWORD + "x", check=False),
    )
    assert right.returncode == 0, right.stdout + right.stderr
    assert "backend, " in right.stdout
    output = wrong.stdout + wrong.stderr
    assert wrong.returncode != 0, output
    assert "password was incorrect" in output, output
    assert "backend" not in output
