"""Test helpers, imported as ansible_collections.apim.certificates.tests.support (as ansible-test imports tests).

Where the shared WSO2 fixtures are: ../shared/fixtures/wso2 next to the repository; tests that need them skip with
the path in the reason when it is absent.
"""

from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
FIXTURES = os.path.join(SHARED, "fixtures", "wso2")
