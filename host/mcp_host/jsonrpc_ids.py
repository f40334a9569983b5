"""Requests whose ``id`` the SDK cannot answer.

JSON-RPC ids are strings or integers (MCP forbids null). The SDK reads a message with any
other ``id`` (an object, a list, a fraction, null) as a notification, runs it and never
answers: the client waits forever and the host logs nothing. This check answers it as the
invalid request it is, before any transport sees it.
"""

from __future__ import annotations

import json

from mcp_types import INVALID_REQUEST, ErrorData, JSONRPCError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.asgi import read_body


def unusable_id(body: bytes) -> tuple[object] | None:
    """``(id,)`` for the first unusable id in ``body``; ``None`` if every id is usable, or the
    body is not JSON (the transports answer that themselves)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    for message in document if isinstance(document, list) else [document]:
        if not isinstance(message, dict) or "method" not in message or "id" not in message:
            continue  # a notification, or a response (whose id may be null)
        request_id = message["id"]
        if isinstance(request_id, bool) or not isinstance(request_id, str | int):
            return (request_id,)
    return None


class RejectUnusableIds:
    """400 with ``-32600 Invalid Request`` for a POST carrying a request id of another type.

    Put it inside ``RequestBodyLimitMiddleware``: it reads the whole body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, replay = await read_body(receive)
        found = unusable_id(body)
        if found is not None:
            (request_id,) = found
            error = JSONRPCError(
                jsonrpc="2.0",
                id=None,
                error=ErrorData(
                    code=INVALID_REQUEST,
                    message="Invalid Request: id must be a string or an integer, "
                    f"not {json.dumps(request_id)[:40]}",
                ),
            )
            response = Response(
                error.model_dump_json(by_alias=True, exclude_none=True),
                status_code=400,
                media_type="application/json",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, replay, send)
