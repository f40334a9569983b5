"""What a caller means by a place: ``"Paris"``, ``"Paris, Texas"``, ``"Springfield, Illinois, US"``."""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from mcp_host_weather.errors import InvalidArgumentError, PlaceNotFoundError
from mcp_host_weather.open_meteo import Location

EXAMPLES = "e.g. 'Lisbon', 'Paris, Texas' or 'Springfield, Illinois, US'"

MAX_LENGTH = 200
"""Longer than any real place with its region and country; longer text is not a place name."""


@dataclass(frozen=True)
class PlaceQuery:
    """A place name, then optional qualifiers (region, country name or country code)."""

    name: str
    qualifiers: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Self:
        if len(text) > MAX_LENGTH:
            raise InvalidArgumentError(f"city must be at most {MAX_LENGTH} characters, got {len(text)}")
        name, *rest = (" ".join(part.split()) for part in text.split(","))
        if not name:
            if any(rest):
                raise InvalidArgumentError(f"city must start with a place name before any comma, {EXAMPLES}")
            raise InvalidArgumentError(f"city must not be empty; give a place name, {EXAMPLES}")
        return cls(name, tuple(part for part in rest if part))

    def __str__(self) -> str:
        return ", ".join((self.name, *self.qualifiers))

    def matches(self, location: Location) -> bool:
        """Whether every qualifier names the location's country code, country or region."""
        known = {
            _fold(value) for value in (location.country_code, location.country, location.admin1) if value
        }
        return all(_fold(qualifier) in known for qualifier in self.qualifiers)

    def choose(self, candidates: Sequence[Location]) -> Location:
        """The best-ranked candidate that fits the qualifiers."""
        for location in candidates:
            if self.matches(location):
                return location
        if not candidates:
            raise PlaceNotFoundError(f"no place named {self.name!r} was found")
        where = ", ".join(self.qualifiers)
        listed = "; ".join(describe(location) for location in candidates)
        raise PlaceNotFoundError(f"no place named {self.name!r} in {where!r} was found; candidates: {listed}")


def describe(location: Location) -> str:
    """``"Paris, Texas, United States (US)"``: enough to tell namesakes apart."""
    parts = [location.name, location.admin1, location.country]
    text = ", ".join(part for part in parts if part)
    return f"{text} ({location.country_code})" if location.country_code else text


def _fold(text: str) -> str:
    # Callers often drop accents ("Ile-de-France"), so compare without them and without case.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold().strip()
