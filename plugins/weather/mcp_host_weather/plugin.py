"""The plugin object mcp-host loads: its hooks and the tools it serves."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from mcp_host import ToolRegistrar, hookimpl, tool_errors, tool_result
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from mcp_host_weather.errors import WeatherError
from mcp_host_weather.models import CurrentWeather, Forecast
from mcp_host_weather.open_meteo import OpenMeteoClient
from mcp_host_weather.service import WeatherService
from mcp_host_weather.settings import MAX_FORECAST_DAYS, WeatherSettings

City = Annotated[
    str,
    Field(
        description=(
            "The place: a city or town name, optionally followed by its region and/or country "
            "to choose among places of the same name, e.g. 'Lisbon', 'Paris, Texas', 'Paris, FR', "
            "'Springfield, Illinois, US'."
        )
    ),
]
Days = Annotated[
    int,
    # Advertised in the schema but checked by the tool, which explains a bad value in one
    # sentence instead of pydantic's multi-line validation report.
    Field(
        description=f"Number of days to forecast, starting today, from 1 to {MAX_FORECAST_DAYS}.",
        json_schema_extra={"minimum": 1, "maximum": MAX_FORECAST_DAYS},
    ),
]

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)

ToolFunction = Callable[..., Awaitable[CallToolResult]]


class WeatherPlugin:
    """Weather tools backed by Open-Meteo.

    One instance serves every client: it holds the HTTP client and cache, from ``host_started``
    to ``host_stopping``, that all sessions share.
    """

    def __init__(self) -> None:
        self._service: WeatherService | None = None

    @property
    def service(self) -> WeatherService | None:
        """The running service, between ``host_started`` and ``host_stopping``."""
        return self._service

    @hookimpl
    def plugin_settings(self) -> type[WeatherSettings]:
        return WeatherSettings

    @hookimpl
    def register_tools(self, register: ToolRegistrar, settings: WeatherSettings) -> None:
        get_weather, get_forecast = self._tools(default_days=settings.forecast_days)
        register(get_weather, title="Current weather", annotations=READ_ONLY)
        register(get_forecast, title="Weather forecast", annotations=READ_ONLY)

    @hookimpl
    async def host_started(self, settings: WeatherSettings) -> None:
        await self.host_stopping()
        self._service = WeatherService(OpenMeteoClient(settings), settings.units)

    @hookimpl
    async def host_stopping(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.aclose()

    def _tools(self, default_days: int) -> tuple[ToolFunction, ToolFunction]:
        # Closures rather than methods: the SDK derives each tool's schema from its signature,
        # and the forecast's default length comes from the settings.

        async def get_weather(city: City) -> Annotated[CallToolResult, CurrentWeather]:
            """Current weather at a place: temperature, feels-like temperature, humidity, wind speed and
            direction, precipitation and the conditions in plain words, at the latest observation (local
            time). The answer names the place that was used; add a region or country to `city` to pick
            another one of the same name."""
            with tool_errors(WeatherError):
                report = await self._running().current(city)
            return tool_result(report.summary(), report)

        async def get_forecast(city: City, days: Days = default_days) -> Annotated[CallToolResult, Forecast]:
            """Daily weather forecast for a place, starting today (local time): for each day the
            conditions in plain words, lowest and highest temperature, total precipitation and its highest
            chance, and the highest wind speed. The answer names the place that was used; add a region or
            country to `city` to pick another one of the same name."""
            with tool_errors(WeatherError):
                report = await self._running().forecast(city, days)
            return tool_result(report.summary(), report)

        return get_weather, get_forecast

    def _running(self) -> WeatherService:
        if self._service is None:
            raise WeatherError(
                "the weather service is not running; the host has not started it or is stopping"
            )
        return self._service
