"""Failures the caller can act on, each carrying one sentence that says what went wrong."""


class WeatherError(Exception):
    """Base of every failure a tool reports to the model as is."""


class InvalidArgumentError(WeatherError):
    """A tool argument is outside what the tool accepts."""


class PlaceNotFoundError(WeatherError):
    """No place matches the requested name (and qualifiers)."""


class ProviderError(WeatherError):
    """An Open-Meteo service could not give a usable answer."""
