"""Reloading a running host (SIGHUP, ``mcp-host reload``): clients keep their sessions, are
told what changed, and a wrong config changes nothing. Real host processes, real SDK clients."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ToolsListChanged
from mcp_types import PromptListChangedNotification, PromptReference, ToolListChangedNotification

from mcp_host.testing import LiveHost, run_host, text_of

from .conftest import PLUGIN_DISTS
from .wire import DISCOVER, HEADERS, INITIALIZE, MODERN, MODERN_HEADERS, QUIET

pytestmark = pytest.mark.anyio


class Notified:
    """The ``list_changed`` notifications a session received."""

    def __init__(self) -> None:
        self.tools = 0
        self.prompts = 0

    async def __call__(self, message: Any) -> None:
        if isinstance(message, ToolListChangedNotification):
            self.tools += 1
        elif isinstance(message, PromptListChangedNotification):
            self.prompts += 1

    async def wait_for_tools(self, count: int = 1) -> None:
        with anyio.fail_after(20):
            while self.tools < count:
                await anyio.sleep(0.02)


@asynccontextmanager
async def open_session(host: LiveHost, transport: str, notified: Notified) -> AsyncIterator[ClientSession]:
    """An initialized handshake-era session on ``transport`` ("sse" or "mcp")."""
    connection = sse_client(host.sse_url()) if transport == "sse" else streamable_http_client(host.mcp_url())
    async with connection as (read, write), ClientSession(read, write, message_handler=notified) as session:
        await session.initialize()
        yield session


async def tool_names(session: ClientSession) -> set[str]:
    return {tool.name for tool in (await session.list_tools()).tools}


def reload_with(host: LiveHost, config: Path, text: str) -> None:
    config.write_text(text, encoding="utf-8")
    host.process.send_signal(signal.SIGHUP)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def events(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["event"] for line in path.read_text().splitlines()]


@pytest.mark.parametrize("transport", ["sse", "mcp"])
async def test_a_session_is_told_of_a_plugin_a_reload_enables_and_keeps_its_state(
    plugin_env, tmp_path, transport
):
    config = tmp_path / "config.toml"
    counter_events = tmp_path / "counter.jsonl"
    counter = f"[plugins.counter]\nevents_file = '{counter_events}'\n"
    config.write_text(QUIET + counter + "[plugins.echo]\nenabled = false\n")
    with run_host(config, python=plugin_env.python) as host:
        notified = Notified()
        async with open_session(host, transport, notified) as session:
            init_tools = await tool_names(session)
            assert "echo" not in init_tools
            assert "increment" in init_tools
            me = text_of(await session.call_tool("whoami", {}))
            assert text_of(await session.call_tool("increment", {})) == "1"

            reload_with(host, config, QUIET + counter + "[plugins.echo]\nshout = true\n")
            await notified.wait_for_tools()

            assert await tool_names(session) == init_tools | {"echo"}
            assert text_of(await session.call_tool("echo", {"text": "hi"})) == "HI"
            # The same session, its plugin state kept across the reload.
            assert text_of(await session.call_tool("whoami", {})) == me
            assert text_of(await session.call_tool("increment", {})) == "2"
        host.wait_for_log(
            r"reloaded .*config\.toml: plugins added \['echo'\], taken out none; 1 live sessions"
        )
    assert events(counter_events) == ["started", "ended"]


async def test_the_handshake_capabilities_say_lists_may_change(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
    capabilities = init.capabilities.model_dump(by_alias=True, exclude_none=True)
    assert capabilities["tools"]["listChanged"] is True
    assert capabilities["prompts"]["listChanged"] is True
    assert capabilities["resources"]["listChanged"] is True


async def test_a_plugin_a_reload_disables_ends_in_each_session_then_stops(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    counter_events = tmp_path / "counter.jsonl"
    counter = f"[plugins.counter]\nevents_file = '{counter_events}'\n"
    config.write_text(QUIET + counter)
    with run_host(config, python=plugin_env.python) as host:
        notified = Notified()
        async with open_session(host, "mcp", notified) as session:
            assert "increment" in await tool_names(session)
            reload_with(host, config, QUIET + counter.replace("]\n", "]\nenabled = false\n", 1))
            await notified.wait_for_tools()
            assert notified.prompts == 1  # count_to went with it
            left = await tool_names(session)
            assert "echo" in left
            assert not left & {"increment", "whoami", "touch_about"}
            assert (await session.call_tool("increment", {})).is_error
            # Its session_ended ran at the reload, not again when the session ends.
            assert events(counter_events) == ["started", "ended"]
            assert text_of(await session.call_tool("echo", {"text": "still here"})) == "still here"
        host.wait_for_log(r"plugin 'counter' stopped: the reload took it out")
        async with open_session(host, "sse", Notified()) as fresh:
            assert await tool_names(fresh) == left
    assert events(counter_events) == ["started", "ended"]


async def test_a_wrong_config_on_reload_changes_nothing_and_is_counted(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(QUIET)
    with run_host(config, python=plugin_env.python) as host:
        notified = Notified()
        async with open_session(host, "sse", notified) as session:
            before = await tool_names(session)
            reload_with(host, config, QUIET + "[plugins.echo]\nshout = 'loudly'\n")
            line = host.wait_for_log(r"reload refused, serving the previous config: (.*)").group(1)
            checked = plugin_env.mcp_host("check", "--config", str(config))
            assert line == checked.stderr.strip().removeprefix("mcp-host: ")
            assert "plugins.echo.shout" in line
            assert await tool_names(session) == before
            assert text_of(await session.call_tool("echo", {"text": "x"})) == "x"
            assert notified.tools == 0

            config.write_text("[server\n")  # not even TOML
            host.process.send_signal(signal.SIGHUP)
            host.wait_for_log(r"reload refused, .*config\.toml.*(TOML|line 1)")
            async with httpx2.AsyncClient() as http:
                metrics = (await http.get(host.url("/metrics"))).text
            assert 'mcp_host_reloads_total{outcome="refused"} 2.0' in metrics
        async with open_session(host, "mcp", Notified()) as fresh:
            assert await tool_names(fresh) == before
    assert host.process.poll() is None or host.process.returncode == 0


async def test_a_plugin_pip_installed_while_serving_reaches_a_session_open_all_along(
    make_scratch_env, tmp_path
):
    env = make_scratch_env("counter")
    config = tmp_path / "config.toml"
    config.write_text("")
    pid_file = tmp_path / "mcp-host.pid"
    with run_host(config, python=env.python, args=["--pid-file", str(pid_file)]) as host:
        port = host.base_url.rsplit(":", 1)[1]
        running = ("plugins", "--running", "--config", str(config), "--port", port)

        def running_echo() -> dict[str, Any] | None:
            listing = env.mcp_host(*running, "--json")
            assert listing.returncode == 0, listing.stderr
            return next(p["running"] for p in json.loads(listing.stdout)["plugins"] if p["name"] == "echo")

        notified = Notified()
        async with open_session(host, "mcp", notified) as session:
            assert "echo" not in await tool_names(session)
            env.pip_install(PLUGIN_DISTS / "echo")
            assert running_echo() is None  # installed, not yet loaded by the running host
            reloaded = env.mcp_host("reload", "--pid-file", str(pid_file))
            assert reloaded.returncode == 0, reloaded.stderr
            assert f"sent SIGHUP to process {host.process.pid}" in reloaded.stdout
            await notified.wait_for_tools()
            assert "echo" in await tool_names(session)
            assert text_of(await session.call_tool("echo", {"text": "new"})) == "new"
            assert running_echo() == {"status": "loaded", "version": "0.3.0"}

            # A new version on disk: the running host keeps the code it imported.
            upgraded = tmp_path / "echo-0.4.0"
            shutil.copytree(
                PLUGIN_DISTS / "echo", upgraded, ignore=shutil.ignore_patterns("build", "*.egg-info")
            )
            pyproject = upgraded / "pyproject.toml"
            pyproject.write_text(pyproject.read_text().replace('version = "0.3.0"', 'version = "0.4.0"'))
            env.pip_install(upgraded)
            host.process.send_signal(signal.SIGHUP)
            host.wait_for_log(r"plugins added none, taken out none; 1 live sessions updated")
            assert running_echo() == {"status": "loaded", "version": "0.3.0"}
            assert "running host: 0.3.0; a restart loads 0.4.0" in env.mcp_host(*running).stdout
    assert not pid_file.exists()


async def test_reload_finds_the_host_at_its_configured_address(plugin_env, tmp_path):
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(QUIET + f"[server]\nport = {port}\n[plugins.echo]\nenabled = false\n")
    with run_host(config, python=plugin_env.python, args=["--port", str(port)]) as host:
        config.write_text(QUIET + f"[server]\nport = {port}\n")
        reloaded = plugin_env.mcp_host("reload", "--config", str(config))
        assert reloaded.returncode == 0, reloaded.stderr
        host.wait_for_log(r"plugins added \['echo'\]")
    missing = plugin_env.mcp_host("reload", "--pid-file", str(tmp_path / "nothing.pid"))
    assert missing.returncode == 1
    assert "cannot read the pid file" in missing.stderr
    assert "Traceback" not in missing.stderr


async def test_a_2026_listener_hears_of_the_change(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(QUIET + "[plugins.echo]\nenabled = false\n")
    with run_host(config, python=plugin_env.python) as host:
        async with (
            Client(host.mcp_url(), mode=MODERN) as client,
            client.listen(tools_list_changed=True) as subscription,
        ):
            assert "echo" not in {tool.name for tool in (await client.list_tools()).tools}
            renamed = "[server]\nname = 'renamed'\nlist_ttl_s = 5\ncache_scope = 'public'\n"
            reload_with(host, config, QUIET + renamed)
            with anyio.fail_after(20):
                event = await anext(aiter(subscription))
            assert event == ToolsListChanged()
            assert "echo" in {tool.name for tool in (await client.list_tools()).tools}
            assert text_of(await client.call_tool("echo", {"text": "modern"})) == "modern"
        async with httpx2.AsyncClient() as http:
            answer = (await http.post(host.mcp_url(), json=DISCOVER, headers=MODERN_HEADERS)).json()
        result = answer["result"]
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "renamed"
        assert (result["ttlMs"], result["cacheScope"]) == (5000, "public")


async def test_a_session_of_a_server_the_reload_removed_is_ended(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(QUIET + "[servers.extra]\nplugins = ['echo']\n")
    with run_host(config, python=plugin_env.python) as host:
        async with (
            streamable_http_client(host.mcp_url("extra")) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            reload_with(host, config, QUIET)
            host.wait_for_log(r"session \w+ ended: the reload removed its server 'extra'")
            with pytest.raises(MCPError, match="Session terminated"), anyio.fail_after(10):
                await session.list_tools()
        async with open_session(host, "sse", Notified()) as session:
            assert "echo" in await tool_names(session)


async def test_a_named_server_a_reload_adds_is_served_and_one_it_removes_answers_404(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(QUIET)
    with run_host(config, python=plugin_env.python) as host:
        extra_mcp, extra_sse = host.url("/servers/extra/mcp"), host.url("/servers/extra/sse")
        async with httpx2.AsyncClient(headers=HEADERS) as http:
            assert (await http.post(extra_mcp, json=INITIALIZE)).status_code == 404

            reload_with(host, config, QUIET + "[servers.extra]\nplugins = ['echo']\n")
            host.wait_for_log(r"server 'extra' added at /servers/extra/mcp")
            for connection in (streamable_http_client(extra_mcp), sse_client(extra_sse)):
                async with connection as (read, write), ClientSession(read, write) as session:
                    await session.initialize()
                    assert await tool_names(session) == {"echo"}

            reload_with(host, config, QUIET)
            host.wait_for_log(r"server 'extra' removed")
            assert (await http.post(extra_mcp, json=INITIALIZE)).status_code == 404
            assert (await http.post(host.mcp_url(), json=INITIALIZE)).status_code == 200


ALICE, BOB, CAROL = (
    "alice-token-0123456789abcdef",
    "bob-token-0123456789abcdef000",
    "carol-token-0123456789abcdef",
)


def tokens(*entries: tuple[str, str]) -> str:
    return "".join(f"[[auth.tokens]]\nname = '{name}'\ntoken = '{token}'\n" for name, token in entries)


async def test_a_reload_changes_the_tokens_and_ends_the_sessions_of_removed_ones(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(QUIET + tokens(("alice", ALICE), ("bob", BOB)))
    with run_host(config, python=plugin_env.python) as host:

        def as_(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        async with (
            sse_client(host.sse_url(), headers=as_(ALICE)) as (alice_read, alice_write),
            ClientSession(alice_read, alice_write) as alice,
            sse_client(host.sse_url(), headers=as_(BOB)) as (bob_read, bob_write),
            ClientSession(bob_read, bob_write) as bob,
        ):
            await alice.initialize()
            await bob.initialize()
            bob_id = text_of(await bob.call_tool("whoami", {}))
            reload_with(host, config, QUIET + tokens(("alice", ALICE), ("carol", CAROL)))
            host.wait_for_log(rf"session {bob_id} ended: the reload removed token 'bob'")
            assert text_of(await alice.call_tool("echo", {"text": "still"})) == "still"
        async with httpx2.AsyncClient(headers=HEADERS) as http:
            assert (await http.post(host.mcp_url(), json=INITIALIZE, headers=as_(BOB))).status_code == 401
            assert (await http.post(host.mcp_url(), json=INITIALIZE, headers=as_(CAROL))).status_code == 200


async def test_watch_reloads_when_the_config_file_changes(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(QUIET + "[plugins.echo]\nenabled = false\n")
    with run_host(config, python=plugin_env.python, args=["--watch"]) as host:
        notified = Notified()
        async with open_session(host, "sse", notified) as session:
            config.write_text(QUIET)  # no signal: the host sees the file change
            host.wait_for_log(r"config\.toml changed: reloading the config and the plugins")
            await notified.wait_for_tools()
            assert "echo" in await tool_names(session)
            config.write_text(QUIET + "[limits]\nmax_sessions = 'many'\n")
            host.wait_for_log(r"reload refused, serving the previous config: .*limits\.max_sessions")
            assert "echo" in await tool_names(session)
    usage = plugin_env.mcp_host("serve", "--watch")
    assert usage.returncode == 2
    assert "--watch needs a config file" in usage.stderr


async def test_a_disabled_plugin_stops_after_its_last_request_then_may_come_back(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    counter_events = tmp_path / "counter.jsonl"
    counter = f"[plugins.counter]\nevents_file = '{counter_events}'\n"
    disabled = counter + "enabled = false\n"
    config.write_text(QUIET + counter)
    with run_host(config, python=plugin_env.python) as host:
        notified = Notified()
        async with open_session(host, "mcp", notified) as session, anyio.create_task_group() as calls:
            napped: list[str] = []

            async def nap() -> None:
                napped.append(text_of(await session.call_tool("nap", {"seconds": 5})))

            calls.start_soon(nap)
            with anyio.fail_after(10):
                while "nap started" not in events(counter_events):
                    await anyio.sleep(0.02)
            reload_with(host, config, QUIET + disabled)
            host.wait_for_log(r"taken out \['counter'\]")
            reload_with(host, config, QUIET + counter)
            host.wait_for_log(r"reload refused, .*'counter' is still stopping since the last reload")
            assert "plugin 'counter' stopped" not in host.log  # its nap is still running
        assert napped == ["rested"]  # a request in flight is never cut by a reload
        host.wait_for_log(r"plugin 'counter' stopped: the reload took it out")

        other = Notified()
        async with open_session(host, "sse", other) as open_all_along:
            reload_with(host, config, QUIET + counter + "start = 10\n")
            await other.wait_for_tools()
            # Its session_started ran for this open session, with the new settings.
            assert text_of(await open_all_along.call_tool("increment", {})) == "11"
    assert events(counter_events) == ["started", "nap started", "ended", "started", "ended"]


async def test_a_reload_applies_the_session_limits_and_names_the_limits_that_take_a_restart(
    plugin_env, tmp_path
):
    config = tmp_path / "config.toml"
    config.write_text(QUIET)
    with run_host(config, python=plugin_env.python) as host:
        async with (
            open_session(host, "sse", Notified()) as session,
            httpx2.AsyncClient(headers=HEADERS) as http,
        ):
            reload_with(host, config, QUIET + "[limits]\nmax_sessions_per_client = 1\ncall_timeout_s = 5\n")
            host.wait_for_log(r"reload: \[limits\] call_timeout_s changed in .*; that takes a restart")
            host.wait_for_log(r"reloaded ")
            assert (await http.post(host.mcp_url(), json=INITIALIZE)).status_code == 429
            assert text_of(await session.call_tool("echo", {"text": "mine"})) == "mine"


def test_a_plugin_that_failed_to_import_is_tried_again_by_a_reload(make_scratch_env, tmp_path):
    env = make_scratch_env("broken")
    config = tmp_path / "config.toml"
    config.write_text("")
    with run_host(config, python=env.python) as host:
        host.wait_for_log(r"plugin 'broken' .*ModuleNotFoundError")
        site = subprocess.check_output(
            [env.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
        # The missing dependency, installed while the host serves.
        (Path(site) / "mcp_host_dependency_that_is_not_installed.py").write_text("")
        host.process.send_signal(signal.SIGHUP)
        # Imported now: what is left wrong with it is the plugin's own.
        host.wait_for_log(r"plugin 'broken' .*failed and is not served: implements no hooks")


async def test_completions_of_a_plugin_a_reload_adds_reach_servers_built_without_any(
    make_scratch_env, tmp_path
):
    env = make_scratch_env("prompter")
    config = tmp_path / "config.toml"
    config.write_text("[plugins.prompter]\nenabled = false\n")
    review = PromptReference(type="ref/prompt", name="review")
    with run_host(config, python=env.python) as host:
        notified = Notified()
        async with (
            Client(host.mcp_url(), mode=MODERN) as modern,
            open_session(host, "mcp", notified) as session,
        ):
            assert (await session.list_prompts()).prompts == []
            reload_with(host, config, "")
            host.wait_for_log(r"plugins added \['prompter'\]")
            with anyio.fail_after(20):
                while not notified.prompts:
                    await anyio.sleep(0.02)
            for client in (modern, session):
                completed = await client.complete(review, {"name": "language", "value": "r"})
                assert completed.completion.values == ["rust", "ruby"]
