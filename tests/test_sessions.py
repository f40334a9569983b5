"""Every client gets its own server; a disconnected client leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from mcp_host.testing import run_host

from .wire import INITIALIZE

pytestmark = pytest.mark.anyio


def _config(events_file: Path) -> str:
    return f"""
[server]
name = "test-host"
instructions = "Counts, per client."

[plugins.counter]
start = 10
events_file = "{events_file}"

[plugins.broken]
enabled = false
"""


async def _tool_text(session: ClientSession, name: str, arguments: dict[str, object] | None = None) -> str:
    result = await session.call_tool(name, arguments or {})
    assert not result.is_error, result.content
    return result.content[0].text  # type: ignore[union-attr]


async def test_two_clients_at_once_each_get_their_own_server(plugin_env, tmp_path):
    events_file = tmp_path / "events.jsonl"
    with run_host(_config(events_file), python=plugin_env.python) as host:
        async with (
            sse_client(host.sse_url()) as (read_a, write_a),
            ClientSession(read_a, write_a) as alice,
            sse_client(host.sse_url()) as (read_b, write_b),
            ClientSession(read_b, write_b) as bob,
        ):
            init_a = await alice.initialize()
            await bob.initialize()
            assert init_a.server_info.name == "test-host"
            assert init_a.instructions == "Counts, per client."

            tools = {tool.name for tool in (await alice.list_tools()).tools}
            assert {"increment", "whoami"} <= tools

            assert await _tool_text(alice, "increment", {"by": 5}) == "15"
            assert await _tool_text(alice, "increment") == "16"
            assert await _tool_text(bob, "increment") == "11"
            id_a, id_b = await _tool_text(alice, "whoami"), await _tool_text(bob, "whoami")
            assert id_a != id_b

            async with httpx2.AsyncClient() as http:
                health = (await http.get(host.url("/healthz"))).json()
            assert health["sessions"] == 2

        # Both clients are gone: the host must have forgotten them.
        async with httpx2.AsyncClient() as http:
            with anyio.fail_after(10):
                while (await http.get(host.url("/healthz"))).json()["sessions"]:
                    await anyio.sleep(0.05)
            stale = await http.post(
                host.url(f"/messages/?session_id={id_a}"),
                json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            )
        assert stale.status_code == 404

        events = [json.loads(line) for line in events_file.read_text().splitlines()]
        assert sorted(e["session"] for e in events if e["event"] == "started") == sorted([id_a, id_b])
        assert sorted(e["session"] for e in events if e["event"] == "ended") == sorted([id_a, id_b])
        host.wait_for_log(rf"session {id_a} closed on server 'default'")


async def test_a_tool_error_reaches_only_its_caller(plugin_env, tmp_path):
    with run_host(_config(tmp_path / "events.jsonl"), python=plugin_env.python) as host:
        async with (
            sse_client(host.sse_url()) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            failed = await client.call_tool("increment", {"by": 0})
            assert failed.is_error
            assert "by must be 1 or more" in failed.content[0].text  # type: ignore[union-attr]
            assert await _tool_text(client, "increment") == "11"


def _events(events_file: Path) -> list[tuple[str, str]]:
    if not events_file.exists():
        return []
    return [(e["event"], e["session"]) for e in map(json.loads, events_file.read_text().splitlines())]


async def test_a_client_that_disconnects_mid_call_has_its_call_cancelled_and_others_go_on(
    plugin_env, tmp_path
):
    events_file = tmp_path / "events.jsonl"
    with run_host(_config(events_file), python=plugin_env.python) as host:
        async with sse_client(host.sse_url()) as (read_b, write_b), ClientSession(read_b, write_b) as bob:
            await bob.initialize()
            # Alice speaks raw HTTP, so that leaving is only a dropped stream: no cancel message.
            async with httpx2.AsyncClient(timeout=10) as http, http.stream("GET", host.sse_url()) as stream:
                lines = stream.aiter_lines()
                assert await anext(lines) == "event: endpoint"
                messages_url = host.url((await anext(lines)).removeprefix("data: "))
                leaver_id = [messages_url.rsplit("=", 1)[1]]
                for message in (
                    INITIALIZE,
                    {"jsonrpc": "2.0", "method": "notifications/initialized"},
                    {
                        "jsonrpc": "2.0",
                        "id": 2,
                        "method": "tools/call",
                        "params": {"name": "nap", "arguments": {"seconds": 60}},
                    },
                ):
                    assert (await http.post(messages_url, json=message)).status_code == 202
                with anyio.fail_after(10):
                    while ("nap started", leaver_id[0]) not in _events(events_file):
                        await anyio.sleep(0.05)
            with anyio.fail_after(10):
                while ("nap cancelled", leaver_id[0]) not in _events(events_file):
                    await anyio.sleep(0.05)
            assert ("ended", leaver_id[0]) in _events(events_file)
            # Bob never noticed.
            assert await _tool_text(bob, "increment") == "11"
            assert await _tool_text(bob, "nap", {"seconds": 0.01}) == "rested"


async def test_ten_concurrent_clients_are_isolated(plugin_env, tmp_path):
    with run_host(_config(tmp_path / "events.jsonl"), python=plugin_env.python) as host:
        results: dict[int, list[str]] = {}

        async def client(number: int) -> None:
            async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                results[number] = [await _tool_text(session, "increment", {"by": number}) for _ in range(3)]

        async with anyio.create_task_group() as tasks:
            for number in range(1, 11):
                tasks.start_soon(client, number)
    assert results == {n: [str(10 + n), str(10 + 2 * n), str(10 + 3 * n)] for n in range(1, 11)}
