"""The baseline servers, each a Starlette app serving the benchmark's tool (or, for ``echo``,
no MCP at all) at ``/sse`` + ``/messages/`` and at ``/mcp``.

``python -m bench.servers NAME --port P`` runs one of them under uvicorn with the settings
every server in the benchmark gets (see ``bench.servers.__main__``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

BASELINES: dict[str, str] = {
    "sdk-shared": "bench.servers.sdk_shared",
    "sdk-per-connection": "bench.servers.sdk_per_connection",
    "echo": "bench.servers.echo",
}
"""Each baseline's module; every one has ``create_app() -> Starlette``."""

SECURITY = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)
"""What ``MCPServer.sse_app()`` switches on by itself on loopback; mcp-host checks Host and
Origin too, so every MCP server under test pays for the same checks."""


def app_factory(name: str) -> Callable[[], Starlette]:
    factory: Callable[[], Starlette] = importlib.import_module(BASELINES[name]).create_app
    return factory
