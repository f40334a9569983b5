"""Two plugins in one host: the repository's shipped config.toml serves time and weather together,
to the same clients, over both HTTP transports, through a real mcp-host process.

The shipped config serves every installed plugin, and a user's virtualenv may hold others:
the tests expect time's and weather's tools among what the config serves, and what is served
to be what `mcp-host tools` says the config serves, whatever else is installed."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp_host.testing import error_of, text_of

SHIPPED_CONFIG = Path(__file__).resolve().parents[3] / "config.toml"
TOOLS = {"current_time", "convert_time", "get_weather", "get_forecast"}


def mcp_host_json(*args: str) -> Any:
    listing = subprocess.run(
        [sys.executable, "-m", "mcp_host", *args, "--config", str(SHIPPED_CONFIG), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(listing.stdout)


def test_both_plugins_are_loaded_and_configured_by_the_shipped_config() -> None:
    plugins = {plugin["name"]: plugin for plugin in mcp_host_json("plugins")["plugins"]}
    assert plugins["time"]["status"] == plugins["weather"]["status"] == "loaded"
    assert plugins["time"]["distribution"] == "mcp-host-time"
    assert set(plugins["time"]["tools"]) | set(plugins["weather"]["tools"]) == TOOLS


@pytest.mark.anyio
async def test_one_client_calls_tools_of_both_plugins_over_sse_and_streamable_http(
    mcp_host_live: Any,
) -> None:
    served = {tool["name"] for tool in mcp_host_json("tools")["servers"]["default"]["tools"]}
    host = mcp_host_live(SHIPPED_CONFIG)

    async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        listed = {tool.name for tool in (await client.list_tools()).tools}
        now = await client.call_tool("current_time", {"zone": "Europe/Lisbon"})
        # An empty place is refused by the weather plugin itself, before it would go online.
        weather = await client.call_tool("get_weather", {"city": " "})
    async with Client(host.mcp_url(), mode="legacy") as streamable:
        streamed = {tool.name for tool in (await streamable.list_tools()).tools}
        converted = await streamable.call_tool(
            "convert_time", {"time": "2026-11-27 09:00", "from_zone": "UTC", "to_zone": "Asia/Tokyo"}
        )

    assert listed == streamed == served
    assert served >= TOOLS
    assert now.structured_content is not None
    assert now.structured_content["zone"] == "Europe/Lisbon"
    assert error_of(weather).startswith("city must not be empty")
    assert text_of(converted).startswith("09:00 on Friday 27 November 2026 in UTC (UTC, UTC+00:00) is 18:00")
    assert "Traceback" not in host.log
