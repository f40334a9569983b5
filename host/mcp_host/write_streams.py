"""What a wrapper around a session's write stream must pass through to the stream it wraps.

The SDK's server writes to a session through an anyio send stream; the host puts wrappers in
between (``log_level.FilteredWriteStream``, ``output_bound.BoundedOutput``) that change only
``send``. This base passes closing and the context manager through to the wrapped stream.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from mcp.shared.message import SessionMessage


class WriteStreamWrapper:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def send(self, item: SessionMessage, /) -> None:
        await self._stream.send(item)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> Self:
        await self._stream.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        result: bool | None = await self._stream.__aexit__(exc_type, exc_val, exc_tb)
        return result
