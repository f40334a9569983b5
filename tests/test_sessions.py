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
