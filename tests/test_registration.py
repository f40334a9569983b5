"""The ``register`` callbacks plugins receive (``registration.Collector``), on their own."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import Field

from mcp_host.registration import Collector, RegistrationError


def greet(name: Annotated[str, Field(description="Who to greet.")], loud: bool = False) -> str:
    """Greet someone.

    Indented second paragraph."""
    return name


def test_a_tool_is_named_prefixed_and_described_from_its_function():
    collector = Collector(prefix="hi_")
    collector.register_tool(greet)
    [tool] = collector.contributions.tools
    assert tool.name == "hi_greet"
    assert collector.contributions.original_tool_names == {"hi_greet": "greet"}
    assert tool.description == "Greet someone.\n\nIndented second paragraph."
    assert tool.parameters["required"] == ["name"]
    assert tool.parameters["properties"]["name"]["description"] == "Who to greet."
    assert tool.parameters["properties"]["loud"]["default"] is False


def test_a_disabled_tool_is_seen_but_not_served():
    collector = Collector(prefix="p_", disabled_tools=frozenset({"greet"}))
    collector.register_tool(greet)
    collector.register_tool(greet, name="wave")
    assert collector.contributions.tool_names == ["p_wave"]
    assert collector.seen_tools == {"greet", "wave"}


@pytest.mark.parametrize(
    ("name", "error"),
    [("has space", "invalid tool name 'has space'"), ("x" * 129, "invalid tool name")],
)
def test_a_name_breaking_mcps_rules_is_refused(name, error):
    with pytest.raises(RegistrationError, match=error):
        Collector().register_tool(greet, name=name)


def test_a_tool_registered_twice_is_refused():
    collector = Collector()
    collector.register_tool(greet)
    with pytest.raises(RegistrationError, match="tool 'greet' is registered twice"):
        collector.register_tool(greet)


def test_a_uri_with_variables_is_a_template_and_one_without_a_resource():
    collector = Collector()
    collector.register_resource(lambda: "x", "notes://all", name="all")
    collector.register_resource(lambda topic: topic, "notes://{topic}", name="topic")
    assert [str(resource.uri) for resource in collector.contributions.resources] == ["notes://all"]
    assert [template.uri_template for template in collector.contributions.resource_templates] == [
        "notes://{topic}"
    ]


def test_a_completion_needs_exactly_one_target_the_plugin_registered():
    collector = Collector()

    def topic(subject: str) -> str:
        """A prompt."""
        return subject

    collector.register_prompt(topic)

    def complete(argument, value, context):
        return []

    collector.register_completion(complete, prompt="topic")
    assert collector.contributions.completions == {("ref/prompt", "topic"): complete}
    with pytest.raises(RegistrationError, match="one prompt or one resource template"):
        collector.register_completion(complete)
    with pytest.raises(RegistrationError, match="one prompt or one resource template"):
        collector.register_completion(complete, prompt="topic", resource_template="notes://{topic}")
    with pytest.raises(RegistrationError, match="prompt 'other', which the plugin did not register"):
        collector.register_completion(complete, prompt="other")
    unregistered = re.escape("resource template 'notes://{x}', which the plugin did not register")
    with pytest.raises(RegistrationError, match=unregistered):
        collector.register_completion(complete, resource_template="notes://{x}")
