"""The helpers plugin authors get for their tools: ``mcp_host.tool_errors``, ``mcp_host.tool_result``."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from mcp_host import tool_errors, tool_result


class PlaceNotFound(Exception):
    pass


class ServiceDown(Exception):
    pass


class Weather(BaseModel):
    place: str
    celsius: float


def test_the_errors_named_become_tool_errors_with_their_sentence():
    for error in (PlaceNotFound("no place named 'Xyzzy' was found"), ServiceDown("the service is down")):
        with pytest.raises(ToolError, match=str(error)) as raised, tool_errors(PlaceNotFound, ServiceDown):
            raise error
        assert raised.value.__cause__ is error


def test_any_other_exception_stays_what_it_is():
    with pytest.raises(KeyError), tool_errors(PlaceNotFound):
        raise KeyError("bug")


def test_a_result_carries_the_text_for_the_model_and_the_model_for_programs():
    result = tool_result("21.5 °C in Lisbon", Weather(place="Lisbon", celsius=21.5))
    assert [(content.type, content.text) for content in result.content] == [("text", "21.5 °C in Lisbon")]
    assert result.structured_content == {"place": "Lisbon", "celsius": 21.5}
    assert not result.is_error
