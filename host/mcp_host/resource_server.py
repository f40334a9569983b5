"""The HTTP side of the OAuth resource server (``[auth.oauth]``), as the MCP authorization spec
describes it: Protected Resource Metadata (RFC 9728) for each server's URLs, the 401 and 403
answers that point to it, and the step-up challenge (``insufficient_scope`` with the scope
needed) for a server or a tool the token's grants do not open.

Tokens themselves are verified by ``mcp_host.oauth`` through the SDK's authentication
backend, which puts the result in the ASGI scope before any of this runs.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from mcp.server.auth.handlers.metadata import ProtectedResourceMetadataHandler
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.routes import cors_middleware
from mcp.shared.auth import ProtectedResourceMetadata
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.access_rules import AccessRules, GrantedAccessToken
from mcp_host.asgi import read_body
from mcp_host.blueprints import ServerBlueprint
from mcp_host.config import OAuthSection
from mcp_host.security import server_scope

logger = logging.getLogger(__name__)

METADATA_PREFIX = "/.well-known/oauth-protected-resource"


def _public_prefix(settings: OAuthSection) -> str:
    """The path under which clients reach the host (a proxy's prefix), from ``audience``."""
    return urlsplit(settings.audience).path.rstrip("/")


def metadata_url(settings: OAuthSection, server_path: str) -> str:
    """Where clients find the metadata of the server at ``server_path`` (RFC 9728 §3.1): on
    the origin of ``audience``, after the well-known prefix, the server's public path."""
    parts = urlsplit(settings.audience)
    public_path = _public_prefix(settings) + server_path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{METADATA_PREFIX}{public_path}"


def metadata_routes(
    settings: OAuthSection, blueprints: dict[str, ServerBlueprint], rules: AccessRules
) -> list[Route]:
    """The metadata of the host's resource (``audience``) at each server's URLs, and at the
    host's own, each listing the scopes that open that server."""
    routes: list[Route] = []
    every_scope: dict[str, None] = {}
    for key, blueprint in blueprints.items():
        scopes = rules.scopes_for(key)
        every_scope.update(dict.fromkeys(scopes))
        for path in (blueprint.mcp_path, blueprint.sse_path, blueprint.messages_path):
            routes.extend(_metadata_routes(settings, path, scopes, blueprint.profile.name))
    routes.extend(_metadata_routes(settings, "", list(every_scope), None))
    return routes


def _metadata_routes(
    settings: OAuthSection, server_path: str, scopes: list[str], name: str | None
) -> list[Route]:
    # Validated from the config's strings: the model keeps a URL's path as written (an issuer
    # without a trailing slash stays without one, as its tokens' "iss" has it).
    metadata = ProtectedResourceMetadata.model_validate(
        {
            "resource": settings.audience,
            "authorization_servers": [settings.issuer],
            "scopes_supported": scopes or None,
            "resource_name": name,
        }
    )
    endpoint = cors_middleware(ProtectedResourceMetadataHandler(metadata).handle, ["GET", "OPTIONS"])
    # Behind a proxy with a path prefix, the well-known URL holds the prefix after the
    # well-known part: whether the proxy passes it on unchanged or without its prefix, it is found.
    paths = dict.fromkeys(
        [
            METADATA_PREFIX + server_path.rstrip("/"),
            METADATA_PREFIX + _public_prefix(settings) + server_path.rstrip("/"),
        ]
    )
    return [Route(path, endpoint=endpoint, methods=["GET", "OPTIONS"]) for path in paths]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _challenge(
    send: Send, status: int, metadata: str, scopes: list[str], error: str | None, description: str
) -> None:
    """A 401 or 403 with ``WWW-Authenticate: Bearer ...`` (RFC 6750 §3, RFC 9728 §5.1)."""
    parts = []
    if error is not None:
        parts += [f"error={_quoted(error)}", f"error_description={_quoted(description)}"]
    if scopes:
        parts.append(f"scope={_quoted(' '.join(scopes))}")
    parts.append(f"resource_metadata={_quoted(metadata)}")
    body = json.dumps({"error": error or "invalid_token", "error_description": description}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", ("Bearer " + ", ".join(parts)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequireServerAccess:
    """In front of one server's route: 401 without a valid token, 403 ``insufficient_scope``
    (with the scopes that would open it) for a token that may not use this server.

    A static token of ``[[auth.tokens]]`` opens the servers its scopes name, as it does
    without ``[auth.oauth]``; an OAuth token, those its grants open."""

    def __init__(
        self, app: ASGIApp, server: str, settings: OAuthSection, rules: AccessRules, path: str
    ) -> None:
        self.app = app
        self._server = server
        self._metadata = metadata_url(settings, path)
        self._scopes = rules.scopes_for(server)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser):
            presented = "authorization" in Headers(scope=scope)
            error, description = (
                ("invalid_token", "The access token is not valid here")
                if presented
                else (None, "Authentication required")
            )
            await _challenge(send, 401, self._metadata, self._scopes, error, description)
            return
        token = user.access_token
        if isinstance(token, GrantedAccessToken):
            allowed = self._server in token.servers
        else:
            allowed = server_scope(self._server) in token.scopes
        if not allowed:
            logger.info(
                "token of %s refused on server %r: no grant opens it",
                token.client_id,
                self._server,
                extra={"event": "token_refused", "reason": "insufficient_scope", "server": self._server},
            )
            description = f"This token may not use server {self._server!r}"
            await _challenge(send, 403, self._metadata, self._scopes, "insufficient_scope", description)
            return
        await self.app(scope, receive, send)


class StepUpForTools:
    """403 ``insufficient_scope`` with the scope needed, for a ``tools/call`` of a tool this
    server has but the token's grants do not open, when some scope would open it.

    A tool no scope would open is left to the server, which answers it as a tool it does not
    have (``servers._ToolAccess``). Put it inside ``RequestBodyLimitMiddleware``: it reads
    the whole body."""

    def __init__(
        self, app: ASGIApp, server: str, settings: OAuthSection, rules: AccessRules, path: str
    ) -> None:
        self.app = app
        self._server = server
        self._rules = rules
        self._metadata = metadata_url(settings, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not isinstance(user, AuthenticatedUser)
            or not isinstance(user.access_token, GrantedAccessToken)
            or user.access_token.servers.get(self._server) is None
        ):
            await self.app(scope, receive, send)
            return
        allowed = user.access_token.servers[self._server] or frozenset()
        body, replay = await read_body(receive)
        tool = _called_tool(body)
        if tool is not None and tool not in allowed:
            needed = self._rules.scopes_for(self._server, tool)
            if needed:
                logger.info(
                    "token of %s asked to step up for tool %r on server %r",
                    user.access_token.client_id,
                    tool[:80],
                    self._server,
                    extra={"event": "token_refused", "reason": "insufficient_scope", "server": self._server},
                )
                description = f"Calling {tool[:80]!r} needs more scope"
                await _challenge(send, 403, self._metadata, needed, "insufficient_scope", description)
                return
        await self.app(scope, replay, send)


def _called_tool(body: bytes) -> str | None:
    """The tool a single ``tools/call`` request names; ``None`` for anything else."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None
