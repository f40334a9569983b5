"""Noticing a blocked event loop, and naming what blocked it.

Every client of a host shares one event loop. An ``async def`` tool or hook that blocks
(``time.sleep``, a synchronous HTTP call, a long computation) freezes all of them, and
nothing the host runs on that loop can notice, let alone stop it. So a task on the loop
beats a heartbeat, and a thread of its own watches it: when the beat is late by more than
``[limits] loop_stall_threshold_s``, the thread reads the loop thread's stack, names the
tool, plugin and session running there, logs it and counts it in ``/metrics``.
"""

from __future__ import annotations

import logging
import sys
import sysconfig
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import FrameType

import anyio

logger = logging.getLogger(__name__)

_PACKAGE = str(Path(__file__).parent)
_STANDARD_LIBRARY = sysconfig.get_paths()["stdlib"]


class StallWatchdog:
    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self.stalls = 0
        """Stalls seen so far (each counted once, however long it lasts)."""
        self._beat = time.monotonic()
        self._interval = min(threshold_s / 4, 0.25)
        self._loop_thread = threading.get_ident()
        self._stopped = threading.Event()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Watch the running event loop while inside."""
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        self._stopped.clear()
        watcher = threading.Thread(target=self._watch, name="mcp-host-stall-watchdog", daemon=True)
        async with anyio.create_task_group() as group:
            group.start_soon(self._heartbeat)
            watcher.start()
            try:
                yield
            finally:
                self._stopped.set()
                group.cancel_scope.cancel()

    async def _heartbeat(self) -> None:
        while True:
            self._beat = time.monotonic()
            await anyio.sleep(self._interval)

    def _watch(self) -> None:
        reported: float | None = None  # the beat a stall was reported for
        while not self._stopped.wait(self._interval):
            beat = self._beat
            late = time.monotonic() - beat - self._interval
            if late > self.threshold_s and reported != beat:
                reported = beat
                self.stalls += 1
                self._report(late)
            elif reported is not None and reported != beat:
                logger.warning(
                    "the event loop runs again after a stall of about %.1f s",
                    beat - reported,
                    extra={"event": "loop_stall_ended", "stalled_s": round(beat - reported, 3)},
                )
                reported = None

    def _report(self, late: float) -> None:
        frame = sys._current_frames().get(self._loop_thread)
        running = describe_running(frame) if frame is not None else {}
        what = ", ".join(f"{key} {value}" for key, value in running.items()) or "no tool or plugin hook"
        logger.error(
            "the event loop has been blocked for %.1f s (over loop_stall_threshold_s = %g): every "
            "client waits; running: %s",
            late,
            self.threshold_s,
            what,
            extra={"event": "loop_stall", "blocked_s": round(late, 3), **running},
        )


def describe_running(frame: FrameType) -> dict[str, str]:
    """What the loop thread is running, from its stack: the tool or hook, its plugin, the
    session, and where in the plugin's code it is."""
    found: dict[str, str] = {}
    innermost = frame
    current: FrameType | None = frame
    while current is not None:
        code = current.f_code
        if code.co_filename.startswith(_PACKAGE):
            names = current.f_locals
            if code.co_name == "call" and "plugin" in names and "name" in names:  # tool_guard
                found.setdefault("tool", repr(names["name"]))
                found.setdefault("plugin", repr(names["plugin"]))
            elif code.co_name == "call_async" and "record" in names:  # plugins: a hook
                found.setdefault("hook", repr(names.get("hook_name")))
                found.setdefault("plugin", repr(getattr(names["record"], "name", "?")))
            session = names.get("session")
            owner = names.get("self")
            session_id = getattr(session, "id", None) or getattr(getattr(owner, "_session", None), "id", None)
            if isinstance(session_id, str):
                found.setdefault("session", session_id)
        current = current.f_back
    # Where: the innermost frame outside the standard library (time.sleep itself is C).
    current = innermost
    while current is not None and current.f_code.co_filename.startswith(_STANDARD_LIBRARY):
        current = current.f_back
    if current is not None and (found or not current.f_code.co_filename.startswith(_PACKAGE)):
        found["at"] = f"{current.f_code.co_filename}:{current.f_lineno} ({current.f_code.co_name})"
    return found
