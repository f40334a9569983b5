"""Limits on HTTP connections that uvicorn does not set by itself.

uvicorn closes a kept-alive connection that stays idle after a response
(``timeout_keep_alive``) and answers 503 past ``limit_concurrency``; the host passes its
``[limits]`` on to both. Two things uvicorn has no setting for are added here:

- a deadline for each request's headers, counted from the connection (or from the end of
  the previous response): a client that connects and sends nothing, or a header byte now and
  then (slowloris), is disconnected at ``header_timeout_s`` instead of holding a connection
  for ever;
- the loop's error reports, rate-limited: when file descriptors run out, every failed
  ``accept()`` would log a traceback, thousands a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from mcp_host.stack import Http

logger = logging.getLogger(__name__)


def http_protocol(http: Http, header_timeout_s: float) -> type[asyncio.Protocol]:
    """uvicorn's protocol class for the ``http`` parser, with the header deadline."""
    base: Any  # either parser's protocol; httptools is imported only when chosen (it may be missing)
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol

    class WithHeaderDeadline(base):  # type: ignore[misc]
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_header_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_deadline()  # the next request's headers, on a kept-alive connection

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
            super().connection_lost(exc)

        def _arm_header_deadline(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
            # uvicorn starts a new cycle when a request's headers are complete.
            waiting_since = self.cycle

            def expire() -> None:
                if self.cycle is waiting_since and not self.transport.is_closing():
                    self.transport.close()

            self._header_deadline = self.loop.call_later(header_timeout_s, expire)

    WithHeaderDeadline.__name__ = f"{base.__name__}WithHeaderDeadline"
    return WithHeaderDeadline


class RateLimitedLoopErrors:
    """An event loop exception handler that reports each kind of error once per ``interval_s``,
    with the count of those it left out, instead of once per occurrence."""

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        kind = str(context.get("message", ""))
        exception = context.get("exception")
        if exception is not None:
            kind += f" {type(exception).__name__}"
        now = time.monotonic()
        if now - self._last.get(kind, -self.interval_s) < self.interval_s:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        self._last[kind] = now
        left_out = self._suppressed.pop(kind, 0)
        if left_out:
            context = {
                **context,
                "message": f"{context.get('message', '')} ({left_out} more like it in the last "
                f"{self.interval_s:g} s were not logged)",
            }
        loop.default_exception_handler(context)
