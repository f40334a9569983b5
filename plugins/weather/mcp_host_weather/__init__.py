"""mcp-host-weather: current weather and daily forecasts from Open-Meteo, as an mcp-host plugin.

The host finds ``plugin`` through the ``weather`` entry point in the ``mcp_host`` group.
"""

from mcp_host_weather.models import CurrentWeather, DailyForecast, Forecast, Place, Units
from mcp_host_weather.plugin import WeatherPlugin
from mcp_host_weather.settings import WeatherSettings

plugin = WeatherPlugin()

__all__ = [
    "CurrentWeather",
    "DailyForecast",
    "Forecast",
    "Place",
    "Units",
    "WeatherPlugin",
    "WeatherSettings",
    "plugin",
]
