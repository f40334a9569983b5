"""Identical requests within the TTL reach Open-Meteo once."""

import anyio
import pytest
from fake_open_meteo import FakeOpenMeteo
from weather_harness import OpenWeather

from mcp_host_weather.cache import TTLCache

pytestmark = pytest.mark.anyio


def request_counts(fake: FakeOpenMeteo) -> tuple[int, int]:
    return len(fake.requests_to("geocoding")), len(fake.requests_to("forecast"))


async def test_identical_calls_are_answered_from_the_cache(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo
) -> None:
    async with open_weather() as served:
        first = await served.call("get_weather", city="Lisbon")
        assert request_counts(fake_meteo) == (1, 1)
        second = await served.call("get_weather", city="Lisbon")

    assert request_counts(fake_meteo) == (1, 1)
    assert second.structured_content == first.structured_content
    assert second.content == first.content


async def test_the_place_is_geocoded_once_for_every_kind_of_request(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo
) -> None:
    async with open_weather() as served:
        await served.call("get_weather", city="Paris")
        await served.call("get_weather", city="Paris, Texas")
        await served.call("get_forecast", city="Paris", days=2)
        await served.call("get_forecast", city="Paris", days=2)
        await served.call("get_forecast", city="Paris", days=3)

    # One search for "Paris"; forecasts for Paris FR now, Paris TX now, Paris FR over 2 and 3 days.
    assert request_counts(fake_meteo) == (1, 4)


async def test_entries_expire_after_the_ttl(open_weather: OpenWeather, fake_meteo: FakeOpenMeteo) -> None:
    async with open_weather(cache_ttl_s=0.2) as served:
        await served.call("get_forecast", city="Lisbon")
        await served.call("get_forecast", city="Lisbon")
        assert request_counts(fake_meteo) == (1, 1)
        await anyio.sleep(0.3)
        await served.call("get_forecast", city="Lisbon")

    assert request_counts(fake_meteo) == (2, 2)


async def test_a_zero_ttl_disables_the_cache(open_weather: OpenWeather, fake_meteo: FakeOpenMeteo) -> None:
    async with open_weather(cache_ttl_s=0) as served:
        for _ in range(3):
            await served.call("get_weather", city="Lisbon")

    assert request_counts(fake_meteo) == (3, 3)


async def test_concurrent_identical_calls_share_one_fetch(
    open_weather: OpenWeather, fake_meteo: FakeOpenMeteo
) -> None:
    fake_meteo.behave("geocoding", "slow", delay=0.3)
    texts: list[str] = []

    async with open_weather() as served:

        async def ask() -> None:
            texts.append(await served.text("get_weather", city="Lisbon"))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(ask)

    assert len(texts) == 5
    assert len(set(texts)) == 1
    assert request_counts(fake_meteo) == (1, 1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_cache_evicts_the_least_recently_used_entry() -> None:
    cache: TTLCache[str, str] = TTLCache(ttl=60, max_entries=2)
    fetched: list[str] = []

    async def get(key: str) -> str:
        async def fetch() -> str:
            fetched.append(key)
            return key.upper()

        return await cache.get_or_fetch(key, fetch)

    assert [await get("a"), await get("b"), await get("a")] == ["A", "B", "A"]
    await get("c")  # evicts "b", used longer ago than "a"
    await get("a")
    await get("b")

    assert fetched == ["a", "b", "c", "b"]
    assert len(cache) == 2


async def test_cache_expiry_follows_its_clock() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(ttl=10, clock=clock)
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await cache.get_or_fetch("k", fetch) == 1
    clock.now = 9.9
    assert await cache.get_or_fetch("k", fetch) == 1
    clock.now = 10.0
    assert await cache.get_or_fetch("k", fetch) == 2


async def test_cache_does_not_keep_failures() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=10)

    async def broken() -> int:
        raise LookupError("nope")

    async def working() -> int:
        return 7

    with pytest.raises(LookupError):
        await cache.get_or_fetch("k", broken)
    assert await cache.get_or_fetch("k", working) == 7
