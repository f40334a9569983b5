"""``[auth]`` made into the pieces the app puts around each server: the token verifier, the gate
in front of a server's routes, the step-up check of tool calls and the resource metadata.

Static tokens alone get exactly the SDK's machinery they always had (``RequireAuthMiddleware``
with the scope ``mcp:<server>``). With ``[auth.oauth]``, the gate is the resource server's
(``mcp_host.resource_server``), which answers with the metadata the MCP authorization spec
asks for; static tokens still work beside it, for the servers they name.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcp.server.auth.middleware.bearer_auth import RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from mcp_host.access_rules import AccessRules
from mcp_host.blueprints import ServerBlueprint
from mcp_host.config import AuthSection
from mcp_host.oauth import OAuthTokenVerifier
from mcp_host.resource_server import RequireServerAccess, StepUpForTools, metadata_routes
from mcp_host.security import StaticTokenVerifier, server_scope


class AccessControl:
    """Who may reach which server; build it only when ``[auth]`` requires tokens (``needed``)."""

    def __init__(self, auth: AuthSection, server_keys: Iterable[str]) -> None:
        keys = list(server_keys)
        self._static = StaticTokenVerifier(auth, keys) if auth.tokens else None
        self._oauth_settings = auth.oauth
        self._rules = AccessRules(auth.oauth.grants, keys) if auth.oauth is not None else None
        self._oauth = (
            OAuthTokenVerifier(auth.oauth, self._rules)
            if auth.oauth is not None and self._rules is not None
            else None
        )

    @staticmethod
    def needed(auth: AuthSection) -> bool:
        return bool(auth.tokens) or auth.oauth is not None

    async def verify_token(self, token: str) -> AccessToken | None:
        """The SDK's ``TokenVerifier``: a static token first, else an OAuth access token."""
        if self._static is not None and (found := await self._static.verify_token(token)) is not None:
            return found
        return await self._oauth.verify_token(token) if self._oauth is not None else None

    def guard(self, app: ASGIApp, server: str, path: str) -> ASGIApp:
        """Only a token that may use ``server`` reaches ``app`` (at ``path``)."""
        if self._oauth_settings is None or self._rules is None:
            return RequireAuthMiddleware(app, required_scopes=[server_scope(server)])
        return RequireServerAccess(app, server, self._oauth_settings, self._rules, path)

    def check_messages(self, app: ASGIApp, server: str, path: str) -> ASGIApp:
        """Around an app that takes messages: a tool call that needs more scope gets step-up."""
        if self._oauth_settings is None or self._rules is None:
            return app
        return StepUpForTools(app, server, self._oauth_settings, self._rules, path)

    def routes(self, blueprints: dict[str, ServerBlueprint]) -> list[BaseRoute]:
        """The Protected Resource Metadata of every server (none without ``[auth.oauth]``)."""
        if self._oauth_settings is None or self._rules is None:
            return []
        return list(metadata_routes(self._oauth_settings, blueprints, self._rules))
