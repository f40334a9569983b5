"""The pytest plugin mcp-host registers (``pytest11``): the ``mcp_host*`` fixtures.

pytest loads it in every test run of an environment where mcp-host is installed, so it stays
light: fixtures only, nothing autouse, and ``mcp_host.testing`` (which needs the MCP SDK) is
imported only by a test that asks for one of them. See ``mcp_host.testing`` for what each
fixture gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mcp.client import Client

    from mcp_host.plugins import PluginRecord
    from mcp_host.testing import Config, InProcessHost, LiveHost


@pytest.fixture
def mcp_host() -> Callable[..., AbstractAsyncContextManager[InProcessHost]]:
    """``async with mcp_host(toml, plugins=None, discover=True, strict=True) as host``: see
    ``mcp_host.testing.start_host``."""
    from mcp_host.testing import start_host

    return start_host


@pytest.fixture
def mcp_host_client() -> Callable[..., AbstractAsyncContextManager[Client]]:
    """``async with mcp_host_client(toml, server="default") as client``: see
    ``mcp_host.testing.start_host_and_connect``."""
    from mcp_host.testing import start_host_and_connect

    return start_host_and_connect


@pytest.fixture
def mcp_host_live() -> Iterator[Callable[..., LiveHost]]:
    """``mcp_host_live(toml, python=..., args=..., env=...)``: a started ``LiveHost`` (see
    ``mcp_host.testing.run_host``), stopped when the test ends."""
    from mcp_host.testing import run_host

    with ExitStack() as running:

        def start(config: Config = "", **options: Any) -> LiveHost:
            return running.enter_context(run_host(config, **options))

        yield start


@pytest.fixture
def mcp_host_plugin() -> Callable[..., PluginRecord]:
    """``mcp_host_plugin(name, toml="")``: the installed plugin's record; see
    ``mcp_host.testing.assert_plugin_installed``."""
    from mcp_host.testing import assert_plugin_installed

    return assert_plugin_installed
