"""Who may use what: ``[[auth.oauth.grants]]`` applied to a verified OAuth access token.

A grant opens servers (and, optionally, only some of their tools) to a token that has its
scope, or whose claim (e.g. ``groups``) holds its value. A token gets the union of the grants
it matches. Without grants, the scope ``mcp:<server>`` opens a server, as for static tokens.
The result travels with the token (``GrantedAccessToken``), so that the gate in front of a
server, the step-up challenge and the tool filter inside the server all read the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mcp.server.auth.provider import AccessToken

from mcp_host.config import AccessGrant
from mcp_host.security import server_scope


class GrantedAccessToken(AccessToken):
    """An OAuth access token with what its grants open."""

    servers: dict[str, frozenset[str] | None]
    """Each server the token may use, with the tools it may use there (``None``: every tool)."""


class AccessRules:
    def __init__(self, grants: Iterable[AccessGrant], server_keys: Iterable[str]) -> None:
        self._grants = list(grants) or [
            AccessGrant(servers=[key], scope=server_scope(key)) for key in server_keys
        ]

    def grant(self, token: AccessToken, claims: Mapping[str, Any]) -> GrantedAccessToken:
        """``token`` with the servers and tools its scopes and ``claims`` (all of them) open."""
        servers: dict[str, frozenset[str] | None] = {}
        for grant in self._grants:
            if not _matches(grant, token.scopes, claims):
                continue
            for server in grant.servers:
                if grant.tools is None or (server in servers and servers[server] is None):
                    servers[server] = None
                else:
                    servers[server] = (servers.get(server) or frozenset()) | frozenset(grant.tools)
        return GrantedAccessToken(**token.model_dump(), servers=servers)

    def scopes_for(self, server: str, tool: str | None = None) -> list[str]:
        """The scopes that open ``server`` (and ``tool`` there): what a client may step up to."""
        return list(
            dict.fromkeys(
                grant.scope
                for grant in self._grants
                if grant.scope is not None
                and server in grant.servers
                and (tool is None or grant.tools is None or tool in grant.tools)
            )
        )


def _matches(grant: AccessGrant, scopes: list[str], claims: Mapping[str, Any]) -> bool:
    if grant.scope is not None:
        return grant.scope in scopes
    held = claims.get(grant.claim or "")
    if isinstance(held, list | tuple):
        return grant.value in held
    return held is not None and held == grant.value
