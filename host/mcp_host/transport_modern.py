"""Requests of the sessionless protocol revision 2026-07-28 at ``<server>/mcp``.

Such a request carries its protocol version and client capabilities itself and belongs to no
session, so one server per configured server answers all of them, built from the blueprint
when the app starts. The SDK's ``StreamableHTTPSessionManager`` does the protocol work
(header and body validation, ``server/discover``, ``subscriptions/listen``, multi-round
``input_required`` results); it is only ever handed modern requests, so its own session
table stays empty. Handshake-era requests on the same URL go to ``transport_streamable``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from mcp_host.blueprints import ServerBlueprint
from mcp_host.servers import ServerFactory, SessionlessOptions


class SessionlessRequests:
    """The 2026-07-28 requests of one configured server."""

    def __init__(
        self,
        blueprint: Callable[[], ServerBlueprint],
        factory: ServerFactory,
        options: Callable[[ServerBlueprint], SessionlessOptions],
        security: TransportSecuritySettings | None,
        max_request_body_size: int,
    ) -> None:
        self._blueprint = blueprint
        self._factory = factory
        self._options = options
        self._security = security
        self._max_request_body_size = max_request_body_size
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Builds the server from the blueprint as it stands once the plugins have started."""
        blueprint = self._blueprint()
        server = self._factory.build_sessionless(blueprint, self._options(blueprint))
        # MCPServer has no public way to serve its low-level server through a manager of our own.
        manager = StreamableHTTPSessionManager(
            app=server._lowlevel_server,
            security_settings=self._security,
            max_request_body_size=self._max_request_body_size,
        )
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._manager is None:
            raise RuntimeError("SessionlessRequests is not running")
        await self._manager.handle_request(scope, receive, send)
