"""Streamable HTTP at /mcp: a fresh server per MCP session, and the session's whole life."""

from __future__ import annotations

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_host.testing import LiveHost, run_host

from .wire import HEADERS, INITIALIZE, QUIET

pytestmark = pytest.mark.anyio


def _mcp(host: LiveHost, server: str = "default") -> str:
    return host.base_url + ("/mcp" if server == "default" else f"/servers/{server}/mcp")


async def _text(session: ClientSession, tool: str, arguments: dict[str, object] | None = None) -> str:
    result = await session.call_tool(tool, arguments or {})
    assert not result.is_error, result.content
    return result.content[0].text  # type: ignore[union-attr]


async def _wait_for_no_sessions(host: LiveHost) -> None:
    async with httpx2.AsyncClient() as http:
        with anyio.fail_after(10):
            while (await http.get(host.url("/healthz"))).json()["sessions"]:
                await anyio.sleep(0.05)


async def test_each_session_gets_its_own_server_and_delete_ends_it(plugin_env):
    with run_host("[plugins.counter]\nstart = 100\n" + QUIET, python=plugin_env.python) as host:
        async with (
            streamable_http_client(_mcp(host)) as (read_a, write_a),
            ClientSession(read_a, write_a) as alice,
            streamable_http_client(_mcp(host)) as (read_b, write_b),
            ClientSession(read_b, write_b) as bob,
        ):
            await alice.initialize()
            await bob.initialize()
            assert await _text(alice, "increment", {"by": 2}) == "102"
            assert await _text(bob, "increment") == "101"
            alice_id = await _text(alice, "whoami")
            assert alice_id != await _text(bob, "whoami")
        # The SDK client sends DELETE as it closes: the sessions end at once.
        await _wait_for_no_sessions(host)
        async with httpx2.AsyncClient() as http:
            stale = await http.post(
                _mcp(host),
                json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
                headers={**HEADERS, "Mcp-Session-Id": alice_id},
            )
        assert stale.status_code == 404
        host.wait_for_log(rf"session {alice_id} closed on server 'default'")


async def test_both_transports_serve_the_same_server(plugin_env):
    config = "[server]\nname = 'both'\ninstructions = 'Same everywhere.'\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with (
            streamable_http_client(_mcp(host)) as (read, write),
            ClientSession(read, write) as http_client,
        ):
            over_http = await http_client.initialize()
            http_tools = sorted(tool.name for tool in (await http_client.list_tools()).tools)
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as sse:
            over_sse = await sse.initialize()
            sse_tools = sorted(tool.name for tool in (await sse.list_tools()).tools)
    assert over_http.server_info == over_sse.server_info
    assert over_http.instructions == over_sse.instructions == "Same everywhere."
    assert http_tools == sse_tools


async def test_named_servers_are_at_their_own_mcp_path(plugin_env):
    config = "[servers.counting]\nname = 'counting'\nplugins = ['counter']\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with (
            streamable_http_client(_mcp(host, "counting")) as (read, write),
            ClientSession(read, write) as client,
        ):
            init = await client.initialize()
            tools = sorted(tool.name for tool in (await client.list_tools()).tools)
    assert init.server_info.name == "counting"
    assert tools == ["crash", "greet", "increment", "nap", "sync_nap", "touch_about", "whoami"]


async def test_idle_sessions_are_closed(plugin_env):
    with run_host("[limits]\nsession_idle_timeout_s = 0.5\n" + QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            opened = await http.post(_mcp(host), json=INITIALIZE, headers=HEADERS)
            assert opened.status_code == 200
            session_id = opened.headers["mcp-session-id"]
            host.wait_for_log(rf"session {session_id} ended after 0.5 s without requests")
            await _wait_for_no_sessions(host)
            stale = await http.post(
                _mcp(host),
                json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
                headers={**HEADERS, "Mcp-Session-Id": session_id},
            )
        assert stale.status_code == 404


async def test_past_the_session_limit_new_sessions_get_503_on_both_transports(plugin_env):
    with run_host("[limits]\nmax_sessions = 1\n" + QUIET, python=plugin_env.python) as host:
        async with streamable_http_client(_mcp(host)) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            async with httpx2.AsyncClient() as http:
                over_http = await http.post(_mcp(host), json=INITIALIZE, headers=HEADERS)
                over_sse = await http.get(host.sse_url())
            assert await _text(client, "whoami")
        await _wait_for_no_sessions(host)
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as later:
            await later.initialize()
    assert over_http.status_code == 503
    assert (
        over_http.json()["error"]["message"]
        == "the host is serving its maximum of 1 sessions; try again later"
    )
    assert over_sse.status_code == 503
    assert "maximum of 1 sessions" in over_sse.text


@pytest.mark.parametrize("transport", ["mcp", "sse"])
async def test_the_session_limit_holds_when_many_clients_connect_at_once(plugin_env, transport):
    limit, clients = 3, 16
    answered: list[int] = []
    all_answered = anyio.Event()

    async def connect(http: httpx2.AsyncClient, host: LiveHost) -> None:
        if transport == "mcp":
            answered.append((await http.post(_mcp(host), json=INITIALIZE, headers=HEADERS)).status_code)
            return
        async with http.stream("GET", host.sse_url()) as response:
            answered.append(response.status_code)
            if len(answered) == clients:
                all_answered.set()
            await all_answered.wait()  # a stream is its session: keep it open until all are in

    with run_host(f"[limits]\nmax_sessions = {limit}\n" + QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient(timeout=30) as http:
            async with anyio.create_task_group() as group:
                for _ in range(clients):
                    group.start_soon(connect, http, host)
            if transport == "mcp":  # those sessions are still open
                assert (await http.get(host.sse_url())).status_code == 503
    assert sorted(answered) == [200] * limit + [503] * (clients - limit)


async def test_a_request_without_a_session_that_is_not_initialize_opens_nothing(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            response = await http.post(
                _mcp(host), json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=HEADERS
            )
            health = (await http.get(host.url("/healthz"))).json()
    assert response.status_code == 400
    assert health["sessions"] == 0


async def test_sigterm_stops_the_host_quickly_with_sessions_open(plugin_env, tmp_path):
    events = tmp_path / "events.jsonl"
    config = f"[plugins.counter]\nevents_file = '{events}'\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with streamable_http_client(_mcp(host)) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            session_id = await _text(client, "whoami")
            started = anyio.current_time()
            exit_code = await anyio.to_thread.run_sync(host.stop)
            elapsed = anyio.current_time() - started
    assert exit_code == 0, host.log
    assert elapsed < 8, f"took {elapsed:.1f} s"
    assert "without completing response" not in host.log
    # The session ended properly: its plugins' session_ended hook ran.
    assert f'"event": "ended", "session": "{session_id}"' in events.read_text()


async def test_deleting_a_session_mid_call_cancels_the_call(plugin_env, tmp_path):
    events = tmp_path / "events.jsonl"
    with run_host(f"[plugins.counter]\nevents_file = '{events}'\n" + QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient(timeout=30) as http:
            opened = await http.post(_mcp(host), json=INITIALIZE, headers=HEADERS)
            session = {**HEADERS, "Mcp-Session-Id": opened.headers["mcp-session-id"]}
            await http.post(
                _mcp(host), json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session
            )
            call = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "nap", "arguments": {"seconds": 60}},
            }
            async with anyio.create_task_group() as tasks:

                async def call_nap() -> None:
                    await http.post(_mcp(host), json=call, headers=session)

                tasks.start_soon(call_nap)
                with anyio.fail_after(10):
                    while "nap started" not in (events.read_text() if events.exists() else ""):
                        await anyio.sleep(0.05)
                assert (await http.delete(_mcp(host), headers=session)).status_code == 200
                with anyio.fail_after(10):
                    while "nap cancelled" not in events.read_text():
                        await anyio.sleep(0.05)
                tasks.cancel_scope.cancel()
