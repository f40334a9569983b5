"""Limits of the clients people use, which a server can respect but not change: the rules
``mcp-host check`` (on a config) and ``mcp-host doctor`` (on a live server) both apply."""

from collections.abc import Iterable

CURSOR_NAME_LIMIT = 60
"""Cursor leaves out a tool whose server name (the key in mcp.json) and tool name together are
longer than this."""

CURSOR_TOOL_LIMIT = 40
"""Past about this many tools in all, Cursor warns and its agent chooses tools less well."""


def cursor_drops(server_name: str, tool_names: Iterable[str]) -> dict[str, int]:
    """The tools Cursor leaves out of a server it knows as ``server_name``, with the length
    of their name and the server's together."""
    lengths = {name: len(server_name) + len(name) for name in tool_names}
    return {name: length for name, length in lengths.items() if length > CURSOR_NAME_LIMIT}


def too_many_for_cursor(tool_count: int) -> bool:
    """Whether Cursor warns about this many tools, and chooses among them less well."""
    return tool_count > CURSOR_TOOL_LIMIT
