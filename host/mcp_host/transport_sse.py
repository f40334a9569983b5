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

from mcp_host.asgi import CompletingSend, ReleasableReceive
from mcp_host.blueprints import ServerBlueprint
from mcp_host.identity import caller_in, tools_allowed_in
from mcp_host.live_sessions import Admission, SessionRefused, SessionRegistry
from mcp_host.security import caller_of
from mcp_host.servers import ServerFactory
from mcp_host.session import HostSession

logger = logging.getLogger(__name__)

STREAM_END_S = 5.0
"""How long a stream may take to send its last events once its session has ended."""
ENDPOINT_EVENT_TIMEOUT_S = 10.0
_SESSION_ID = re.compile(rb"[?&]session_id=([0-9a-f]{32})")


def endpoint_session_id(message: Message) -> str | None:
    """The session id in the ``endpoint`` event, if ``message`` carries it.

    The SDK makes the id up inside ``connect_sse`` and publishes it only in that event, the
    first thing on every stream; reading it there keeps us off the transport's internals.
    """
    if message["type"] != "http.response.body":
        return None
    match = _SESSION_ID.search(message.get("body", b""))
    return match.group(1).decode() if match else None


class _ClaimBeforeEndpoint(CompletingSend):
    """Holds the stream's response back until its session is claimed.

    The client may post its first message to another process of a cluster as soon as it
    reads the ``endpoint`` event, and that process must already find the owner. When the
    claim is refused, the client gets a 503 instead of a stream.
    """

    def __init__(self, scope: Scope, send: Send, claim: Callable[[str], Awaitable[None]]) -> None:
        super().__init__(send)
        self._scope = scope
        self._claim = claim
        self._decided = anyio.Event()
        self._held_start: Message | None = None
        self.session_id: str | None = None
        self.refusal: SessionRefused | None = None

    async def __call__(self, message: Message) -> None:
        if self.refusal is not None:
            return
        if self.session_id is None:
            if message["type"] == "http.response.start":
                self._held_start = message
                return
            session_id = endpoint_session_id(message)
            if session_id is not None:
                try:
                    await self._claim(session_id)
                except SessionRefused as refusal:
                    self.refusal = refusal
                    self._decided.set()
                    await _refused(refusal)(self._scope, _no_receive, super().__call__)
                    return
                self.session_id = session_id
                self._decided.set()
            if self._held_start is not None:
                await super().__call__(self._held_start)
                self._held_start = None
        await super().__call__(message)

    async def wait_for_session_id(self) -> str | None:
        with anyio.move_on_after(ENDPOINT_EVENT_TIMEOUT_S):
            await self._decided.wait()
        if self._decided.is_set():
            # Decided for good: the claim and its event are not needed for the stream's life.
            del self._claim, self._decided
        return self.session_id


async def _no_receive() -> Message:
    """A refusal is answered without reading the request: nothing to receive."""
    return {"type": "http.disconnect"}


def _refused(refusal: SessionRefused) -> PlainTextResponse:
    return PlainTextResponse(str(refusal), refusal.status_code)


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
            admission = self._sessions.admit(caller_of(scope))
        except SessionRefused as refusal:
            await _refused(refusal)(scope, receive, send)
            return
        try:
            await self._stream(admission, scope, receive, send)
        finally:
            admission.release()

    async def _stream(self, admission: Admission, scope: Scope, receive: Receive, send: Send) -> None:
        async def claim(session_id: str) -> None:
            await admission.claim(session_id, self.transport.handle_post_message)

        stream_send = _ClaimBeforeEndpoint(scope, send, claim)
        connected = False
        try:
            with anyio.CancelScope() as stream:
                async with self.transport.connect_sse(scope, receive, stream_send) as (
                    read_stream,
                    write_stream,
                ):
                    connected = True
                    session_id = await stream_send.wait_for_session_id()
                    if stream_send.refusal is not None:
                        stream.cancel()
                    if session_id is None:
                        logger.warning("SSE stream closed before its endpoint event was sent")
                        return
                    blueprint = self._blueprint
                    session = HostSession(
                        id=session_id,
                        server=blueprint.key,
                        transport="sse",
                        caller=caller_in(scope),
                        tools_allowed=tools_allowed_in(scope, blueprint.key),
                    )
                    await self._factory.serve(blueprint, session, read_stream, write_stream)
                    # The server is done; its stream ends once its last events are out. A client
                    # that does not read them would hold the stream, and the session's id (its
                    # POSTs answered 202 and dropped), for as long as it stays connected.
                    stream.deadline = anyio.current_time() + STREAM_END_S
        except ValueError:
            # connect_sse raises ValueError after it has answered a rejected request (421/403).
            if connected:
                raise
            return
        with anyio.move_on_after(STREAM_END_S):
            await stream_send.complete()

    async def handle_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST .../messages/?session_id=...``: hand the message to its session."""
        request_receive = ReleasableReceive(receive)
        try:
            await self.transport.handle_post_message(scope, request_receive, send)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            # The SDK answers 202 first and hands the message on after: a session that ended
            # meanwhile (its client left, or it was ended for not reading) cannot take it.
            logger.info("a message arrived for an SSE session as it ended; it was dropped")
        finally:
            request_receive.release()
