"""Server-sent events, parsed from a body as its chunks arrive."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    event: str
    data: str


class EventParser:
    """Feeds on body chunks and returns the events they complete; comments (pings) are dropped."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[Event]:
        text = self._pending + chunk
        # Keep a trailing CR: it may be the first half of a CRLF split across chunks.
        text, self._pending = (text[:-1], b"\r") if text.endswith(b"\r") else (text, b"")
        blocks = text.replace(b"\r\n", b"\n").split(b"\n\n")
        self._pending = blocks.pop() + self._pending
        return [event for block in blocks if (event := _parse(block.decode())) is not None]


def _parse(block: str) -> Event | None:
    name, data = "message", []
    for line in block.split("\n"):
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    return Event(name, "\n".join(data)) if data else None


def parse_body(body: bytes) -> list[Event]:
    """Every event of a complete body."""
    return EventParser().feed(body + b"\n\n")
