"""A wall-clock time a caller wrote, placed in a zone, with the daylight-saving traps named."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from mcp_host_time.errors import TimeError

FORMATS = "'14:30', '2:30 pm', '14:30:15' or, with a date, '2026-11-27 14:30'"

_TIME = re.compile(
    r"""^\s*
    (?:(?P<date>\d{4}-\d{2}-\d{2})[ T]\s*)?
    (?P<hour>\d{1,2})
    (?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?
    \s*(?:(?P<half>[ap])\.?(?:m\.?)?)?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)\s*$", re.IGNORECASE)


def parse_wall_time(text: str, today: dt.date) -> dt.datetime:
    """``text`` as a naive date and time; a time of day alone is on ``today``."""
    if _OFFSET.search(text) and not _TIME.match(text):
        raise TimeError(
            f"time '{text.strip()}' carries a UTC offset; give the local time alone and name its zone "
            "in from_zone"
        )
    match = _TIME.match(text)
    if match is None or (match["minute"] is None and match["half"] is None):
        raise TimeError(f"time '{text.strip()}' is not a time of day; give it as {FORMATS}")
    hour, minute, second = int(match["hour"]), int(match["minute"] or 0), int(match["second"] or 0)
    if match["half"] is not None:
        if not 1 <= hour <= 12:
            raise TimeError(f"time '{text.strip()}': with am or pm the hour must be 1 to 12")
        hour = hour % 12 + (12 if match["half"].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise TimeError(f"time '{text.strip()}' is out of range; give it as {FORMATS}")
    try:
        day = dt.date.fromisoformat(match["date"]) if match["date"] else today
    except ValueError:
        raise TimeError(f"time '{text.strip()}': {match['date']} is not a date") from None
    return dt.datetime.combine(day, dt.time(hour, minute, second))


def place_in_zone(wall: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, bool]:
    """``wall`` as an aware time in ``zone``, and whether it was ambiguous.

    A time the clocks skip (the hour they go forward) is an error. A time they show twice
    (the hour they go back) is taken at its first occurrence.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    round_trip = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != wall:
        raise TimeError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks go forward that night, "
            f"from UTC{_offset(first)} to UTC{_offset(second)}; give a time before or after the change"
        )
    return first, first.utcoffset() != second.utcoffset()


def _offset(moment: dt.datetime) -> str:
    return format_offset(moment.utcoffset() or dt.timedelta())


def format_offset(offset: dt.timedelta) -> str:
    """``+05:30``, ``-03:00``, ``+00:00``."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
