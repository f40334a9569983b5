"""A stand-in for Open-Meteo's geocoding and forecast APIs, served over real HTTP on loopback.

Its answers have the shape of the real ones (https://open-meteo.com/en/docs and
https://open-meteo.com/en/docs/geocoding-api): geocoding results for a small gazetteer, with no
``results`` key when nothing matches; forecasts with only the requested ``current``/``daily``
variables, in the requested units, with their ``*_units`` tables; errors as HTTP 400
``{"error": true, "reason": "..."}``. The weather is computed from the coordinates, so a test can
compute what to expect with ``weather_at``.

Each service can be told to misbehave (``behave``), and every request is recorded (``requests``).
"""

import datetime as dt
import json
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

Service = Literal["geocoding", "forecast"]
Mode = Literal["ok", "slow", "fail", "reject", "not_json", "wrong_shape"]

GAZETTEER: tuple[dict[str, Any], ...] = (
    # Fields and values as the real API returns them (admin2..4 and postcodes left out).
    {"id": 2267057, "name": "Lisbon", "latitude": 38.71667, "longitude": -9.13333, "elevation": 45.0,
     "feature_code": "PPLC", "country_code": "PT", "admin1_id": 2267056, "timezone": "Europe/Lisbon",
     "population": 517802, "country_id": 2264397, "country": "Portugal", "admin1": "Lisbon"},
    {"id": 2988507, "name": "Paris", "latitude": 48.85341, "longitude": 2.3488, "elevation": 42.0,
     "feature_code": "PPLC", "country_code": "FR", "admin1_id": 3012874, "timezone": "Europe/Paris",
     "population": 2138551, "country_id": 3017382, "country": "France", "admin1": "Île-de-France"},
    {"id": 4717560, "name": "Paris", "latitude": 33.66094, "longitude": -95.55551, "elevation": 183.0,
     "feature_code": "PPLA2", "country_code": "US", "admin1_id": 4736286, "timezone": "America/Chicago",
     "population": 24782, "country_id": 6252001, "country": "United States", "admin1": "Texas"},
    {"id": 4647963, "name": "Paris", "latitude": 36.302, "longitude": -88.32671, "elevation": 155.0,
     "feature_code": "PPLA2", "country_code": "US", "admin1_id": 4662168, "timezone": "America/Chicago",
     "population": 10156, "country_id": 6252001, "country": "United States", "admin1": "Tennessee"},
    {"id": 6942553, "name": "Paris", "latitude": 43.2, "longitude": -80.38333, "elevation": 258.0,
     "feature_code": "PPL", "country_code": "CA", "admin1_id": 6093943, "timezone": "America/Toronto",
     "population": 11177, "country_id": 6251999, "country": "Canada", "admin1": "Ontario"},
    {"id": 4409896, "name": "Springfield", "latitude": 37.21533, "longitude": -93.29824, "elevation": 396.0,
     "feature_code": "PPLA2", "country_code": "US", "admin1_id": 4398678, "timezone": "America/Chicago",
     "population": 166810, "country_id": 6252001, "country": "United States", "admin1": "Missouri"},
    {"id": 4951788, "name": "Springfield", "latitude": 42.10148, "longitude": -72.58981, "elevation": 21.0,
     "feature_code": "PPLA2", "country_code": "US", "admin1_id": 6254926, "timezone": "America/New_York",
     "population": 153060, "country_id": 6252001, "country": "United States", "admin1": "Massachusetts"},
    {"id": 4250542, "name": "Springfield", "latitude": 39.80172, "longitude": -89.64371, "elevation": 182.0,
     "feature_code": "PPLA", "country_code": "US", "admin1_id": 4896861, "timezone": "America/Chicago",
     "population": 116250, "country_id": 6252001, "country": "United States", "admin1": "Illinois"},
    {"id": 2643743, "name": "London", "latitude": 51.50853, "longitude": -0.12574, "elevation": 25.0,
     "feature_code": "PPLC", "country_code": "GB", "admin1_id": 6269131, "timezone": "Europe/London",
     "population": 8961989, "country_id": 2635167, "country": "United Kingdom", "admin1": "England"},
)  # fmt: skip

SERVICES: Mapping[str, Service] = {"/v1/search": "geocoding", "/v1/forecast": "forecast"}

TIMEZONES: Mapping[str, tuple[int, str]] = {
    # Offsets in late November, the fake's "now".
    "GMT": (0, "GMT"),
    "Europe/Lisbon": (0, "WET"),
    "Europe/London": (0, "GMT"),
    "Europe/Paris": (3600, "CET"),
    "America/Chicago": (-21600, "CST"),
    "America/New_York": (-18000, "EST"),
    "America/Toronto": (-18000, "EST"),
}

NOW = dt.datetime(2026, 11, 27, 14, 0)
"""Local time of every current observation, and the first forecast day."""

WEATHER_CODES = (0, 1, 2, 3, 45, 51, 61, 63, 71, 80, 95)
PROBABILITY_DAYS = 14
"""Like the real models, precipitation probability is null beyond two weeks."""

TEMPERATURE_UNITS = {"celsius": "°C", "fahrenheit": "°F"}
WIND_SPEED_UNITS = {"kmh": "km/h", "ms": "m/s", "mph": "mp/h", "kn": "kn"}
PRECIPITATION_UNITS = {"mm": "mm", "inch": "inch"}
CURRENT_KINDS = {
    "temperature_2m": "temperature",
    "apparent_temperature": "temperature",
    "relative_humidity_2m": "%",
    "wind_speed_10m": "wind",
    "wind_direction_10m": "°",
    "precipitation": "precipitation",
    "weather_code": "wmo code",
}
DAILY_KINDS = {
    "weather_code": "wmo code",
    "temperature_2m_max": "temperature",
    "temperature_2m_min": "temperature",
    "precipitation_sum": "precipitation",
    "precipitation_probability_max": "%",
    "wind_speed_10m_max": "wind",
}


@dataclass(frozen=True)
class Day:
    date: dt.date
    weather_code: int
    temperature_min: float
    temperature_max: float
    precipitation_sum: float
    precipitation_probability_max: int | None
    wind_speed_max: float


@dataclass(frozen=True)
class Weather:
    """The fake's weather at a coordinate, in metric units (°C, km/h, mm)."""

    temperature: float
    feels_like: float
    humidity: int
    wind_speed: float
    wind_direction: int
    precipitation: float
    weather_code: int
    days: tuple[Day, ...]


def weather_at(latitude: float, longitude: float) -> Weather:
    """What the fake reports at a coordinate: the same answer for the same place, every time."""
    seed = round(abs(latitude) * 100) * 7 + round(abs(longitude) * 100) * 13
    temperature = round((seed % 300) / 10 - 2, 1)
    wind_speed = round(2 + (seed % 250) / 10, 1)
    days = tuple(
        Day(
            date=NOW.date() + dt.timedelta(days=i),
            weather_code=WEATHER_CODES[(seed + i) % len(WEATHER_CODES)],
            temperature_min=round(temperature - 5 - i % 2, 1),
            temperature_max=round(temperature + 2 + i % 3, 1),
            precipitation_sum=round(((seed + 5 * i) % 20) / 10, 1),
            precipitation_probability_max=(seed + 17 * i) % 101 if i < PROBABILITY_DAYS else None,
            wind_speed_max=round(wind_speed + 5 + i, 1),
        )
        for i in range(16)
    )
    return Weather(
        temperature=temperature,
        feels_like=round(temperature - 1.5 + (seed % 7) / 10, 1),
        humidity=35 + seed % 60,
        wind_speed=wind_speed,
        wind_direction=seed % 360,
        precipitation=round((seed % 13) / 10, 1),
        weather_code=WEATHER_CODES[seed % len(WEATHER_CODES)],
        days=days,
    )


def to_fahrenheit(celsius: float) -> float:
    return round(celsius * 9 / 5 + 32, 1)


def to_mph(kmh: float) -> float:
    return round(kmh / 1.609344, 1)


def to_inch(mm: float) -> float:
    return round(mm / 25.4, 3)


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    service: Service | None
    path: str
    params: dict[str, str]
    traceparent: str | None = None
    """The W3C trace context the request carried, if any."""


@dataclass(frozen=True)
class Behaviour:
    mode: Mode = "ok"
    delay: float = 0.0
    status: int = 500
    reason: str | None = None


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> "_Reply":
        return cls(status, json.dumps(payload).encode())

    @classmethod
    def error(cls, reason: str, status: int = 400) -> "_Reply":
        return cls.json({"error": True, "reason": reason}, status)


class _BadRequest(Exception):
    pass


@dataclass
class FakeOpenMeteo:
    """The fake server; ``close()`` it when done (the ``fake_meteo`` fixture does)."""

    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _requests: list[Recorded] = field(default_factory=list, init=False)
    _behaviour: dict[Service, Behaviour] = field(default_factory=dict, init=False)
    _closing: threading.Event = field(default_factory=threading.Event, init=False)

    def __post_init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-open-meteo", daemon=True
        )
        self._thread.start()
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.geocoding_url = f"{self.base_url}/v1/search"
        self.forecast_url = f"{self.base_url}/v1/forecast"

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, service: Service) -> list[Recorded]:
        return [request for request in self.requests if request.service == service]

    def behave(
        self,
        service: Service,
        mode: Mode,
        *,
        delay: float = 0.0,
        status: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Change how ``service`` answers from now on.

        ``slow`` waits ``delay`` seconds, then answers normally. ``fail`` answers ``status``
        (default 500), with Open-Meteo's error body when ``reason`` is given and a bare text
        otherwise. ``reject`` answers 400 with ``reason``. ``not_json`` answers 200 with an HTML
        page. ``wrong_shape`` answers 200 with JSON that is not what the API returns.
        """
        default_status = 400 if mode == "reject" else 500
        behaviour = Behaviour(mode, delay, status or default_status, reason)
        with self._lock:
            self._behaviour[service] = behaviour

    def reset(self) -> None:
        """Forget the recorded requests and answer normally again."""
        with self._lock:
            self._requests.clear()
            self._behaviour.clear()

    def close(self) -> None:
        self._closing.set()  # wakes handlers still sleeping in "slow" mode
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, path: str, query: str, traceparent: str | None = None) -> _Reply:
        params = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
        service = SERVICES.get(path)
        with self._lock:
            self._requests.append(Recorded(service, path, params, traceparent))
            behaviour = self._behaviour.get(service, Behaviour()) if service else Behaviour()
        if service is None:
            return _Reply.error(f"Not found: {path}", status=404)
        if behaviour.mode == "slow":
            self._closing.wait(behaviour.delay)
        elif behaviour.mode == "fail":
            if behaviour.reason is None:
                return _Reply(behaviour.status, b"Internal Server Error", "text/plain")
            return _Reply.error(behaviour.reason, behaviour.status)
        elif behaviour.mode == "reject":
            return _Reply.error(behaviour.reason or "Parameter is invalid", behaviour.status)
        elif behaviour.mode == "not_json":
            return _Reply(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        elif behaviour.mode == "wrong_shape":
            if service == "geocoding":
                return _Reply.json({"results": {"name": "Lisbon"}, "generationtime_ms": 0.3})
            return _Reply.json({"latitude": 38.7, "longitude": -9.1, "current": "sunny", "daily": None})
        try:
            return _Reply.json(_search(params) if service == "geocoding" else _forecast(params))
        except _BadRequest as exc:
            return _Reply.error(str(exc))


def _search(params: Mapping[str, str]) -> dict[str, Any]:
    name = params.get("name", "").strip().casefold()
    try:
        count = int(params.get("count", "10"))
    except ValueError:
        raise _BadRequest(f"Parameter count must be an integer, got {params['count']}") from None
    if not 1 <= count <= 100:
        raise _BadRequest("Parameter count must be between 1 and 100")
    # The real search matches 2 characters exactly and fuzzily from 3; a prefix match stands in.
    if len(name) < 2:
        matches: list[dict[str, Any]] = []
    elif len(name) == 2:
        matches = [place for place in GAZETTEER if place["name"].casefold() == name]
    else:
        matches = [place for place in GAZETTEER if place["name"].casefold().startswith(name)]
    matches.sort(key=lambda place: -place["population"])
    answer: dict[str, Any] = {"generationtime_ms": 0.4}
    if matches:
        answer["results"] = matches[:count]
    return answer


def _forecast(params: Mapping[str, str]) -> dict[str, Any]:
    latitude = _number(params, "latitude", -90, 90)
    longitude = _number(params, "longitude", -180, 180)
    units = {
        "temperature": _choice(params, "temperature_unit", TEMPERATURE_UNITS, "celsius"),
        "wind": _choice(params, "wind_speed_unit", WIND_SPEED_UNITS, "kmh"),
        "precipitation": _choice(params, "precipitation_unit", PRECIPITATION_UNITS, "mm"),
    }
    current = _variables(params, "current", CURRENT_KINDS)
    daily = _variables(params, "daily", DAILY_KINDS)
    days = int(_number(params, "forecast_days", 0, 16, default=7))
    timezone = params.get("timezone", "GMT")
    if timezone == "auto":
        timezone = _zone_at(latitude, longitude)
    if timezone not in TIMEZONES:
        raise _BadRequest(f"Invalid timezone {timezone}")
    offset, abbreviation = TIMEZONES[timezone]

    weather = weather_at(latitude, longitude)
    answer: dict[str, Any] = {
        # The real API answers for the nearest grid cell, not the exact coordinate.
        "latitude": round(latitude * 40) / 40,
        "longitude": round(longitude * 40) / 40,
        "generationtime_ms": 0.07,
        "utc_offset_seconds": offset,
        "timezone": timezone,
        "timezone_abbreviation": abbreviation,
        "elevation": 42.0,
    }
    if current:
        values: dict[str, Any] = {
            "temperature_2m": weather.temperature,
            "apparent_temperature": weather.feels_like,
            "relative_humidity_2m": weather.humidity,
            "wind_speed_10m": weather.wind_speed,
            "wind_direction_10m": weather.wind_direction,
            "precipitation": weather.precipitation,
            "weather_code": weather.weather_code,
        }
        answer["current_units"] = {"time": "iso8601", "interval": "seconds"} | {
            name: _unit(CURRENT_KINDS[name], units) for name in current
        }
        answer["current"] = {"time": NOW.strftime("%Y-%m-%dT%H:%M"), "interval": 900} | {
            name: _convert(values[name], CURRENT_KINDS[name], units) for name in current
        }
    if daily:
        series: dict[str, list[Any]] = {
            "weather_code": [day.weather_code for day in weather.days],
            "temperature_2m_max": [day.temperature_max for day in weather.days],
            "temperature_2m_min": [day.temperature_min for day in weather.days],
            "precipitation_sum": [day.precipitation_sum for day in weather.days],
            "precipitation_probability_max": [day.precipitation_probability_max for day in weather.days],
            "wind_speed_10m_max": [day.wind_speed_max for day in weather.days],
        }
        answer["daily_units"] = {"time": "iso8601"} | {
            name: _unit(DAILY_KINDS[name], units) for name in daily
        }
        answer["daily"] = {"time": [day.date.isoformat() for day in weather.days[:days]]} | {
            name: [_convert(value, DAILY_KINDS[name], units) for value in series[name][:days]]
            for name in daily
        }
    return answer


def _number(
    params: Mapping[str, str], name: str, low: float, high: float, default: float | None = None
) -> float:
    raw = params.get(name)
    if raw is None:
        if default is None:
            raise _BadRequest(f"Parameter '{name}' is required")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _BadRequest(f"Parameter '{name}' must be a number, got '{raw}'") from None
    if not low <= value <= high:
        raise _BadRequest(f"Parameter '{name}' must be in range of {low:g} to {high:g}. Given: {value}.")
    return value


def _choice(params: Mapping[str, str], name: str, allowed: Mapping[str, str], default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise _BadRequest(f"Cannot initialize {name} from invalid String value {value}")
    return value


def _variables(params: Mapping[str, str], name: str, known: Mapping[str, str]) -> Sequence[str]:
    requested = [item for item in params.get(name, "").split(",") if item]
    for item in requested:
        if item not in known:
            raise _BadRequest(
                f"Cannot initialize ForecastVariable from invalid String value {item} for key {name}"
            )
    return requested


def _zone_at(latitude: float, longitude: float) -> str:
    for place in GAZETTEER:
        if abs(place["latitude"] - latitude) < 0.5 and abs(place["longitude"] - longitude) < 0.5:
            return str(place["timezone"])
    return "GMT"


def _unit(kind: str, units: Mapping[str, str]) -> str:
    if kind == "temperature":
        return TEMPERATURE_UNITS[units["temperature"]]
    if kind == "wind":
        return WIND_SPEED_UNITS[units["wind"]]
    if kind == "precipitation":
        return PRECIPITATION_UNITS[units["precipitation"]]
    return kind


def _convert(value: Any, kind: str, units: Mapping[str, str]) -> Any:
    if value is None:
        return None
    if kind == "temperature" and units["temperature"] == "fahrenheit":
        return to_fahrenheit(value)
    if kind == "wind" and units["wind"] == "mph":
        return to_mph(value)
    if kind == "wind" and units["wind"] != "kmh":
        return round(value / {"ms": 3.6, "kn": 1.852}[units["wind"]], 1)
    if kind == "precipitation" and units["precipitation"] == "inch":
        return to_inch(value)
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenMeteo

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out hangs up before a slow answer: expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the second waits for the
    # client's delayed ACK, some 40 ms a request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        reply = self.server.fake._answer(url.path, url.query, self.headers.get("traceparent"))
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
