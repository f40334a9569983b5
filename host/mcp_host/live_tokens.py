"""``[auth]`` as the running host's config has it now: a reload that adds, removes or changes a
static token, or adds a named server, applies from the next request."""

from __future__ import annotations

from mcp.server.auth.provider import AccessToken
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from mcp_host.access import AccessControl
from mcp_host.blueprints import ServerBlueprint
from mcp_host.config import AuthSection
from mcp_host.host import Host


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
