"""Stores the collection writes, judged by keytool.

For each store type, one store goes through three phases -- add, replace, remove -- and in each phase both
writers change it: first the library (converge_truststore, which also creates the store in the first phase),
then the endpoint_certificate module. keytool, told nothing about the type, must detect the type asked for and
list exactly the aliases (lower-case), entry types and SHA-256 fingerprints expected, both after the library's
write and after the module's; truststore_info must report the same as keytool.

The three store types share one playbook per phase, and keytool reads snapshots while the playbook runs: the
nine phases take about 10 s instead of 20 s one after the other.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest

from ansible_collections.apim.certificates.plugins.module_utils._desired import desired_items
from ansible_collections.apim.certificates.plugins.module_utils._truststore import DesiredCertificate, converge_truststore
from ansible_collections.apim.certificates.tests.interop.helpers import (
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
from ansible_collections.apim.certificates.tests.support.java import keytool, keytool_listing, needs_java

pytestmark = [needs_java, pytest.mark.java]

PASSWORD = "Interop-Store-Pass1"
PHASES = ("add", "replace", "remove")
ACTIONS = {"add": "added", "replace": "replaced", "remove": "removed"}


def _present(alias, cert):
    return DesiredCertificate(alias, "present", cert.cert, "interop test")


def _absent(alias):
    return DesiredCertificate(alias, "absent", None, "interop test")


@dataclasses.dataclass(frozen=True)
class Phase:
    name: str
    library_items: list  # DesiredCertificate items the library applies
    module_args: dict  # endpoint_certificate arguments besides path and password
    expected_after_library: dict  # alias -> SHA-256 of all the store holds after the library's write
    expected: dict  # ... and after the module's


def phases(certs) -> list:
    after_add_lib = {
        "rsa-backend": certs.rsa.sha256,
        "ec-backend": certs.ec.sha256,
        "lib-chain": certs.small_leaf.sha256,
        "lib-chain-1": certs.small_ca.sha256,
    }
    after_add = dict(after_add_lib, **{
        "module-ec": certs.ec_module.sha256,
        "corp-chain": certs.leaf.sha256,
        "corp-chain-1": certs.intermediate.sha256,
        "corp-chain-2": certs.root.sha256,
    })
    after_replace_lib = dict(after_add, **{"rsa-backend": certs.rsa_new.sha256})
    after_replace = dict(after_replace_lib, **{"ec-backend": certs.ec_new.sha256})
    after_remove_lib = {k: v for k, v in after_replace.items() if k not in ("corp-chain-1", "lib-chain-1")}
    after_remove = {k: v for k, v in after_remove_lib.items() if k not in ("module-ec", "rsa-backend")}
    return [
        Phase(
            "add",
            # RSA; EC under a mixed-case alias; a leaf + CA bundle with chain=all, as the module maps it
            [_present("rsa-backend", certs.rsa), _present("EC-Backend", certs.ec)]
            + desired_items("Lib-Chain", "present", [certs.small_leaf.cert, certs.small_ca.cert], chain="all"),
            # batch mode: EC under a mixed-case alias, and a leaf + intermediate + root bundle with chain=all
            {"certificates": [
                {"alias": "Module-EC", "certificate": certs.ec_module.pem},
                {"alias": "Corp-Chain", "certificate": certs.chain_pem},
            ], "chain": "all"},
            after_add_lib,
            after_add,
        ),
        Phase(
            "replace",
            [_present("RSA-BACKEND", certs.rsa_new)],
            {"alias": "Ec-Backend", "certificate": certs.ec_new.pem},
            after_replace_lib,
            after_replace,
        ),
        Phase(
            "remove",
            [_absent("Corp-Chain-1"), _absent("LIB-CHAIN-1")],
            {"certificates": [{"alias": "MODULE-EC", "state": "absent"}, {"alias": "rsa-backend", "state": "absent"}]},
            after_remove_lib,
            after_remove,
        ),
    ]


@dataclasses.dataclass
class Record:
    phase: Phase
    library_outcome: object = None
    library_listing: object = None
    module_result: object = None
    info_result: object = None
    module_listing: object = None


@pytest.fixture(scope="module")
def written(tmp_path_factory, certs) -> dict:
    """(store type, phase name) -> Record of what each writer did and what keytool and truststore_info saw."""
    tmp = tmp_path_factory.mktemp("collection-written")
    paths = {t: str(tmp / f"truststore.{SUFFIX[t]}") for t in STORE_TYPES}
    records = {}
    pending = []  # (record, attribute, snapshot): keytool reads them while the next playbook runs
    for phase in phases(certs):
        tasks = []
        for store_type in STORE_TYPES:
            record = records[(store_type, phase.name)] = Record(phase)
            record.library_outcome = converge_truststore(
                paths[store_type], PASSWORD, phase.library_items, store_type=store_type, create=True
            )
            pending.append((record, "library_listing", snapshot(paths[store_type], f"library-{phase.name}")))
            args = dict(phase.module_args, path=paths[store_type], password=PASSWORD)
            if phase.name == "add":
                args["store_type"] = store_type  # later phases let the module detect the type
            tasks += [(ENDPOINT, args), (INFO, {"path": paths[store_type], "password": PASSWORD})]
        results = _list_pending(pending, functools.partial(run_tasks, tmp, *tasks))
        pending = []
        for index, store_type in enumerate(STORE_TYPES):
            record = records[(store_type, phase.name)]
            record.module_result, record.info_result = results[2 * index], results[2 * index + 1]
            pending.append((record, "module_listing", snapshot(paths[store_type], f"module-{phase.name}")))
    _list_pending(pending)
    return records


def _list_pending(pending, alongside=None):
    """keytool-list each pending (record, attribute, snapshot) into record.attribute, concurrently with alongside().

    Returns what alongside returned.
    """
    calls = [functools.partial(keytool_listing, copy, PASSWORD) for record, attribute, copy in pending]
    outcomes = in_parallel(alongside, *calls) if alongside else [None, *in_parallel(*calls)]
    for (record, attribute, copy), listing in zip(pending, outcomes[1:]):
        setattr(record, attribute, listing)
    return outcomes[0]


CASES = [pytest.param(t, p, id=f"{t}-{p}") for t in STORE_TYPES for p in PHASES]


@pytest.mark.parametrize("store_type, phase", CASES)
def test_library_write_is_read_by_keytool(written, store_type, phase):
    record = written[(store_type, phase)]
    outcome = record.library_outcome
    assert outcome.changed
    assert outcome.created == (phase == "add")
    assert outcome.store_type == store_type
    assert [c.action for c in outcome.plan.changes] == [ACTIONS[phase]] * len(record.phase.library_items)
    assert [c.alias for c in outcome.plan.changes] == [i.alias.lower() for i in record.phase.library_items]

    assert record.library_listing.store_type == store_type
    assert keytool_entries(record.library_listing) == trusted(record.phase.expected_after_library)


@pytest.mark.parametrize("store_type, phase", CASES)
def test_module_write_is_read_by_keytool_as_truststore_info_reports_it(written, store_type, phase):
    record = written[(store_type, phase)]
    result = ok(record.module_result)
    assert result.changed
    assert result["store_type"] == store_type
    assert {r["action"] for r in result["results"]} == {ACTIONS[phase]}, result["results"]
    if phase == "replace":
        assert result["results"][0]["alias"] == "ec-backend"
        assert result["results"][0]["previous_fingerprint"] == record.phase.expected_after_library["ec-backend"]
        assert result["results"][0]["fingerprint"] == record.phase.expected["ec-backend"]

    # keytool detects the type by itself and lists exactly what the store must hold, under lower-case aliases
    listing = record.module_listing
    assert listing.store_type == store_type
    assert keytool_entries(listing) == trusted(record.phase.expected)
    assert all(alias == alias.lower() for alias in listing.entries)

    # truststore_info reports the same aliases, entry types and SHA-256 fingerprints as keytool
    info = ok(record.info_result)
    assert info["store_type"] == store_type
    assert info["integrity_verified"] is True
    assert info_entries(info) == keytool_entries(listing)


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
