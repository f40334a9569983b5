"""Plugins are found through their installed entry points, and a broken one harms no other."""

from __future__ import annotations

import json

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from mcp_host.testing import HostDidNotStart, run_host

from .conftest import PLUGIN_DISTS

pytestmark = pytest.mark.anyio


def _plugins(env, *args: str) -> dict[str, dict]:
    listing = env.mcp_host("plugins", "--json", *args)
    assert listing.returncode == 0, listing.stderr
    return {plugin["name"]: plugin for plugin in json.loads(listing.stdout)["plugins"]}


async def test_a_pip_installed_plugin_is_listed_and_serves_its_tool(make_scratch_env):
    env = make_scratch_env()
    assert "echo" not in _plugins(env)

    env.pip_install(PLUGIN_DISTS / "echo")
    echo = _plugins(env)["echo"]
    assert echo["distribution"] == "mcp-host-echo"
    assert echo["version"] == "0.3.0"
    assert echo["status"] == "loaded"
    assert echo["tools"] == ["echo"]

    with run_host("[plugins.echo]\nshout = true\n", python=env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            result = await client.call_tool("echo", {"text": "hello"})
    assert result.content[0].text == "HELLO"  # type: ignore[union-attr]


def test_a_plugin_that_fails_to_import_is_reported_with_its_origin(plugin_env):
    broken = _plugins(plugin_env)["broken"]
    assert broken["status"] == "failed"
    assert broken["distribution"] == "mcp-host-broken"
    assert broken["version"] == "0.0.1"
    assert "ModuleNotFoundError" in broken["error"]
    assert "mcp_host_dependency_that_is_not_installed" in broken["error"]
    assert _plugins(plugin_env)["counter"]["status"] == "loaded"

    text = plugin_env.mcp_host("plugins")
    assert "broken  (mcp-host-broken 0.0.1)  failed: failed to import 'mcp_host_broken'" in text.stdout
    assert "tools: increment, whoami, greet, touch_about, nap, sync_nap, crash" in text.stdout


def test_disabled_plugins_are_listed_as_disabled_and_not_imported(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[plugins.broken]\nenabled = false\n")
    assert _plugins(plugin_env, "--config", str(config))["broken"]["status"] == "disabled"


async def test_the_host_serves_the_other_plugins_when_one_fails(plugin_env):
    with run_host("", python=plugin_env.python) as host:
        host.wait_for_log(
            r"plugin 'broken' \(mcp-host-broken 0\.0\.1\) failed and is not served: .*ModuleNotFound"
        )
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"increment", "whoami", "echo"} <= tools


def test_strict_mode_refuses_to_start_when_a_plugin_fails(plugin_env):
    with (
        pytest.raises(HostDidNotStart, match=r"exited with 1") as failure,
        run_host("", python=plugin_env.python, args=["--strict"]),
    ):
        pass
    assert "--strict: plugins failed: 'broken'" in str(failure.value)
    assert "Traceback" not in str(failure.value)
