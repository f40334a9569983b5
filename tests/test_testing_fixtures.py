"""mcp_host.testing, the fixtures plugin authors test with: as a pytest plugin, and what each gives."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, LoggingMessageNotificationParams, TextContent

from mcp_host import current_session, hookimpl, pytest_plugin
from mcp_host.config import ConfigError
from mcp_host.host import StrictModeError
from mcp_host.testing import PluginNotUsable, error_of, text_of


class Recorder:
    """A plugin that notes its session hooks and counts calls per client."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    @hookimpl
    def register_tools(self, register: Any) -> None:
        async def count() -> int:
            """Calls by this client so far, this one included."""
            state = current_session().state
            state["calls"] += 1
            return int(state["calls"])

        register(count)

    @hookimpl
    async def session_started(self, session: Any) -> None:
        session.state["calls"] = 0
        self.events.append(("started", session.id, session.server))

    @hookimpl
    def session_ended(self, session: Any) -> None:
        self.events.append(("ended", session.id, session.server))


class Chatty:
    """A plugin whose tool logs to its client at three levels."""

    @hookimpl
    def register_tools(self, register: Any) -> None:
        async def chatter(ctx: Context) -> str:
            """Logs one message at debug, info and warning."""
            for level in ("debug", "info", "warning"):
                await ctx.log(level, f"a {level} message")
            return "done"

        register(chatter)


class FailsToStart:
    @hookimpl
    def host_started(self) -> None:
        raise OSError("no such device")


class UnknownHook:
    @hookimpl
    def register_tool(self, register: Any) -> None:  # one letter short of register_tools
        raise AssertionError("never called")


@pytest.mark.anyio
async def test_each_in_process_client_gets_its_own_session_with_the_hooks_run(mcp_host: Any) -> None:
    recorder = Recorder()
    async with mcp_host("[servers.side]\n", plugins={"recorder": recorder}, discover=False) as host:
        async with host.connect() as alice, host.connect("side") as bob:
            assert host.session_count == 2
            first = await alice.call_tool("count", {})
            second = await alice.call_tool("count", {})
            other = await bob.call_tool("count", {})
        assert host.session_count == 0
        assert host.plugin("recorder") is recorder

    assert (first.structured_content, second.structured_content) == ({"result": 1}, {"result": 2})
    assert other.structured_content == {"result": 1}
    started = [event for event in recorder.events if event[0] == "started"]
    ended = [event for event in recorder.events if event[0] == "ended"]
    assert sorted(server for _, _, server in started) == ["default", "side"]
    assert sorted(ended) == sorted(("ended", *rest) for _, *rest in started)


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
async def test_an_in_process_client_gets_the_log_levels_it_asked_for_as_over_http(mcp_host: Any) -> None:
    quiet: list[str] = []
    chatty: list[str] = []

    def note(into: list[str]) -> Any:
        async def on_log(params: LoggingMessageNotificationParams) -> None:
            into.append(str(params.data))

        return on_log

    async with (
        mcp_host(plugins={"chatty": Chatty()}, discover=False) as host,
        host.connect(logging_callback=note(quiet)) as quiet_client,
        host.connect(logging_callback=note(chatty)) as chatty_client,
    ):
        await quiet_client.set_logging_level("info")
        assert text_of(await quiet_client.call_tool("chatter", {})) == "done"
        assert text_of(await chatty_client.call_tool("chatter", {})) == "done"

    assert quiet == ["a info message", "a warning message"]
    assert chatty == ["a debug message", "a info message", "a warning message"]


@pytest.mark.anyio
async def test_mcp_host_client_is_one_host_and_one_client(mcp_host_client: Any) -> None:
    async with mcp_host_client(plugins={"recorder": Recorder()}, discover=False) as client:
        assert isinstance(client, Client)
        result = await client.call_tool("count", {})

    assert text_of(result) == "1"


@pytest.mark.anyio
async def test_a_config_mistake_raises_the_hosts_message(mcp_host: Any) -> None:
    with pytest.raises(ConfigError, match=r"plugins\.recorder: unknown keys colour: this plugin takes no"):
        async with mcp_host('[plugins.recorder]\ncolour = "red"\n', plugins={"recorder": Recorder()}):
            pass


@pytest.mark.anyio
async def test_a_broken_plugin_fails_the_test_unless_strict_is_off(mcp_host: Any) -> None:
    plugins = {"recorder": Recorder(), "fails": FailsToStart(), "unknown": UnknownHook()}
    with pytest.raises(StrictModeError, match=r"'unknown' \(implements unknown hooks \['register_tool'\]"):
        async with mcp_host(plugins=plugins, discover=False):
            pass
    with pytest.raises(StrictModeError, match=r"'fails' \(host_started raised OSError: no such device"):
        async with mcp_host(plugins={"recorder": Recorder(), "fails": FailsToStart()}, discover=False):
            pass

    async with mcp_host(plugins=plugins, discover=False, strict=False) as host, host.connect() as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
    assert tools == ["count"]


@pytest.mark.anyio
async def test_an_unknown_server_names_the_configured_ones(mcp_host: Any) -> None:
    async with mcp_host(discover=False) as host:
        with pytest.raises(KeyError, match=r"no server 'nope'; the config has \['default'\]"):
            async with host.connect("nope"):
                pass


def test_results_read_as_a_model_reads_them() -> None:
    def result(text: str, is_error: bool) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=is_error)

    assert text_of(result("hello", False)) == "hello"
    assert error_of(result("Error executing tool get_time: no zone 'X'", True)) == "no zone 'X'"
    with pytest.raises(AssertionError, match="expected the call to fail"):
        error_of(result("fine", False))


def test_mcp_host_plugin_loads_an_installed_plugin_by_its_entry_point(mcp_host_plugin: Any) -> None:
    record = mcp_host_plugin("weather", "[plugins.weather]\nforecast_days = 5\n")

    assert (record.distribution, record.status) == ("mcp-host-weather", "loaded")
    assert record.settings.forecast_days == 5
    assert record.contributions.tool_names == ["get_weather", "get_forecast"]


def test_mcp_host_plugin_says_what_is_installed_when_the_plugin_is_not(mcp_host_plugin: Any) -> None:
    with pytest.raises(PluginNotUsable, match=r"no plugin named 'nope' is installed .*weather.*entry-points"):
        mcp_host_plugin("nope")


def test_mcp_host_plugin_fails_with_the_error_the_host_records(plugin_env: Any) -> None:
    check = "from mcp_host.testing import assert_plugin_installed; assert_plugin_installed('broken')"
    result = subprocess.run([plugin_env.python, "-c", check], capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert (
        "PluginNotUsable: plugin 'broken' (mcp-host-broken 0.0.1) failed: "
        "failed to import 'mcp_host_broken': ModuleNotFoundError: "
        "No module named 'mcp_host_dependency_that_is_not_installed'"
    ) in result.stderr


@pytest.mark.anyio
async def test_mcp_host_live_serves_both_transports_of_every_server(mcp_host_live: Any) -> None:
    host = mcp_host_live('[servers.side]\nname = "side"\n')

    assert host.sse_url("side") == host.base_url + "/servers/side/sse"
    assert host.mcp_url("side") == host.base_url + "/servers/side/mcp"
    assert host.mcp_url() == host.url("/mcp")
    async with sse_client(host.sse_url("side")) as (read, write), ClientSession(read, write) as session:
        over_sse = await session.initialize()
    async with Client(host.mcp_url("side"), mode="legacy") as client:
        over_streamable = client.server_info
    assert over_sse.server_info.name == "side"
    assert over_streamable is not None
    assert over_streamable.name == "side"


def test_the_pytest_plugin_is_registered_and_only_adds_fixtures(tmp_path: Path) -> None:
    (plugin,) = entry_points(group="pytest11", name="mcp_host")
    assert plugin.value == "mcp_host.pytest_plugin"
    assert [name for name in vars(pytest_plugin) if name.startswith("pytest_")] == []
    # Loading it costs no MCP SDK import: every test run in the environment pays for it.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, mcp_host.pytest_plugin; print('mcp' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.stdout.strip() == "False", loaded.stderr

    (tmp_path / "test_other_project.py").write_text("def test_unrelated():\n    pass\n")
    run = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
        str(tmp_path),
    ]
    plan = subprocess.run([*run, "--setup-plan"], capture_output=True, text=True, timeout=120)
    listing = subprocess.run([*run, "--fixtures"], capture_output=True, text=True, timeout=120)

    assert plan.returncode == 0, plan.stdout
    assert "mcp_host" not in plan.stdout  # nothing autouse
    for fixture in ("mcp_host ", "mcp_host_client ", "mcp_host_live ", "mcp_host_plugin "):
        assert f"\n{fixture}" in listing.stdout, listing.stdout


def test_an_author_needs_no_import_to_use_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n"
    )
    (tmp_path / "test_author.py").write_text(
        textwrap.dedent(
            """
            import pytest


            @pytest.mark.anyio
            async def test_a_tool_of_an_installed_plugin(mcp_host_client):
                async with mcp_host_client('[server]\\nplugins = ["time"]\\n') as client:
                    result = await client.call_tool("current_time", {"zone": "UTC"})
                assert result.structured_content["zone"] == "UTC"
            """
        )
    )
    run = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
        str(tmp_path),
    ]
    result = subprocess.run(run, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout


def _contributing_block(marker: str, language: str) -> str:
    text = (Path(__file__).parent.parent / "CONTRIBUTING.md").read_text()
    match = re.compile(rf"```{language}\n(.*?)```", re.DOTALL).search(text, text.index(marker))
    assert match, f"no {language} block after {marker!r}"
    return textwrap.dedent(match.group(1))


@pytest.mark.slow
def test_the_testing_example_of_contributing_passes(make_scratch_env: Any, tmp_path: Path) -> None:
    package = tmp_path / "mcp-host-shout"
    (package / "mcp_host_shout").mkdir(parents=True)
    (package / "pyproject.toml").write_text(_contributing_block("### 1. The package", "toml"))
    (package / "mcp_host_shout" / "__init__.py").write_text(
        _contributing_block("A complete plugin:", "python")
    )
    env = make_scratch_env()
    env.pip_install(package)
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text(
        "import pytest\n\n" + _contributing_block("**`anyio_backend`.**", "python")
    )
    (tests / "test_shout.py").write_text(_contributing_block("### 8. Testing", "python"))

    run = [env.python, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tests), str(tests)]
    result = subprocess.run(run, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
