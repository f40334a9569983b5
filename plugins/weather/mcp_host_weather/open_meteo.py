"""A client for Open-Meteo's geocoding and forecast APIs (https://open-meteo.com/en/docs).

Answers are validated into the models below, named after the API's own fields, so anything
the rest of the plugin reads has been checked. Every failure, from a refused connection to a
payload of the wrong shape, is raised as one ``ProviderError`` sentence naming the service.
"""

import asyncio
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

import httpx2
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mcp_host_weather.cache import TTLCache
from mcp_host_weather.errors import ProviderError
from mcp_host_weather.settings import UnitSystem, WeatherSettings

Service = Literal["geocoding", "forecast"]

CANDIDATES = 10
"""How many places one geocoding search returns: enough to disambiguate common names."""

CACHE_ENTRIES = 256
"""Per kind of request; an entry is a few kilobytes at most."""

CURRENT_VARIABLES = (
    "temperature_2m",
    "apparent_temperature",
    "relative_humidity_2m",
    "wind_speed_10m",
    "wind_direction_10m",
    "precipitation",
    "weather_code",
)
DAILY_VARIABLES = (
    "weather_code",
    "temperature_2m_min",
    "temperature_2m_max",
    "precipitation_sum",
    "precipitation_probability_max",
    "wind_speed_10m_max",
)
UNIT_PARAMS: Mapping[UnitSystem, Mapping[str, str]] = {
    "metric": {"temperature_unit": "celsius", "wind_speed_unit": "kmh", "precipitation_unit": "mm"},
    "imperial": {"temperature_unit": "fahrenheit", "wind_speed_unit": "mph", "precipitation_unit": "inch"},
}

_REASON_LIMIT = 200
"""Longest provider ``reason`` quoted to the model; the rest is noise."""

_tracer = trace.get_tracer("mcp_host_weather")
"""Through opentelemetry-api alone: the spans go wherever the host sends its own, if anywhere."""


class _ApiModel(BaseModel):
    # The APIs add fields over time and omit empty ones: read what is needed, ignore the rest.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Location(_ApiModel):
    """One geocoding result."""

    name: str
    latitude: float
    longitude: float
    country_code: str | None = None
    country: str | None = None
    admin1: str | None = None
    timezone: str | None = None


class _GeocodingAnswer(_ApiModel):
    # The key is absent, not empty, when nothing matched.
    results: tuple[Location, ...] = ()


class Current(_ApiModel):
    time: datetime
    temperature_2m: float
    apparent_temperature: float
    relative_humidity_2m: float
    wind_speed_10m: float
    wind_direction_10m: float
    precipitation: float
    weather_code: int


class CurrentAnswer(_ApiModel):
    """Current conditions at a coordinate, at its local time."""

    timezone: str
    utc_offset_seconds: int
    current: Current


class Daily(_ApiModel):
    """One list per variable, one item per day; Open-Meteo sends ``null`` where a model has no data."""

    time: tuple[date, ...] = Field(min_length=1)
    weather_code: tuple[int | None, ...]
    temperature_2m_min: tuple[float | None, ...]
    temperature_2m_max: tuple[float | None, ...]
    precipitation_sum: tuple[float | None, ...]
    precipitation_probability_max: tuple[float | None, ...]
    wind_speed_10m_max: tuple[float | None, ...]

    @model_validator(mode="after")
    def _same_length(self) -> Self:
        days = len(self.time)
        for name in DAILY_VARIABLES:
            if len(getattr(self, name)) != days:
                raise ValueError(f"{name} has {len(getattr(self, name))} values for {days} days")
        return self


class DailyAnswer(_ApiModel):
    """A daily forecast at a coordinate, dates in its local time."""

    timezone: str
    daily: Daily


T = TypeVar("T")
RequestKey = tuple[str, tuple[tuple[str, str], ...]]


class OpenMeteoClient:
    """Geocoding and forecasts over one pooled HTTP client, with answers cached per request."""

    def __init__(self, settings: WeatherSettings) -> None:
        self._geocoding_url = settings.geocoding_url
        self._forecast_url = settings.forecast_url
        self._timeout = settings.timeout_s
        self._http = httpx2.AsyncClient(
            timeout=settings.timeout_s,
            headers={"User-Agent": "mcp-host-weather", "Accept": "application/json"},
            follow_redirects=True,
        )
        self._searches: TTLCache[RequestKey, tuple[Location, ...]] = TTLCache(
            settings.cache_ttl_s, CACHE_ENTRIES
        )
        self._currents: TTLCache[RequestKey, CurrentAnswer] = TTLCache(settings.cache_ttl_s, CACHE_ENTRIES)
        self._dailies: TTLCache[RequestKey, DailyAnswer] = TTLCache(settings.cache_ttl_s, CACHE_ENTRIES)

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        for cache in (self._searches, self._currents, self._dailies):
            await cache.aclose()
        await self._http.aclose()

    async def search(self, name: str) -> tuple[Location, ...]:
        """Places called ``name``, best match first (Open-Meteo ranks by relevance and population)."""
        params = {"name": name, "count": str(CANDIDATES), "language": "en", "format": "json"}
        return await self._get(self._searches, "geocoding", self._geocoding_url, params, _parse_search)

    async def current(self, latitude: float, longitude: float, units: UnitSystem) -> CurrentAnswer:
        params = {
            **_coordinates(latitude, longitude),
            "current": ",".join(CURRENT_VARIABLES),
            "timezone": "auto",
            **UNIT_PARAMS[units],
        }
        return await self._get(
            self._currents, "forecast", self._forecast_url, params, CurrentAnswer.model_validate
        )

    async def daily(self, latitude: float, longitude: float, units: UnitSystem, days: int) -> DailyAnswer:
        params = {
            **_coordinates(latitude, longitude),
            "daily": ",".join(DAILY_VARIABLES),
            "forecast_days": str(days),
            "timezone": "auto",
            **UNIT_PARAMS[units],
        }
        return await self._get(
            self._dailies, "forecast", self._forecast_url, params, DailyAnswer.model_validate
        )

    async def _get(
        self,
        cache: TTLCache[RequestKey, T],
        service: Service,
        url: str,
        params: dict[str, str],
        parse: Callable[[Any], T],
    ) -> T:
        key: RequestKey = (url, tuple(sorted(params.items())))
        return await cache.get_or_fetch(key, lambda: self._fetch(service, url, params, parse))

    async def _fetch(
        self, service: Service, url: str, params: dict[str, str], parse: Callable[[Any], T]
    ) -> T:
        def fail(problem: str) -> ProviderError:
            return ProviderError(f"the Open-Meteo {service} service {problem}")

        try:
            # httpx2's timeout bounds each phase (connect, each read...); this bounds the whole
            # request, so a server that trickles bytes cannot hold a tool call forever.
            async with asyncio.timeout(self._timeout):
                response = await self._traced_get(url, params)
        except (TimeoutError, httpx2.TimeoutException):
            raise fail(f"timed out after {self._timeout:g} s; try again later") from None
        except httpx2.HTTPError as exc:
            raise fail(f"could not be reached ({_describe(exc)}); try again later") from exc

        if response.is_error:
            raise fail(_describe_status(response))
        try:
            payload = response.json()
        except ValueError:
            raise fail(f"sent a response that is not JSON (HTTP {response.status_code})") from None
        try:
            return parse(payload)
        except ValidationError as exc:
            raise fail(f"sent a response of an unexpected shape ({_first_problem(exc)})") from None

    async def _traced_get(self, url: str, params: dict[str, str]) -> httpx2.Response:
        """The request as a client span of the tool call's trace, which Open-Meteo is told of
        (``traceparent``). The query is left out of the span: it holds what the user asked for."""
        parts = urlsplit(url)
        attributes: dict[str, str | int] = {
            "http.request.method": "GET",
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
            "url.full": f"{parts.scheme}://{parts.netloc}{parts.path}",
            "url.template": parts.path,
        }
        with _tracer.start_as_current_span(
            f"GET {parts.path}", kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
        ) as span:
            headers: dict[str, str] = {}
            propagate.inject(headers)
            try:
                response = await self._http.get(url, params=params, headers=headers)
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(StatusCode.ERROR)
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            if response.is_error:
                span.set_attribute("error.type", str(response.status_code))
                span.set_status(StatusCode.ERROR)
            return response


def _parse_search(payload: Any) -> tuple[Location, ...]:
    return _GeocodingAnswer.model_validate(payload).results


def _coordinates(latitude: float, longitude: float) -> dict[str, str]:
    return {"latitude": f"{latitude:.4f}", "longitude": f"{longitude:.4f}"}


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _describe_status(response: httpx2.Response) -> str:
    status = response.status_code
    reason = _reason(response)
    detail = f": {reason}" if reason else ""
    if status == 429:
        return f"is limiting requests (HTTP 429){detail}; try again later"
    if status >= 500:
        return f"failed with HTTP {status}{detail}; try again later"
    return f"rejected the request with HTTP {status}{detail}"


def _reason(response: httpx2.Response) -> str | None:
    """Open-Meteo's own explanation, from an error body like ``{"error": true, "reason": "..."}``."""
    try:
        body = response.json()
    except ValueError:
        return None
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return None
    reason = " ".join(reason.split())
    return reason if len(reason) <= _REASON_LIMIT else reason[: _REASON_LIMIT - 1] + "…"


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
