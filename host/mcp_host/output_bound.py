"""A bound on the output that waits for one client.

A client that stops reading its stream (SSE, or the responses to its POSTs) makes every send
to it wait, and each waiting response holds its result in memory; its POSTs go on being
accepted, so one client could grow the host's memory without limit. The write stream of
every session is wrapped in a ``BoundedOutput``: once the messages waiting to be sent add up
to more than ``[limits] max_pending_output_bytes``, the session is ended.

Messages are measured only when they queue up: while each send completes before the next
begins (a client that reads), nothing is serialised twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from mcp.shared.message import SessionMessage

from mcp_host.write_streams import WriteStreamWrapper


class BoundedOutput(WriteStreamWrapper):
    """A session's write stream that calls ``overflow(pending_bytes)`` when more than
    ``limit_bytes`` of messages wait to be sent."""

    def __init__(self, stream: Any, limit_bytes: int, overflow: Callable[[int], None]) -> None:
        super().__init__(stream)
        self._limit_bytes = limit_bytes
        self._overflow = overflow
        self._tickets = itertools.count()
        self._waiting: dict[int, SessionMessage] = {}
        self._sizes: dict[int, int] = {}
        self.pending_bytes = 0
        """Bytes of the messages measured while waiting (those that queued up)."""

    async def send(self, item: SessionMessage, /) -> None:
        ticket = next(self._tickets)
        self._waiting[ticket] = item
        if len(self._waiting) > 1:
            self._measure()
        try:
            await self._stream.send(item)
        finally:
            del self._waiting[ticket]
            self.pending_bytes -= self._sizes.pop(ticket, 0)

    def _measure(self) -> None:
        for ticket, item in self._waiting.items():
            if ticket not in self._sizes:
                size = len(item.message.model_dump_json(by_alias=True, exclude_unset=True))
                self._sizes[ticket] = size
                self.pending_bytes += size
        if self.pending_bytes > self._limit_bytes:
            self._overflow(self.pending_bytes)
