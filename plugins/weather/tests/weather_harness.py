"""The weather tools behind an MCP client, served by a host running in the test (mcp_host.testing)."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import tomli_w
from fake_open_meteo import FakeOpenMeteo
from mcp.client import Client
from mcp_host.testing import InProcessHost, error_of, text_of
from mcp_types import CallToolResult

from mcp_host_weather import WeatherPlugin, WeatherSettings

__all__ = ["OpenWeather", "Served", "StartHost", "serve_weather", "text_of"]

TEST_TIMEOUT_S = 2.0
"""Generous for loopback; tests of timeouts set their own, much smaller."""

StartHost = Callable[..., AbstractAsyncContextManager[InProcessHost]]
"""The ``mcp_host`` fixture."""


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
        assert result.structured_content is None
        return error_of(result)


@asynccontextmanager
async def serve_weather(mcp_host: StartHost, fake: FakeOpenMeteo, **overrides: Any) -> AsyncIterator[Served]:
    """The installed plugin, found through its entry point and configured with ``overrides`` against
    ``fake``, in a host that serves only it; and a client connected to that host."""
    settings = {
        "geocoding_url": fake.geocoding_url,
        "forecast_url": fake.forecast_url,
        "timeout_s": TEST_TIMEOUT_S,
        **overrides,
    }
    config = tomli_w.dumps({"server": {"plugins": ["weather"]}, "plugins": {"weather": settings}})
    async with mcp_host(config) as host, host.connect() as client:
        record = host.records["weather"]
        assert isinstance(record.settings, WeatherSettings)
        yield Served(host.plugin("weather"), record.settings, client)


OpenWeather = Callable[..., AbstractAsyncContextManager[Served]]
"""The ``open_weather`` fixture: ``serve_weather`` bound to the host fixture and the fake."""
