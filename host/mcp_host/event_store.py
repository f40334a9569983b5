"""What a Streamable HTTP session keeps so that a client can resume a broken response stream.

A client whose SSE response stream breaks mid-call (a proxy's idle timeout, a flaky
network, or the server closing it on purpose to have the client poll) reconnects with
``Last-Event-ID`` and gets what it missed (SEP-1699). The SDK's transport does the protocol
work given an ``EventStore``; this one is per session, in memory, and bounded: it keeps the
last ``capacity`` events of the session, which covers a call in flight, and goes with the
session. A client that asks for an event older than that gets nothing replayed and learns
the outcome of its call no more than it would without a store.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import count

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage


class SessionEventStore(EventStore):
    """The recent events of one session's response streams."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._events: OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None]] = OrderedDict()
        self._ids = count(1)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = str(next(self._ids))
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self._capacity:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        if last_event_id not in self._events:
            return None
        stream_id, _ = self._events[last_event_id]
        later = False
        for event_id, (stream, message) in list(self._events.items()):
            if later and stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
            later = later or event_id == last_event_id
        return stream_id
