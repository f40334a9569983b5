"""The host's log: its format, and keeping what clients send from flooding it."""

from __future__ import annotations

import logging
import sys

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


def configure_logging(level: str) -> None:
    # Before any MCPServer exists: the SDK calls logging.basicConfig when one is created.
    logging.basicConfig(level=level.upper(), format=FORMAT, stream=sys.stderr, force=True)
    logging.getLogger("mcp.server.sse").addFilter(_OneLineForBadMessages())
    # Plugins' HTTP clients would log every request, with its query, at INFO.
    for chatty in ("httpx2", "httpcore2"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
