"""The events a Streamable HTTP session keeps for a client that resumes a broken stream."""

from __future__ import annotations

import pytest
from mcp.server.streamable_http import EventMessage
from mcp_types import JSONRPCNotification

from mcp_host.event_store import SessionEventStore

pytestmark = pytest.mark.anyio


def _note(n: int) -> JSONRPCNotification:
    return JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"progress": n})


async def _replayed(store: SessionEventStore, after: str) -> tuple[str | None, list[tuple[str | None, int]]]:
    sent: list[EventMessage] = []

    async def send(event: EventMessage) -> None:
        sent.append(event)

    stream = await store.replay_events_after(after, send)
    return stream, [(event.event_id, event.message.params["progress"]) for event in sent]  # type: ignore[union-attr]


async def test_a_resumed_stream_gets_its_own_later_events_in_order():
    store = SessionEventStore(capacity=10)
    priming = await store.store_event("call-1", None)
    first = await store.store_event("call-1", _note(1))
    await store.store_event("call-2", _note(99))
    await store.store_event("call-1", _note(2))
    await store.store_event("call-1", _note(3))

    assert await _replayed(store, first) == ("call-1", [("4", 2), ("5", 3)])
    # From the priming event on, everything the stream carried; never another stream's events.
    assert await _replayed(store, priming) == ("call-1", [("2", 1), ("4", 2), ("5", 3)])


async def test_only_the_last_events_are_kept_and_an_older_id_replays_nothing():
    store = SessionEventStore(capacity=2)
    oldest = await store.store_event("call", _note(1))
    middle = await store.store_event("call", _note(2))
    await store.store_event("call", _note(3))

    assert await _replayed(store, oldest) == (None, [])
    assert await _replayed(store, middle) == ("call", [("3", 3)])
    assert await _replayed(store, "no-such-event") == (None, [])
