"""Small ASGI helpers shared by the transports."""

from __future__ import annotations

import contextlib
from collections import deque

from starlette.types import Message, Receive, Send


async def read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands the app the same messages again.

    Put what calls it inside ``RequestBodyLimitMiddleware``, which bounds what is read."""
    received: deque[Message] = deque()
    body = bytearray()
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            break
        body.extend(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return received.popleft() if received else await receive()

    return bytes(body), replay


class CompletingSend:
    """An ASGI ``send`` that can end a streamed response its app left open.

    When the server shuts down, sse-starlette stops its event streams without sending the
    last, empty body chunk; the client then sees a broken transfer and uvicorn logs an
    error. ``complete()`` sends that chunk if the response was started and never ended.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._started = False
        self._complete = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._started = True
        elif message["type"] == "http.response.body":
            self._complete = not message.get("more_body", False)
        await self._send(message)

    async def complete(self) -> None:
        if self._started and not self._complete:
            with contextlib.suppress(OSError):
                await self({"type": "http.response.body", "body": b"", "more_body": False})


class ReleasableReceive:
    """An ASGI ``receive`` that lets go of its connection once the request is over.

    The SDK's SSE transport hands every posted message on with the Starlette ``Request`` it
    came in (``ServerMessageMetadata.request_context``), and keeps a session's last message
    until the next one arrives: for an idle session, for good. Through its ``receive``, that
    request would hold the POST's connection long after it closed: uvicorn's protocol and
    request cycle, their events and buffers, and the replay queues of the body middlewares.
    After ``release()`` this answers ``http.disconnect``, as the request is indeed over (its
    body, already read, stays cached in the ``Request``).
    """

    __slots__ = ("_receive",)

    def __init__(self, receive: Receive) -> None:
        self._receive: Receive | None = receive

    async def __call__(self) -> Message:
        if self._receive is None:
            return {"type": "http.disconnect"}
        return await self._receive()

    def release(self) -> None:
        self._receive = None
