"""End to end: a real mcp-host with the installed weather plugin, an SDK client over SSE."""

from collections.abc import Callable

import anyio
import pytest
from fake_open_meteo import FakeOpenMeteo
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp_host.testing import LiveHost

pytestmark = pytest.mark.anyio


def _config(fake: FakeOpenMeteo, units: str = "metric") -> str:
    return f"""
[server]
name = "weather-host"

[plugins.weather]
units = "{units}"
timeout_s = 0.5
cache_ttl_s = 0
geocoding_url = "{fake.geocoding_url}"
forecast_url = "{fake.forecast_url}"
"""


StartLiveHost = Callable[..., LiveHost]
"""The ``mcp_host_live`` fixture."""


@pytest.fixture
def weather_host(fake_meteo: FakeOpenMeteo, mcp_host_live: StartLiveHost) -> LiveHost:
    return mcp_host_live(_config(fake_meteo))


async def test_the_host_lists_both_tools_with_their_schemas(weather_host: LiveHost):
    async with sse_client(weather_host.sse_url()) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) >= {"get_weather", "get_forecast"}
    weather, forecast = tools["get_weather"], tools["get_forecast"]
    assert weather.input_schema["required"] == ["city"]
    assert "days" in forecast.input_schema["properties"]
    assert weather.output_schema is not None
    assert "temperature" in weather.output_schema["properties"]
    assert forecast.output_schema is not None
    assert "days" in forecast.output_schema["properties"]
    assert weather.annotations is not None
    assert weather.annotations.read_only_hint
    assert weather.description is not None
    assert not weather.description.startswith(" ")


async def test_current_weather_and_forecast_over_sse(weather_host: LiveHost):
    async with sse_client(weather_host.sse_url()) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        current = await client.call_tool("get_weather", {"city": "Paris, Texas"})
        forecast = await client.call_tool("get_forecast", {"city": "Lisbon", "days": 5})
    assert not current.is_error, current.content
    assert current.structured_content is not None
    assert current.structured_content["place"]["region"] == "Texas"
    assert current.content[0].text.startswith("Paris, Texas, United States")  # type: ignore[union-attr]
    assert not forecast.is_error, forecast.content
    assert forecast.structured_content is not None
    assert len(forecast.structured_content["days"]) == 5


async def test_a_failing_provider_is_a_clear_tool_error_and_other_sessions_keep_working(
    weather_host: LiveHost, fake_meteo: FakeOpenMeteo
):
    async with (
        sse_client(weather_host.sse_url()) as (read_a, write_a),
        ClientSession(read_a, write_a) as alice,
        sse_client(weather_host.sse_url()) as (read_b, write_b),
        ClientSession(read_b, write_b) as bob,
    ):
        await alice.initialize()
        await bob.initialize()

        unknown = await alice.call_tool("get_weather", {"city": "Xyzzy"})
        assert unknown.is_error
        assert "no place named 'Xyzzy' was found" in unknown.content[0].text  # type: ignore[union-attr]

        fake_meteo.behave("forecast", "slow", delay=3)
        with anyio.fail_after(5):
            slow = await alice.call_tool("get_weather", {"city": "Lisbon"})
        assert slow.is_error
        assert "the Open-Meteo forecast service timed out after 0.5 s" in slow.content[0].text  # type: ignore[union-attr]

        fake_meteo.behave("forecast", "fail", status=500)
        failed = await bob.call_tool("get_forecast", {"city": "Lisbon"})
        assert failed.is_error
        assert "HTTP 500" in failed.content[0].text  # type: ignore[union-attr]

        fake_meteo.reset()
        bad_days = await bob.call_tool("get_forecast", {"city": "Lisbon", "days": 17})
        assert bad_days.is_error
        assert "days must be between 1 and 16, got 17" in bad_days.content[0].text  # type: ignore[union-attr]

        recovered = await alice.call_tool("get_weather", {"city": "Lisbon"})
        assert not recovered.is_error, recovered.content
    assert "Traceback" not in weather_host.log


async def test_imperial_units_end_to_end(fake_meteo: FakeOpenMeteo, mcp_host_live: StartLiveHost):
    host = mcp_host_live(_config(fake_meteo, units="imperial"))
    async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        current = await client.call_tool("get_weather", {"city": "London"})
    assert current.structured_content is not None
    assert current.structured_content["units"]["temperature"] == "°F"
    assert "°F" in current.content[0].text  # type: ignore[union-attr]
