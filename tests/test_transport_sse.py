"""Transport details that real clients trip on, checked on the wire."""

from __future__ import annotations

import time

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from mcp_host.testing import run_host

from .wire import QUIET

pytestmark = pytest.mark.anyio


async def _first_lines(
    url: str, count: int, headers: dict[str, str] | None = None
) -> tuple[httpx2.Response, list[str]]:
    lines: list[str] = []
    async with httpx2.AsyncClient(timeout=10) as http, http.stream("GET", url, headers=headers) as response:
        async for line in response.aiter_lines():
            lines.append(line)
            if len(lines) >= count:
                break
    return response, lines


async def test_the_stream_names_its_message_endpoint_and_is_not_buffered(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        response, lines = await _first_lines(host.sse_url(), 2)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no"
    assert lines[0] == "event: endpoint"
    assert lines[1].startswith("data: /messages/?session_id=")


async def test_post_to_the_stream_url_is_405_so_clients_fall_back_to_sse(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            response = await http.post(
                host.sse_url(), json={"jsonrpc": "2.0", "id": 1, "method": "initialize"}
            )
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


async def test_idle_streams_get_keepalive_comments(plugin_env):
    with run_host("[server]\nkeepalive_s = 0.3\n" + QUIET, python=plugin_env.python) as host:
        _, lines = await _first_lines(host.sse_url(), 6)
    assert any(line.startswith(": ping") for line in lines), lines


async def test_the_endpoint_event_carries_the_root_path(plugin_env):
    config = "[server]\nroot_path = '/tools'\n[servers.research]\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        assert host.sse_url().endswith("/tools/sse")
        # A proxy in front strips /tools before the request reaches the host.
        base = host.base_url
        _, lines = await _first_lines(f"{base}/sse", 2)
        assert lines[1].startswith("data: /tools/messages/?session_id=")
        _, lines = await _first_lines(f"{base}/servers/research/sse", 2)
        assert lines[1].startswith("data: /tools/servers/research/messages/?session_id=")


async def test_named_servers_serve_their_own_name_instructions_and_tools(plugin_env):
    config = (
        """
[server]
name = "everything"
[servers.counting]
name = "counting"
instructions = "Only counting here."
plugins = ["counter"]
tools = ["increment"]
"""
        + QUIET
    )
    with run_host(config, python=plugin_env.python) as host:
        async with (
            sse_client(host.sse_url("counting")) as (read, write),
            ClientSession(read, write) as client,
        ):
            init = await client.initialize()
            tools = [tool.name for tool in (await client.list_tools()).tools]
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            default_init = await client.initialize()
            default_tools = {tool.name for tool in (await client.list_tools()).tools}
    assert init.server_info.name == "counting"
    assert init.instructions == "Only counting here."
    assert tools == ["increment"]
    assert default_init.server_info.name == "everything"
    assert {"increment", "whoami", "echo"} <= default_tools


async def test_sigterm_stops_the_host_quickly_with_streams_open(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            started = time.monotonic()
            exit_code = await anyio.to_thread.run_sync(host.stop)
            elapsed = time.monotonic() - started
    assert exit_code == 0, host.log
    assert elapsed < 8, f"took {elapsed:.1f} s"
    assert "without completing response" not in host.log
    host.wait_for_log(r"session \w+ closed")
