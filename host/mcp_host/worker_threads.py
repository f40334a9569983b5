"""The worker threads that run plugins' plain ``def`` tools, bounded.

A thread cannot be stopped: a plain ``def`` tool that runs past its time limit is abandoned
by its caller but keeps its thread until the function returns by itself. Without a bound,
a tool that hangs takes a new thread on every call. Here a thread counts from the moment a
call is handed to it until the plugin's function really returns, abandoned or not, and a
call beyond ``size`` such threads is refused instead of starting another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class WorkerThreadsExhausted(Exception):
    """Every worker thread is busy; the message says so in words for the caller."""


class WorkerThreads:
    """At most ``size`` plain ``def`` tool calls running in threads at once, across the host."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._busy = 0
        self._abandoned = 0
        # Handed to anyio so that its pool never holds more idle threads than we allow busy ones.
        self._limiter = anyio.CapacityLimiter(size)

    @property
    def busy(self) -> int:
        """Threads running a tool's function right now, abandoned ones included."""
        return self._busy

    @property
    def abandoned(self) -> int:
        """Threads still running a call whose caller stopped waiting (its time limit passed)."""
        return self._abandoned

    async def run(self, function: Callable[[], T]) -> T:
        """Run ``function`` in a worker thread; cancelling the caller abandons the thread."""
        with self._lock:
            if self._busy >= self.size:
                raise WorkerThreadsExhausted(
                    f"the host's {self.size} worker threads for plain 'def' tools are all busy "
                    f"({self._abandoned} of them still running calls abandoned after their time "
                    "limit); try again later"
                )
            self._busy += 1
        call = _ThreadedCall(self, function)
        try:
            return await anyio.to_thread.run_sync(call.run, abandon_on_cancel=True, limiter=self._limiter)
        except BaseException:
            call.abandon()
            raise


class _ThreadedCall(Generic[T]):
    """One call's claim on a worker thread, given back exactly once, by whoever ends it."""

    def __init__(self, pool: WorkerThreads, function: Callable[[], T]) -> None:
        self._pool = pool
        self._function = function
        self._state = "queued"  # then "running" and "done", or "abandoned"

    def run(self) -> T:
        pool = self._pool
        with pool._lock:
            if self._state == "abandoned":
                # The caller left before the thread started, and gave the place back: the
                # function still runs (anyio had already handed it over), so take it again.
                pool._busy += 1
                pool._abandoned += 1
            self._state = "running" if self._state == "queued" else "running-abandoned"
        try:
            return self._function()
        finally:
            with pool._lock:
                pool._busy -= 1
                if self._state == "running-abandoned":
                    pool._abandoned -= 1
                self._state = "done"

    def abandon(self) -> None:
        pool = self._pool
        with pool._lock:
            if self._state == "queued":
                # Not started, and anyio will not start it: the place is free again.
                pool._busy -= 1
                self._state = "abandoned"
            elif self._state == "running":
                pool._abandoned += 1
                self._state = "running-abandoned"
