"""Baseline (a): the SDK's ``MCPServer`` with its own apps, one server shared by every client."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp_host_bench import add
from starlette.applications import Starlette


def create_app() -> Starlette:
    server: MCPServer = MCPServer("bench", tools=[Tool.from_function(add)], log_level="WARNING")
    # /mcp with its session manager's lifespan, plus the routes of /sse and /messages/.
    app = server.streamable_http_app()
    app.router.routes.extend(server.sse_app().routes)
    return app
