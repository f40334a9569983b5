"""Noticing a blocked event loop, and naming what blocked it.

Every client of a host shares one event loop. An ``async def`` tool or hook that blocks
(``time.sleep``, a synchronous HTTP call, a long computation) freezes all of them, and
nothing the host runs on that loop can notice, let alone stop it. So a thread of its own
keeps handing the loop a callback: when the loop has not got to it after ``[limits]
loop_stall_threshold_s``, the thread reads the loop thread's stack, names the tool, plugin
and session running there, logs it and counts it in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

logger = logging.getLogger(__name__)

_PACKAGE = str(Path(__file__).parent)
_STANDARD_LIBRARY = sysconfig.get_paths()["stdlib"]


class StallWatchdog:
    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self.stalls = 0
        """Stalls seen so far (each counted once, however long it lasts)."""
        self._interval = min(threshold_s / 4, 0.25)
        self._stopped = threading.Event()

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Watch the running event loop while inside (call it on the loop's thread)."""
        loop = asyncio.get_running_loop()
        self._stopped.clear()
        watcher = threading.Thread(
            target=self._watch,
            args=(loop, threading.get_ident()),
            name="mcp-host-stall-watchdog",
            daemon=True,
        )
        watcher.start()
        try:
            yield
        finally:
            self._stopped.set()

    def _watch(self, loop: asyncio.AbstractEventLoop, loop_thread: int) -> None:
        """Ask the loop to run a callback, again and again; a loop that takes too long to get
        to it is blocked, by whatever its thread is running right then."""
        while not self._stopped.wait(self._interval):
            asked = time.monotonic()
            answered = threading.Event()
            try:
                loop.call_soon_threadsafe(answered.set)
            except RuntimeError:  # the loop has closed
                return
            reported = False
            while not answered.wait(self._interval):
                if self._stopped.is_set():
                    return
                blocked = time.monotonic() - asked
                if blocked > self.threshold_s and not reported:
                    reported = True
                    self.stalls += 1
                    self._report(blocked, loop_thread)
            if reported:
                stalled = time.monotonic() - asked
                logger.warning(
                    "the event loop runs again after a stall of %.1f s",
                    stalled,
                    extra={"event": "loop_stall_ended", "stalled_s": round(stalled, 3)},
                )

    def _report(self, blocked: float, loop_thread: int) -> None:
        frame = sys._current_frames().get(loop_thread)
        running = describe_running(frame) if frame is not None else {}
        what = ", ".join(f"{key} {value}" for key, value in running.items()) or "no tool or plugin hook"
        logger.error(
            "the event loop has been blocked for %.1f s (over loop_stall_threshold_s = %g): every "
            "client waits; running: %s",
            blocked,
            self.threshold_s,
            what,
            extra={"event": "loop_stall", "blocked_s": round(blocked, 3), **running},
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
