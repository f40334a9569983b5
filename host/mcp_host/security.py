"""Who may reach the MCP endpoints: Host/Origin checks and bearer tokens.

Both are enforced by the SDK's own machinery (``TransportSecuritySettings`` in the
transports, ``BearerAuthBackend`` and ``RequireAuthMiddleware`` around them); this module
turns the config into those objects.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
from collections.abc import Iterable

from mcp.server.auth.provider import AccessToken
from mcp.server.transport_security import TransportSecuritySettings

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
    logger.info("accepted Host headers: %s", ", ".join(hosts))
    logger.info("accepted Origin headers: %s (and requests without one)", ", ".join(origins))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


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
