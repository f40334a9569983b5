"""A small in-memory cache for answers from slow services."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Values kept for ``ttl`` seconds, at most ``max_entries`` of them, least recently used evicted first.

    Identical requests that miss at the same time share one fetch, so a burst of clients asking
    about the same city costs one upstream request. Failures are not cached.
    A ``ttl`` of 0 turns the cache off: every call fetches.
    """

    def __init__(
        self, ttl: float, max_entries: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl < 0:
            raise ValueError("ttl must be >= 0")
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._pending: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get_or_fetch(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        """The cached value for ``key``, or what ``fetch()`` returns (then cached)."""
        if self._ttl == 0:
            return await fetch()
        hit = self._lookup(key)
        if hit is not None:
            return hit[0]
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fill(key, fetch))
            self._pending[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        # The fetch belongs to every caller waiting on it: one caller going away (its client
        # disconnected) must not cancel it for the others.
        return await asyncio.shield(task)

    async def aclose(self) -> None:
        """Cancel fetches still in flight and forget every value."""
        pending = list(self._pending.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._entries.clear()

    def _lookup(self, key: K) -> tuple[V] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return (value,)

    async def _fill(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        value = await fetch()
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return value

    def _settle(self, key: K, task: asyncio.Task[V]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        # Every waiter may have gone away: reading the exception here keeps asyncio from
        # reporting it as "never retrieved"; the waiters that remain still receive it.
        if not task.cancelled():
            task.exception()
