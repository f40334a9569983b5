"""A client's session as plugins see it: ``PluginSession`` and ``current_session()``.

A ``HostSession`` exists from the moment a client's MCP server starts until its connection
ends (for a sessionless 2026-07-28 request, for that request); each plugin sees it through a
``PluginSession`` of its own. Which sessions are live, and whether a new one may open, is
``mcp_host.live_sessions``'s business.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Caller:
    """Who a client is, as its bearer token says.

    ``None`` on a host without tokens. For a static token of ``[[auth.tokens]]``, ``client_id``
    is its name and the rest is empty; for an OAuth access token (``[auth.oauth]``), the
    token's ``client_id`` (or ``azp``), ``sub``, ``iss``, scopes and the claims
    ``[auth.oauth] claims`` lets plugins see.
    """

    client_id: str
    subject: str | None = None
    """The user (or, for a client acting for itself, the client) the token was issued for."""
    issuer: str | None = None
    scopes: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class HostSession:
    """One connected client."""

    id: str
    server: str
    transport: str
    sessionless: bool = False
    """True for a 2026-07-28 request: it has no session, so this one lasts for that request."""
    started_at: float = field(default_factory=time.time)
    caller: Caller | None = None
    """Who opened the session (``mcp_host.identity``); every later request is the same
    identity, though its token may be another (refreshed, or with more scope)."""
    tools_allowed: frozenset[str] | None = None
    """The tools of this server the opening token may list and call; ``None``: every tool.
    Each request is judged by its own token (``servers._ToolAccess``)."""
    plugin_state: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_plugin(self, plugin: str) -> PluginSession:
        return PluginSession(self, plugin)

    def log_fields(self) -> dict[str, str]:
        """What identifies the session in structured log records."""
        return {"session_id": self.id, "server": self.server, "transport": self.transport}


class PluginSession:
    """A plugin's view of one client session: shared identity, private ``state``."""

    __slots__ = ("_host_session", "plugin")

    def __init__(self, host_session: HostSession, plugin: str) -> None:
        self._host_session = host_session
        self.plugin = plugin

    @property
    def id(self) -> str:
        """The session id, as the client sees it in its message URL or ``Mcp-Session-Id``.

        On a sessionless request (see ``sessionless``) it names that one request.
        """
        return self._host_session.id

    @property
    def sessionless(self) -> bool:
        """True while serving a request of the sessionless protocol revision 2026-07-28.

        Such a request carries everything it needs and belongs to no session, so it is a
        session of its own for the plugin that serves it: ``session_started`` runs before it
        and ``session_ended`` after it, and ``state`` lives for that one request. A tool that
        needs memory across calls keeps it where the client can send it back (arguments, or
        the sealed ``requestState`` of a multi-round call).
        """
        return self._host_session.sessionless

    @property
    def server(self) -> str:
        """The name of the configured server the client connected to."""
        return self._host_session.server

    @property
    def transport(self) -> str:
        """How the client is connected: ``"sse"`` or ``"streamable-http"``."""
        return self._host_session.transport

    @property
    def caller(self) -> Caller | None:
        """Who the client is (subject, scopes, selected claims): inside a request, from the
        bearer token of that request; in ``session_started`` and ``session_ended``, from the
        one that opened the session (the same identity). ``None`` when the host requires no
        tokens. Added in hook API 1.3."""
        return _request_caller.get(self._host_session.caller)

    @property
    def state(self) -> dict[str, Any]:
        """A dict private to this plugin and this client, emptied when the session ends
        (on a sessionless request, when the request is answered)."""
        return self._host_session.plugin_state.setdefault(self.plugin, {})

    def __repr__(self) -> str:
        return f"PluginSession(id={self.id!r}, server={self.server!r}, plugin={self.plugin!r})"


_current: contextvars.ContextVar[PluginSession] = contextvars.ContextVar("mcp_host_current_session")
_request_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("mcp_host_request_caller")


@contextmanager
def sent_by(caller: Caller | None) -> Iterator[None]:
    """While a request is handled: who sent it (what ``PluginSession.caller`` answers)."""
    token = _request_caller.set(caller)
    try:
        yield
    finally:
        _request_caller.reset(token)


def current_session() -> PluginSession:
    """The session of the client whose request is being handled, as seen by this plugin.

    Valid inside a tool, resource or prompt function while the host serves a request.
    """
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError(
            "mcp_host.current_session() is only available while the host handles a client request"
        ) from None


@contextmanager
def acting_for(session: PluginSession) -> Iterator[None]:
    token = _current.set(session)
    try:
        yield
    finally:
        _current.reset(token)
