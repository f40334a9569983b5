"""Baseline (c): the cost of HTTP and SSE alone, with no MCP.

``GET /sse`` opens an sse-starlette stream (the library the SDK's transports use) whose first
event names a ``/messages/?session_id=…`` URL; each JSON-RPC request posted there is answered
on the stream with ``{"result": {}}`` and its id. ``/mcp`` answers a request POST with one
``event: message`` in an SSE body, as the SDK's Streamable HTTP transport does, and hands out
an ``Mcp-Session-Id`` on ``initialize``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SESSION_HEADER = "mcp-session-id"


def _answer(message: dict[str, Any]) -> dict[str, Any] | None:
    if "id" not in message:
        return None  # a notification
    return {"jsonrpc": "2.0", "id": message["id"], "result": {}}


class Streams:
    """Every open ``/sse`` stream's queue, by session id."""

    def __init__(self) -> None:
        self._queues: dict[str, MemoryObjectSendStream[dict[str, Any]]] = {}

    async def open(self, request: Request) -> EventSourceResponse:
        session_id = uuid4().hex
        sender, receiver = anyio.create_memory_object_stream[dict[str, Any]](16)
        self._queues[session_id] = sender

        async def events() -> AsyncIterator[dict[str, str]]:
            try:
                yield {"event": "endpoint", "data": f"/messages/?session_id={session_id}"}
                async with receiver:
                    async for message in receiver:
                        yield {"event": "message", "data": json.dumps(message)}
            finally:
                self._queues.pop(session_id, None)

        return EventSourceResponse(events())

    async def post(self, request: Request) -> Response:
        queue = self._queues.get(request.query_params.get("session_id", ""))
        if queue is None:
            return Response("Could not find session", 404)
        answer = _answer(json.loads(await request.body()))
        if answer is not None:
            await queue.send(answer)
        return Response("Accepted", 202)


async def streamable(request: Request) -> Response:
    if request.method == "DELETE":
        return Response(status_code=200)
    message = json.loads(await request.body())
    answer = _answer(message)
    if answer is None:
        return Response(status_code=202)
    headers = {SESSION_HEADER: uuid4().hex} if message.get("method") == "initialize" else {}
    body = f"event: message\r\ndata: {json.dumps(answer)}\r\n\r\n"
    return Response(body, media_type="text/event-stream", headers=headers)


def create_app() -> Starlette:
    streams = Streams()
    routes = [
        Route("/sse", endpoint=streams.open, methods=["GET"]),
        Route("/messages/", endpoint=streams.post, methods=["POST"]),
        Route("/mcp", endpoint=streamable, methods=["POST", "DELETE"]),
    ]
    return Starlette(routes=routes)
