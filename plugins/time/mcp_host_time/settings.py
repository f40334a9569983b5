"""The ``[plugins.time]`` settings table."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mcp_host_time.errors import TimeError
from mcp_host_time.zones import resolve_zone

HourFormat = Literal["24h", "12h"]


class TimeSettings(BaseModel):
    """Settings of the time plugin; every field has a default, so no table is needed."""

    model_config = ConfigDict(extra="forbid")

    default_zone: str = Field(
        default="UTC",
        description=(
            "IANA time zone used when a caller names none, e.g. 'Europe/Paris' (the user's own zone)."
        ),
    )
    hour_format: HourFormat = Field(
        default="24h", description="How the text answers show times: '24h' (14:30) or '12h' (2:30 PM)."
    )

    @field_validator("default_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            return resolve_zone(value).key
        except TimeError as exc:
            raise ValueError(str(exc)) from None
