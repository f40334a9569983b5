"""Every failure reaches the model as one specific sentence, quickly."""

import socket
import time

import pytest
from fake_open_meteo import FakeOpenMeteo, Service
from weather_harness import OpenWeather

pytestmark = pytest.mark.anyio

CITY_EXAMPLES = "e.g. 'Lisbon', 'Paris, Texas' or 'Springfield, Illinois, US'"


async def test_unknown_place(open_weather: OpenWeather) -> None:
    async with open_weather() as served:
        assert await served.error("get_weather", city="Xyzzy") == "no place named 'Xyzzy' was found"
        assert await served.error("get_forecast", city="Xyzzy, US") == "no place named 'Xyzzy' was found"


async def test_no_place_of_that_name_in_the_qualified_region(open_weather: OpenWeather) -> None:
    async with open_weather() as served:
        message = await served.error("get_weather", city="Paris, Narnia")

    assert message == (
        "no place named 'Paris' in 'Narnia' was found; candidates: "
        "Paris, Île-de-France, France (FR); Paris, Texas, United States (US); "
        "Paris, Ontario, Canada (CA); Paris, Tennessee, United States (US)"
    )


@pytest.mark.parametrize(
    ("city", "message"),
    [
        ("", f"city must not be empty; give a place name, {CITY_EXAMPLES}"),
        ("   ", f"city must not be empty; give a place name, {CITY_EXAMPLES}"),
        (" , ", f"city must not be empty; give a place name, {CITY_EXAMPLES}"),
        (", Texas", f"city must start with a place name before any comma, {CITY_EXAMPLES}"),
    ],
)
async def test_blank_city(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo, city: str, message: str
) -> None:
    async with open_weather() as served:
        assert await served.error("get_weather", city=city) == message
        assert await served.error("get_forecast", city=city) == message

    assert fake_meteo.requests == []


@pytest.mark.parametrize("days", [0, 17, -3])
async def test_days_out_of_range(open_weather: OpenWeather, fake_meteo: FakeOpenMeteo, days: int) -> None:
    async with open_weather() as served:
        message = await served.error("get_forecast", city="Lisbon", days=days)

    assert message == f"days must be between 1 and 16, got {days}"
    assert fake_meteo.requests == []


async def test_days_of_the_wrong_type_get_the_hosts_one_sentence(open_weather: OpenWeather) -> None:
    async with open_weather() as served:
        message = await served.error("get_forecast", city="Lisbon", days="three")

    assert message == (
        "argument 'days': expected a valid integer, got 'three' (unable to parse string as an integer)"
    )


@pytest.mark.parametrize(("tool", "service"), [("get_weather", "geocoding"), ("get_forecast", "forecast")])
async def test_timeout(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo, tool: str, service: Service
) -> None:
    fake_meteo.behave(service, "slow", delay=3)

    async with open_weather(timeout_s=0.3) as served:
        started = time.monotonic()
        message = await served.error(tool, city="Lisbon")
        elapsed = time.monotonic() - started

    assert message == f"the Open-Meteo {service} service timed out after 0.3 s; try again later"
    assert elapsed < 2


async def test_slow_but_within_the_timeout_is_fine(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo
) -> None:
    fake_meteo.behave("forecast", "slow", delay=0.2)

    async with open_weather(timeout_s=1) as served:
        result = await served.call("get_weather", city="Lisbon")

    assert not result.is_error


async def test_unreachable_service(open_weather: OpenWeather) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async with open_weather(geocoding_url=f"http://127.0.0.1:{closed_port}/v1/search") as served:
        message = await served.error("get_weather", city="Lisbon")

    assert message.startswith("the Open-Meteo geocoding service could not be reached (")
    assert message.endswith("); try again later")


@pytest.mark.parametrize(
    ("service", "status", "reason", "message"),
    [
        ("forecast", 500, None, "the Open-Meteo forecast service failed with HTTP 500; try again later"),
        (
            "geocoding",
            503,
            "Service temporarily overloaded",
            "the Open-Meteo geocoding service failed with HTTP 503: Service temporarily overloaded; "
            "try again later",
        ),
        (
            "forecast",
            429,
            "Daily API request limit exceeded. Please try again tomorrow.",
            "the Open-Meteo forecast service is limiting requests (HTTP 429): "
            "Daily API request limit exceeded. Please try again tomorrow.; try again later",
        ),
    ],
)
async def test_server_errors(
    open_weather: OpenWeather,
    fake_meteo: FakeOpenMeteo,
    service: Service,
    status: int,
    reason: str | None,
    message: str,
) -> None:
    fake_meteo.behave(service, "fail", status=status, reason=reason)

    async with open_weather() as served:
        assert await served.error("get_forecast", city="Lisbon") == message


async def test_rejected_request_quotes_open_meteos_reason(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo
) -> None:
    reason = "Latitude must be in range of -90 to 90°. Given: 100.0."
    fake_meteo.behave("forecast", "reject", reason=reason)

    async with open_weather() as served:
        message = await served.error("get_weather", city="Lisbon")

    assert message == f"the Open-Meteo forecast service rejected the request with HTTP 400: {reason}"


@pytest.mark.parametrize("service", ["geocoding", "forecast"])
async def test_response_that_is_not_json(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo, service: Service
) -> None:
    fake_meteo.behave(service, "not_json")

    async with open_weather() as served:
        message = await served.error("get_forecast", city="Lisbon")

    assert message == f"the Open-Meteo {service} service sent a response that is not JSON (HTTP 200)"


@pytest.mark.parametrize(
    ("service", "problem"),
    [
        ("geocoding", "results: Input should be a valid tuple"),
        ("forecast", "timezone: Field required"),
    ],
)
async def test_response_of_the_wrong_shape(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo, service: Service, problem: str
) -> None:
    fake_meteo.behave(service, "wrong_shape")

    async with open_weather() as served:
        message = await served.error("get_weather", city="Lisbon")

    assert message == f"the Open-Meteo {service} service sent a response of an unexpected shape ({problem})"


async def test_failures_are_not_cached(open_weather: OpenWeather, fake_meteo: FakeOpenMeteo) -> None:
    fake_meteo.behave("forecast", "fail")

    async with open_weather() as served:
        assert (await served.call("get_weather", city="Lisbon")).is_error
        fake_meteo.reset()
        result = await served.call("get_weather", city="Lisbon")

    assert not result.is_error
    assert len(fake_meteo.requests_to("forecast")) == 1
