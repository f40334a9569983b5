"""Who may reach the MCP endpoints: Host/Origin checks and bearer tokens.

Both are enforced by the SDK's own machinery (``TransportSecuritySettings`` in the
transports, ``BearerAuthBackend`` and ``RequireAuthMiddleware`` around them); this module
turns the config into those objects.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.addresses import url_host
from mcp_host.config import AuthSection, SecuritySection

logger = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_names(bind_host: str) -> list[str]:
    """The names a client can use to reach an address: loopback names, and more for others."""
    names = list(LOOPBACK_NAMES)
    if _is_loopback(bind_host):
        return names
    if bind_host in WILDCARD_ADDRESSES:
        names.extend(dict.fromkeys([socket.gethostname(), socket.getfqdn()]))
    else:
        names.append(url_host(bind_host))
    return names


def transport_security(bind_host: str, settings: SecuritySection) -> TransportSecuritySettings | None:
    """DNS-rebinding protection: a web page must not be able to reach our tools through a
    browser. On by default, with the names of the listening address; ``None`` when off."""
    if not settings.dns_rebinding_protection:
        logger.warning("DNS-rebinding protection is off: any Host and Origin header is accepted")
        return None
    if settings.allowed_hosts is not None:
        hosts = settings.allowed_hosts
    else:
        names = _host_names(bind_host)
        hosts = [*names, *(f"{name}:*" for name in names)]
    if settings.allowed_origins is not None:
        origins = settings.allowed_origins
    else:
        origins = [f"{scheme}://{host}" for scheme in ("http", "https") for host in hosts]
    logger.debug("accepted Host headers: %s", ", ".join(hosts))
    logger.debug("accepted Origin headers: %s (and requests without one)", ", ".join(origins))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


_PORT = re.compile(r"[0-9]{1,5}")


def _port_is_malformed(value: str, prefix_length: int = 0) -> bool:
    """Whether ``host[:port]`` (after a ``scheme://`` prefix) has a port that is no number.

    The SDK matches a ``name:*`` entry by prefix, so ``127.0.0.1:evil`` would pass it."""
    address = value[prefix_length:]
    if address.startswith("["):
        _, bracket, rest = address.partition("]")
        if not bracket:
            return True
        if not rest:
            return False
        if not rest.startswith(":"):
            return True
        port = rest[1:]
    elif ":" in address:
        port = address.rpartition(":")[2]
    else:
        return False
    return _PORT.fullmatch(port) is None


class WellFormedPorts:
    """Refuses a ``Host`` (421) or ``Origin`` (403) whose port is not a number, before the SDK's
    own checks, which would take any text after ``name:`` for the port of a ``name:*`` entry."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            host = headers.get("host")
            origin = headers.get("origin")
            if host is not None and _port_is_malformed(host):
                await Response("Invalid Host header", status_code=421)(scope, receive, send)
                return
            if origin is not None and _port_is_malformed(origin, len(origin.partition("://")[0]) + 3):
                await Response("Invalid Origin header", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def server_scope(server_key: str) -> str:
    """The scope a token needs to use one configured server."""
    return f"mcp:{server_key}"


class StaticTokenVerifier:
    """Checks bearer tokens against the ones listed in ``[auth]`` (the SDK's ``TokenVerifier``).

    Every listed token is compared, in constant time, whatever matched, so that timing does
    not tell how much of a guess was right or which entry it was close to.
    """

    def __init__(self, auth: AuthSection, server_keys: Iterable[str]) -> None:
        keys = list(server_keys)
        self._entries = [
            (
                entry.token.get_secret_value().encode(),
                entry.name,
                [server_scope(key) for key in (entry.servers if entry.servers is not None else keys)],
            )
            for entry in auth.tokens
        ]

    async def verify_token(self, token: str) -> AccessToken | None:
        presented = token.encode()
        match: AccessToken | None = None
        for secret, name, scopes in self._entries:
            if hmac.compare_digest(presented, secret) and match is None:
                match = AccessToken(token=token, client_id=name, scopes=scopes)
        return match


def bearer_matches(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def caller_of(scope: Scope) -> str:
    """Who is asking: the bearer token's holder when tokens are required, else the client's
    address. What limits that count per client count by this."""
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser):
        token = user.access_token
        # Many users sign in through one OAuth client (Cursor's, say): each user is a client.
        if token.subject is not None:
            return f"user {token.subject}"
        return f"token {token.client_id}"
    client = scope.get("client")
    return f"address {client[0]}" if client else "address unknown"
