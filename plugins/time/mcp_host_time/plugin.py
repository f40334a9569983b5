"""The hooks mcp-host calls, and the tools they register."""

import datetime as dt
from typing import Annotated

from mcp_host import ToolRegistrar, hookimpl, tool_errors, tool_result
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from mcp_host_time.errors import TimeError
from mcp_host_time.local_times import FORMATS, parse_wall_time, place_in_zone
from mcp_host_time.models import TimeConversion, ZonedTime
from mcp_host_time.settings import TimeSettings
from mcp_host_time.zones import known_zones, resolve_zone

Zone = Annotated[
    str | None,
    Field(
        description=(
            "IANA time zone, e.g. 'Europe/Paris', 'America/New_York', 'Asia/Kolkata' or 'UTC' (any case); "
            "a city alone, e.g. 'Tokyo', works when one zone is named after it. "
            "Omitted: the host's default zone."
        )
    ),
]
WallTime = Annotated[str, Field(description=f"Local time of day, optionally after a date: {FORMATS}.")]

# The answers depend on the clock, so they are not idempotent; nothing leaves the machine.
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)


@hookimpl
def plugin_settings() -> type[TimeSettings]:
    return TimeSettings


@hookimpl
def register_tools(register: ToolRegistrar, settings: TimeSettings) -> None:
    def zone_or_default(zone: str | None) -> str:
        return settings.default_zone if zone is None else zone

    async def current_time(zone: Zone = None) -> Annotated[CallToolResult, ZonedTime]:
        """The current date and time in a time zone, with its UTC offset, abbreviation and whether
        daylight-saving time is in effect."""
        with tool_errors(TimeError):
            now = dt.datetime.now(resolve_zone(zone_or_default(zone)))
        result = ZonedTime.of(now)
        return tool_result(f"It is {result.text(settings.hour_format)}.", result)

    async def convert_time(
        time: WallTime, to_zone: Zone = None, from_zone: Zone = None
    ) -> Annotated[CallToolResult, TimeConversion]:
        """Convert a local time from one time zone to another, e.g. '9:00' in 'Europe/London' to
        'Asia/Tokyo'. A time without a date is taken on today's date in from_zone. Says how many hours
        apart the zones are, and whether the date changes."""
        with tool_errors(TimeError):
            source_zone = resolve_zone(zone_or_default(from_zone))
            target_zone = resolve_zone(zone_or_default(to_zone))
            wall = parse_wall_time(time, today=dt.datetime.now(source_zone).date())
            source, ambiguous = place_in_zone(wall, source_zone)
        target = source.astimezone(target_zone)
        ahead = (
            (target.utcoffset() or dt.timedelta()) - (source.utcoffset() or dt.timedelta())
        ) / dt.timedelta(hours=1)
        result = TimeConversion(
            source=ZonedTime.of(source), target=ZonedTime.of(target), hours_ahead=ahead, ambiguous=ambiguous
        )
        return tool_result(result.text(settings.hour_format), result)

    register(current_time, title="Current time", annotations=READ_ONLY)
    register(convert_time, title="Convert a time between zones", annotations=READ_ONLY)


@hookimpl
def host_started() -> None:
    # Reading the zone database walks the disk; do it before the first call, not during one.
    known_zones()
