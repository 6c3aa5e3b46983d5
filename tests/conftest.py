"""Shared pytest setup: the collection importable as ansible_collections.apim.certificates (tests included).

Tests import the collection and their helpers the way ansible-test does, by their collection names
(ansible_collections.apim.certificates.tests.support...). pytest.ini puts build/collections on sys.path, where
`make collection` links ansible_collections/apim/certificates to this checkout; a clean clone gets the link here.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
_LINK = os.path.join(COLLECTIONS, "ansible_collections", "apim", "certificates")

if not os.path.lexists(_LINK):
    os.makedirs(os.path.dirname(_LINK), exist_ok=True)
    os.symlink(ROOT, _LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
