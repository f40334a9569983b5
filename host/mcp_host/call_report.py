"""What happened to one tool call, as the host's log and metrics name it.

The middleware that counts a call opens a ``CallReport``; the guard around the plugin's
function (``tool_guard``) fills it in from inside, where it can tell a tool error from a
timeout or a crash. A call whose guard never ran was refused by the SDK before it reached
the plugin: its arguments did not validate.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    """The tool raised ``ToolError``, or crashed (its log line has the error id)."""
    TIMEOUT = "timeout"
    """It ran past its time limit."""
    REFUSED = "refused"
    """Over a limit of the host: the session's concurrent calls, or the worker threads."""
    INVALID = "invalid"
    """The request or the arguments did not validate; the tool was not run."""
    UNKNOWN_TOOL = "unknown_tool"
    """The server serves no tool of that name."""
    CANCELLED = "cancelled"
    """The client cancelled, or left."""


@dataclass
class CallReport:
    outcome: Outcome | None = None
    """Set by the guard once the plugin's function has run (or was refused)."""
    error_id: str | None = None
    """The id the host's log has a crash's traceback under."""


_current: contextvars.ContextVar[CallReport | None] = contextvars.ContextVar(
    "mcp_host_call_report", default=None
)


def open_report() -> tuple[CallReport, contextvars.Token[CallReport | None]]:
    report = CallReport()
    return report, _current.set(report)


def close_report(token: contextvars.Token[CallReport | None]) -> None:
    _current.reset(token)


def report(outcome: Outcome, error_id: str | None = None) -> None:
    """Record the outcome of the call being handled, if a report is open."""
    current = _current.get()
    if current is not None:
        current.outcome = outcome
        current.error_id = error_id
