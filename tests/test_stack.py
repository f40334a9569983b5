"""The event loop and HTTP parser the host serves on: the fast ones by default, the standard
ones when the fast ones are missing or not wanted, and a clear error when a missing one is asked for."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_host.config import ConfigError, parse_config
from mcp_host.stack import Stack, StackUnavailable, choose_stack
from mcp_host.testing import STACK_VARIABLES, run_host

from .wire import QUIET

LOGGED = "[server]\nlog_level = 'info'\n" + QUIET

MISSING_UVLOOP = 'raise ImportError("no uvloop wheel for this platform")\n'
"""A module that shadows the installed uvloop, as if its wheel were missing."""


def _without_stack_variables() -> dict[str, str]:
    """This environment, minus what would make ``run_host`` choose the stack itself."""
    return {name: value for name, value in os.environ.items() if name not in STACK_VARIABLES}


def test_auto_picks_httptools_and_uvloop_when_they_import():
    assert choose_stack() == Stack("httptools", "uvloop")


def test_auto_falls_back_to_the_standard_stack_and_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)
    monkeypatch.setitem(sys.modules, "httptools", None)
    stack = choose_stack()
    assert (stack.http, stack.loop) == ("h11", "asyncio")
    assert stack.describe().startswith("event loop asyncio, HTTP parser h11 (httptools cannot be imported")
    assert "uvloop cannot be imported" in stack.describe()


def test_the_standard_stack_can_be_chosen_when_the_fast_one_is_installed():
    assert choose_stack("h11", "asyncio") == Stack("h11", "asyncio")


def test_asking_for_a_missing_package_is_an_error_that_says_how_to_fix_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)
    with pytest.raises(StackUnavailable, match=r'\[server\] loop = "uvloop", but uvloop cannot be imported'):
        choose_stack(loop="uvloop")


@pytest.mark.parametrize(("loop", "module"), [("uvloop", "uvloop"), ("asyncio", "asyncio")])
def test_the_stack_runs_its_coroutine_on_its_event_loop(loop, module):
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert Stack("h11", loop).run(loop_module()).split(".")[0] == module


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("http", "fast", "server.http: input should be 'auto', 'httptools' or 'h11' (got 'fast')"),
        ("loop", "trio", "server.loop: input should be 'auto', 'uvloop' or 'asyncio' (got 'trio')"),
    ],
)
def test_an_unknown_choice_is_a_config_error_naming_the_choices(key, value, expected):
    with pytest.raises(ConfigError) as raised:
        parse_config(f"[server]\n{key} = {value!r}\n", "<test>")
    assert str(raised.value) == f"<test>: {expected}"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "event loop uvloop, HTTP parser httptools"),
        (("--http", "h11", "--loop", "asyncio"), "event loop asyncio, HTTP parser h11"),
        (("--http", "httptools", "--loop", "asyncio"), "event loop asyncio, HTTP parser httptools"),
    ],
)
async def test_the_host_serves_both_transports_on_the_stack_it_logs(plugin_env, args, expected):
    with run_host(LOGGED, python=plugin_env.python, args=args, env=_without_stack_variables()) as host:
        host.wait_for_log(f"running with {expected}; status page at ")
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            assert (await client.call_tool("echo", {"text": "sse"})).content[0].text == "sse"  # type: ignore[union-attr]
        async with (
            streamable_http_client(host.mcp_url()) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            assert (await client.call_tool("echo", {"text": "mcp"})).content[0].text == "mcp"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_without_uvloop_the_host_serves_on_asyncio_and_logs_why(plugin_env, tmp_path):
    (tmp_path / "uvloop.py").write_text(MISSING_UVLOOP)
    env = {**_without_stack_variables(), "PYTHONPATH": str(tmp_path)}
    with run_host(LOGGED, python=plugin_env.python, env=env) as host:
        host.wait_for_log(
            r"running with event loop asyncio, HTTP parser httptools "
            r"\(uvloop cannot be imported: no uvloop wheel for this platform\); status page at "
        )
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"  # type: ignore[union-attr]


def test_serve_exits_1_when_the_config_asks_for_a_missing_loop(plugin_env, tmp_path):
    (tmp_path / "uvloop.py").write_text(MISSING_UVLOOP)
    config = tmp_path / "config.toml"
    config.write_text("[server]\nport = 0\nloop = 'uvloop'\n" + QUIET)
    result = subprocess.run(
        [plugin_env.python, "-m", "mcp_host", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**_without_stack_variables(), "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1, result.stderr
    assert (
        '[server] loop = "uvloop", but uvloop cannot be imported (no uvloop wheel for this platform): '
        f'{plugin_env.python} -m pip install uvloop, or set loop = "auto" to fall back without it'
    ) in result.stderr  # that environment's own pip (it has no pip script)
    assert "Traceback" not in result.stderr
