"""Limits of the clients people use, which a server can respect but not change."""

CURSOR_NAME_LIMIT = 60
"""Cursor leaves out a tool whose server name (the key in mcp.json) and tool name together are
longer than this."""

CURSOR_TOOL_LIMIT = 40
"""Past about this many tools in all, Cursor warns and its agent chooses tools less well."""
