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
  - With E(APIM_BENCH_TREE_CPU) set, C(task_start) and a final C(stats) event carry C(cpu), the CPU seconds the
    ansible-playbook process tree has used so far (see tree_cpu()), so that CPU can be attributed to tasks.
requirements:
  - enabled in callbacks_enabled
"""

import json
import os
import resource
import time

from ansible.plugins.callback import CallbackBase


def tree_cpu() -> float:
    """CPU seconds used so far by this process, its reaped children, and its children not yet reaped.

    Ansible forks one worker per task and host and reaps it a little later; a worker that has finished but is not yet
    reaped (a zombie) still shows its own and its children's CPU time in /proc/<pid>/stat. Counting those too makes
    the figure at a task boundary independent of when the strategy happens to reap the previous task's workers.
    """
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    ticks = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 14 and int(fields[1]) == me:
            total += sum(int(v) for v in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    return total


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("APIM_BENCH_EVENTS")
        self._handle = open(self._path, "a", encoding="utf-8") if self._path else None  # pylint: disable=consider-using-with
        self._cpu = bool(os.environ.get("APIM_BENCH_TREE_CPU"))

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
        extra = {"cpu": tree_cpu()} if self._cpu else {}
        self._emit(event="task_start", **self._task(task), **extra)

    def v2_runner_on_start(self, host, task):
        self._emit(event="host_start", host=host.get_name(), **self._task(task))

    def _result(self, result, status, event="result"):
        data = result._result  # pylint: disable=protected-access
        delegated = (data.get("_ansible_delegated_vars") or {}).get("ansible_host")
        # a loop's results, not a module's own "results" list (endpoint_certificate, gateway_trust return one)
        looped = bool(result._task.loop) and isinstance(data.get("results"), list)  # pylint: disable=protected-access
        # apim.certificates.gateway_sync_node runs ssl_profile (its result under ssl_profile) before gateway_trust
        node_step = result._task.action.endswith("gateway_sync_node")  # pylint: disable=protected-access
        modules = 2 if node_step and isinstance(data.get("ssl_profile"), dict) else None
        self._emit(
            event=event, status=status, host=result._host.get_name(), delegated_to=delegated,  # pylint: disable=protected-access
            changed=bool(data.get("changed")), skipped=bool(data.get("skipped")), looped=looped,
            items=len(data["results"]) if looped else None, modules=modules,
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
        self._emit(event="end", **({"cpu": tree_cpu()} if self._cpu else {}))
        if self._handle is not None:
            self._handle.close()
            self._handle = None
