"""The tools as an MCP client sees them, served by a host running in the test (mcp_host.testing)."""

import datetime as dt
from typing import Any

import pytest
from mcp_host.testing import text_of

from mcp_host_time import TimeConversion, ZonedTime

pytestmark = pytest.mark.anyio


def config(**settings: str) -> str:
    """A host serving only this plugin (others installed beside it are loaded, not served)."""
    lines = ["[server]", 'plugins = ["time"]', "[plugins.time]"]
    lines += [f'{key} = "{value}"' for key, value in settings.items()]
    return "\n".join(lines) + "\n"


async def call(mcp_host_client: Any, tool: str, arguments: dict[str, Any], **settings: str) -> Any:
    async with mcp_host_client(config(**settings)) as client:
        return await client.call_tool(tool, arguments)


async def test_both_tools_are_listed_with_input_and_output_schemas(mcp_host_client: Any) -> None:
    async with mcp_host_client(config()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(tools) == {"current_time", "convert_time"}
    current, convert = tools["current_time"], tools["convert_time"]
    assert current.input_schema.get("required", []) == []
    assert convert.input_schema["required"] == ["time"]
    assert "IANA" in convert.input_schema["properties"]["to_zone"]["description"]
    assert current.output_schema is not None
    assert current.output_schema["title"] == "ZonedTime"
    assert convert.output_schema is not None
    assert convert.output_schema["title"] == "TimeConversion"
    for tool in tools.values():
        assert tool.description
        assert "\n " not in tool.description
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.open_world_hint is False


async def test_current_time_in_a_zone(mcp_host_client: Any) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = await call(mcp_host_client, "current_time", {"zone": "Asia/Kolkata"})
    after = dt.datetime.now(dt.UTC)

    now = ZonedTime.model_validate(result.structured_content)
    assert before <= now.datetime <= after
    assert (now.zone, now.utc_offset, now.abbreviation, now.is_dst) == (
        "Asia/Kolkata",
        "+05:30",
        "IST",
        False,
    )
    assert now.datetime.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert now.time == now.datetime.strftime("%H:%M:%S")
    assert text_of(result).startswith(f"It is {now.datetime:%H:%M} on {now.weekday} {now.date.day} ")
    assert text_of(result).endswith(" in Asia/Kolkata (IST, UTC+05:30).")


@pytest.mark.parametrize(
    ("written", "zone"),
    [("europe/lisbon", "Europe/Lisbon"), ("New York", "America/New_York"), (" Tokyo ", "Asia/Tokyo")],
)
async def test_zones_by_any_case_or_by_city(mcp_host_client: Any, written: str, zone: str) -> None:
    result = await call(mcp_host_client, "current_time", {"zone": written})

    assert result.structured_content["zone"] == zone


async def test_without_a_zone_the_default_zone_of_the_settings(mcp_host_client: Any) -> None:
    default = await call(mcp_host_client, "current_time", {})
    configured = await call(mcp_host_client, "current_time", {}, default_zone="america/sao_paulo")

    assert default.structured_content["zone"] == "UTC"
    assert configured.structured_content["zone"] == "America/Sao_Paulo"
    # Zones whose abbreviation is only an offset are not named twice.
    assert "(UTC-03:00)" in text_of(configured)


async def test_convert_a_dated_time(mcp_host_client: Any) -> None:
    arguments = {"time": "2026-11-27 14:30", "from_zone": "Europe/Paris", "to_zone": "America/New_York"}
    result = await call(mcp_host_client, "convert_time", arguments)

    conversion = TimeConversion.model_validate(result.structured_content)
    assert conversion.source.datetime.isoformat() == "2026-11-27T14:30:00+01:00"
    assert conversion.target.datetime.isoformat() == "2026-11-27T08:30:00-05:00"
    assert (conversion.hours_ahead, conversion.ambiguous) == (-6, False)
    assert text_of(result) == (
        "14:30 on Friday 27 November 2026 in Europe/Paris (CET, UTC+01:00) is "
        "08:30 on Friday 27 November 2026 in America/New_York (EST, UTC-05:00), 6 hours behind."
    )


async def test_twelve_hour_clock_half_hour_zones_and_the_next_day(mcp_host_client: Any) -> None:
    arguments = {"time": "2026-07-03 9:45 pm", "from_zone": "UTC", "to_zone": "Asia/Kolkata"}
    result = await call(mcp_host_client, "convert_time", arguments, hour_format="12h")

    conversion = TimeConversion.model_validate(result.structured_content)
    assert conversion.target.datetime.isoformat() == "2026-07-04T03:15:00+05:30"
    assert conversion.hours_ahead == 5.5
    assert text_of(result) == (
        "9:45 PM on Friday 3 July 2026 in UTC (UTC, UTC+00:00) is "
        "3:15 AM on Saturday 4 July 2026 in Asia/Kolkata (IST, UTC+05:30), 5.5 hours ahead."
    )


async def test_a_time_without_a_date_is_today_in_the_source_zone(mcp_host_client: Any) -> None:
    before = dt.datetime.now(dt.UTC).date()
    result = await call(mcp_host_client, "convert_time", {"time": "12:00", "to_zone": "UTC"})
    after = dt.datetime.now(dt.UTC).date()

    source = ZonedTime.model_validate(result.structured_content["source"])
    assert (source.zone, source.time) == ("UTC", "12:00:00")
    assert before <= source.date <= after
    assert result.structured_content["hours_ahead"] == 0
    assert text_of(result).endswith(", the same clock time.")


async def test_a_time_the_clocks_show_twice_is_taken_at_its_first_occurrence(mcp_host_client: Any) -> None:
    # Summer time ends in the EU on 25 October 2026 at 03:00 CEST: 02:30 happens twice.
    arguments = {"time": "2026-10-25 02:30", "from_zone": "Europe/Berlin", "to_zone": "UTC"}
    result = await call(mcp_host_client, "convert_time", arguments)

    conversion = TimeConversion.model_validate(result.structured_content)
    assert conversion.ambiguous
    assert conversion.source.is_dst
    assert conversion.target.datetime.isoformat() == "2026-10-25T00:30:00+00:00"
    assert text_of(result).endswith(
        "That time happens twice in Europe/Berlin that night, as the clocks go back; this is the first."
    )
