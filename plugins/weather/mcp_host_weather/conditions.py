"""Plain words for the numbers weather services report: WMO weather codes and wind bearings."""

# The WMO 4677 subset that Open-Meteo's ``weather_code`` uses, worded as its documentation does.
WMO_CONDITIONS: dict[int, str] = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "depositing rime fog",
    51: "light drizzle",
    53: "moderate drizzle",
    55: "dense drizzle",
    56: "light freezing drizzle",
    57: "dense freezing drizzle",
    61: "slight rain",
    63: "moderate rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "heavy freezing rain",
    71: "slight snowfall",
    73: "moderate snowfall",
    75: "heavy snowfall",
    77: "snow grains",
    80: "slight rain showers",
    81: "moderate rain showers",
    82: "violent rain showers",
    85: "slight snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with slight hail",
    99: "thunderstorm with heavy hail",
}

COMPASS_POINTS = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)  # fmt: skip


def describe_weather_code(code: int | None) -> str:
    """The condition a WMO weather code stands for, e.g. ``2`` -> ``"partly cloudy"``."""
    if code is None:
        return "unknown conditions"
    return WMO_CONDITIONS.get(code, f"unknown conditions (WMO code {code})")


def compass_point(degrees: float) -> str:
    """The 16-wind compass point of a bearing in degrees, e.g. ``315`` -> ``"NW"``."""
    sector = 360 / len(COMPASS_POINTS)
    # Half a sector either side of each point belongs to it; int(x + 0.5) rounds every boundary the
    # same way, where round() would alternate (banker's rounding).
    return COMPASS_POINTS[int((degrees % 360) / sector + 0.5) % len(COMPASS_POINTS)]
