"""The live client sessions of this process, and the one way a new one opens.

Both transports open a session the same way: ``admit()`` takes a place under
``max_sessions`` before anything is built for the client (or raises ``SessionRefused``),
``Admission.claim(session_id)`` publishes the session before the client learns its id, and
``Admission.release()`` gives both back when the session ends. Claims matter only when
several processes share their sessions (``[cluster]``): the cluster's ``SessionClaims``
tells the other processes which one owns a session. Without it, a claim is a no-op and
nothing about a session leaves the process.
"""

from __future__ import annotations

import logging
from typing import Protocol

from starlette.types import ASGIApp

from mcp_host.session import HostSession

logger = logging.getLogger(__name__)

CLAIMS_UNREACHABLE = "cannot accept new sessions now: the session routing store is unreachable"


class SessionClaims(Protocol):
    """Ownership of sessions among the processes of a cluster (``mcp_host.cluster``)."""

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


class SessionRefused(Exception):
    """No new session can be opened now; the message says why, for the log and the client."""

    def __init__(self, message: str, status_code: int = 503) -> None:
        super().__init__(message)
        self.status_code = status_code
        """503 when the host cannot take more; 429 when this client holds its share."""


class Admission:
    """A client's place under ``max_sessions``, held from its first request until its
    connection or session ends, and its claim once it has an id. ``release()`` gives both
    back; releasing twice is harmless."""

    __slots__ = ("_claimed", "_client", "_registry")

    def __init__(self, registry: SessionRegistry, client: str | None = None) -> None:
        self._registry: SessionRegistry | None = registry
        self._claimed: str | None = None
        self._client = client

    async def claim(self, session_id: str, deliver: ASGIApp | None = None) -> None:
        """Publish the session before its client learns the id, which it may send to another
        process next; ``SessionRefused`` if that failed."""
        claims = self._registry.claims if self._registry is not None else None
        if claims is None:
            return
        if not await claims.claim(session_id, deliver):
            logger.warning("refused a new session: its id could not be published to the cluster")
            raise SessionRefused(CLAIMS_UNREACHABLE)
        self._claimed = session_id

    def release(self) -> None:
        registry = self._registry
        if registry is None:
            return
        registry._admitted -= 1
        if self._client is not None:
            registry._give_back(self._client)
        if self._claimed is not None and registry.claims is not None:
            registry.claims.release(self._claimed)
        self._registry = None


class SessionRegistry:
    """The live sessions of this process, and admission of new ones up to ``max_sessions``."""

    def __init__(self, max_sessions: int | None = None, max_per_client: int | None = None) -> None:
        self._sessions: dict[str, HostSession] = {}
        self._admitted = 0
        self.max_sessions = max_sessions
        self.max_per_client = max_per_client
        """Sessions one client may hold (``max_sessions_per_client``), so that one client
        cannot take every place under ``max_sessions``."""
        self._by_client: dict[str, int] = {}
        self.claims: SessionClaims | None = None
        """Set when sessions are shared with other processes; ``None`` for a lone process."""

    def is_full(self) -> bool:
        return self.max_sessions is not None and self._admitted >= self.max_sessions

    def admission_refusal(self) -> str | None:
        """Why a new session cannot be opened right now, or ``None`` if it can."""
        if self.is_full():
            return f"the host is serving its maximum of {self.max_sessions} sessions; try again later"
        if self.claims is not None:
            return self.claims.refusal()
        return None

    def admit(self, client: str | None = None) -> Admission:
        """Take a place for a new session of ``client`` (``security.caller_of``: a token's
        holder or an address), or raise ``SessionRefused`` (and log why).

        The place counts from this moment, before the client's server exists, and nothing
        awaits between the check and the taking: clients connecting together cannot
        overshoot the limits, and admission needs no lock.
        """
        refusal = self.admission_refusal()
        status_code = 503
        held = self._by_client.get(client, 0) if client is not None else 0
        if refusal is None and self.max_per_client is not None and held >= self.max_per_client:
            refusal = (
                f"the client ({client}) already has its {held} open sessions, the most "
                "max_sessions_per_client allows; end one first (DELETE on /mcp, or close an SSE stream)"
            )
            status_code = 429
        if refusal is not None:
            logger.warning("refused a new session: %s", refusal)
            raise SessionRefused(refusal, status_code)
        self._admitted += 1
        if client is not None:
            self._by_client[client] = held + 1
        return Admission(self, client)

    def _give_back(self, client: str) -> None:
        held = self._by_client.get(client, 0) - 1
        if held > 0:
            self._by_client[client] = held
        else:
            self._by_client.pop(client, None)

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
