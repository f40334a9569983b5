"""The tools as an MCP client sees them, answering from the fake Open-Meteo."""

from typing import Any

import pytest
from fake_open_meteo import GAZETTEER, FakeOpenMeteo, Weather, to_fahrenheit, to_inch, to_mph, weather_at
from weather_harness import OpenWeather, text_of

from mcp_host_weather import CurrentWeather, Forecast

pytestmark = pytest.mark.anyio


def gazetteer(name: str, admin1: str) -> dict[str, Any]:
    return next(place for place in GAZETTEER if place["name"] == name and place["admin1"] == admin1)


def fake_weather(place: dict[str, Any]) -> Weather:
    # The plugin asks for coordinates rounded to 4 decimals, as the fake then sees them.
    return weather_at(round(place["latitude"], 4), round(place["longitude"], 4))


async def test_tools_are_listed_with_input_and_output_schemas(open_weather: OpenWeather) -> None:
    async with open_weather(forecast_days=5) as served:
        tools = {tool.name: tool for tool in (await served.client.list_tools()).tools}

    assert set(tools) == {"get_weather", "get_forecast"}
    weather, forecast = tools["get_weather"], tools["get_forecast"]
    assert weather.input_schema["required"] == ["city"]
    assert "Paris, Texas" in weather.input_schema["properties"]["city"]["description"]
    days = forecast.input_schema["properties"]["days"]
    assert (days["default"], days["minimum"], days["maximum"]) == (5, 1, 16)
    assert forecast.input_schema["required"] == ["city"]
    assert weather.output_schema is not None
    assert weather.output_schema["title"] == "CurrentWeather"
    assert forecast.output_schema is not None
    assert forecast.output_schema["title"] == "Forecast"
    for tool in (weather, forecast):
        assert tool.description
        assert not tool.description.startswith(" ")
        assert "\n " not in tool.description
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True


async def test_current_weather_in_metric_units(open_weather: OpenWeather) -> None:
    lisbon = gazetteer("Lisbon", "Lisbon")
    expected = fake_weather(lisbon)

    async with open_weather() as served:
        result = await served.call("get_weather", city="Lisbon")

    assert not result.is_error
    report = CurrentWeather.model_validate(result.structured_content)
    assert report.place.model_dump() == {
        "name": "Lisbon",
        "region": "Lisbon",
        "country": "Portugal",
        "country_code": "PT",
        "latitude": lisbon["latitude"],
        "longitude": lisbon["longitude"],
        "timezone": "Europe/Lisbon",
    }
    assert report.observed_at.isoformat() == "2026-11-27T14:00:00+00:00"
    assert (report.units.temperature, report.units.wind_speed, report.units.precipitation) == (
        "°C",
        "km/h",
        "mm",
    )
    assert report.temperature == expected.temperature
    assert report.feels_like == expected.feels_like
    assert report.humidity == expected.humidity
    assert report.wind_speed == expected.wind_speed
    assert report.wind_direction == expected.wind_direction
    assert report.precipitation == expected.precipitation
    assert report.weather_code == expected.weather_code
    assert text_of(result) == (
        "Lisbon, Lisbon, Portugal (38.72, -9.13, Europe/Lisbon) at 2026-11-27T14:00 local time: "
        f"{expected.temperature:.1f} °C (feels like {expected.feels_like:.1f} °C), {report.condition}, "
        f"humidity {expected.humidity} %, wind {expected.wind_speed:.1f} km/h from {report.wind_compass}, "
        f"precipitation {expected.precipitation:.1f} mm"
    )


async def test_current_weather_in_imperial_units(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo
) -> None:
    springfield = gazetteer("Springfield", "Illinois")
    expected = fake_weather(springfield)

    async with open_weather(units="imperial") as served:
        result = await served.call("get_weather", city="Springfield, Illinois, US")

    report = CurrentWeather.model_validate(result.structured_content)
    assert report.units.system == "imperial"
    assert (report.units.temperature, report.units.wind_speed, report.units.precipitation) == (
        "°F",
        "mph",
        "in",
    )
    assert report.temperature == to_fahrenheit(expected.temperature)
    assert report.feels_like == to_fahrenheit(expected.feels_like)
    assert report.wind_speed == to_mph(expected.wind_speed)
    assert report.precipitation == to_inch(expected.precipitation)
    assert report.observed_at.utcoffset() is not None
    assert report.observed_at.isoformat() == "2026-11-27T14:00:00-06:00"
    text = text_of(result)
    assert text.startswith("Springfield, Illinois, United States (39.80, -89.64, America/Chicago) at ")
    assert f"{to_fahrenheit(expected.temperature):.1f} °F" in text
    assert f"wind {to_mph(expected.wind_speed):.1f} mph from" in text
    assert f"precipitation {to_inch(expected.precipitation):.2f} in" in text
    (forecast_request,) = fake_meteo.requests_to("forecast")
    assert forecast_request.params["temperature_unit"] == "fahrenheit"
    assert forecast_request.params["wind_speed_unit"] == "mph"
    assert forecast_request.params["precipitation_unit"] == "inch"


async def test_forecast_covers_the_default_number_of_days(open_weather: OpenWeather) -> None:
    lisbon = gazetteer("Lisbon", "Lisbon")
    expected = fake_weather(lisbon)

    async with open_weather() as served:
        result = await served.call("get_forecast", city="Lisbon")

    forecast = Forecast.model_validate(result.structured_content)
    assert forecast.place.name == "Lisbon"
    assert [day.date for day in forecast.days] == [day.date for day in expected.days[:3]]
    for day, want in zip(forecast.days, expected.days, strict=False):
        assert day.temperature_min == want.temperature_min
        assert day.temperature_max == want.temperature_max
        assert day.precipitation_sum == want.precipitation_sum
        assert day.precipitation_probability_max == want.precipitation_probability_max
        assert day.wind_speed_max == want.wind_speed_max
        assert day.weather_code == want.weather_code
        assert day.condition
    lines = text_of(result).splitlines()
    assert lines[0] == "3-day forecast for Lisbon, Lisbon, Portugal (38.72, -9.13, Europe/Lisbon):"
    first = expected.days[0]
    assert lines[1] == (
        f"- 2026-11-27: {forecast.days[0].condition}, "
        f"{first.temperature_min:.1f} °C to {first.temperature_max:.1f} °C, "
        f"precipitation {first.precipitation_sum:.1f} mm ({first.precipitation_probability_max} % chance), "
        f"wind up to {first.wind_speed_max:.1f} km/h"
    )
    assert len(lines) == 4


async def test_forecast_of_sixteen_days_in_imperial_units_tolerates_missing_values(
    open_weather: OpenWeather,
) -> None:
    paris_texas = gazetteer("Paris", "Texas")
    expected = fake_weather(paris_texas)

    async with open_weather(units="imperial") as served:
        result = await served.call("get_forecast", city="Paris, Texas", days=16)

    forecast = Forecast.model_validate(result.structured_content)
    assert len(forecast.days) == 16
    assert forecast.units.temperature == "°F"
    assert forecast.days[0].temperature_max == to_fahrenheit(expected.days[0].temperature_max)
    assert forecast.days[0].wind_speed_max == to_mph(expected.days[0].wind_speed_max)
    assert forecast.days[0].precipitation_sum == to_inch(expected.days[0].precipitation_sum)
    # The fake, like Open-Meteo, has no precipitation probability beyond two weeks.
    assert forecast.days[15].precipitation_probability_max is None
    last_line = text_of(result).splitlines()[-1]
    assert last_line.startswith("- 2026-12-12: ")
    assert "chance" not in last_line


@pytest.mark.parametrize(
    ("city", "region", "country_code"),
    [
        ("Paris", "Île-de-France", "FR"),
        ("Paris, US", "Texas", "US"),
        ("Paris, Texas", "Texas", "US"),
        ("paris, tennessee", "Tennessee", "US"),
        ("Paris, United States", "Texas", "US"),
        ("Paris, Ile-de-France, fr", "Île-de-France", "FR"),
        ("Paris, CA", "Ontario", "CA"),
        ("Springfield", "Missouri", "US"),
        ("Springfield, Illinois", "Illinois", "US"),
        ("  Springfield ,  Massachusetts , US ", "Massachusetts", "US"),
    ],
)
async def test_qualifiers_pick_among_places_of_the_same_name(
    open_weather: OpenWeather, city: str, region: str, country_code: str
) -> None:
    async with open_weather() as served:
        weather = await served.call("get_weather", city=city)
        forecast = await served.call("get_forecast", city=city, days=1)

    for result in (weather, forecast):
        assert not result.is_error, result
        assert result.structured_content is not None
        place = result.structured_content["place"]
        assert (place["region"], place["country_code"]) == (region, country_code)
        assert f", {region}, " in text_of(result)


async def test_only_the_name_is_geocoded(open_weather: OpenWeather, fake_meteo: FakeOpenMeteo) -> None:
    async with open_weather() as served:
        await served.call("get_weather", city="Springfield, Illinois, US")

    (search,) = fake_meteo.requests_to("geocoding")
    assert search.params == {"name": "Springfield", "count": "10", "language": "en", "format": "json"}
