"""The MCP HTTP+SSE transport: ``GET <server>/sse`` opens a stream, ``POST <server>/messages/``
carries the client's messages. The SDK's ``SseServerTransport`` does the protocol work; this
module only connects each new stream to a fresh server for that client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs
from uuid import UUID

import anyio
from mcp.server.sse import SseServerTransport
from mcp.server.transport_security import TransportSecuritySettings
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from mcp_host.asgi import CompletingSend
from mcp_host.blueprints import ServerBlueprint
from mcp_host.servers import ServerFactory
from mcp_host.session import HostSession, SessionRefused, SessionRegistry, SessionRouting

logger = logging.getLogger(__name__)

ENDPOINT_EVENT_TIMEOUT_S = 10.0
_SESSION_ID = re.compile(rb"[?&]session_id=([0-9a-f]{32})")


class _StreamSend(CompletingSend):
    """Learns the session id from the ``endpoint`` event as it goes out to the client.

    The SDK makes the id up inside ``connect_sse`` and publishes it only in that event, the
    first thing on every stream; reading it there keeps us off the transport's internals.

    With ``claim`` (several processes share sessions), the response is held back until the
    id is claimed: the client may post its first message to another process, which must
    already find the owner. If the claim fails, the client gets a 503 instead of a stream.
    """

    def __init__(self, send: Send, claim: Callable[[str], Awaitable[bool]] | None = None) -> None:
        super().__init__(send)
        self._found = anyio.Event()
        self._claim = claim
        self._held_start: Message | None = None
        self.session_id: str | None = None
        self.refused = False

    async def __call__(self, message: Message) -> None:
        if self.refused:
            return
        if self.session_id is None:
            if self._claim is not None and message["type"] == "http.response.start":
                self._held_start = message
                return
            match = (
                _SESSION_ID.search(message.get("body", b""))
                if message["type"] == "http.response.body"
                else None
            )
            if match:
                session_id = match.group(1).decode()
                if self._claim is not None and not await self._claim(session_id):
                    self.refused = True
                    self._found.set()
                    await self._refuse()
                    return
                self.session_id = session_id
                self._found.set()
            if self._held_start is not None:
                await super().__call__(self._held_start)
                self._held_start = None
        await super().__call__(message)

    async def _refuse(self) -> None:
        body = b"cannot accept new sessions now: the session routing store is unreachable"
        await super().__call__(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await super().__call__({"type": "http.response.body", "body": body, "more_body": False})

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
        blueprint: ServerBlueprint,
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
        try:
            admission = self._sessions.admit()
        except SessionRefused as refusal:
            logger.warning("refused a new session: %s", refusal)
            await PlainTextResponse(str(refusal), 503)(scope, receive, send)
            return
        try:
            await self._stream(scope, receive, send)
        finally:
            admission.release()

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = self._sessions.routing
        claim = None if routing is None else self._claimer(routing)
        stream_send = _StreamSend(send, claim)
        connected = False
        try:
            with anyio.CancelScope() as refused:
                async with self.transport.connect_sse(scope, receive, stream_send) as (
                    read_stream,
                    write_stream,
                ):
                    connected = True
                    session_id = await stream_send.wait_for_session_id()
                    if stream_send.refused:
                        logger.warning("refused a new session: its id could not be published to the cluster")
                        refused.cancel()
                    if session_id is None:
                        logger.warning("SSE stream closed before its endpoint event was sent")
                        return
                    blueprint = self._blueprint
                    session = HostSession(id=session_id, server=blueprint.key, transport="sse")
                    try:
                        await self._factory.serve(blueprint, session, read_stream, write_stream)
                    finally:
                        if routing is not None:
                            routing.release(session_id)
        except ValueError:
            # connect_sse raises ValueError after it has answered a rejected request (421/403).
            if connected:
                raise
            return
        await stream_send.complete()

    def _claimer(self, routing: SessionRouting) -> Callable[[str], Awaitable[bool]]:
        async def claim(session_id: str) -> bool:
            return await routing.claim(session_id, self.transport.handle_post_message)

        return claim

    async def handle_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST .../messages/?session_id=...``: hand the message to its session."""
        routing = self._sessions.routing
        if routing is not None:
            session_id = _session_id_of(scope)
            # Malformed or missing ids, and our own sessions, get the SDK's answer here.
            if session_id is not None and not routing.owns(session_id):
                await routing.forward_message(session_id, scope, receive, send)
                return
        await self.transport.handle_post_message(scope, receive, send)


def _session_id_of(scope: Scope) -> str | None:
    """The session id of a message URL in its canonical form (the SDK accepts dashed UUIDs too)."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_id")
    if not values:
        return None
    try:
        return UUID(hex=values[0]).hex
    except ValueError:
        return None
