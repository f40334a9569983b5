"""What the tools return: the structured result (its JSON schema is the tool's output schema), and
the same facts as one sentence for the model to read."""

import datetime as dt
from typing import Self

from pydantic import BaseModel, Field

from mcp_host_time.local_times import format_offset
from mcp_host_time.settings import HourFormat

# Not strftime's %A and %B: they follow the process's locale, and the answers are in English.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class ZonedTime(BaseModel):
    """One moment, as the clocks of one time zone show it."""

    zone: str = Field(description="IANA time zone, e.g. 'Europe/Paris'.")
    datetime: dt.datetime = Field(description="Local date and time, ISO 8601 with its UTC offset.")
    date: dt.date = Field(description="Local date.")
    time: str = Field(description="Local time of day, 24-hour 'HH:MM:SS'.")
    weekday: str = Field(description="Local day of the week, e.g. 'Friday'.")
    utc_offset: str = Field(description="Offset from UTC, e.g. '+01:00' or '-05:00'.")
    abbreviation: str = Field(description="The zone's abbreviation at that moment, e.g. 'CET' or 'EST'.")
    is_dst: bool = Field(description="Whether daylight-saving (summer) time is in effect.")

    @classmethod
    def of(cls, moment: dt.datetime) -> Self:
        """``moment`` must be aware, in a ``ZoneInfo`` zone."""
        zone = moment.tzinfo
        assert zone is not None
        moment = moment.replace(microsecond=0)
        return cls(
            zone=str(zone),
            datetime=moment,
            date=moment.date(),
            time=moment.strftime("%H:%M:%S"),
            weekday=WEEKDAYS[moment.weekday()],
            utc_offset=format_offset(moment.utcoffset() or dt.timedelta()),
            abbreviation=moment.tzname() or "",
            is_dst=bool(moment.dst()),
        )

    def text(self, hour_format: HourFormat) -> str:
        """``14:30 on Friday 27 November 2026 in Europe/Paris (CET, UTC+01:00)``."""
        clock = self.datetime.strftime("%H:%M") if hour_format == "24h" else _twelve_hour(self.datetime)
        abbreviation = (
            f"{self.abbreviation}, " if self.abbreviation and self.abbreviation[0].isalpha() else ""
        )
        return (
            f"{clock} on {self.weekday} {self.date.day} {MONTHS[self.date.month - 1]} {self.date.year} "
            f"in {self.zone} "
            f"({abbreviation}UTC{self.utc_offset})"
        )


class TimeConversion(BaseModel):
    """One moment in two time zones."""

    source: ZonedTime = Field(description="The time as given, in the zone it was given in.")
    target: ZonedTime = Field(description="The same moment in the requested zone.")
    hours_ahead: float = Field(
        description="How many hours the target zone's clocks are ahead of the source's (negative: behind)."
    )
    ambiguous: bool = Field(
        description=(
            "The given time happens twice in the source zone (the clocks go back that night); "
            "the first occurrence was used."
        )
    )

    def text(self, hour_format: HourFormat) -> str:
        if self.hours_ahead == 0:
            gap = "the same clock time"
        else:
            hours = f"{abs(self.hours_ahead):g} hour{'s' if abs(self.hours_ahead) != 1 else ''}"
            gap = f"{hours} {'ahead' if self.hours_ahead > 0 else 'behind'}"
        sentence = f"{self.source.text(hour_format)} is {self.target.text(hour_format)}, {gap}."
        if self.ambiguous:
            sentence += (
                f" That time happens twice in {self.source.zone} that night, as the clocks go back; "
                "this is the first."
            )
        return sentence


def _twelve_hour(moment: dt.datetime) -> str:
    # strftime's %I pads with a zero and %p depends on the locale.
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
