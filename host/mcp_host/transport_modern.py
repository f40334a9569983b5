"""Requests of the sessionless protocol revision 2026-07-28 at ``<server>/mcp``.

Such a request carries its protocol version and client capabilities itself and belongs to no
session, so one server per configured server answers all of them, built from the blueprint
when the app starts. The SDK's ``StreamableHTTPSessionManager`` does the protocol work
(header and body validation, ``server/discover``, ``subscriptions/listen``, multi-round
``input_required`` results); it is only ever handed modern requests, so its own session
table stays empty. Handshake-era requests on the same URL go to ``transport_streamable``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send


class SessionlessRequests:
    """The 2026-07-28 requests of one configured server, all answered by ``server``
    (``ServerFactory.build_sessionless``)."""

    def __init__(
        self,
        server: MCPServer[Any],
        security: TransportSecuritySettings | None,
        max_request_body_size: int,
    ) -> None:
        # MCPServer has no public way to serve its low-level server through a manager of our own.
        self._manager = StreamableHTTPSessionManager(
            app=server._lowlevel_server,
            security_settings=security,
            max_request_body_size=max_request_body_size,
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self._manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._manager.handle_request(scope, receive, send)
