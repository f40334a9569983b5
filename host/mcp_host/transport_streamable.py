"""The MCP Streamable HTTP transport at ``<server>/mcp``, with a fresh server per MCP session.

The SDK's ``StreamableHTTPSessionManager`` runs every session on one shared server, which
would break the promise that each client has its own. This module keeps its session
bookkeeping and hands each new session a server of its own from the ``ServerFactory``; the
SDK's ``StreamableHTTPServerTransport`` still does all the protocol work of a session.

The era is chosen per request, as the SDK does: a request whose ``MCP-Protocol-Version``
names a revision after the handshake era (2026-07-28) has no session and goes to
``transport_modern``; every other request is the handshake era's, served here.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import uuid4

import anyio
import anyio.abc
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    AuthorizationContext,
    authorization_context,
)
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER, StreamableHTTPServerTransport
from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from mcp_host.asgi import CompletingSend, ReleasableReceive
from mcp_host.background import Background
from mcp_host.blueprints import ServerBlueprint
from mcp_host.event_store import SessionEventStore
from mcp_host.identity import caller_in, tools_allowed_in
from mcp_host.jsonrpc_errors import jsonrpc_error, session_not_found
from mcp_host.live_sessions import Admission, SessionRefused, SessionRegistry
from mcp_host.security import caller_of
from mcp_host.servers import ServerFactory
from mcp_host.session import HostSession
from mcp_host.transport_modern import SessionlessRequests

logger = logging.getLogger(__name__)

TRANSPORT = "streamable-http"

RECONNECT_AFTER_MS = 1000
"""How soon a client whose response stream broke should reconnect for the rest (SSE ``retry``)."""


@dataclass(frozen=True)
class _LiveSession:
    transport: StreamableHTTPServerTransport
    owner: AuthorizationContext | None
    """The credential that opened it: only that one may use it."""
    admission: Admission


class StreamableHttpServer:
    """All the Streamable HTTP sessions of one configured server."""

    def __init__(
        self,
        blueprint: ServerBlueprint,
        factory: ServerFactory,
        sessions: SessionRegistry,
        security: TransportSecuritySettings | None,
        max_request_body_size: int,
        idle_timeout_s: float,
        resumable_events: int,
        sessionless: SessionlessRequests,
        abandoned_timeout_s: float | None = None,
    ) -> None:
        self._blueprint = blueprint
        self._sessionless = sessionless
        self._factory = factory
        self._sessions = sessions
        self._security = security
        self._idle_timeout_s = idle_timeout_s
        # Reaping sooner only means something when it is sooner than the idle timeout.
        self._abandoned_timeout_s = (
            abandoned_timeout_s
            if abandoned_timeout_s is not None and abandoned_timeout_s < idle_timeout_s
            else None
        )
        self._unconfirmed: set[str] = set()
        """Sessions no request has followed since their initialize (see ``_reap_if_left``)."""
        self._resumable_events = resumable_events
        self._live: dict[str, _LiveSession] = {}
        self._background = Background("the Streamable HTTP transport")
        self._app = RequestBodyLimitMiddleware(self._handle, max_request_body_size)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Holds the sessions' server tasks and the sessionless server; leaving it ends them."""
        async with self._sessionless.running(), self._background.running():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        version = request.headers.get(MCP_PROTOCOL_VERSION_HEADER)
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            # The SDK's own test, so that both pick the same era for every request (an unknown
            # version is the modern entry's to refuse, with the versions it speaks).
            await self._sessionless(scope, receive, send)
            return
        session_id = request.headers.get(MCP_SESSION_ID_HEADER)
        if session_id is None:
            # Only an initialize request opens a session; checked before anything is built for it.
            body = await request.body() if scope["method"] == "POST" else b""
            if not _is_initialize(body):
                await jsonrpc_error("Bad Request: Missing session ID", 400, INVALID_REQUEST)(
                    scope, receive, send
                )
                return
            await self._open_session(scope, _replay(body, receive), send)
            return
        live = self._live.get(session_id)
        if live is None or live.owner != _credential(scope):
            # Another credential's session is answered exactly like an unknown one.
            await session_not_found()(scope, receive, send)
            return
        transport = live.transport
        self._unconfirmed.discard(session_id)  # used: it keeps the full idle timeout
        completing_send = CompletingSend(send)
        # The SDK keeps a session's last message, with its HTTP request: let it not keep the
        # request's connection too (``ReleasableReceive``).
        request_receive = ReleasableReceive(receive)
        try:
            await transport.handle_request(scope, request_receive, completing_send)
        finally:
            request_receive.release()
        await completing_send.complete()
        if transport.is_terminated:
            await self._discard(session_id, transport)

    async def _open_session(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            admission = self._sessions.admit(caller_of(scope))
        except SessionRefused as refusal:
            await _refused(refusal)(scope, receive, send)
            return
        session_id = uuid4().hex
        transport = StreamableHTTPServerTransport(
            mcp_session_id=session_id,
            security_settings=self._security,
            idle_timeout=self._idle_timeout_s,
            event_store=SessionEventStore(self._resumable_events) if self._resumable_events else None,
            retry_interval=RECONNECT_AFTER_MS,
        )
        self._live[session_id] = _LiveSession(transport, _credential(scope), admission)
        self._unconfirmed.add(session_id)
        established = False
        try:
            try:
                await admission.claim(session_id)
            except SessionRefused as refusal:
                await _refused(refusal)(scope, receive, send)
                return
            session = HostSession(
                id=session_id,
                server=self._blueprint.key,
                transport=TRANSPORT,
                caller=caller_in(scope),
                tools_allowed=tools_allowed_in(scope, self._blueprint.key),
            )
            await self._background.tasks.start(self._run_session, session, transport)
            request_receive = ReleasableReceive(receive)
            try:
                status = await _respond_reporting_status(
                    transport.handle_request, scope, request_receive, send
                )
            finally:
                request_receive.release()
            # Only an accepted initialize opens a session; anything else leaves nothing behind.
            established = status is not None and status < 400
            if established:
                self._reap_if_left(session_id, transport)
        finally:
            if not established:
                await self._discard(session_id, transport)

    def _reap_if_left(self, session_id: str, transport: StreamableHTTPServerTransport) -> None:
        """Close the session soon unless another request follows its initialize.

        Every client sends ``notifications/initialized`` right after ``initialize``; a session
        that nothing follows was opened and left, and would hold its place (and count against
        its client's quota) until the idle timeout. The spec lets a server end a session at
        any time: its id then gets 404, and a client that comes back opens a new one. The
        SDK's idle countdown restarts from the full timeout when the next request ends."""
        scope = transport.idle_scope
        if self._abandoned_timeout_s is None or scope is None or session_id not in self._unconfirmed:
            return  # no idle countdown, or another request came already
        if math.isinf(scope.deadline):
            return  # a request in flight: its end restarts the full countdown
        scope.deadline = min(scope.deadline, anyio.current_time() + self._abandoned_timeout_s)

    async def _run_session(
        self,
        session: HostSession,
        transport: StreamableHTTPServerTransport,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        async with transport.connect() as (read_stream, write_stream):
            task_status.started()
            idle_scope = transport.idle_scope or anyio.CancelScope()
            blueprint = self._blueprint
            session_id = session.id
            try:
                with idle_scope:
                    await self._factory.serve(blueprint, session, read_stream, write_stream)
                if (
                    idle_scope.cancelled_caught
                    and session_id in self._unconfirmed
                    and self._abandoned_timeout_s is not None
                ):
                    logger.info(
                        "session %s closed: no request followed its initialize within %g s",
                        session_id,
                        self._abandoned_timeout_s,
                    )
                elif idle_scope.cancelled_caught:
                    logger.info(
                        "session %s ended after %s s without requests", session_id, self._idle_timeout_s
                    )
            except Exception:
                logger.exception("session %s crashed", session_id)
            finally:
                await self._discard(session_id, transport)

    async def _discard(self, session_id: str, transport: StreamableHTTPServerTransport) -> None:
        """Forget the session at once (its id answers 404 from now on, and its place is free),
        then close its transport."""
        live = self._live.pop(session_id, None)
        self._unconfirmed.discard(session_id)
        if live is not None:
            live.admission.release()
        if not transport.is_terminated:
            with anyio.CancelScope(shield=True):
                await transport.terminate()


def _credential(scope: Scope) -> AuthorizationContext | None:
    """Who opened or uses a session: the bearer token's identity, when tokens are required."""
    user = scope.get("user")
    return authorization_context(user) if isinstance(user, AuthenticatedUser) else None


def _refused(refusal: SessionRefused) -> Response:
    return jsonrpc_error(str(refusal), refusal.status_code, INTERNAL_ERROR)


def _is_initialize(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("method") == "initialize" and "id" in message


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the transport the body we already read, then the real events."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()  # the client's disconnect, when it comes
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _respond_reporting_status(
    app: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope, receive: Receive, send: Send
) -> int | None:
    status: int | None = None

    async def watch(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    await app(scope, receive, watch)
    return status
