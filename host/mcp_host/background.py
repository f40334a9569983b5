"""Work that outlives the request that starts it, such as a session's server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc


class Background:
    """A task group open while ``running()`` is; leaving it cancels what is still running."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._group: anyio.abc.TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                yield
            finally:
                group.cancel_scope.cancel()
                self._group = None

    @property
    def tasks(self) -> anyio.abc.TaskGroup:
        if self._group is None:
            raise RuntimeError(f"{self._owner} is not running")
        return self._group
