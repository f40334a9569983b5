"""Transport security defaults: which Host and Origin headers the MCP endpoints accept."""

from __future__ import annotations

import ipaddress

from mcp.server.transport_security import TransportSecuritySettings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(bind_host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection for a host bound to loopback: only loopback names pass.

    A web page can make a browser send requests to a server on localhost; checking Host
    and Origin stops it. A host bound to another address is reached under names we cannot
    guess, so there the check is off until the allowed names are configured.
    """
    if not _is_loopback(bind_host):
        return None
    hosts = [*LOOPBACK_NAMES, *(f"{name}:*" for name in LOOPBACK_NAMES)]
    origins = [f"{scheme}://{host}" for scheme in ("http", "https") for host in hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )
