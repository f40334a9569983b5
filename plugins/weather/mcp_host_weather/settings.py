"""The ``[plugins.weather]`` settings table."""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

UnitSystem = Literal["metric", "imperial"]

GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"

MAX_FORECAST_DAYS = 16
"""The longest forecast Open-Meteo serves."""


class WeatherSettings(BaseModel):
    """Settings of the weather plugin; every field has a default, so no table is needed."""

    model_config = ConfigDict(extra="forbid")

    units: UnitSystem = Field(
        default="metric",
        description=(
            "Unit system of every reported value: 'metric' (°C, km/h, mm) or 'imperial' (°F, mph, inches)."
        ),
    )
    timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Seconds allowed for each request to Open-Meteo, from connecting to the last byte.",
    )
    cache_ttl_s: float = Field(
        default=300.0,
        ge=0,
        description=(
            "Seconds a geocoding or forecast answer is reused for identical requests; 0 disables caching."
        ),
    )
    geocoding_url: str = Field(
        default=GEOCODING_URL,
        description="URL of the Open-Meteo geocoding search endpoint (change it for a self-hosted instance).",
    )
    forecast_url: str = Field(
        default=FORECAST_URL,
        description="URL of the Open-Meteo forecast endpoint (change it for a self-hosted instance).",
    )
    forecast_days: int = Field(
        default=3,
        ge=1,
        le=MAX_FORECAST_DAYS,
        description=f"Days covered by get_forecast when the caller does not say (1 to {MAX_FORECAST_DAYS}).",
    )

    @field_validator("geocoding_url", "forecast_url")
    @classmethod
    def _require_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value
