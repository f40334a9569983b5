"""The MCP HTTP+SSE transport: ``GET <server>/sse`` opens a stream, ``POST <server>/messages/``
carries the client's messages. The SDK's ``SseServerTransport`` does the protocol work; this
module only connects each new stream to a fresh server for that client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import anyio
from mcp.server.sse import SseServerTransport
from mcp.server.transport_security import TransportSecuritySettings
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from mcp_host.asgi import CompletingSend
from mcp_host.catalog import ServerBlueprint
from mcp_host.servers import ServerFactory
from mcp_host.session import HostSession, SessionRegistry

logger = logging.getLogger(__name__)

ENDPOINT_EVENT_TIMEOUT_S = 10.0
_SESSION_ID = re.compile(rb"[?&]session_id=([0-9a-f]{32})")


class _StreamSend(CompletingSend):
    """Learns the session id from the ``endpoint`` event as it goes out to the client.

    The SDK makes the id up inside ``connect_sse`` and publishes it only in that event, the
    first thing on every stream; reading it there keeps us off the transport's internals.
    """

    def __init__(self, send: Send) -> None:
        super().__init__(send)
        self._found = anyio.Event()
        self.session_id: str | None = None

    async def __call__(self, message: Message) -> None:
        if self.session_id is None and message["type"] == "http.response.body":
            match = _SESSION_ID.search(message.get("body", b""))
            if match:
                self.session_id = match.group(1).decode()
                self._found.set()
        await super().__call__(message)

    async def wait_for_session_id(self) -> str | None:
        with anyio.move_on_after(ENDPOINT_EVENT_TIMEOUT_S):
            await self._found.wait()
        return self.session_id


class _RawAsgi:
    """Starlette's ``Route`` treats functions and bound methods as request handlers that
    return a response; an instance is passed the raw ASGI call, which a stream needs."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


class SseServer:
    """The two ASGI apps of one configured server on the SSE transport."""

    def __init__(
        self,
        blueprint: Callable[[], ServerBlueprint],
        factory: ServerFactory,
        sessions: SessionRegistry,
        messages_path: str,
        security: TransportSecuritySettings | None,
        max_request_body_size: int,
    ) -> None:
        self._blueprint = blueprint
        self._factory = factory
        self._sessions = sessions
        self.transport = SseServerTransport(
            messages_path, security_settings=security, max_request_body_size=max_request_body_size
        )
        self.stream_app = _RawAsgi(self.handle_stream)

    async def handle_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET .../sse``: one client, one server, for as long as the stream stays open."""
        if scope["method"] != "GET":
            await PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET"})(scope, receive, send)
            return
        if self._sessions.is_full():
            logger.warning("refused a new session: %s", self._sessions.refusal())
            await PlainTextResponse(self._sessions.refusal(), 503)(scope, receive, send)
            return
        stream_send = _StreamSend(send)
        connected = False
        try:
            async with self.transport.connect_sse(scope, receive, stream_send) as (read_stream, write_stream):
                connected = True
                session_id = await stream_send.wait_for_session_id()
                if session_id is None:
                    logger.warning("SSE stream closed before its endpoint event was sent")
                    return
                blueprint = self._blueprint()
                session = HostSession(id=session_id, server=blueprint.key, transport="sse")
                await self._factory.serve(blueprint, session, read_stream, write_stream)
        except ValueError:
            # connect_sse raises ValueError after it has answered a rejected request (421/403).
            if connected:
                raise
            return
        await stream_send.complete()

    async def handle_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST .../messages/?session_id=...``: hand the message to its session."""
        await self.transport.handle_post_message(scope, receive, send)
