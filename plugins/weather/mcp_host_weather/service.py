"""Weather for a place named in words: resolve the place, ask Open-Meteo, shape the answer."""

import datetime as dt

from mcp_host_weather.conditions import compass_point, describe_weather_code
from mcp_host_weather.errors import InvalidArgumentError
from mcp_host_weather.models import CurrentWeather, DailyForecast, Forecast, Place, Units
from mcp_host_weather.open_meteo import Location, OpenMeteoClient
from mcp_host_weather.places import PlaceQuery
from mcp_host_weather.settings import MAX_FORECAST_DAYS, UnitSystem


class WeatherService:
    """Raises only ``WeatherError``s for what the caller can act on."""

    def __init__(self, provider: OpenMeteoClient, units: UnitSystem) -> None:
        self._provider = provider
        self._units = Units.of(units)

    @property
    def closed(self) -> bool:
        return self._provider.is_closed

    async def aclose(self) -> None:
        await self._provider.aclose()

    async def current(self, city: str) -> CurrentWeather:
        location = await self._locate(city)
        answer = await self._provider.current(location.latitude, location.longitude, self._units.system)
        now = answer.current
        offset = dt.timezone(dt.timedelta(seconds=answer.utc_offset_seconds))
        return CurrentWeather(
            place=_place(location, answer.timezone),
            observed_at=now.time.replace(tzinfo=offset),
            units=self._units,
            temperature=now.temperature_2m,
            feels_like=now.apparent_temperature,
            humidity=now.relative_humidity_2m,
            wind_speed=now.wind_speed_10m,
            wind_direction=now.wind_direction_10m,
            wind_compass=compass_point(now.wind_direction_10m),
            precipitation=now.precipitation,
            weather_code=now.weather_code,
            condition=describe_weather_code(now.weather_code),
        )

    async def forecast(self, city: str, days: int) -> Forecast:
        if not 1 <= days <= MAX_FORECAST_DAYS:
            raise InvalidArgumentError(f"days must be between 1 and {MAX_FORECAST_DAYS}, got {days}")
        location = await self._locate(city)
        answer = await self._provider.daily(location.latitude, location.longitude, self._units.system, days)
        series = answer.daily
        return Forecast(
            place=_place(location, answer.timezone),
            units=self._units,
            days=[
                DailyForecast(
                    date=day,
                    temperature_min=low,
                    temperature_max=high,
                    precipitation_sum=rain,
                    precipitation_probability_max=chance,
                    wind_speed_max=wind,
                    weather_code=code,
                    condition=describe_weather_code(code),
                )
                for day, code, low, high, rain, chance, wind in zip(
                    series.time,
                    series.weather_code,
                    series.temperature_2m_min,
                    series.temperature_2m_max,
                    series.precipitation_sum,
                    series.precipitation_probability_max,
                    series.wind_speed_10m_max,
                    strict=True,
                )
            ],
        )

    async def _locate(self, city: str) -> Location:
        query = PlaceQuery.parse(city)
        return query.choose(await self._provider.search(query.name))


def _place(location: Location, forecast_timezone: str) -> Place:
    return Place(
        name=location.name,
        region=location.admin1,
        country=location.country,
        country_code=location.country_code,
        latitude=location.latitude,
        longitude=location.longitude,
        # The forecast's zone is the one its times are in; the geocoder's only names the place's.
        timezone=forecast_timezone or location.timezone or "GMT",
    )
