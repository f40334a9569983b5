"""``[auth]`` as the running host's config has it now: a reload that adds, removes or changes a
static token, or adds a named server, applies from the next request, and ends the sessions a
static token it took away had opened."""

from __future__ import annotations

import logging

from mcp.server.auth.provider import AccessToken
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from mcp_host.access import AccessControl
from mcp_host.blueprints import ServerBlueprint
from mcp_host.config import AuthSection
from mcp_host.host import Host

logger = logging.getLogger(__name__)


class LiveAccessControl:
    """The host's ``AccessControl``, made again when a reload changed ``[auth]`` or the servers.

    Each request asks for it: a reload replaces ``Host.config`` and ``Host.blueprints``, so an
    identity check finds out, at no cost, whether they may have changed.
    """

    def __init__(self, host: Host) -> None:
        self._host = host
        self._auth: AuthSection = host.config.auth
        self._blueprints: dict[str, ServerBlueprint] = host.blueprints
        self._access = AccessControl(self._auth, self._blueprints)

    def _current(self) -> AccessControl:
        auth, blueprints = self._host.config.auth, self._host.blueprints
        if auth is not self._auth or blueprints is not self._blueprints:
            if auth != self._auth or list(blueprints) != list(self._blueprints):
                self._access = AccessControl(auth, blueprints)
            self._auth, self._blueprints = auth, blueprints
        return self._access

    async def verify_token(self, token: str) -> AccessToken | None:
        return await self._current().verify_token(token)

    def guard(self, app: ASGIApp, server: str, path: str) -> ASGIApp:
        return self._current().guard(app, server, path)

    def check_messages(self, app: ASGIApp, server: str, path: str) -> ASGIApp:
        return self._current().check_messages(app, server, path)

    def routes(self, blueprints: dict[str, ServerBlueprint]) -> list[BaseRoute]:
        return self._current().routes(blueprints)


def end_sessions_of_revoked_tokens(host: Host, old: AuthSection) -> None:
    """End each session a static token of ``[[auth.tokens]]`` opened, when the reload removed
    or changed that token or it no longer reaches the session's server: its next request would
    be refused, but an open SSE stream would go on. (An OAuth token is judged on each request.)"""
    new = host.config.auth
    if new is old or not old.tokens:
        return
    for live in list(host.factory.live.values()):
        session = live.session
        caller = session.caller if session is not None else None
        if session is None or caller is None or live.scope is None or caller.issuer is not None:
            continue
        name = caller.client_id
        before = next((entry for entry in old.tokens if entry.name == name), None)
        if before is None:
            continue  # not opened with a static token
        now = next((entry for entry in new.tokens if entry.name == name), None)
        if now is None:
            reason = f"the reload removed token {name!r}"
        elif before.token != now.token:
            reason = f"the reload changed token {name!r}"
        elif now.servers is not None and session.server not in now.servers:
            reason = f"token {name!r} no longer reaches server {session.server!r}"
        else:
            continue
        logger.warning(
            "session %s ended: %s",
            session.id,
            reason,
            extra={"event": "session_ended_by_reload", **session.log_fields()},
        )
        live.scope.cancel()
