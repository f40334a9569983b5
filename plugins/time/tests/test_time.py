"""mcp-host-time as users run it: installed, found by mcp-host, called by an MCP client.

The fixtures (mcp_host_plugin, mcp_host_client, mcp_host_live, mcp_host) come with
mcp-host, from mcp_host.testing.
"""

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp_host.config import ConfigError
from mcp_host.testing import error_of, text_of


def test_the_installed_plugin_loads_and_offers_its_tool(mcp_host_plugin) -> None:
    record = mcp_host_plugin("time")

    assert record.distribution == "mcp-host-time"
    assert record.contributions.tool_names == ["time_greet"]


def test_a_bad_setting_is_reported_with_its_key(mcp_host_plugin) -> None:
    with pytest.raises(ConfigError, match=r"plugins\.time\.greeting"):
        mcp_host_plugin("time", '[plugins.time]\ngreeting = ""\n')


@pytest.mark.anyio
async def test_greet(mcp_host_client) -> None:
    async with mcp_host_client('[plugins.time]\ngreeting = "Hi"\n') as client:
        result = await client.call_tool("time_greet", {"who": "Ada"})

    assert text_of(result) == "Hi, Ada!"
    assert result.structured_content == {"result": "Hi, Ada!"}


@pytest.mark.anyio
async def test_an_empty_name_is_an_error_the_model_can_read(mcp_host_client) -> None:
    async with mcp_host_client() as client:
        result = await client.call_tool("time_greet", {"who": " "})

    assert error_of(result) == "who must not be empty; give a name, e.g. 'Ada'"


@pytest.mark.anyio
async def test_served_over_http_by_a_real_host(mcp_host_live) -> None:
    host = mcp_host_live("[plugins.time]\n")
    async with (
        sse_client(host.sse_url()) as (read, write),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        tools = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("time_greet", {"who": "Ada"})

    assert "time_greet" in tools
    assert text_of(result) == "Hello, Ada!"
