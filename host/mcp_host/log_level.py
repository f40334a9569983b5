"""``logging/setLevel`` for one session: the client says which log messages it wants.

MCPServer sends every log message a tool emits and answers ``logging/setLevel`` with
"method not found". The host handles the request and drops, on the way out to that client,
the ``notifications/message`` below the level it asked for.
"""

from __future__ import annotations

from typing import Any, get_args

from mcp.server.context import ServerRequestContext
from mcp.shared.message import SessionMessage
from mcp_types import EmptyResult, JSONRPCNotification, LoggingLevel, SetLevelRequestParams

from mcp_host.write_streams import WriteStreamWrapper

SEVERITY: dict[str, int] = {level: rank for rank, level in enumerate(get_args(LoggingLevel))}
"""debug < info < notice < warning < error < critical < alert < emergency (RFC 5424 order)."""


class SessionLogLevel:
    """The level one client asked for; every message passes until it asks."""

    def __init__(self) -> None:
        self.threshold = SEVERITY["debug"]

    async def handle_set_level(
        self, ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams
    ) -> EmptyResult:
        self.threshold = SEVERITY[params.level]
        return EmptyResult()

    def wants(self, message: SessionMessage) -> bool:
        notification = message.message
        if (
            not isinstance(notification, JSONRPCNotification)
            or notification.method != "notifications/message"
        ):
            return True
        level = (notification.params or {}).get("level")
        return SEVERITY.get(str(level), len(SEVERITY)) >= self.threshold


class FilteredWriteStream(WriteStreamWrapper):
    """A session's write stream, less the log messages below the level its client set."""

    def __init__(self, stream: Any, level: SessionLogLevel) -> None:
        super().__init__(stream)
        self._level = level

    async def send(self, item: SessionMessage, /) -> None:
        if self._level.wants(item):
            await self._stream.send(item)
