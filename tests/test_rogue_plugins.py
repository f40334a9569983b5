"""Plugins written badly: the host contains the damage and says which plugin did it."""

from __future__ import annotations

import contextlib
import re
import signal

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from mcp_host.testing import run_host

from .wire import HEADERS, INITIALIZE, jsonrpc_of, mcp_post, open_mcp_session

pytestmark = pytest.mark.anyio


def _text(result) -> str:
    return result.content[0].text


async def test_a_result_with_no_json_form_is_an_error_with_an_id_never_its_repr(rogue_env):
    with run_host("", python=rogue_env.python) as host:
        async with (
            streamable_http_client(host.mcp_url()) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            opaque = await session.call_tool("rogue_opaque", {})
            mistyped = await session.call_tool("rogue_mistyped", {})
        for result, tool in ((opaque, "rogue_opaque"), (mistyped, "rogue_mistyped")):
            assert result.is_error
            assert "object at 0x" not in _text(result)
            error_id = re.search(
                rf"{tool} failed unexpectedly \(\w+\).* error id ([0-9a-f]{{8}})", _text(result)
            )
            assert error_id, _text(result)
            host.wait_for_log(rf"tool '{tool}' of plugin 'rogue' crashed \[error id {error_id.group(1)}\]")


async def test_plain_def_tools_never_take_more_than_max_tool_threads(rogue_env):
    config = "[limits]\nmax_tool_threads = 2\n\n[plugins.rogue]\ntool_timeouts = { rogue_sync_block = 0.2 }\n"
    with run_host(config, python=rogue_env.python) as host:
        async with (
            streamable_http_client(host.mcp_url()) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            abandoned = [await session.call_tool("rogue_sync_block", {"seconds": 60}) for _ in range(2)]
            refused = await session.call_tool("rogue_sync_block", {"seconds": 0})
            async with httpx2.AsyncClient() as http:
                metrics = (await http.get(host.url("/metrics"))).text
    assert [_text(result) for result in abandoned] == [
        "Error executing tool rogue_sync_block: timed out after 0.2 s"
    ] * 2
    assert refused.is_error
    assert "the host's 2 worker threads for plain 'def' tools are all busy" in _text(refused)
    assert "2 of them still running calls abandoned after their time limit" in _text(refused)
    assert 'mcp_host_tool_threads{state="abandoned"} 2.0' in metrics
    assert (
        'mcp_host_tool_calls_total{outcome="refused",server="default",tool="rogue_sync_block"} 1.0' in metrics
    )
    assert (
        'mcp_host_tool_calls_total{outcome="timeout",server="default",tool="rogue_sync_block"} 2.0' in metrics
    )


def _events(path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_a_hanging_session_ended_hook_starves_no_other_plugin_and_is_named(rogue_env, tmp_path):
    counter_events, rogue_events = tmp_path / "counter.jsonl", tmp_path / "rogue.jsonl"
    config = (
        f"[plugins.counter]\nevents_file = '{counter_events}'\n\n"
        f"[plugins.rogue]\nhang_on_session_end_s = 600\nevents_file = '{rogue_events}'\n"
    )
    with run_host(config, python=rogue_env.python) as host:
        async with (
            streamable_http_client(host.mcp_url()) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            session_id = _text(await session.call_tool("whoami", {}))
        host.wait_for_log(
            rf"plugin 'rogue': session_ended of session {session_id} took over [\d.]+ s and was cut short"
        )
        host.wait_for_log(rf"session {session_id} closed")
    assert {"event": "ended", "session": session_id} in _events(counter_events)
    assert {"plugin": "rogue", "event": "session_ended hangs", "session": session_id} in _events(rogue_events)


async def test_a_hanging_host_stopping_hook_holds_shutdown_to_its_grace(rogue_env, tmp_path):
    rogue_events = tmp_path / "rogue.jsonl"
    config = (
        "[server]\nshutdown_grace_s = 1\n\n"
        "[plugins.rogue]\nhang_on_stop_s = 600\nhang_on_session_end_s = 600\n"
        f"events_file = '{rogue_events}'\n"
    )
    with run_host(config, python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            # The host stops with this session open: its session_ended hangs, then host_stopping.
            await open_mcp_session(http, host.mcp_url())
            exit_code = await anyio.to_thread.run_sync(lambda: host.stop(timeout=30))
    assert exit_code == 0
    host.wait_for_log(r"plugin 'rogue': host_stopping took over [\d.]+ s and was cut short")


async def test_sighup_reloads_and_ends_no_session(rogue_env, tmp_path):
    counter_events, rogue_events = tmp_path / "counter.jsonl", tmp_path / "rogue.jsonl"
    config = (
        f"[plugins.counter]\nevents_file = '{counter_events}'\n\n"
        f"[plugins.rogue]\nevents_file = '{rogue_events}'\n"
    )
    with run_host(config, python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            await open_mcp_session(http, host.mcp_url())
            host.process.send_signal(signal.SIGHUP)
            host.wait_for_log("reloaded .*: plugins added none, taken out none; 1 live sessions updated")
            assert host.process.poll() is None
            assert [event["event"] for event in _events(counter_events)] == ["started"]
            assert _events(rogue_events) == []
            exit_code = await anyio.to_thread.run_sync(lambda: host.stop(timeout=30))
    assert exit_code == 0
    assert [event["event"] for event in _events(counter_events)] == ["started", "ended"]
    assert [event["event"] for event in _events(rogue_events)] == ["session_ended", "host_stopping"]


async def test_an_async_tool_that_blocks_the_loop_is_named_counted_and_not_a_success(rogue_env):
    config = (
        "[limits]\nloop_stall_threshold_s = 0.5\n\n[plugins.rogue]\ntool_timeouts = { rogue_block = 1 }\n"
    )
    with run_host(config, python=rogue_env.python) as host:
        async with (
            streamable_http_client(host.mcp_url()) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            session_id = _text(await session.call_tool("rogue_whoami", {}))
            blocked = await session.call_tool("rogue_block", {"seconds": 3})
            async with httpx2.AsyncClient() as http:
                metrics = (await http.get(host.url("/metrics"))).text
        stall = host.wait_for_log(r"the event loop has been blocked for .*; running: (.*)").group(1)
    assert _text(blocked) == "Error executing tool rogue_block: timed out after 1 s"
    assert "tool 'rogue_block'" in stall
    assert "plugin 'rogue'" in stall
    assert f"session {session_id}" in stall
    assert "mcp_host_rogue" in stall  # where in the plugin's code
    assert re.search(r"^mcp_host_event_loop_stalls_total [1-9]", metrics, re.MULTILINE), metrics


async def test_on_sigterm_in_flight_calls_finish_or_are_told_the_server_is_shutting_down(rogue_env):
    config = "[server]\nshutdown_grace_s = 4\n"
    with run_host(config, python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=30) as http, httpx2.AsyncClient(timeout=30) as late:
            session = await open_mcp_session(http, host.mcp_url())
            sse_answers: list[object] = []

            async def over_sse() -> None:
                # The stream closes as the host stops: only the answers matter here.
                with contextlib.suppress(Exception):
                    async with (
                        sse_client(host.sse_url()) as (read, write),
                        ClientSession(read, write) as client,
                    ):
                        await client.initialize()
                        sse_answers.append(_text(await client.call_tool("nap", {"seconds": 0.5})))
                        try:
                            await client.call_tool("nap", {"seconds": 60})
                        except MCPError as error:
                            sse_answers.append(error.error.message)

            async def over_mcp(seconds: float) -> httpx2.Response:
                return await mcp_post(http, host.mcp_url(), session, _nap(seconds))

            async with anyio.create_task_group() as group:
                group.start_soon(over_sse)
                quick, slow = [], []
                group.start_soon(lambda: _into(quick, over_mcp(1.5)))
                group.start_soon(lambda: _into(slow, over_mcp(60)))
                await _log(host, r"tool nap .*: ok in")  # the SSE client's first nap
                await anyio.sleep(0.3)  # all three calls are running
                host.process.send_signal(signal.SIGTERM)
                await _log(host, r"stopping: 3 requests in flight")
                refused = await late.post(host.mcp_url(), json=INITIALIZE, headers=HEADERS)
            exit_code = await anyio.to_thread.run_sync(lambda: host.process.wait(30))
    assert exit_code == 0
    assert refused.status_code == 503
    assert "shutting down" in refused.json()["error"]["message"]
    assert jsonrpc_of(quick[0])["result"]["content"][0]["text"] == "rested"
    cut = jsonrpc_of(slow[0])
    assert slow[0].status_code == 200
    assert cut["error"]["code"] == -32000
    assert "the server is shutting down" in cut["error"]["message"]
    assert sse_answers[0] == "rested"
    assert "the server is shutting down" in str(sse_answers[1])


def _nap(seconds: float) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": 100 + int(seconds * 10),
        "method": "tools/call",
        "params": {"name": "nap", "arguments": {"seconds": seconds}},
    }


async def _log(host, pattern: str) -> None:
    await anyio.to_thread.run_sync(lambda: host.wait_for_log(pattern))


async def _into(results: list, call) -> None:
    results.append(await call)
