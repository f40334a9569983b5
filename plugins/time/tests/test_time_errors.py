"""Every mistake a caller can make comes back as one sentence that says what would work."""

from typing import Any

import pytest
from mcp_host.testing import error_of

pytestmark = pytest.mark.anyio

ZONES = "give an IANA time zone such as 'Europe/Paris', 'America/New_York', 'Asia/Kolkata' or 'UTC'"
FORMATS = "give it as '14:30', '2:30 pm', '14:30:15' or, with a date, '2026-11-27 14:30'"


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("Europe/Pariss", f"unknown time zone 'Europe/Pariss'; did you mean 'Europe/Paris'? {ZONES}"),
        ("Narnia", f"unknown time zone 'Narnia'; {ZONES}"),
        ("  ", f"the time zone must not be empty; {ZONES}"),
        ("West", "'West' could be Australia/West, Brazil/West; give one of them"),
    ],
)
async def test_unknown_zones(mcp_host_client: Any, zone: str, message: str) -> None:
    async with mcp_host_client() as client:
        current = await client.call_tool("current_time", {"zone": zone})
        converted = await client.call_tool("convert_time", {"time": "10:00", "to_zone": zone})
        converted_from = await client.call_tool(
            "convert_time", {"time": "10:00", "from_zone": zone, "to_zone": "UTC"}
        )

    assert error_of(current) == message
    assert error_of(converted) == message
    assert error_of(converted_from) == message


@pytest.mark.parametrize(
    ("time", "message"),
    [
        ("noon", f"time 'noon' is not a time of day; {FORMATS}"),
        ("14", f"time '14' is not a time of day; {FORMATS}"),
        ("25:00", f"time '25:00' is out of range; {FORMATS}"),
        ("10:61", f"time '10:61' is out of range; {FORMATS}"),
        ("13 pm", "time '13 pm': with am or pm the hour must be 1 to 12"),
        ("2026-02-30 10:00", "time '2026-02-30 10:00': 2026-02-30 is not a date"),
        (
            "2026-11-27T14:30+01:00",
            "time '2026-11-27T14:30+01:00' carries a UTC offset; "
            "give the local time alone and name its zone in from_zone",
        ),
        (
            "2026-03-29 02:30",
            "2026-03-29 02:30 does not exist in Europe/Paris: the clocks go forward that night, "
            "from UTC+01:00 to UTC+02:00; give a time before or after the change",
        ),
    ],
)
async def test_bad_times(mcp_host_client: Any, time: str, message: str) -> None:
    async with mcp_host_client() as client:
        result = await client.call_tool(
            "convert_time", {"time": time, "from_zone": "Europe/Paris", "to_zone": "UTC"}
        )

    assert error_of(result) == message
    assert result.structured_content is None
