"""What the host puts around every plugin tool: a time limit, and an error id for crashes.

The SDK tells a client only "Error executing tool X" when a tool raises something other
than ``ToolError``: that helps nobody. A guarded tool logs the crash with its traceback under
a short error id and tells the client what failed and which id to look for. A call that runs
past its time limit is stopped and reported as timed out; the session goes on.
"""

from __future__ import annotations

import functools
import logging
import secrets
from typing import Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool

logger = logging.getLogger(__name__)


def guard_tool(tool: Tool, plugin: str, timeout_s: float) -> Tool:
    """A copy of ``tool`` whose calls are time-limited and whose crashes carry an error id.

    The schemas stay those derived from the plugin's own function. A plain ``def`` tool is
    run in a worker thread by the guard itself, so that its caller can stop waiting for it
    at the time limit (the thread itself cannot be stopped and finishes in the background).
    """
    function = tool.fn
    name = tool.name

    async def call(**arguments: Any) -> Any:
        try:
            with anyio.fail_after(timeout_s):
                if tool.is_async:
                    return await function(**arguments)
                return await anyio.to_thread.run_sync(
                    functools.partial(function, **arguments), abandon_on_cancel=True
                )
        except ToolError:
            raise
        except TimeoutError:
            raise ToolError(f"timed out after {timeout_s:g} s") from None
        except Exception as exc:
            error_id = secrets.token_hex(4)
            logger.error("tool %r of plugin %r crashed [error id %s]", name, plugin, error_id, exc_info=exc)
            raise ToolError(
                f"{name} failed unexpectedly ({type(exc).__name__}); "
                f"the host's log has the details under error id {error_id}"
            ) from None

    call.__name__ = getattr(function, "__name__", name)
    return tool.model_copy(update={"fn": call, "is_async": True})
