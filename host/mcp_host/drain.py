"""Draining the host when it stops: in-flight requests end with an answer, never without.

On a stop signal the host keeps its port open for a moment: requests already running may
finish within the grace, new ones get 503 (so that a balancer sends them elsewhere), and
what still runs when the time for it is up is cancelled and answered with a JSON-RPC error
saying the server is shutting down. Only then is uvicorn told to stop, which closes the
streams: every client has had its answer by that time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import ErrorData, JSONRPCError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.shutdown import ShutdownClock

logger = logging.getLogger(__name__)

SHUTTING_DOWN = -32000
"""The JSON-RPC error code of a request the host cut short because it is stopping."""
SHUTTING_DOWN_MESSAGE = "the server is shutting down; send the request again to a new session"

DELIVERY_S = 0.25
"""Time given to the cancelled requests' errors to reach their clients before the streams close."""


class InFlight:
    """The MCP requests this process is serving, each in a scope the drain can cancel."""

    def __init__(self) -> None:
        self._scopes: set[anyio.CancelScope] = set()
        self._idle: anyio.Event | None = None
        """Set when the last request in flight ends, while the drain waits for that."""

    def __len__(self) -> int:
        return len(self._scopes)

    @contextmanager
    def tracking(self) -> Iterator[anyio.CancelScope]:
        with anyio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                yield scope
            finally:
                self._scopes.discard(scope)
                if not self._scopes and self._idle is not None:
                    self._idle.set()

    async def drain(self, within_s: float) -> int:
        """Wait up to ``within_s`` for the requests in flight to finish; cancel the rest.
        Returns how many were cancelled."""
        if self._scopes:
            self._idle = anyio.Event()
            with anyio.move_on_after(within_s):
                await self._idle.wait()
        cancelled = list(self._scopes)
        for scope in cancelled:
            scope.cancel()
        if cancelled:
            await anyio.sleep(DELIVERY_S)
        return len(cancelled)


class AnswerWhenCutShort:
    """Server middleware: a request the drain cancels is answered with ``SHUTTING_DOWN``."""

    def __init__(self, in_flight: InFlight) -> None:
        self._in_flight = in_flight

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        with self._in_flight.tracking():
            return await call_next(ctx)
        # Only reached when the drain cancelled the request (the scope swallowed it).
        raise MCPError(code=SHUTTING_DOWN, message=SHUTTING_DOWN_MESSAGE)


class RefuseWhileStopping:
    """New MCP requests get 503 once the host is stopping (ASGI middleware)."""

    def __init__(self, app: ASGIApp, shutdown: ShutdownClock) -> None:
        self.app = app
        self._shutdown = shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._shutdown.stopping:
            error = JSONRPCError(
                jsonrpc="2.0", id=None, error=ErrorData(code=SHUTTING_DOWN, message=SHUTTING_DOWN_MESSAGE)
            )
            response = Response(
                error.model_dump_json(by_alias=True, exclude_none=True),
                status_code=503,
                media_type="application/json",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
