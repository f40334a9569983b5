"""Small ASGI helpers shared by the transports."""

from __future__ import annotations

import contextlib

from starlette.types import Message, Send


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
