"""The status page's JSON twin, who may see it, and what a browser sees at an MCP endpoint."""

from __future__ import annotations

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_host.call_stats import ToolCallStats
from mcp_host.testing import run_host
from mcp_host.version import host_version

from .wire import QUIET

pytestmark = pytest.mark.anyio

TOKEN = "status-token-0123456789abcdef"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_status_names_servers_plugins_sessions_and_calls(plugin_env):
    config = "[server]\nplugins = ['counter']\n[servers.side]\nname = 'side'\nplugins = ['echo']\n"
    with run_host(config, python=plugin_env.python) as host:
        async with (
            sse_client(host.sse_url()) as (read, write),
            ClientSession(read, write) as client,
            streamable_http_client(host.mcp_url("side")) as (side_read, side_write),
            ClientSession(side_read, side_write) as side,
        ):
            await client.initialize()
            await side.initialize()
            for by in (1, 2, 0):
                await client.call_tool("increment", {"by": by})
            await side.call_tool("echo", {"text": "hi"})
            async with httpx2.AsyncClient() as http:
                status = (await http.get(host.url("/status"))).json()

    base = host.base_url
    servers = {server["key"]: server for server in status["servers"]}
    plugins = {plugin["name"]: plugin for plugin in status["plugins"]}
    calls = {(row["server"], row["tool"]): row for row in status["tool_calls"]}
    assert status["version"] == host_version()
    assert servers["default"]["urls"] == {"streamable_http": f"{base}/mcp", "sse": f"{base}/sse"}
    assert servers["side"]["urls"]["streamable_http"] == f"{base}/servers/side/mcp"
    assert servers["side"]["tools"] == ["echo"]
    assert {"increment", "whoami"} <= set(servers["default"]["tools"])
    assert servers["default"]["sessions"] == {"sse": 1}
    assert servers["side"]["sessions"] == {"streamable-http": 1}
    assert status["sessions"] == 2
    assert plugins["counter"]["status"] == "loaded"
    assert plugins["counter"]["version"] == "1.2.0"
    assert plugins["broken"]["status"] == "failed"
    assert "No module named 'mcp_host_dependency_that_is_not_installed'" in plugins["broken"]["error"]
    assert (calls["default", "increment"]["calls"], calls["default", "increment"]["errors"]) == (3, 1)
    assert 0 < calls["default", "increment"]["p50_ms"] <= calls["default", "increment"]["p99_ms"]
    assert (calls["side", "echo"]["calls"], calls["side", "echo"]["errors"]) == (1, 0)


async def test_the_page_carries_its_first_state_and_needs_no_other_file(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            page = await http.get(host.url("/"), headers=BROWSER)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'"version": "{host_version()}"' in page.text
    assert "{{STATUS_JSON}}" not in page.text
    assert " src=" not in page.text  # no script or image to fetch: one file, no build step


async def test_status_is_only_for_the_hosts_own_names_and_origins(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            statuses = {
                (path, name): (await http.get(host.url(path), headers=headers)).status_code
                for path in ("/", "/status")
                for name, headers in {
                    "own": {},
                    "foreign host": {"Host": "evil.example.com"},
                    "foreign origin": {"Origin": "http://evil.example.com"},
                    "a port that is no number": {"Host": "127.0.0.1:<b>"},
                }.items()
            }

    assert statuses == {
        ("/", "own"): 200,
        ("/", "foreign host"): 421,
        ("/", "foreign origin"): 403,
        ("/", "a port that is no number"): 421,
        ("/status", "own"): 200,
        ("/status", "foreign host"): 421,
        ("/status", "foreign origin"): 403,
        ("/status", "a port that is no number"): 421,
    }


async def test_with_tokens_the_status_needs_one(plugin_env):
    config = f"[[auth.tokens]]\nname = 'ops'\ntoken = '{TOKEN}'\nservers = ['default']\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            without = await http.get(host.url("/status"))
            page_without = await http.get(host.url("/"), headers=BROWSER)
            wrong = await http.get(host.url("/status"), headers={"Authorization": "Bearer " + "x" * 30})
            right = await http.get(host.url("/status"), headers={"Authorization": f"Bearer {TOKEN}"})
            health = await http.get(host.url("/healthz"))

    assert (without.status_code, page_without.status_code, wrong.status_code) == (401, 401, 401)
    assert right.status_code == 200
    assert right.json()["version"] == host_version()
    assert health.status_code == 200


async def test_a_browser_at_an_mcp_endpoint_is_told_what_it_is(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            pages = {path: await http.get(host.url(path), headers=BROWSER) for path in ("/mcp", "/sse")}
            foreign = await http.get(host.url("/mcp"), headers={**BROWSER, "Host": "evil.example.com"})
            odd_port = await http.get(host.url("/sse"), headers={**BROWSER, "Host": "127.0.0.1:<b>"})
            # An MCP client asking for the event stream still gets it.
            async with http.stream("GET", host.sse_url(), headers={"Accept": "text/event-stream"}) as stream:
                stream_type = stream.headers["content-type"]

    for path, page in pages.items():
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "This is an MCP endpoint" in page.text
        assert f"<code>{host.base_url}{path}</code>" in page.text
        assert f'<a href="{host.base_url}/">its status page</a>' in page.text
    assert "over Streamable HTTP" in pages["/mcp"].text
    assert "over HTTP+SSE" in pages["/sse"].text
    assert foreign.status_code == odd_port.status_code == 421
    assert stream_type.startswith("text/event-stream")


def test_call_stats_count_errors_and_take_measured_percentiles():
    stats = ToolCallStats()
    for index in range(1, 101):
        stats.record("default", "t", "error" if index % 10 == 0 else "ok", index / 1000)
    stats.record("default", "t", "cancelled", 0.5)

    (row,) = stats.snapshot()
    assert row == {
        "server": "default",
        "tool": "t",
        "calls": 101,
        "errors": 10,
        "p50_ms": 51.0,
        "p99_ms": 100.0,
    }
