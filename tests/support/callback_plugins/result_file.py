# Test-only callback: appends every task result, as JSON, to the file named by APIM_TEST_RESULTS.
from __future__ import annotations

DOCUMENTATION = r"""
name: result_file
type: aggregate
short_description: Write task results to a JSON-lines file (tests only)
description:
  - Appends one JSON object per task result to the file named by the environment variable E(APIM_TEST_RESULTS).
requirements:
  - enabled in callbacks_enabled
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_file"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get("APIM_TEST_RESULTS")
        if not path:
            return
        record = dict(result._result)  # pylint: disable=protected-access
        record["_host"] = result._host.get_name()  # pylint: disable=protected-access
        record["_task"] = result._task.get_name()  # pylint: disable=protected-access
        record["_status"] = status
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")
