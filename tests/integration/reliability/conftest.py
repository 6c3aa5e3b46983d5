"""Fixtures of the reliability suite (helpers are in _support.py)."""

from __future__ import annotations

import pytest

from ansible_collections.apim.certificates.tests.integration.reliability._support import shared_once


@pytest.fixture(scope="session")
def once(tmp_path_factory):
    """once(name, compute): compute(folder) run a single time per session, even across xdist workers."""

    def run(name, compute):
        return shared_once(tmp_path_factory, name, compute)

    return run
