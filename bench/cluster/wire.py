"""Just enough HTTP/1.1 and MCP over asyncio streams to load a host without measuring a client.

On two cores a heavy client (the SDK's, or httpx) would take the CPU the servers need; this
one parses a status line, headers, a chunked or sized body, and SSE events, nothing more.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

Json = dict[str, Any]
INITIALIZE = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "mcp-host-cluster-bench", "version": "0"},
}
TIMEOUT_S = 30.0


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def send(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> None:
        _, writer = await self._connect()
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def head(self) -> tuple[int, dict[str, str]]:
        reader, _ = await self._connect()
        status = int((await reader.readline()).split()[1])
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def chunks(self, headers: dict[str, str]) -> Any:
        """The body, piece by piece (chunked or sized)."""
        reader, _ = await self._connect()
        if headers.get("transfer-encoding") == "chunked":
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                data = await reader.readexactly(size + 2)
                if size == 0:
                    return
                yield data[:-2]
        else:
            length = int(headers.get("content-length", "0"))
            if length:
                yield await reader.readexactly(length)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        await self.send(method, path, headers, body)
        status, response_headers = await self.head()
        data = b"".join([chunk async for chunk in self.chunks(response_headers)])
        if response_headers.get("connection") == "close":
            self.close()
        return status, response_headers, data

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def sse_events(buffer: bytearray) -> list[tuple[str, str]]:
    """Complete ``(event, data)`` pairs taken off the front of ``buffer``."""
    events = []
    if b"\r" in buffer:  # sse-starlette ends its lines with CRLF
        buffer[:] = buffer.replace(b"\r\n", b"\n")
    while (end := buffer.find(b"\n\n")) >= 0:
        block = bytes(buffer[:end]).decode()
        del buffer[: end + 2]
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((event, "\n".join(data)))
    return events


def _message(method: str, params: Json | None, id: int | None) -> bytes:
    message: Json = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        message["id"] = id
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


class StreamableSession:
    """Streamable HTTP: each request a POST to ``/mcp`` answered in its own SSE body."""

    def __init__(self, host: str, port: int) -> None:
        self._conn = Connection(host, port)
        self._ids = itertools.count(1)
        self._headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

    async def open(self) -> None:
        await self.request("initialize", INITIALIZE)
        await self.notify("notifications/initialized")

    async def request(self, method: str, params: Json | None = None) -> Json:
        id = next(self._ids)
        status, headers, body = await self._conn.request(
            "POST", "/mcp", self._headers, _message(method, params, id)
        )
        if status != 200:
            raise RuntimeError(f"{method}: HTTP {status}: {body[:200]!r}")
        if "mcp-session-id" in headers:
            self._headers["Mcp-Session-Id"] = headers["mcp-session-id"]
        if headers.get("content-type", "").startswith("application/json"):
            return dict(json.loads(body))
        for _, data in sse_events(bytearray(body)):
            message = json.loads(data)
            if message.get("id") == id:
                return dict(message)
        raise RuntimeError(f"{method}: no answer in {body[:200]!r}")

    async def notify(self, method: str) -> None:
        status, _, body = await self._conn.request(
            "POST", "/mcp", self._headers, _message(method, None, None)
        )
        if status != 202:
            raise RuntimeError(f"{method}: HTTP {status}: {body[:200]!r}")

    async def close(self) -> None:
        await self._conn.request("DELETE", "/mcp", self._headers)
        self._conn.close()


class SseSession:
    """HTTP+SSE: one ``GET /sse`` stream for the answers, POSTs on a keep-alive connection."""

    def __init__(self, host: str, port: int, post_port: int | None = None) -> None:
        self._stream = Connection(host, port)
        self._posts = Connection(host, post_port or port)
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Json]] = {}
        self._endpoint: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self._stream.send("GET", "/sse", {"Accept": "text/event-stream"})
        status, headers = await self._stream.head()
        if status != 200:
            raise RuntimeError(f"GET /sse: HTTP {status}")
        self._reader = asyncio.create_task(self._read(headers))
        self.path = await asyncio.wait_for(self._endpoint, TIMEOUT_S)
        await self.request("initialize", INITIALIZE)
        await self.notify("notifications/initialized")

    async def _read(self, headers: dict[str, str]) -> None:
        buffer = bytearray()
        async for chunk in self._stream.chunks(headers):
            buffer += chunk
            for event, data in sse_events(buffer):
                if event == "endpoint":
                    self._endpoint.set_result(data)
                elif event == "message":
                    message = json.loads(data)
                    waiting = self._pending.pop(message.get("id"), None)
                    if waiting is not None:
                        waiting.set_result(message)

    async def _post(self, body: bytes) -> None:
        status, _, answer = await self._posts.request(
            "POST", self.path, {"Content-Type": "application/json"}, body
        )
        if status != 202:
            raise RuntimeError(f"POST {self.path}: HTTP {status}: {answer[:200]!r}")

    async def request(self, method: str, params: Json | None = None) -> Json:
        id = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._pending[id] = answer
        await self._post(_message(method, params, id))
        return await asyncio.wait_for(answer, TIMEOUT_S)

    async def notify(self, method: str) -> None:
        await self._post(_message(method, None, None))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        self._stream.close()
        self._posts.close()


async def timed_call(session: StreamableSession | SseSession, tool: str) -> float:
    """One ``tools/call``; its latency in seconds. Raises on any failure."""
    started = time.perf_counter()
    answer = await session.request("tools/call", {"name": tool, "arguments": {}})
    elapsed = time.perf_counter() - started
    if "result" not in answer or answer["result"].get("isError"):
        raise RuntimeError(f"tools/call failed: {answer}")
    return elapsed
