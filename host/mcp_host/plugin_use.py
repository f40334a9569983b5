"""How many requests each plugin is answering right now, so that a plugin a reload took out
stops (``host_stopping``) only after the last request it was answering."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import anyio


class PluginUse:
    def __init__(self) -> None:
        self._running: Counter[str] = Counter()
        self._idle: dict[str, anyio.Event] = {}

    @contextmanager
    def using(self, plugin: str) -> Iterator[None]:
        self._running[plugin] += 1
        try:
            yield
        finally:
            self._running[plugin] -= 1
            if not self._running[plugin]:
                del self._running[plugin]
                if (idle := self._idle.pop(plugin, None)) is not None:
                    idle.set()

    def running(self, plugin: str) -> int:
        return self._running[plugin]

    async def wait_idle(self, plugin: str) -> None:
        """Return once no request of ``plugin`` is running."""
        while self._running[plugin]:
            await self._idle.setdefault(plugin, anyio.Event()).wait()
