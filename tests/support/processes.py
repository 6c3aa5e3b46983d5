"""Processes the tests stop by pid: the gateway stand-ins and the Molecule scenario's backend.

fleet.py keeps its own alive() (the same check): it also runs as a script, before the collection is importable.
"""

from __future__ import annotations

import os
import signal
import time


def alive(pid: int) -> bool:
    """pid runs (a zombie, left unreaped by a container's init, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def terminate(pid: int, timeout: float = 10) -> None:
    """Stop a process this one did not start (SIGTERM, then SIGKILL), and wait until it is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)
    raise RuntimeError(f"process {pid} did not stop")
