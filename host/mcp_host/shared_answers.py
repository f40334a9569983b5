"""One copy of a server's catalogue (its tools, prompts and resources) for all its sessions.

Every session of a server asks for the same ``tools/list``, and the SDK builds each answer
afresh. On an SSE stream it then keeps the last message it sent alive until the next one goes
out: for an idle client, that is its ``tools/list`` answer, for good. As Python objects that
answer is far larger than on the wire (52 KiB for the four tools of the shipped
``config.toml``), once per idle session.

A catalogue answer equal to the one the server gave before is handed on as that very one.
The SDK copies only the top level of a result dict, so every session's last answer then
points at one shared list. Sharing rests on equality alone: when the catalogue changes
(a reload, or a plugin that lists differently), the new answer is simply the next one shared.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

CATALOGUES = frozenset({"tools/list", "prompts/list", "resources/list", "resources/templates/list"})


class SharedCatalogue:
    """Server middleware, one instance for every session of one server (blueprint)."""

    __slots__ = ("_answers",)

    def __init__(self) -> None:
        self._answers: dict[str, dict[str, Any]] = {}
        """The last answer to each list method (first page only), as the SDK would send it."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        # The SDK's runner shapes a handler's result for the wire inside the middleware chain:
        # what comes back is a dict of its own making, that nobody else holds.
        if ctx.method not in CATALOGUES or not isinstance(result, dict) or (ctx.params or {}).get("cursor"):
            return result
        known = self._answers.get(ctx.method)
        if known == result:
            return known
        self._answers[ctx.method] = result
        return result
