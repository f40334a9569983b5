"""What an idle session keeps: one shared copy of its server's catalogue, and nothing of the
POSTs that reached it. (How much memory a session takes is measured by
``python -m bench.session_memory``, never asserted here.)"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from mcp.server.context import ServerRequestContext
from starlette.types import Message

from mcp_host.asgi import ReleasableReceive
from mcp_host.shared_answers import SharedCatalogue

pytestmark = pytest.mark.anyio


def _request(method: str, params: dict[str, Any] | None = None) -> ServerRequestContext[Any, Any]:
    return ServerRequestContext(
        session=None,  # type: ignore[arg-type]  # the catalogue never talks to the session
        lifespan_context=None,
        protocol_version="2025-11-25",
        method=method,
        params=params,
    )


def _answering(answer: dict[str, Any]) -> Any:
    """The rest of the middleware chain, as the SDK's runner ends it: a fresh wire dict."""

    async def call_next(_ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, list) else value for key, value in answer.items()}

    return call_next


TOOLS = {"tools": [{"name": "add", "inputSchema": {"type": "object"}}]}


async def test_every_session_of_a_server_is_handed_the_same_copy_of_an_unchanged_tool_list() -> None:
    catalogue = SharedCatalogue()
    first = await catalogue(_request("tools/list"), _answering(TOOLS))
    second = await catalogue(_request("tools/list", {}), _answering(TOOLS))
    assert first == second == TOOLS
    assert second is first


async def test_a_changed_catalogue_is_answered_as_it_now_is_and_shared_from_then_on() -> None:
    catalogue = SharedCatalogue()
    await catalogue(_request("tools/list"), _answering(TOOLS))
    changed = {"tools": [*TOOLS["tools"], {"name": "subtract", "inputSchema": {"type": "object"}}]}
    after = await catalogue(_request("tools/list"), _answering(changed))
    assert after == changed
    assert await catalogue(_request("tools/list"), _answering(changed)) is after


async def test_each_list_method_has_its_own_answer_and_other_requests_pass_untouched() -> None:
    catalogue = SharedCatalogue()
    prompts = {"prompts": [{"name": "greet"}]}
    tools = await catalogue(_request("tools/list"), _answering(TOOLS))
    assert await catalogue(_request("prompts/list"), _answering(prompts)) == prompts
    assert await catalogue(_request("tools/list"), _answering(TOOLS)) is tools

    call = {"content": [{"type": "text", "text": "2"}], "isError": False}
    first_call = await catalogue(_request("tools/call", {"name": "add"}), _answering(call))
    assert await catalogue(_request("tools/call", {"name": "add"}), _answering(call)) is not first_call

    # A later page is answered as it comes, and does not replace the first page's answer.
    page = await catalogue(_request("tools/list", {"cursor": "2"}), _answering({"tools": []}))
    assert page == {"tools": []}
    assert await catalogue(_request("tools/list"), _answering(TOOLS)) is tools


class _Connection:
    """Stands for what uvicorn's ``receive`` holds on to: its connection's request cycle."""

    def __init__(self) -> None:
        self.messages = [{"type": "http.request", "body": b"{}", "more_body": False}]

    async def receive(self) -> Message:
        return self.messages.pop(0)


async def test_a_request_lets_go_of_its_connection_once_released() -> None:
    connection = _Connection()
    receive = ReleasableReceive(connection.receive)
    assert await receive() == {"type": "http.request", "body": b"{}", "more_body": False}
    gone = weakref.ref(connection)
    del connection
    receive.release()
    gc.collect()
    assert gone() is None
    assert await receive() == {"type": "http.disconnect"}
