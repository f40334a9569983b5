"""mcp-host: serve tool plugins as MCP servers over HTTP, one server per connected client.

What a plugin imports from here is the public hook API (see ``mcp_host.hookspecs``).

Importing the package costs only pluggy: the names that need the MCP SDK are loaded when
first used, so that the ``pytest11`` plugin this package registers, and a plugin module that
only needs ``hookimpl``, do not pay for the SDK at import time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mcp_host.hookspecs import HOOK_API_VERSION, hookimpl

if TYPE_CHECKING:
    from mcp.server.mcpserver import (
        AcceptedElicitation,
        CancelledElicitation,
        DeclinedElicitation,
        Elicit,
        ElicitationResult,
        ListRoots,
        Resolve,
        Sample,
    )
    from mcp.server.mcpserver.exceptions import ToolError

    from mcp_host.changes import PluginChanges
    from mcp_host.registration import CompletionRegistrar, PromptRegistrar, ResourceRegistrar, ToolRegistrar
    from mcp_host.session import Caller, PluginSession, current_session
    from mcp_host.tool_results import tool_errors, tool_result

# Asking the client mid-call (hook API 1.2): the SDK's resolver markers, which serve both
# protocol eras with one tool body.
_ASKING = (
    "AcceptedElicitation",
    "CancelledElicitation",
    "DeclinedElicitation",
    "Elicit",
    "ElicitationResult",
    "ListRoots",
    "Resolve",
    "Sample",
)

_LAZY = {
    **dict.fromkeys(_ASKING, "mcp.server.mcpserver"),
    "ToolError": "mcp.server.mcpserver.exceptions",
    "PluginChanges": "mcp_host.changes",
    "CompletionRegistrar": "mcp_host.registration",
    "PromptRegistrar": "mcp_host.registration",
    "ResourceRegistrar": "mcp_host.registration",
    "ToolRegistrar": "mcp_host.registration",
    "Caller": "mcp_host.session",
    "PluginSession": "mcp_host.session",
    "current_session": "mcp_host.session",
    "tool_errors": "mcp_host.tool_results",
    "tool_result": "mcp_host.tool_results",
}

__all__ = [
    "HOOK_API_VERSION",
    "AcceptedElicitation",
    "Caller",
    "CancelledElicitation",
    "CompletionRegistrar",
    "DeclinedElicitation",
    "Elicit",
    "ElicitationResult",
    "ListRoots",
    "PluginChanges",
    "PluginSession",
    "PromptRegistrar",
    "Resolve",
    "ResourceRegistrar",
    "Sample",
    "ToolError",
    "ToolRegistrar",
    "current_session",
    "hookimpl",
    "tool_errors",
    "tool_result",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mcp_host' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
