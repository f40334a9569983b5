"""Who a request comes from, as sessions keep it: the ``Caller`` plugins see and the tools the
caller may use, read from the bearer token the SDK's authentication put in the ASGI scope."""

from __future__ import annotations

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import principal_components
from starlette.types import Scope

from mcp_host.access_rules import GrantedAccessToken
from mcp_host.session import Caller


def caller_in(scope: Scope) -> Caller | None:
    """The caller of a request; ``None`` on a host without tokens."""
    user = scope.get("user")
    if not isinstance(user, AuthenticatedUser):
        return None
    token = user.access_token
    client_id, issuer, subject = principal_components(token)
    claims = {key: value for key, value in (token.claims or {}).items() if key != "iss"}
    return Caller(
        client_id=client_id, subject=subject, issuer=issuer, scopes=tuple(token.scopes), claims=claims
    )


def tools_allowed_in(scope: Scope, server: str) -> frozenset[str] | None:
    """The tools of ``server`` the request's token may list and call; ``None``: every tool.

    A static token opens whole servers; an OAuth token may be granted only some tools."""
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser) and isinstance(user.access_token, GrantedAccessToken):
        return user.access_token.servers.get(server, frozenset())
    return None
