"""Client sessions: what the host knows about each connected client, and who can see it.

A ``HostSession`` exists from the moment a client's MCP server starts until its connection
ends. The ``SessionRegistry`` is the one place that knows which sessions are live in this
process; transports register and unregister sessions through it. When several processes
share their sessions (``[cluster]``), its ``routing`` tells the others which process owns
which session, and hands them requests for sessions owned elsewhere; without it, nothing
about a session ever leaves the process.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class HostSession:
    """One connected client."""

    id: str
    server: str
    transport: str
    sessionless: bool = False
    """True for a 2026-07-28 request: it has no session, so this one lasts for that request."""
    started_at: float = field(default_factory=time.time)
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
    def state(self) -> dict[str, Any]:
        """A dict private to this plugin and this client, emptied when the session ends
        (on a sessionless request, when the request is answered)."""
        return self._host_session.plugin_state.setdefault(self.plugin, {})

    def __repr__(self) -> str:
        return f"PluginSession(id={self.id!r}, server={self.server!r}, plugin={self.plugin!r})"


_current: contextvars.ContextVar[PluginSession] = contextvars.ContextVar("mcp_host_current_session")


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


class SessionRouting(Protocol):
    """Routing of sessions between the processes of a cluster (``mcp_host.cluster``).

    A transport claims a session id before the client learns it, so that every process can
    find the owner from the client's first request on, and releases it when the session
    ends. A request for a session this process does not hold goes to ``forward_*``.
    """

    def refusal(self) -> str | None:
        """Why no new session can be opened now (the routing store is unreachable), if so."""
        ...

    async def claim(self, session_id: str, deliver: ASGIApp | None = None) -> bool:
        """Publish this process as the session's owner; ``False`` if that failed.

        ``deliver`` is the ASGI app that takes a message POSTed for the session (HTTP+SSE),
        for messages other processes hand over.
        """
        ...

    def release(self, session_id: str) -> None:
        """The session ended: stop routing to it."""
        ...

    def owns(self, session_id: str) -> bool:
        """Whether the session is claimed by this process."""
        ...

    async def forward_message(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand a ``POST .../messages/`` to the process that owns the session, and answer it."""
        ...

    async def forward_request(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Proxy a Streamable HTTP request to the process that owns the session."""
        ...


class SessionRefused(Exception):
    """No new session can be opened now; the message says why, for the log and the client."""


class Admission:
    """A client's place under ``max_sessions``, held from its first request until its
    connection or session ends. ``release()`` gives it back; releasing twice is harmless."""

    __slots__ = ("_registry",)

    def __init__(self, registry: SessionRegistry) -> None:
        self._registry: SessionRegistry | None = registry

    def release(self) -> None:
        if self._registry is not None:
            self._registry._admitted -= 1
            self._registry = None


class SessionRegistry:
    """The live sessions of this process, and admission of new ones up to ``max_sessions``."""

    def __init__(self, max_sessions: int | None = None) -> None:
        self._sessions: dict[str, HostSession] = {}
        self._admitted = 0
        self.max_sessions = max_sessions
        self.routing: SessionRouting | None = None
        """Set when sessions are shared with other processes; ``None`` for a lone process."""

    def is_full(self) -> bool:
        return self.max_sessions is not None and self._admitted >= self.max_sessions

    def admission_refusal(self) -> str | None:
        """Why a new session cannot be opened right now, or ``None`` if it can."""
        if self.is_full():
            return f"the host is serving its maximum of {self.max_sessions} sessions; try again later"
        if self.routing is not None:
            return self.routing.refusal()
        return None

    def admit(self) -> Admission:
        """Take a place for a new client, or raise ``SessionRefused``.

        The place counts from this moment, before the client's server exists, and nothing
        awaits between the check and the taking: clients connecting together cannot
        overshoot the limit, and admission needs no lock.
        """
        refusal = self.admission_refusal()
        if refusal is not None:
            raise SessionRefused(refusal)
        self._admitted += 1
        return Admission(self)

    def add(self, session: HostSession) -> None:
        self._sessions[session.id] = session

    def remove(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def get(self, session_id: str) -> HostSession | None:
        return self._sessions.get(session_id)

    def __len__(self) -> int:
        return len(self._sessions)

    def counts(self) -> dict[str, dict[str, int]]:
        """Open sessions by server and transport."""
        result: dict[str, dict[str, int]] = {}
        for session in self._sessions.values():
            by_transport = result.setdefault(session.server, {})
            by_transport[session.transport] = by_transport.get(session.transport, 0) + 1
        return result
