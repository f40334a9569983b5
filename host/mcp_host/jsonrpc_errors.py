"""JSON-RPC error answers that the host gives over HTTP itself, outside any MCP server."""

from __future__ import annotations

from mcp_types import INVALID_REQUEST, ErrorData, JSONRPCError
from starlette.responses import Response


def jsonrpc_error(message: str, status_code: int, code: int, data: object = None) -> Response:
    error = JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=message, data=data))
    return Response(
        error.model_dump_json(by_alias=True, exclude_none=True),
        status_code=status_code,
        media_type="application/json",
    )


def session_not_found() -> Response:
    """The answer for an unknown, ended or foreign Streamable HTTP session id."""
    return jsonrpc_error("Session not found", 404, INVALID_REQUEST)
