"""Serve the plugin's tools the way mcp-host does, to an in-process MCP client."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fake_open_meteo import FakeOpenMeteo
from mcp.client import Client
from mcp.server.mcpserver import MCPServer
from mcp_host.registration import Collector
from mcp_types import CallToolResult, TextContent

from mcp_host_weather import WeatherPlugin, WeatherSettings

TEST_TIMEOUT_S = 2.0
"""Generous for loopback; tests of timeouts set their own, much smaller."""


@dataclass
class Served:
    plugin: WeatherPlugin
    settings: WeatherSettings
    client: Client

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        return await self.client.call_tool(tool, arguments)

    async def text(self, tool: str, **arguments: Any) -> str:
        return text_of(await self.call(tool, **arguments))

    async def error(self, tool: str, **arguments: Any) -> str:
        """The text of a call that must fail, without the SDK's "Error executing tool" prefix."""
        result = await self.call(tool, **arguments)
        assert result.is_error, result
        assert result.structured_content is None
        text = text_of(result)
        prefix = f"Error executing tool {tool}: "
        assert text.startswith(prefix), text
        return text.removeprefix(prefix)


def text_of(result: CallToolResult) -> str:
    """The text of a result's single content block."""
    assert len(result.content) == 1, result.content
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@asynccontextmanager
async def serve_weather(fake: FakeOpenMeteo, **overrides: Any) -> AsyncIterator[Served]:
    """Start a fresh plugin against ``fake``, with settings ``overrides``, and connect a client to it."""
    settings = WeatherSettings.model_validate(
        {
            "geocoding_url": fake.geocoding_url,
            "forecast_url": fake.forecast_url,
            "timeout_s": TEST_TIMEOUT_S,
            **overrides,
        }
    )
    plugin = WeatherPlugin()
    collector = Collector()
    plugin.register_tools(register=collector.register_tool, settings=settings)
    await plugin.host_started(settings=settings)
    try:
        server = MCPServer("weather-test", tools=collector.contributions.tools)
        async with Client(server, mode="legacy") as client:
            yield Served(plugin, settings, client)
    finally:
        await plugin.host_stopping()


OpenWeather = Callable[..., AbstractAsyncContextManager[Served]]
"""The ``open_weather`` fixture: ``serve_weather`` bound to the fake."""
