"""Baseline (b): the floor for a server per client, on the SDK alone.

``GET /sse`` builds a fresh ``MCPServer(tools=[prebuilt])`` for its stream, as in the SDK
notes; ``/mcp`` does the same per MCP session, on the SDK's ``StreamableHTTPServerTransport``,
with the least bookkeeping that works: a dict of sessions, a task per session, DELETE. No
session limit, no owners, no sessionless-era handling: what mcp-host adds on top of this is
what the benchmark measures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import anyio
import anyio.abc
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER, StreamableHTTPServerTransport
from mcp_host_bench import add
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from bench.servers import SECURITY

TOOLS = [Tool.from_function(add)]


def new_server() -> MCPServer:
    return MCPServer("bench", tools=list(TOOLS), log_level="WARNING")


async def _serve(server: MCPServer, read_stream: object, write_stream: object) -> None:
    lowlevel = server._lowlevel_server  # MCPServer has no public "run on these streams"
    await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())  # type: ignore[arg-type]


class SseEndpoint:
    """``GET /sse`` as a raw ASGI app (an instance, so Starlette passes the call through)."""

    def __init__(self, transport: SseServerTransport) -> None:
        self._transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = new_server()
        try:
            async with self._transport.connect_sse(scope, receive, send) as (read_stream, write_stream):
                await _serve(server, read_stream, write_stream)
        except ValueError:  # Host or Origin refused: the answer is already sent
            return


class StreamableEndpoint:
    """``/mcp``: a session per ``initialize``, each with its own server."""

    def __init__(self) -> None:
        self._transports: dict[str, StreamableHTTPServerTransport] = {}
        self._task_group: anyio.abc.TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as task_group:
            self._task_group = task_group
            yield
            task_group.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = Headers(scope=scope).get(MCP_SESSION_ID_HEADER)
        if session_id is None:
            session_id = uuid4().hex
            transport = StreamableHTTPServerTransport(mcp_session_id=session_id, security_settings=SECURITY)
            self._transports[session_id] = transport
            assert self._task_group is not None
            await self._task_group.start(self._run, session_id, transport)
        elif (found := self._transports.get(session_id)) is not None:
            transport = found
        else:
            await PlainTextResponse("Session not found", 404)(scope, receive, send)
            return
        await transport.handle_request(scope, receive, send)
        if transport.is_terminated:
            self._transports.pop(session_id, None)

    async def _run(
        self,
        session_id: str,
        transport: StreamableHTTPServerTransport,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            async with transport.connect() as (read_stream, write_stream):
                task_status.started()
                await _serve(new_server(), read_stream, write_stream)
        finally:
            self._transports.pop(session_id, None)


def create_app() -> Starlette:
    sse = SseServerTransport("/messages/", security_settings=SECURITY)
    streamable = StreamableEndpoint()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with streamable.running():
            yield

    routes = [
        Route("/sse", endpoint=SseEndpoint(sse), methods=["GET"]),
        Mount("/messages/", app=sse.handle_post_message),
        Route("/mcp", endpoint=streamable, methods=["GET", "POST", "DELETE"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
