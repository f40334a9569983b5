"""Helpers for the tools plugins write: a domain error as the error result the model reads,
and a result that carries text for the model and structured content for programs.

Part of the public API (``mcp_host.tool_errors``, ``mcp_host.tool_result``; hook API 1.2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel


@contextmanager
def tool_errors(error: type[Exception], *more: type[Exception]) -> Iterator[None]:
    """Inside, an ``error`` (or one of ``more``) becomes a ``ToolError`` with the same message:
    the client gets an error result with that sentence, which the model can act on, rather than
    the SDK's "the tool failed". Any other exception stays a crash, logged with its traceback.

    ``with tool_errors(WeatherError): report = await service.current(city)``
    """
    try:
        yield
    except (error, *more) as exc:
        raise ToolError(str(exc)) from exc


def tool_result(text: str, structured: BaseModel) -> CallToolResult:
    """A tool's answer twice over: ``text`` for the model, and ``structured`` as the result's
    structured content for programs (declare its model as the output schema by annotating the
    tool's return type ``Annotated[CallToolResult, TheModel]``; the SDK checks the content
    against it)."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured.model_dump(mode="json")
    )
