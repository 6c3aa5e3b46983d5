"""The SSH test fleet, one per test session: three nodes on 127.0.0.1, one interpreter each.

    gw1  /usr/bin/python3 with the distribution's packages (Debian 12: cryptography 38.0.4, tomlkit 0.11.7, no pyjks)
    gw2  a venv with the oldest libraries the collection claims (cryptography 3.4.8, tomlkit 0.9.2, no pyjks)
    gw3  a venv with the newest (the controller's versions of cryptography, tomlkit and pyjks)

Skips, with the reason, where the machine lacks root, sshd, sudo, setfacl or python3-venv; under CI (CI=true,
where .ci/run installs them) a missing piece fails instead, so the fleet tests never silently go missing.
"""

from __future__ import annotations

import os

import pytest

from tests.support import fleet as fleet_mod

NODES = ("gw1", "gw2", "gw3")
# APIM_FLEET_INTERPRETERS=newest,newest,newest: another choice, for a developer's look (coverage checks then fail)
FLAVORS = tuple(os.environ.get("APIM_FLEET_INTERPRETERS", "distro,oldest,newest").split(","))


@pytest.fixture(scope="session")
def fleet():
    reason = fleet_mod.missing(FLAVORS)
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the SSH fleet tests, but: {reason} (.ci/run installs these)")
        print(f"\nSSH fleet tests skipped: {reason}")
        pytest.skip(reason)
    try:
        started = fleet_mod.up(NODES, FLAVORS, homes=False, owner_pid=os.getpid())
    except RuntimeError as exc:  # a venv that pip could not build, an sshd that would not start
        pytest.fail(f"could not start the SSH test fleet: {exc}")
    yield started
    problems = started.down()
    assert not problems, problems


@pytest.fixture
def nodes(fleet):
    """Every node with a fresh API-M home (owned by its service account, 0750/0640); returns fleet.nodes."""
    for node in fleet.nodes.values():
        fleet.build_home(node)
    return fleet.nodes
