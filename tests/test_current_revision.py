"""The sessionless revision 2026-07-28 on /mcp, beside the handshake era, with real clients.

The counter plugin was written for sessions (hook API 1.1): its counter starts in
``session_started``. It must serve 2026-07-28 requests unchanged, through the same pipeline
as a session: tokens, Host checks, limits, the tool guard, metrics and logs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types import ElicitRequestParams, ElicitResult, ResourceUpdatedNotification, TextContent

from mcp_host.testing import LiveHost, run_host

from .wire import DISCOVER, MODERN, MODERN_HEADERS, QUIET

pytestmark = pytest.mark.anyio


def _text(result: Any) -> str:
    assert not result.is_error, result.content
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def _answer_name(context: Any, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"name": "Ada"})


async def _sessions(host: LiveHost) -> int:
    async with httpx2.AsyncClient() as http:
        count: int = (await http.get(host.url("/healthz"))).json()["sessions"]
    return count


@pytest.mark.parametrize("server", ["default", "counting"])
async def test_a_client_pinned_to_the_current_revision_is_served_with_no_session(
    plugin_env, server, tmp_path
):
    events = tmp_path / "events.jsonl"
    config = (
        f"[plugins.counter]\nstart = 100\nevents_file = '{events}'\n"
        "[servers.counting]\nname = 'counting'\nplugins = ['counter']\n" + QUIET
    )
    with run_host(config, python=plugin_env.python) as host:
        async with Client(host.mcp_url(server), mode=MODERN) as client:
            assert client.protocol_version == MODERN
            tools = {tool.name for tool in (await client.list_tools()).tools}
            # Each request is a session of its own for the plugin: its counter starts afresh.
            first = _text(await client.call_tool("increment", {"by": 2}))
            second = _text(await client.call_tool("increment", {"by": 2}))
            ids = {_text(await client.call_tool("whoami", {})) for _ in range(2)}
            assert await _sessions(host) == 0
        log = host.log
    assert {"increment", "whoami", "greet"} <= tools
    assert first == second == "102"
    assert len(ids) == 2
    hooks = [json.loads(line) for line in events.read_text().splitlines()]
    # session_started and session_ended ran once around each of the four calls, balanced.
    assert [hook["event"] for hook in hooks].count("started") == 4
    assert [hook["event"] for hook in hooks].count("ended") == 4
    assert "opened on server" not in log, "a modern request opened a session"
    assert "tool increment on request" in log


async def test_the_sdk_client_in_auto_mode_takes_the_current_revision_without_a_fallback(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with Client(host.mcp_url()) as client:
            assert client.protocol_version == MODERN
            assert _text(await client.call_tool("increment", {})) == "1"
        assert "opened on server" not in host.log
        assert "-32022" not in host.log


async def test_handshake_clients_keep_their_sessions_beside_modern_requests(plugin_env):
    with run_host("[plugins.counter]\nstart = 10\n" + QUIET, python=plugin_env.python) as host:
        async with (
            streamable_http_client(host.mcp_url()) as (read, write),
            ClientSession(read, write) as session,
            Client(host.mcp_url(), mode=MODERN) as modern,
        ):
            await session.initialize()
            assert _text(await session.call_tool("increment", {})) == "11"
            assert _text(await modern.call_tool("increment", {})) == "11"
            assert _text(await session.call_tool("increment", {})) == "12"
            assert await _sessions(host) == 1


@pytest.mark.parametrize("era", ["sse", "handshake", MODERN])
async def test_one_tool_body_asks_the_user_in_both_eras(plugin_env, era):
    """``greet`` asks through mcp_host.Resolve: a server request in a session, an
    input_required round trip on a 2026-07-28 request."""
    with run_host(QUIET, python=plugin_env.python) as host:
        if era == "sse":
            transport: Any = sse_client(host.sse_url())
            mode = "legacy"
        else:
            transport = host.mcp_url()
            mode = "legacy" if era == "handshake" else MODERN
        async with Client(transport, mode=mode, elicitation_callback=_answer_name) as client:  # type: ignore[arg-type]
            answer = _text(await client.call_tool("greet", {}))
    kind = "sessionless" if era == MODERN else "session"
    assert answer == f"Hello, Ada! ({kind})"


async def test_a_forged_request_state_is_refused(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {
                "name": "greet",
                "arguments": {},
                "inputResponses": {},
                "requestState": "eyJmb3JnZWQiOiB0cnVlfQ",
                "_meta": DISCOVER["params"]["_meta"],  # type: ignore[index]
            },
        }
        headers = {**MODERN_HEADERS, "Mcp-Method": "tools/call", "Mcp-Name": "greet"}
        async with httpx2.AsyncClient() as http:
            response = await http.post(host.mcp_url(), json=call, headers=headers)
    body = response.json()
    assert "error" in body, body
    assert "Traceback" not in host.log


async def test_modern_requests_pass_the_same_checks_as_sessions(plugin_env):
    token = "t" * 20
    config = (
        f"[[auth.tokens]]\nname = 'alice'\ntoken = '{token}'\nservers = ['counting']\n"
        "[servers.counting]\nplugins = ['counter']\n[limits]\nmax_body_bytes = 2048\n" + QUIET
    )
    bearer = {"Authorization": f"Bearer {token}"}
    with run_host(config, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            anonymous = await http.post(host.mcp_url("counting"), json=DISCOVER, headers=MODERN_HEADERS)
            other_server = await http.post(
                host.mcp_url(), json=DISCOVER, headers={**MODERN_HEADERS, **bearer}
            )
            allowed = await http.post(
                host.mcp_url("counting"), json=DISCOVER, headers={**MODERN_HEADERS, **bearer}
            )
            rebinding = await http.post(
                host.mcp_url("counting"),
                json=DISCOVER,
                headers={**MODERN_HEADERS, **bearer, "Host": "evil.example"},
            )
            too_big = await http.post(
                host.mcp_url("counting"),
                content=json.dumps({**DISCOVER, "padding": "x" * 4096}),
                headers={**MODERN_HEADERS, **bearer},
            )
            get = await http.get(host.mcp_url("counting"), headers={**MODERN_HEADERS, **bearer})
            mismatch = await http.post(
                host.mcp_url("counting"),
                json=DISCOVER,
                headers={**MODERN_HEADERS, **bearer, "Mcp-Method": "tools/list"},
            )
    assert anonymous.status_code == 401
    assert other_server.status_code == 403
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["result"]["supportedVersions"] == [MODERN]
    assert rebinding.status_code == 421
    assert too_big.status_code == 413
    assert get.status_code == 405
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["code"] == -32020


async def test_lists_carry_the_configured_cache_hints(plugin_env):
    config = "[server]\nlist_ttl_s = 300\ncache_scope = 'public'\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            discover = (await http.post(host.mcp_url(), json=DISCOVER, headers=MODERN_HEADERS)).json()
            listing = {**DISCOVER, "method": "tools/list"}
            headers = {**MODERN_HEADERS, "Mcp-Method": "tools/list"}
            tools = (await http.post(host.mcp_url(), json=listing, headers=headers)).json()
    for result in (discover["result"], tools["result"]):
        assert (result["ttlMs"], result["cacheScope"]) == (300_000, "public")
    names = [tool["name"] for tool in tools["result"]["tools"]]
    assert names == sorted(names), "tools/list is not in a deterministic order"


async def test_modern_tool_calls_are_guarded_counted_and_logged(plugin_env):
    config = "[plugins.counter]\ncall_timeout_s = 0.5\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with Client(host.mcp_url(), mode=MODERN) as client:
            timed_out = await client.call_tool("nap", {"seconds": 30})
            crashed = await client.call_tool("crash", {})
        async with httpx2.AsyncClient() as http:
            metrics = (await http.get(host.url("/metrics"))).text
        log = host.log
    assert timed_out.is_error
    assert "timed out after 0.5 s" in timed_out.content[0].text  # type: ignore[union-attr]
    assert crashed.is_error
    assert "hunter2" not in crashed.content[0].text  # type: ignore[union-attr]
    assert 'outcome="error",server="default",tool="crash"' in metrics
    assert "tool crash on request" in log


@pytest.mark.parametrize("era", ["sse", MODERN])
@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")  # the handshake era's way, on purpose
async def test_a_plugin_tells_subscribers_that_a_resource_changed(plugin_env, era):
    with run_host(QUIET, python=plugin_env.python) as host:
        if era == "sse":
            updates: list[str] = []

            async def on_message(message: Any) -> None:
                if isinstance(message, ResourceUpdatedNotification):
                    updates.append(str(message.params.uri))

            async with (
                sse_client(host.sse_url()) as (read, write),
                ClientSession(read, write, message_handler=on_message) as session,
            ):
                init = await session.initialize()
                assert init.capabilities.resources is not None
                assert init.capabilities.resources.subscribe
                await session.subscribe_resource("counter://about")  # type: ignore[arg-type]
                await session.call_tool("touch_about", {})
                with anyio.fail_after(10):
                    while not updates:
                        await anyio.sleep(0.02)
            assert updates == ["counter://about"]
        else:
            async with (
                Client(host.mcp_url(), mode=MODERN) as listener,
                Client(host.mcp_url(), mode=MODERN) as caller,
                listener.listen(resource_subscriptions=["counter://about"]) as subscription,
            ):
                await caller.call_tool("touch_about", {})
                with anyio.fail_after(10):
                    event = await anext(aiter(subscription))
            assert event == ResourceUpdated(uri="counter://about")


def test_sealing_keys_must_be_long_enough(plugin_env, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[security]\nrequest_state_keys = ['short']\n")
    checked = plugin_env.mcp_host("check", "--config", str(config))
    assert checked.returncode == 2
    assert "security.request_state_keys" in checked.stderr
    assert "short" not in checked.stderr


async def test_concurrent_modern_calls_are_limited_per_client(plugin_env):
    alice, bob = "a" * 20, "b" * 20
    config = (
        f"[[auth.tokens]]\nname = 'alice'\ntoken = '{alice}'\n"
        f"[[auth.tokens]]\nname = 'bob'\ntoken = '{bob}'\n"
        "[limits]\nmax_concurrent_calls = 1\n" + QUIET
    )
    with run_host(config, python=plugin_env.python) as host:

        def client(token: str) -> Client:
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
            return Client(streamable_http_client(host.mcp_url(), http_client=http), mode=MODERN)

        async with (
            client(alice) as first,
            client(alice) as second,
            client(bob) as other,
            anyio.create_task_group() as calls,
        ):
            calls.start_soon(first.call_tool, "nap", {"seconds": 3})
            await anyio.sleep(0.5)
            refused = await second.call_tool("nap", {"seconds": 0})
            allowed = await other.call_tool("nap", {"seconds": 0})
            calls.cancel_scope.cancel()
    assert refused.is_error
    assert "at most 1 per client" in refused.content[0].text  # type: ignore[union-attr]
    assert _text(allowed) == "rested"


async def test_an_sse_stream_serves_the_current_revision_in_its_session(plugin_env, tmp_path):
    """On HTTP+SSE the stream is the session, in whichever era its first request speaks."""
    events = tmp_path / "events.jsonl"
    with run_host(f"[plugins.counter]\nevents_file = '{events}'\n" + QUIET, python=plugin_env.python) as host:
        async with Client(sse_client(host.sse_url()), elicitation_callback=_answer_name) as client:
            assert client.protocol_version == MODERN
            counts = [_text(await client.call_tool("increment", {})) for _ in range(2)]
            greeting = _text(await client.call_tool("greet", {}))
    # One session from stream to close: its state lasts across calls, its hooks run once.
    assert counts == ["1", "2"]
    assert greeting == "Hello, Ada! (session)"
    hooks = [json.loads(line)["event"] for line in events.read_text().splitlines()]
    assert hooks == ["started", "ended"]
