"""Turning numbers and caller input into words and back."""

import pytest

from mcp_host_weather.conditions import compass_point, describe_weather_code
from mcp_host_weather.errors import InvalidArgumentError
from mcp_host_weather.places import PlaceQuery


@pytest.mark.parametrize(
    ("degrees", "point"),
    [
        (0, "N"),
        (11.2, "N"),
        (11.25, "NNE"),
        (22.5, "NNE"),
        (45, "NE"),
        (90, "E"),
        (180, "S"),
        (270, "W"),
        (315, "NW"),
        (348.75, "N"),
        (359.9, "N"),
        (360, "N"),
        (-45, "NW"),
    ],
)
def test_compass_point(degrees: float, point: str) -> None:
    assert compass_point(degrees) == point


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (0, "clear sky"),
        (1, "mainly clear"),
        (2, "partly cloudy"),
        (3, "overcast"),
        (45, "fog"),
        (48, "depositing rime fog"),
        (55, "dense drizzle"),
        (57, "dense freezing drizzle"),
        (65, "heavy rain"),
        (67, "heavy freezing rain"),
        (77, "snow grains"),
        (82, "violent rain showers"),
        (86, "heavy snow showers"),
        (95, "thunderstorm"),
        (99, "thunderstorm with heavy hail"),
        (42, "unknown conditions (WMO code 42)"),
        (None, "unknown conditions"),
    ],
)
def test_weather_code_words(code: int | None, words: str) -> None:
    assert describe_weather_code(code) == words


@pytest.mark.parametrize(
    ("text", "name", "qualifiers"),
    [
        ("Lisbon", "Lisbon", ()),
        ("  New   York  ", "New York", ()),
        ("Paris, Texas", "Paris", ("Texas",)),
        ("Springfield,Illinois , US", "Springfield", ("Illinois", "US")),
        ("Paris,", "Paris", ()),
        ("Paris, , FR", "Paris", ("FR",)),
    ],
)
def test_place_query_parsing(text: str, name: str, qualifiers: tuple[str, ...]) -> None:
    assert PlaceQuery.parse(text) == PlaceQuery(name, qualifiers)


@pytest.mark.parametrize("text", ["", "  ", ",", ", US"])
def test_place_query_needs_a_name(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^city must"):
        PlaceQuery.parse(text)


def test_place_query_length_is_bounded() -> None:
    assert PlaceQuery.parse("x" * 200).name == "x" * 200
    with pytest.raises(InvalidArgumentError, match=r"^city must be at most 200 characters, got 201$"):
        PlaceQuery.parse("x" * 201)
