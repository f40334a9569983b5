"""A tool called with wrong arguments: the model reads one sentence it can act on."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_host import hookimpl
from mcp_host.testing import error_of, start_host_and_connect

pytestmark = pytest.mark.anyio


class Forecasts:
    @hookimpl
    def register_tools(self, register: Any) -> None:
        async def forecast(city: str, days: int = 3, hours: list[int] | None = None) -> str:
            """A forecast."""
            return f"{city}: {days} days"

        register(forecast)


async def _error(arguments: dict[str, Any]) -> str:
    async with start_host_and_connect(plugins={"forecasts": Forecasts()}, discover=False) as client:
        return error_of(await client.call_tool("forecast", arguments))


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        ({}, "argument 'city' is required: expected a string"),
        (
            {"city": "Lisbon", "days": "three"},
            "argument 'days': expected a valid integer, got 'three' (unable to parse string as an integer)",
        ),
        ({"city": "Lisbon", "days": 2.5}, "argument 'days': expected a valid integer, got 2.5"),
        (
            {"city": "Lisbon", "hours": [6, "noon"]},
            "argument 'hours[1]': expected a valid integer, got 'noon'"
            " (unable to parse string as an integer)",
        ),
        (
            {"city": 7, "days": None},
            "argument 'city': expected a valid string, got 7; "
            "argument 'days': expected a valid integer, got None",
        ),
    ],
)
async def test_wrong_arguments_are_named_with_what_was_expected_and_given(
    arguments: dict[str, Any], sentence: str
) -> None:
    assert await _error(arguments) == sentence


async def test_a_long_value_is_quoted_back_shortened_and_without_pydantic_links() -> None:
    message = await _error({"city": "Lisbon", "days": "9" * 500 + "x"})

    assert message.startswith("argument 'days': expected a valid integer, got '999")
    assert len(message) < 200
    assert "\n" not in message
    assert "pydantic" not in message
