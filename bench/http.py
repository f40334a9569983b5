"""A minimal HTTP/1.1 client on asyncio streams: the load generator's only network code.

On two cores a client library's per-request work competes with the server it measures;
this one formats a request line and headers, and reads a status line, headers and a
``Content-Length`` or chunked body, nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

STREAM_LIMIT = 1 << 20


class HttpError(ConnectionError):
    """The server's answer was not HTTP as this client reads it, or came to an early end."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes


class Connection:
    """One TCP connection to the server, for requests one after another (keep-alive)."""

    def __init__(self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._authority = f"{host}:{port}".encode()
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=STREAM_LIMIT)
        return cls(host, port, reader, writer)

    @property
    def usable(self) -> bool:
        """False once the server has closed its side (an idle keep-alive timing out)."""
        return not (self._reader.at_eof() or self._writer.is_closing())

    async def request(
        self, method: str, target: str, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Response:
        await self._send(method, target, headers, body)
        status, response_headers = await self._read_head()
        chunks = [chunk async for chunk in self._body(response_headers)]
        if response_headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, response_headers, b"".join(chunks))

    async def stream(
        self, method: str, target: str, headers: Mapping[str, str] | None = None
    ) -> tuple[int, Mapping[str, str], AsyncIterator[bytes]]:
        """Send a request and return its status and headers, and its body as it arrives."""
        await self._send(method, target, headers, b"")
        status, response_headers = await self._read_head()
        return status, response_headers, self._body(response_headers)

    def close(self) -> None:
        self._writer.close()

    async def _send(self, method: str, target: str, headers: Mapping[str, str] | None, body: bytes) -> None:
        lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: " + self._authority]
        lines.extend(f"{name}: {value}".encode() for name, value in (headers or {}).items())
        if body or method in ("POST", "PUT"):
            lines.append(b"Content-Length: %d" % len(body))
        self._writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await self._writer.drain()

    async def _read_head(self) -> tuple[int, dict[str, str]]:
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise HttpError("the server closed the connection before answering") from exc
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def _body(self, headers: Mapping[str, str]) -> AsyncIterator[bytes]:
        try:
            if headers.get("transfer-encoding", "").lower() == "chunked":
                while size := int((await self._reader.readuntil(b"\r\n")).split(b";", 1)[0], 16):
                    yield (await self._reader.readexactly(size + 2))[:-2]
                await self._reader.readuntil(b"\r\n")  # no trailers: the empty line after the last chunk
            elif length := int(headers.get("content-length", "0")):
                yield await self._reader.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise HttpError("the server closed the connection in the middle of a body") from exc


class KeepAlive:
    """A session's connection for its POSTs, reopened when the server has closed it."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._connection: Connection | None = None

    async def request(
        self, method: str, target: str, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Response:
        reused = self._connection is not None and self._connection.usable
        if not reused:
            self.close()
            self._connection = await Connection.open(self._host, self._port)
        assert self._connection is not None
        try:
            return await self._connection.request(method, target, headers, body)
        except (HttpError, ConnectionError):
            self.close()
            if not reused:
                raise
        # The server closed an idle connection just as we reused it: once more, on a new one.
        self._connection = await Connection.open(self._host, self._port)
        return await self._connection.request(method, target, headers, body)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
