"""What an operator sees: health, readiness, metrics and the log."""

from __future__ import annotations

import json

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_host.testing import run_host
from mcp_host.version import host_version

from .wire import QUIET

pytestmark = pytest.mark.anyio


async def test_health_readiness_and_metrics(plugin_env):
    with run_host("[limits]\nmax_sessions = 1\n" + QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient() as http:
            ready = await http.get(host.url("/readyz"))
            async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                await client.call_tool("increment", {})
                await client.call_tool("increment", {"by": 0})
                await client.call_tool("crash", {})
                full = await http.get(host.url("/readyz"))
                health = await http.get(host.url("/healthz"))
                metrics = (await http.get(host.url("/metrics"))).text
    assert ready.status_code == 200
    assert ready.json()["plugins"].items() >= {"broken": "disabled", "counter": "loaded"}.items()
    assert full.status_code == 503
    assert full.json()["accepting_sessions"] is False
    assert health.status_code == 200
    assert health.json()["sessions"] == 1
    assert 'mcp_host_sessions{server="default",transport="sse"} 1.0' in metrics
    assert 'mcp_host_sessions_opened_total{server="default",transport="sse"} 1.0' in metrics
    assert 'mcp_host_tool_calls_total{outcome="ok",server="default",tool="increment"} 1.0' in metrics
    assert 'mcp_host_tool_calls_total{outcome="error",server="default",tool="increment"} 1.0' in metrics
    assert 'mcp_host_tool_calls_total{outcome="error",server="default",tool="crash"} 1.0' in metrics
    assert 'mcp_host_tool_call_duration_seconds_count{server="default",tool="increment"} 2.0' in metrics
    assert 'mcp_host_plugin_status{plugin="counter",status="loaded"} 1.0' in metrics
    assert 'mcp_host_plugin_status{plugin="broken",status="disabled"} 1.0' in metrics


async def test_json_logs_have_one_record_per_session_and_tool_call(plugin_env):
    with run_host(QUIET, python=plugin_env.python, args=["--log-format", "json"]) as host:
        async with (
            streamable_http_client(host.mcp_url()) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            session_id = (await client.call_tool("whoami", {})).content[0].text  # type: ignore[union-attr]
        host.wait_for_log(r'"event": "session_closed"')
    records = [json.loads(line) for line in host.log_lines]
    by_event = {record.get("event"): record for record in records}
    assert by_event["session_opened"]["session_id"] == session_id
    assert by_event["session_opened"]["transport"] == "streamable-http"
    call = by_event["tool_call"]
    assert (call["tool"], call["outcome"], call["server"], call["session_id"]) == (
        "whoami",
        "ok",
        "default",
        session_id,
    )
    assert call["duration_ms"] >= 0
    assert {"time", "level", "logger", "message"} <= set(call)


async def test_a_tool_error_is_logged_once_with_what_the_client_was_told(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            await client.call_tool("increment", {"by": 0})
            await client.call_tool("increment", {"by": "many"})
        host.wait_for_log(r"tool increment .*: invalid in \d+ ms: .*'many'")
    refused = [line for line in host.log_lines if "by must be 1 or more" in line]
    rejected = [line for line in host.log_lines if "'by'" in line]
    assert len(refused) == 1, host.log
    assert "tool increment on session" in refused[0]
    assert len(rejected) == 1, host.log
    assert "argument 'by': expected a valid integer, got 'many'" in rejected[0]


def test_the_start_up_block_names_version_urls_and_plugins_then_one_line_on_security(plugin_env):
    config = "[server]\nplugins = ['echo']\n[servers.side]\nname = 'side'\nplugins = ['echo']\n"
    with run_host(config, python=plugin_env.python) as host:
        lines = [line for line in host.log_lines if "mcp_host.serving:" in line]
        base = host.base_url
    messages = [line.split("mcp_host.serving: ", 1)[1] for line in lines]

    plugins = messages.pop(3)  # whatever else the environment holds is loaded too
    assert plugins.startswith("plugins loaded: ")
    assert "counter 1.2.0, echo 0.3.0" in plugins
    assert plugins.endswith("; failed (see above): broken")
    assert messages[:4] == [
        f"mcp-host {host_version()} running with {messages[0].split(' with ')[1].split(';')[0]}; "
        f"status page at {base}/",
        f"serving 'mcp-host' (1 tools) at {base}/mcp (Streamable HTTP) and {base}/sse (HTTP+SSE)",
        f"serving 'side' (1 tools) at {base}/servers/side/mcp (Streamable HTTP) and {base}/servers/side/sse"
        " (HTTP+SSE)",
        "security: Host and Origin headers checked (--log-level debug lists the accepted ones); "
        "no bearer tokens ([[auth.tokens]] adds them)",
    ]
    assert not any("accepted Host headers" in line for line in host.log_lines)


async def test_json_logs_carry_no_terminal_colours(plugin_env):
    with run_host(
        QUIET, python=plugin_env.python, args=["--log-format", "json", "--log-level", "debug"]
    ) as host:
        async with httpx2.AsyncClient() as http:
            await http.get(host.url("/healthz"))
    records = [json.loads(line) for line in host.log_lines]

    assert any(record["logger"].startswith("uvicorn") for record in records)
    assert not any("color_message" in record for record in records)
    assert not any("\x1b" in line for line in host.log_lines)
