"""Blueprints, without a server: what each configured server offers, and which plugin answers
which request (``ServerBlueprint.owner_of``)."""

from __future__ import annotations

from types import ModuleType

import pytest

from mcp_host import hookimpl
from mcp_host.blueprints import build_blueprints
from mcp_host.config import parse_config
from mcp_host.host import prepare_host


def _plugin(**hooks) -> ModuleType:
    module = ModuleType("plugin_under_test")
    vars(module).update({name: hookimpl(function) for name, function in hooks.items()})
    return module


def _weather(register):
    def forecast(city: str) -> str:
        return city

    register(forecast)


def _weather_resources(register):
    register(lambda: "sunny", "weather://today", name="today")
    register(lambda city: city, "weather://city/{city}", name="city")


def _weather_prompts(register):
    def plan_trip(city: str) -> str:
        """Plan a trip."""
        return city

    register(plan_trip)


def _weather_completions(register):
    register(lambda argument, value, context: ["Lisbon"], prompt="plan_trip")
    register(lambda argument, value, context: ["Porto"], resource_template="weather://city/{city}")


def _clock(register):
    def now() -> str:
        return "noon"

    register(now)


PLUGINS = {
    "weather": _plugin(
        register_tools=_weather,
        register_resources=_weather_resources,
        register_prompts=_weather_prompts,
        register_completions=_weather_completions,
    ),
    "clock": _plugin(register_tools=_clock),
}


def _host(config_text: str = "", plugins=PLUGINS):
    return prepare_host(
        parse_config(config_text, "c.toml"), "c.toml", discover=False, extra_plugins=plugins.items()
    )


@pytest.mark.parametrize(
    ("method", "params", "owner"),
    [
        ("tools/call", {"name": "forecast"}, "weather"),
        ("tools/call", {"name": "now"}, "clock"),
        ("tools/call", {"name": "missing"}, None),
        ("prompts/get", {"name": "plan_trip"}, "weather"),
        ("resources/read", {"uri": "weather://today"}, "weather"),
        ("resources/read", {"uri": "weather://city/Lisbon"}, "weather"),
        ("resources/read", {"uri": "clock://today"}, None),
        ("completion/complete", {"ref": {"type": "ref/prompt", "name": "plan_trip"}}, "weather"),
        (
            "completion/complete",
            {"ref": {"type": "ref/resource", "uri": "weather://city/{city}"}},
            "weather",
        ),
        ("completion/complete", {"ref": {"type": "ref/prompt", "name": "other"}}, None),
        ("completion/complete", {}, None),
        ("tools/list", {}, None),
        ("ping", {"name": "forecast"}, None),
    ],
)
def test_owner_of_names_the_plugin_that_answers_a_request(method, params, owner):
    blueprint = _host().blueprints["default"]
    assert blueprint.owner_of(method, params) == owner


def test_a_server_selecting_tools_owns_only_those():
    host = _host('[servers.small]\ntools = ["now"]\n')
    small = host.blueprints["small"]
    assert [tool.name for tool in small.tools] == ["now"]
    assert small.owner_of("tools/call", {"name": "now"}) == "clock"
    assert small.owner_of("tools/call", {"name": "forecast"}) is None
    assert host.problems == []


def test_a_server_selecting_plugins_offers_only_theirs():
    host = _host('[servers.clock_only]\nplugins = ["clock"]\n')
    blueprint = host.blueprints["clock_only"]
    assert [record.name for record in blueprint.plugins] == ["clock"]
    assert blueprint.prompts == ()
    assert blueprint.owner_of("prompts/get", {"name": "plan_trip"}) is None


def test_selecting_an_unknown_tool_or_plugin_is_a_problem_naming_the_key():
    host = _host('[servers.odd]\nplugins = ["clock", "nope"]\ntools = ["now", "gone"]\n')
    assert sorted((problem.key_path, problem.message) for problem in host.problems) == [
        ("servers.odd.plugins", "no installed plugin is named 'nope'"),
        ("servers.odd.tools", "no plugin of this server has tools ['gone']"),
    ]


def test_the_tools_of_a_failed_plugin_are_not_the_configs_mistake():
    def broken(register):
        raise RuntimeError("no tools today")

    host = _host(
        '[server]\ntools = ["now", "forecast"]\n', {**PLUGINS, "weather": _plugin(register_tools=broken)}
    )
    assert host.problems == []
    assert [tool.name for tool in host.blueprints["default"].tools] == ["now"]


def test_paths_of_the_default_and_a_named_server():
    blueprints, _ = build_blueprints(parse_config("[servers.one]\n", "c.toml"), [])
    assert (
        blueprints["default"].sse_path,
        blueprints["default"].messages_path,
        blueprints["default"].mcp_path,
    ) == (
        "/sse",
        "/messages/",
        "/mcp",
    )
    assert (blueprints["one"].sse_path, blueprints["one"].messages_path, blueprints["one"].mcp_path) == (
        "/servers/one/sse",
        "/servers/one/messages/",
        "/servers/one/mcp",
    )


@pytest.mark.anyio
async def test_blueprints_are_built_once_when_every_plugin_starts():
    host = _host()
    before = host.blueprints
    async with host.running():
        assert host.blueprints is before


@pytest.mark.anyio
async def test_a_plugin_failing_to_start_leaves_every_server():
    def host_started():
        raise RuntimeError("no network")

    host = _host(
        "[servers.both]\n", {**PLUGINS, "clock": _plugin(register_tools=_clock, host_started=host_started)}
    )
    assert [tool.name for tool in host.blueprints["both"].tools] == ["forecast", "now"]
    async with host.running():
        for blueprint in host.blueprints.values():
            assert [tool.name for tool in blueprint.tools] == ["forecast"]
            assert blueprint.owner_of("tools/call", {"name": "now"}) is None
