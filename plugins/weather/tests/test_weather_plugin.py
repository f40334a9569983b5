"""The plugin as mcp-host sees it: entry point, hooks, settings and lifecycle."""

from collections.abc import Callable
from importlib.metadata import entry_points

import pytest
from fake_open_meteo import FakeOpenMeteo
from mcp_host import hookspecs
from mcp_host.plugins import PluginRecord
from pydantic import ValidationError
from weather_harness import OpenWeather

import mcp_host_weather
from mcp_host_weather import WeatherPlugin, WeatherSettings


def test_entry_point_announces_the_shared_plugin_instance() -> None:
    (entry_point,) = entry_points(group=hookspecs.PROJECT_NAME, name="weather")
    assert entry_point.load() is mcp_host_weather.plugin
    assert isinstance(mcp_host_weather.plugin, WeatherPlugin)


def test_the_host_loads_it_with_its_hooks_settings_and_tools(
    mcp_host_plugin: Callable[..., PluginRecord],
) -> None:
    record = mcp_host_plugin("weather")  # fails on an unknown hook or argument, with the host's error

    assert record.plugin is mcp_host_weather.plugin
    assert (record.distribution, record.status) == ("mcp-host-weather", "loaded")
    assert record.settings == WeatherSettings()
    assert record.contributions.tool_names == ["get_weather", "get_forecast"]


def test_settings_defaults() -> None:
    settings = WeatherSettings()

    assert settings.units == "metric"
    assert settings.timeout_s == 10
    assert settings.cache_ttl_s == 300
    assert settings.forecast_days == 3
    assert settings.geocoding_url == "https://geocoding-api.open-meteo.com/v1/search"
    assert settings.forecast_url == "https://api.open-meteo.com/v1/forecast"


def test_every_setting_is_described() -> None:
    properties = WeatherSettings.model_json_schema()["properties"]

    assert set(properties) == {
        "units",
        "timeout_s",
        "cache_ttl_s",
        "geocoding_url",
        "forecast_url",
        "forecast_days",
    }
    assert all(field.get("description") for field in properties.values())


@pytest.mark.parametrize(
    "table",
    [
        {"unit": "metric"},
        {"units": "kelvin"},
        {"timeout_s": 0},
        {"cache_ttl_s": -1},
        {"forecast_days": 0},
        {"forecast_days": 17},
        {"geocoding_url": "ftp://example.com/search"},
        {"forecast_url": "api.open-meteo.com/v1/forecast"},
    ],
)
def test_bad_settings_are_rejected(table: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WeatherSettings.model_validate(table)


@pytest.mark.anyio
async def test_host_stopping_closes_the_shared_client(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo
) -> None:
    async with open_weather() as served:
        service = served.plugin.service
        assert service is not None
        assert not service.closed
        assert not (await served.call("get_weather", city="Lisbon")).is_error

        await served.plugin.host_stopping()

        assert service.closed
        assert served.plugin.service is None
        message = await served.error("get_weather", city="Lisbon")

    assert message == "the weather service is not running; the host has not started it or is stopping"


@pytest.mark.anyio
async def test_tools_registered_before_the_host_starts_use_the_service_it_starts(
    fake_meteo: FakeOpenMeteo,
) -> None:
    plugin = WeatherPlugin()
    settings = WeatherSettings(geocoding_url=fake_meteo.geocoding_url, forecast_url=fake_meteo.forecast_url)
    await plugin.host_started(settings=settings)
    first = plugin.service
    await plugin.host_started(settings=settings)  # a restart replaces, and closes, what was running

    assert first is not None
    assert first.closed
    assert plugin.service is not None
    assert not plugin.service.closed
    await plugin.host_stopping()
    await plugin.host_stopping()  # idempotent
    assert plugin.service is None
