"""mcp-host: serve tool plugins as MCP servers over HTTP, one server per connected client.

What a plugin imports from here is the public hook API (see ``mcp_host.hookspecs``).
"""

from mcp.server.mcpserver.exceptions import ToolError

from mcp_host.hookspecs import HOOK_API_VERSION, hookimpl
from mcp_host.registration import PromptRegistrar, ResourceRegistrar, ToolRegistrar
from mcp_host.session import PluginSession, current_session

__all__ = [
    "HOOK_API_VERSION",
    "PluginSession",
    "PromptRegistrar",
    "ResourceRegistrar",
    "ToolError",
    "ToolRegistrar",
    "current_session",
    "hookimpl",
]
