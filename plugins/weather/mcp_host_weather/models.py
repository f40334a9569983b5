"""What the tools return: the structured result (its JSON schema is the tool's output schema), and
the same facts as a few plain sentences for the model to read."""

import datetime as dt
from typing import Self

from pydantic import BaseModel, Field

from mcp_host_weather.settings import UnitSystem


class Place(BaseModel):
    """The place the weather is for, as the geocoder resolved the caller's words."""

    name: str = Field(description="Place name, e.g. 'Paris'.")
    region: str | None = Field(description="First-level region (state, province...), e.g. 'Texas'.")
    country: str | None = Field(description="Country name, e.g. 'United States'.")
    country_code: str | None = Field(description="ISO 3166-1 alpha-2 country code, e.g. 'US'.")
    latitude: float = Field(description="Latitude in degrees (WGS84).")
    longitude: float = Field(description="Longitude in degrees (WGS84).")
    timezone: str = Field(description="IANA time zone of the place; all times are local to it.")

    def label(self) -> str:
        """``"Paris, Texas, United States (33.66, -95.56, America/Chicago)"``."""
        names = ", ".join(part for part in (self.name, self.region, self.country) if part)
        return f"{names} ({self.latitude:.2f}, {self.longitude:.2f}, {self.timezone})"


class Units(BaseModel):
    """The unit of every value of its kind in the result."""

    system: UnitSystem = Field(description="Unit system the values are in.")
    temperature: str = Field(description="Unit of temperatures: '°C' or '°F'.")
    wind_speed: str = Field(description="Unit of wind speeds: 'km/h' or 'mph'.")
    precipitation: str = Field(description="Unit of precipitation amounts: 'mm' or 'in'.")
    humidity: str = Field(default="%", description="Unit of relative humidity: always '%'.")
    probability: str = Field(default="%", description="Unit of probabilities: always '%'.")
    wind_direction: str = Field(default="°", description="Unit of wind directions: degrees, 0 = from north.")

    @classmethod
    def of(cls, system: UnitSystem) -> Self:
        if system == "imperial":
            return cls(system=system, temperature="°F", wind_speed="mph", precipitation="in")
        return cls(system=system, temperature="°C", wind_speed="km/h", precipitation="mm")

    def temperature_text(self, value: float | None) -> str:
        return _amount(value, self.temperature, decimals=1)

    def wind_speed_text(self, value: float | None) -> str:
        return _amount(value, self.wind_speed, decimals=1)

    def precipitation_text(self, value: float | None) -> str:
        # Hundredths of an inch matter; hundredths of a millimetre do not.
        return _amount(value, self.precipitation, decimals=2 if self.precipitation == "in" else 1)


class CurrentWeather(BaseModel):
    """Conditions now at one place."""

    place: Place
    observed_at: dt.datetime = Field(
        description="Time of the observation, local to the place, with its offset."
    )
    units: Units
    temperature: float = Field(description="Air temperature 2 m above ground.")
    feels_like: float = Field(description="Apparent temperature, from temperature, humidity and wind.")
    humidity: float = Field(description="Relative humidity 2 m above ground, in %.")
    wind_speed: float = Field(description="Wind speed 10 m above ground.")
    wind_direction: float = Field(
        description="Direction the wind blows from, in degrees (0 = north, 90 = east)."
    )
    wind_compass: str = Field(description="The same direction as a compass point, e.g. 'NW'.")
    precipitation: float = Field(description="Precipitation (rain, showers, snow) over the preceding hour.")
    weather_code: int = Field(description="WMO weather interpretation code.")
    condition: str = Field(description="The weather code in plain words, e.g. 'partly cloudy'.")

    def summary(self) -> str:
        u = self.units
        local_time = self.observed_at.strftime("%Y-%m-%dT%H:%M")
        return (
            f"{self.place.label()} at {local_time} local time: {u.temperature_text(self.temperature)} "
            f"(feels like {u.temperature_text(self.feels_like)}), {self.condition}, "
            f"humidity {self.humidity:.0f} %, "
            f"wind {u.wind_speed_text(self.wind_speed)} from {self.wind_compass}, "
            f"precipitation {u.precipitation_text(self.precipitation)}"
        )


class DailyForecast(BaseModel):
    """One day; a value is null where the forecast models have no data for it."""

    date: dt.date = Field(description="Local date at the place.")
    temperature_min: float | None = Field(description="Lowest air temperature of the day.")
    temperature_max: float | None = Field(description="Highest air temperature of the day.")
    precipitation_sum: float | None = Field(description="Total precipitation over the day.")
    precipitation_probability_max: float | None = Field(
        description="Highest hourly chance of precipitation during the day, in %."
    )
    wind_speed_max: float | None = Field(description="Highest wind speed 10 m above ground.")
    weather_code: int | None = Field(
        description="WMO weather interpretation code of the day's worst weather."
    )
    condition: str = Field(description="The weather code in plain words, e.g. 'slight rain'.")

    def summary(self, units: Units) -> str:
        chance = (
            f" ({self.precipitation_probability_max:.0f} % chance)"
            if self.precipitation_probability_max is not None
            else ""
        )
        return (
            f"{self.date.isoformat()}: {self.condition}, "
            f"{units.temperature_text(self.temperature_min)} "
            f"to {units.temperature_text(self.temperature_max)}, "
            f"precipitation {units.precipitation_text(self.precipitation_sum)}{chance}, "
            f"wind up to {units.wind_speed_text(self.wind_speed_max)}"
        )


class Forecast(BaseModel):
    """Daily forecast at one place, starting today (local time)."""

    place: Place
    units: Units
    days: list[DailyForecast] = Field(description="One entry per day, in date order.")

    def summary(self) -> str:
        lines = [f"{len(self.days)}-day forecast for {self.place.label()}:"]
        lines.extend(f"- {day.summary(self.units)}" for day in self.days)
        return "\n".join(lines)


def _amount(value: float | None, unit: str, *, decimals: int) -> str:
    return "n/a" if value is None else f"{value:.{decimals}f} {unit}"
