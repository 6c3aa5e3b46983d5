"""Shared pytest setup: the collection importable as ansible_collections.apim.certificates, helpers as tests.support."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
_LINK = os.path.join(COLLECTIONS, "ansible_collections", "apim", "certificates")

if not os.path.lexists(_LINK):
    os.makedirs(os.path.dirname(_LINK), exist_ok=True)
    os.symlink(ROOT, _LINK)
for entry in (ROOT, COLLECTIONS):
    if entry not in sys.path:
        sys.path.insert(0, entry)

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
FIXTURES = os.path.join(SHARED, "fixtures", "wso2")
