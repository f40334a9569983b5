"""The cluster's place in the app: ASGI wrappers that send a request for a session owned by
another process to its owner, and pass every other request to the transport unchanged.

``app.py`` wraps the transports' endpoints with these only when ``[cluster]`` is set, so the
transports never know about other processes. A request another process forwarded here is
never sent on again: if its session is not here either, the transport answers 404.
A request with no session (``initialize``, a 2026-07-28 request, a new SSE stream) is
served where it lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs
from uuid import UUID

from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.cluster.forward import FORWARDED_HEADER

if TYPE_CHECKING:
    from mcp_host.cluster.node import ClusterNode


class ForwardStreamableRequests:
    """``<server>/mcp``: a request whose ``Mcp-Session-Id`` another process owns is proxied there."""

    def __init__(self, app: ASGIApp, node: ClusterNode) -> None:
        self._app = app
        self._node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = _header(scope, MCP_SESSION_ID_HEADER.lower().encode())
        if session_id is None or self._node.owns(session_id) or _was_forwarded(scope):
            await self._app(scope, receive, send)
            return
        await self._node.forward_request(session_id, scope, receive, send)


class ForwardSseMessages:
    """``<server>/messages/``: a message for a session another process owns is handed to it."""

    def __init__(self, app: ASGIApp, node: ClusterNode) -> None:
        self._app = app
        self._node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = _message_session_id(scope)
        # Malformed or missing ids, and our own sessions, get the SDK's answer from the transport.
        if session_id is None or self._node.owns(session_id):
            await self._app(scope, receive, send)
            return
        await self._node.forward_message(session_id, scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    return next((value.decode("latin-1") for key, value in scope["headers"] if key == name), None)


def _was_forwarded(scope: Scope) -> bool:
    return _header(scope, FORWARDED_HEADER.encode()) is not None


def _message_session_id(scope: Scope) -> str | None:
    """The session id of a message URL in its canonical form (the SDK accepts dashed UUIDs too)."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_id")
    if not values:
        return None
    try:
        return UUID(hex=values[0]).hex
    except ValueError:
        return None
