"""Lean MCP sessions on raw HTTP, one per transport: just enough JSON-RPC to drive a server.

A session sends requests one after another; its ``request`` returns the JSON-RPC response
(``result`` or ``error``) and raises on a transport failure or a time-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from bench.http import Connection, HttpError, KeepAlive
from bench.sse import EventParser, parse_body

Json = dict[str, Any]
Transport = Literal["sse", "mcp", "modern"]
"""HTTP+SSE at /sse; Streamable HTTP at /mcp in a handshake-era session; and /mcp at the
sessionless revision 2026-07-28, every request on its own."""

PROTOCOL_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
MODERN_META: Json = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "mcp-host-bench", "version": "0"},
}
REQUEST_TIMEOUT_S = 30.0
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
INITIALIZE_PARAMS: Json = {
    "protocolVersion": PROTOCOL_VERSION,
    "capabilities": {},
    "clientInfo": {"name": "mcp-host-bench", "version": "0"},
}


class SessionError(Exception):
    """The server refused or failed a request at the HTTP level."""


class Session(Protocol):
    async def open(self) -> None:
        """Be ready for ``initialize``: the SSE stream is open and its endpoint known."""

    async def request(self, method: str, params: Json | None = None) -> Json: ...

    async def notify(self, method: str, params: Json | None = None) -> None: ...

    async def close(self) -> None: ...

    def release_connection(self) -> None:
        """Close the connection requests go out on (not the session): idle sessions hold less."""


def new_session(transport: Transport, host: str, port: int) -> Session:
    if transport == "sse":
        return SseSession(host, port)
    return StreamableSession(host, port) if transport == "mcp" else ModernClient(host, port)


def opening_request(transport: Transport) -> tuple[str, Json | None]:
    """What a client sends first on a Streamable HTTP URL, and whose answer means it is in."""
    return ("server/discover", None) if transport == "modern" else ("initialize", INITIALIZE_PARAMS)


async def handshake(session: Session) -> Json:
    """``initialize``, ``notifications/initialized``, ``tools/list``: what a client does first
    (at 2026-07-28: ``server/discover`` and ``tools/list``)."""
    if isinstance(session, ModernClient):
        discovered = await session.request("server/discover")
        if "result" not in discovered:
            raise SessionError(f"server/discover failed: {discovered}")
        return await session.request("tools/list")
    initialized = await session.request("initialize", INITIALIZE_PARAMS)
    if "result" not in initialized:
        raise SessionError(f"initialize failed: {initialized}")
    await session.notify("notifications/initialized")
    return await session.request("tools/list")


def _answer(headers: Mapping[str, str], body: bytes, id: int, method: str) -> Json:
    """The JSON-RPC answer to request ``id`` in a ``POST /mcp`` response, JSON or SSE."""
    if headers.get("content-type", "").startswith("application/json"):
        answer: Json = json.loads(body)
        return answer
    for event in parse_body(body):
        if not event.data:  # a priming event, which only gives the stream an id to resume from
            continue
        message: Json = json.loads(event.data)
        if message.get("id") == id:
            return message
    raise SessionError(f"POST /mcp {method}: no answer in the response body")


def _message(method: str, params: Json | None, id: int | None = None) -> bytes:
    message: Json = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        message["id"] = id
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


class SseSession:
    """HTTP+SSE: ``GET /sse`` for the answers, ``POST /messages/?session_id=…`` for the requests."""

    def __init__(self, host: str, port: int, post_port: int | None = None) -> None:
        """``post_port``: POST the messages to another process than the one holding the stream."""
        self._host = host
        self._port = port
        self._posts = KeepAlive(host, post_port or port)
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Json]] = {}
        self._stream: Connection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._endpoint = ""

    async def open(self) -> None:
        self._stream = await Connection.open(self._host, self._port)
        status, _, body = await self._stream.stream("GET", "/sse", {"Accept": "text/event-stream"})
        if status != 200:
            raise SessionError(f"GET /sse answered {status}")
        parser = EventParser()
        async for chunk in body:
            events = parser.feed(chunk)
            if events and events[0].event == "endpoint":
                self._endpoint = events[0].data
                break
        else:
            raise SessionError("the stream ended before its endpoint event")
        self._reader = asyncio.create_task(self._read(body, parser))

    async def _read(self, body: Any, parser: EventParser) -> None:
        try:
            async for chunk in body:
                for event in parser.feed(chunk):
                    message = json.loads(event.data) if event.event == "message" else {}
                    future = self._pending.pop(message.get("id", -1), None)
                    if future is not None and not future.done():
                        future.set_result(message)
        except (HttpError, ConnectionError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(SessionError("the stream closed"))

    async def request(self, method: str, params: Json | None = None) -> Json:
        id = next(self._ids)
        answer: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._pending[id] = answer
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            await self._post(_message(method, params, id))
            return await answer

    async def notify(self, method: str, params: Json | None = None) -> None:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            await self._post(_message(method, params))

    async def _post(self, body: bytes) -> None:
        response = await self._posts.request("POST", self._endpoint, JSON_HEADERS, body)
        if response.status != 202:
            raise SessionError(f"POST {self._endpoint} answered {response.status}: {response.body[:200]!r}")

    def release_connection(self) -> None:
        self._posts.close()

    async def close(self) -> None:
        self._posts.close()
        if self._stream is not None:
            self._stream.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


class StreamableSession:
    """Streamable HTTP: every message a ``POST /mcp``, the session named by ``Mcp-Session-Id``."""

    def __init__(self, host: str, port: int, post_port: int | None = None) -> None:
        """``post_port``: send everything after ``initialize`` to another process."""
        self._posts = KeepAlive(host, port)
        self._later_posts = KeepAlive(host, post_port) if post_port else None
        self._ids = itertools.count(1)
        self._headers = dict(JSON_HEADERS)

    async def open(self) -> None:
        pass

    async def request(self, method: str, params: Json | None = None) -> Json:
        id = next(self._ids)
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            response = await self._posts.request("POST", "/mcp", self._headers, _message(method, params, id))
        if response.status != 200:
            raise SessionError(f"POST /mcp {method} answered {response.status}: {response.body[:200]!r}")
        if method == "initialize":
            self._headers["Mcp-Session-Id"] = response.headers["mcp-session-id"]
            self._headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
            if self._later_posts is not None:
                self._posts.close()
                self._posts = self._later_posts
        return _answer(response.headers, response.body, id, method)

    async def notify(self, method: str, params: Json | None = None) -> None:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            response = await self._posts.request("POST", "/mcp", self._headers, _message(method, params))
        if response.status != 202:
            raise SessionError(f"POST /mcp {method} answered {response.status}")

    def release_connection(self) -> None:
        self._posts.close()

    async def close(self) -> None:
        if "Mcp-Session-Id" in self._headers:
            with contextlib.suppress(HttpError, ConnectionError, TimeoutError):
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    await self._posts.request("DELETE", "/mcp", self._headers)
        self._posts.close()


class ModernClient:
    """Revision 2026-07-28 on ``POST /mcp``: no session, each request carries its protocol
    version and capabilities in ``_meta`` and names itself in ``Mcp-Method``/``Mcp-Name``."""

    def __init__(self, host: str, port: int) -> None:
        self._posts = KeepAlive(host, port)
        self._ids = itertools.count(1)

    async def open(self) -> None:
        pass

    async def request(self, method: str, params: Json | None = None) -> Json:
        id = next(self._ids)
        headers = {**JSON_HEADERS, "MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": method}
        if method == "tools/call" and params is not None:
            headers["Mcp-Name"] = str(params["name"])
        body = _message(method, {**(params or {}), "_meta": MODERN_META}, id)
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            response = await self._posts.request("POST", "/mcp", headers, body)
        if response.status != 200:
            raise SessionError(f"POST /mcp {method} answered {response.status}: {response.body[:200]!r}")
        return _answer(response.headers, response.body, id, method)

    async def notify(self, method: str, params: Json | None = None) -> None:
        raise SessionError(f"{method}: a 2026-07-28 client sends no notifications")

    def release_connection(self) -> None:
        self._posts.close()

    async def close(self) -> None:
        self._posts.close()
