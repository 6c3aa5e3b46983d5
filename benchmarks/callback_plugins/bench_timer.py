# Benchmark-only callback: one JSON line per task result (per host, per loop item), with wall-clock times.
from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Task timings and module-invocation records for benchmarks/run.py
description:
  - Appends one JSON object per event to the file named by the environment variable E(APIM_BENCH_EVENTS).
  - C(task_start) when the strategy starts a task, C(result) for every host result (C(item) for each loop item),
    each with C(time.time()) on the controller, the task's action, its status and whether it was delegated.
requirements:
  - enabled in callbacks_enabled
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("APIM_BENCH_EVENTS")
        self._handle = open(self._path, "a", encoding="utf-8") if self._path else None  # pylint: disable=consider-using-with

    def _emit(self, **record):
        if self._handle is None:
            return
        record["t"] = time.time()
        self._handle.write(json.dumps(record, default=str) + "\n")
        self._handle.flush()

    @staticmethod
    def _task(task):
        return {"task": task.get_name(), "task_uuid": task._uuid, "action": task.action}  # pylint: disable=protected-access

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit(event="task_start", **self._task(task))

    def v2_runner_on_start(self, host, task):
        self._emit(event="host_start", host=host.get_name(), **self._task(task))

    def _result(self, result, status, event="result"):
        data = result._result  # pylint: disable=protected-access
        delegated = (data.get("_ansible_delegated_vars") or {}).get("ansible_host")
        self._emit(
            event=event, status=status, host=result._host.get_name(), delegated_to=delegated,  # pylint: disable=protected-access
            changed=bool(data.get("changed")), skipped=bool(data.get("skipped")), looped="results" in data,
            items=len(data["results"]) if isinstance(data.get("results"), list) else None,
            **self._task(result._task),  # pylint: disable=protected-access
        )

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        self._result(result, "ok", event="item")

    def v2_runner_item_on_failed(self, result):
        self._result(result, "failed", event="item")

    def v2_runner_item_on_skipped(self, result):
        self._result(result, "skipped", event="item")

    def v2_playbook_on_stats(self, stats):
        self._emit(event="end")
        if self._handle is not None:
            self._handle.close()
            self._handle = None
