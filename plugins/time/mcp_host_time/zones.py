"""Time zones by the names people and models use: IANA names, in any case, or a city alone."""

import datetime as dt
import difflib
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from mcp_host_time.errors import TimeError

EXAMPLES = "an IANA time zone such as 'Europe/Paris', 'America/New_York', 'Asia/Kolkata' or 'UTC'"


@cache
def known_zones() -> dict[str, str]:
    """Every IANA zone name available here (from the system, or the tzdata package), by its lower case."""
    return {name.lower(): name for name in available_timezones()}


@cache
def _zones_by_city() -> dict[str, list[str]]:
    # "Europe/Paris" and "America/Argentina/Buenos_Aires" are also known as "paris" and "buenos_aires".
    cities: dict[str, list[str]] = {}
    for name in sorted(known_zones().values()):
        if "/" in name and not name.startswith("Etc/"):
            cities.setdefault(name.rsplit("/", 1)[1].lower(), []).append(name)
    return cities


def resolve_zone(text: str) -> ZoneInfo:
    """The zone ``text`` names: an IANA name in any case (``europe/paris``), or a city alone
    (``Paris``, ``New York``) when the zones named after it keep the same time."""
    wanted = text.strip()
    if not wanted:
        raise TimeError(f"the time zone must not be empty; give {EXAMPLES}")
    zones = known_zones()
    exact = zones.get(wanted.lower())
    if exact is not None:
        return ZoneInfo(exact)
    cities = _zones_by_city().get(wanted.lower().replace(" ", "_"), [])
    if cities and _same_clocks(cities):
        return ZoneInfo(cities[0])
    if cities:
        raise TimeError(f"'{wanted}' could be {', '.join(cities)}; give one of them")
    close = difflib.get_close_matches(wanted.lower(), zones, n=2, cutoff=0.85)
    hint = f"did you mean {' or '.join(repr(zones[match]) for match in close)}? " if close else ""
    raise TimeError(f"unknown time zone '{wanted}'; {hint}give {EXAMPLES}")


def _same_clocks(names: list[str]) -> bool:
    """Whether the zones keep the same time, winter and summer, as an old alias and its zone do
    (``America/Buenos_Aires`` and ``America/Argentina/Buenos_Aires``)."""
    year = dt.datetime.now(dt.UTC).year
    samples = [dt.datetime(year, month, 1, tzinfo=dt.UTC) for month in (1, 7)]
    return (
        len({tuple(moment.astimezone(ZoneInfo(name)).utcoffset() for moment in samples) for name in names})
        == 1
    )
