"""The plugin manager, from the outside: plugin objects as authors write them."""

from __future__ import annotations

from types import ModuleType

import pytest
from pydantic import BaseModel

from mcp_host import hookimpl
from mcp_host.config import parse_config
from mcp_host.host import prepare_host
from mcp_host.plugins import PluginStatus


def _module(**attributes) -> ModuleType:
    module = ModuleType("plugin_under_test")
    vars(module).update(attributes)
    return module


def _plugin(**hooks) -> ModuleType:
    """A plugin module as an author writes one: functions marked with ``@hookimpl``."""
    return _module(**{name: hookimpl(function) for name, function in hooks.items()})


def _tools(*names):
    def register_tools(register):
        for name in names:

            def tool() -> str:
                return "ok"

            register(tool, name=name)

    return register_tools


def _host(config_text="", **plugins):
    return prepare_host(
        parse_config(config_text, "c.toml"), "c.toml", discover=False, extra_plugins=plugins.items()
    )


def test_two_plugins_giving_the_same_tool_name_is_an_error_naming_both_and_the_fix():
    host = _host(a=_plugin(register_tools=_tools("search")), b=_plugin(register_tools=_tools("search")))
    [problem] = host.problems
    assert problem.key_path == "plugins.b"
    assert "tool 'search' is provided by both 'a' and 'b'" in problem.message
    assert 'prefix = "b_"' in problem.message
    assert 'disabled_tools = ["search"]' in problem.message


def test_a_prefix_or_a_disabled_tool_resolves_the_clash():
    plugins = {
        "a": _plugin(register_tools=_tools("search")),
        "b": _plugin(register_tools=_tools("search", "x")),
    }
    prefixed = _host("[plugins.b]\nprefix = 'b_'\n", **plugins)
    assert prefixed.problems == []
    assert [tool.name for tool in prefixed.blueprints["default"].tools] == ["b_search", "b_x", "search"]
    disabled = _host("[plugins.b]\ndisabled_tools = ['search']\n", **plugins)
    assert disabled.problems == []
    assert [tool.name for tool in disabled.blueprints["default"].tools] == ["search", "x"]


@pytest.mark.parametrize(
    ("plugin", "error"),
    [
        (_plugin(register_tool=_tools("x")), "implements unknown hooks ['register_tool']"),
        (
            _module(register_tools=_tools("x")),
            "implements no hooks: mark its functions with @mcp_host.hookimpl",
        ),
        (_plugin(register_tools=lambda register, colour: None), "invalid hook implementation"),
        (
            _plugin(register_tools=lambda register: 1 / 0),
            "register_tools raised ZeroDivisionError: division by zero",
        ),
        (_plugin(register_tools=_tools("has space")), "invalid tool name 'has space'"),
        (
            _plugin(plugin_settings=lambda: dict),
            "plugin_settings returned <class 'dict'>, not a pydantic model class",
        ),
        (
            _plugin(register_completions=lambda register: register(lambda *args: [], prompt="nope")),
            "completion for prompt 'nope', which the plugin did not register",
        ),
        (
            _plugin(register_completions=lambda register: register(lambda *args: [])),
            "register a completion for one prompt or one resource template",
        ),
    ],
)
def test_a_broken_plugin_is_failed_with_a_specific_error_and_the_others_are_served(plugin, error):
    host = _host(broken=plugin, good=_plugin(register_tools=_tools("fine")))
    broken = host.plugins.records["broken"]
    assert broken.status is PluginStatus.FAILED
    assert error in (broken.error or "")
    assert host.plugins.records["good"].status is PluginStatus.LOADED
    assert [tool.name for tool in host.blueprints["default"].tools] == ["fine"]
    assert host.problems == []


def test_settings_defaults_that_do_not_validate_fail_the_plugin_not_the_config():
    class NeedsKey(BaseModel):
        api_key: str

    host = _host(keyed=_plugin(plugin_settings=lambda: NeedsKey))
    assert host.plugins.records["keyed"].status is PluginStatus.FAILED
    assert host.problems == []
    configured = _host("[plugins.keyed]\napi_key = 'k'\n", keyed=_plugin(plugin_settings=lambda: NeedsKey))
    assert configured.plugins.records["keyed"].settings == NeedsKey(api_key="k")


def test_only_the_plugins_that_implement_a_hook_are_said_to():
    def session_started(session):
        pass

    host = _host(tools=_plugin(register_tools=_tools("t")), hooks=_plugin(session_started=session_started))
    records = host.plugins.records
    assert host.plugins.implements(records["hooks"], "session_started")
    assert not host.plugins.implements(records["tools"], "session_started")
    assert not host.plugins.implements(records["hooks"], "session_ended")


def test_named_servers_select_plugins_and_tools():
    host = _host(
        """
[servers.small]
plugins = ["a"]
[servers.one]
tools = ["b2"]
instructions = "Only b2."
""",
        a=_plugin(register_tools=_tools("a1", "a2")),
        b=_plugin(register_tools=_tools("b1", "b2")),
    )
    assert host.problems == []
    assert [t.name for t in host.blueprints["default"].tools] == ["a1", "a2", "b1", "b2"]
    assert [t.name for t in host.blueprints["small"].tools] == ["a1", "a2"]
    assert [t.name for t in host.blueprints["one"].tools] == ["b2"]
    assert host.blueprints["one"].sse_path == "/servers/one/sse"
    assert host.blueprints["one"].mcp_path == "/servers/one/mcp"


def test_a_named_server_asking_for_an_unknown_tool_is_a_config_error():
    host = _host("[servers.x]\ntools = ['nope']\n", a=_plugin(register_tools=_tools("a1")))
    assert [str(p) for p in host.problems] == ["servers.x.tools: no plugin of this server has tools ['nope']"]
