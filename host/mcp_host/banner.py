"""What the host says when it starts serving: one short block an operator reads at a glance.

The version and HTTP stack, each server's URLs on both transports (one ``serving`` event
per server, with the URLs as fields, which ``mcp_host.testing`` reads), the plugins loaded
and failed, and one line on security. The Host and Origin lists behind that line are logged
at debug level (``mcp_host.security``).
"""

from __future__ import annotations

import logging

from mcp_host.host import Host
from mcp_host.plugins import PluginStatus
from mcp_host.version import host_version

logger = logging.getLogger("mcp_host.serving")


def log_banner(host: Host, base_url: str, stack: str) -> None:
    logger.info(
        "mcp-host %s running with %s; status page at %s/",
        host_version(),
        stack,
        base_url,
        extra={"event": "started", "version": host_version(), "status_url": base_url + "/"},
    )
    for blueprint in host.blueprints.values():
        sse_url, mcp_url = base_url + blueprint.sse_path, base_url + blueprint.mcp_path
        logger.info(
            "serving %r (%d tools) at %s (Streamable HTTP) and %s (HTTP+SSE)",
            blueprint.profile.name,
            len(blueprint.tools),
            mcp_url,
            sse_url,
            extra={"event": "serving", "server": blueprint.key, "sse_url": sse_url, "mcp_url": mcp_url},
        )
    records = list(host.plugins.records.values())
    loaded = [f"{record.name} {record.version or ''}".strip() for record in records if record.is_loaded]
    failed = [record.name for record in records if record.status is PluginStatus.FAILED]
    disabled = [record.name for record in records if record.status is PluginStatus.DISABLED]
    summary = f"plugins loaded: {', '.join(loaded) or 'none'}"
    if failed:
        summary += f"; failed (see above): {', '.join(failed)}"
    if disabled:
        summary += f"; disabled: {', '.join(disabled)}"
    (logger.warning if failed else logger.info)(
        "%s",
        summary,
        extra={"event": "plugins", "loaded": [r.name for r in records if r.is_loaded], "failed": failed},
    )
    logger.info("%s", _security_line(host))


def _security_line(host: Host) -> str:
    security = host.config.security
    checks = (
        "Host and Origin headers checked (--log-level debug lists the accepted ones)"
        if security.dns_rebinding_protection
        else "Host and Origin headers NOT checked"
    )
    tokens = len(host.config.auth.tokens)
    auth = f"{tokens} bearer tokens required" if tokens else "no bearer tokens ([[auth.tokens]] adds them)"
    if (oauth := host.config.auth.oauth) is not None:
        auth = f"OAuth access tokens from {oauth.issuer} for {oauth.audience}" + (
            f", and {auth}" if tokens else ""
        )
    return f"security: {checks}; {auth}"
