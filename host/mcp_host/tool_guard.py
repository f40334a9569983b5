"""What the host puts around every plugin tool: a time limit, bounded worker threads, a
result that can be sent, an error id for crashes, and argument errors a model can act on.

The SDK tells a client only "Error executing tool X" when a tool raises something other
than ``ToolError``: that helps nobody. A guarded tool logs the crash with its traceback under
a short error id and tells the client what failed and which id to look for. A call that runs
past its time limit is stopped and reported as timed out; the session goes on.

Arguments that do not match the tool's input schema are the model's mistake to correct, yet
the SDK hands it pydantic's multi-line report, with a link to pydantic's docs. A guarded tool
says the same in one sentence: which argument, what was expected, what was given.
"""

from __future__ import annotations

import functools
import logging
import reprlib
import secrets
import time
from collections.abc import Sequence
from typing import Any

import anyio
import pydantic_core
from mcp.server.mcpserver import Audio, Image
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ContentBlock
from pydantic import ValidationError

from mcp_host.call_report import Outcome, report
from mcp_host.worker_threads import WorkerThreads, WorkerThreadsExhausted

logger = logging.getLogger(__name__)

_SHOWN_VALUE = reprlib.Repr()
"""Given values are quoted back to the model, shortened: a long one is the model's own text."""
_SHOWN_VALUE.maxstring = _SHOWN_VALUE.maxother = 60

_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "an array",
    "object": "an object",
}


class GuardedTool(Tool):
    """A plugin tool as the host serves it: see ``guard_tool``."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        try:
            return await super().run(arguments, context, convert_result)
        except ToolError as exc:
            # The SDK raises ToolError from the ValidationError when the arguments do not fit
            # the input schema; a plugin's own ToolError has that ToolError as its cause.
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            sentence = describe_argument_errors(cause, self.parameters)
            raise ToolError(f"Error executing tool {self.name}: {sentence}") from cause


def guard_tool(tool: Tool, plugin: str, timeout_s: float, threads: WorkerThreads) -> GuardedTool:
    """A copy of ``tool`` whose calls are time-limited, whose crashes carry an error id, and
    whose argument errors are one sentence.

    The schemas stay those derived from the plugin's own function. A plain ``def`` tool is
    run in one of the host's worker ``threads`` by the guard itself, so that its caller can
    stop waiting for it at the time limit (the thread itself cannot be stopped and finishes
    in the background). The result is converted here, as the SDK would, so that a result
    that cannot be sent is a crash with an error id too, not a bare SDK error.
    """
    function = tool.fn
    name = tool.name

    async def call(**arguments: Any) -> Any:
        started = time.monotonic()
        try:
            with anyio.fail_after(timeout_s):
                if tool.is_async:
                    result = await function(**arguments)
                else:
                    result = await threads.run(functools.partial(function, **arguments))
            if time.monotonic() - started > timeout_s:
                # An async tool that blocked the event loop never let the limit cancel it.
                raise TimeoutError
            _check_sendable(result)
            converted = tool.fn_metadata.convert_result(result)
        except (ToolError, MCPError):
            # MCPError is a tool's deliberate protocol error (a missing client capability,
            # say): the client gets it as a JSON-RPC error, as the SDK intends.
            report(Outcome.ERROR)
            raise
        except WorkerThreadsExhausted as exc:
            report(Outcome.REFUSED)
            raise ToolError(str(exc)) from None
        except TimeoutError:
            report(Outcome.TIMEOUT)
            raise ToolError(f"timed out after {timeout_s:g} s") from None
        except Exception as exc:
            error_id = secrets.token_hex(4)
            report(Outcome.ERROR, error_id)
            logger.error("tool %r of plugin %r crashed [error id %s]", name, plugin, error_id, exc_info=exc)
            raise ToolError(
                f"{name} failed unexpectedly ({type(exc).__name__}); "
                f"the host's log has the details under error id {error_id}"
            ) from None
        report(Outcome.ERROR if isinstance(converted, CallToolResult) and converted.is_error else Outcome.OK)
        return converted

    call.__name__ = getattr(function, "__name__", name)
    fields = {field: getattr(tool, field) for field in Tool.model_fields}
    return GuardedTool(**(fields | {"fn": call, "is_async": True}))


class UnsendableResult(TypeError):
    """A tool returned a value with no JSON form."""


def _check_sendable(result: Any) -> None:
    """The SDK would send ``str(value)`` for a value it cannot serialise, as a success, which
    shows an object's repr (and its address) to the client. Refuse it as the bug it is."""
    if isinstance(result, list | tuple):
        for item in result:
            _check_sendable(item)
        return
    if isinstance(result, ContentBlock | Image | Audio | CallToolResult):
        return
    try:
        pydantic_core.to_json(result)
    except pydantic_core.PydanticSerializationError:
        raise UnsendableResult(
            f"the tool returned a {type(result).__name__}, which has no JSON form"
        ) from None


def describe_argument_errors(error: ValidationError, schema: dict[str, Any]) -> str:
    """Pydantic's errors about a tool's arguments as one sentence, e.g. ``argument 'days':
    expected a valid integer, got 'three' (unable to parse string as an integer)``."""
    return "; ".join(_describe(item, schema) for item in error.errors(include_url=False))


def _describe(item: Any, schema: dict[str, Any]) -> str:
    location: Sequence[str | int] = item["loc"]
    argument = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)[1:]
    if item["type"] == "missing":
        expected = _expected_type(schema, location)
        return f"argument {argument!r} is required" + (f": expected {expected}" if expected else "")
    if item["type"] == "value_error":
        # A validator's own sentence, without pydantic's "Value error, " in front.
        reason = str(item.get("ctx", {}).get("error", item["msg"]))
        return f"argument {argument!r}: {reason}, got {_SHOWN_VALUE.repr(item['input'])}"
    message: str = item["msg"]
    given = _SHOWN_VALUE.repr(item["input"])
    if message.startswith("Input should be "):
        expected, _, detail = message.removeprefix("Input should be ").partition(", ")
        # The detail adds a reason ("unable to parse string as an integer") unless it only
        # says again what was given.
        reason = f" ({detail})" if detail and not detail.startswith("got ") else ""
        return f"argument {argument!r}: expected {expected}, got {given}{reason}"
    return f"argument {argument!r}: {message[0].lower()}{message[1:]}, got {given}"


def _expected_type(schema: dict[str, Any], location: Sequence[str | int]) -> str | None:
    """The JSON type the input schema asks for at a top-level argument, in words."""
    if len(location) != 1:
        return None
    declared = schema.get("properties", {}).get(str(location[0]), {}).get("type")
    return _JSON_TYPES.get(declared) if isinstance(declared, str) else None
