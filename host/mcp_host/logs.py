"""The host's log: its format, and keeping what clients send from flooding it."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from opentelemetry import trace

LogFormat = Literal["text", "json"]

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _OneLineForBadMessages(logging.Filter):
    """The SDK logs a full traceback for every unparseable message a client posts, which
    lets any client flood the log. Keep one line, with the first line of the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == "Failed to parse message" and record.exc_info:
            error = record.exc_info[1]
            reason = str(error).strip().splitlines()[0] if error is not None else "unknown"
            record.msg = "a client posted a message that is not JSON-RPC: %s"
            record.args = (reason,)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


class _ToolErrorsOnceByTheHost(logging.Filter):
    """The SDK logs every failed tool call and every rejected argument list, and the host
    logs each tool call with its outcome and error: one line per error is enough, the host's,
    as it names the session and the server too."""

    SDK_MESSAGES = frozenset({"Tool %r failed: %r", "Tool %r rejected arguments: %r"})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in self.SDK_MESSAGES


_CONTROL_ESCAPES = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))},
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def escape_controls(text: str) -> str:
    """``text`` on one line: line breaks and other control characters as escapes."""
    return text if text.isprintable() else text.translate(_CONTROL_ESCAPES)


class TextFormatter(logging.Formatter):
    """One record, one line: messages carry what clients send (tool names, reasons), and a
    line break in one would forge a log line of its own. Tracebacks keep their lines."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}
_NOT_FIELDS = _STANDARD_ATTRIBUTES | {"color_message"}
"""What a JSON record leaves out: the standard attributes it renders its own way, and uvicorn's
``color_message``, its message again with terminal colour codes."""


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log pipelines: the usual fields, the structured ``extra``
    fields the host attaches (``event``, ``session_id``, ``tool``, ``outcome``...), and, inside a
    request with a trace context, its ``trace_id`` and ``span_id``."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        document.update((key, value) for key, value in vars(record).items() if key not in _NOT_FIELDS)
        # Formatted where it was logged, so the current span is the request's (if any): the
        # line can be found from its trace, and the trace from the line.
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            document["trace_id"] = format(span.trace_id, "032x")
            document["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    # Before any MCPServer exists: the SDK calls logging.basicConfig when one is created.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("mcp.server.sse").addFilter(_OneLineForBadMessages())
    logging.getLogger("mcp.server.mcpserver.server").addFilter(_ToolErrorsOnceByTheHost())
    # Plugins' HTTP clients would log every request, with its query, at INFO; the SDK's
    # manager, which serves only sessionless requests here, would announce a "session manager".
    for chatty in ("httpx2", "httpcore2", "mcp.server.streamable_http_manager"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    # uvicorn's start-up and shutdown lines ("Waiting for application startup." ...) would
    # trail the host's own start-up block: shown at debug level only.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("uvicorn.error").setLevel(max(logging.WARNING, logging.getLogger().level))
