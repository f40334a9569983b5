"""A real host serving the weather plugin against the loopback Open-Meteo fake, for real clients."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_host.testing import LiveHost, run_host
from tests.clients.node import NodeClients, require_node_clients

WEATHER_TESTS = Path(__file__).parents[2] / "plugins" / "weather" / "tests"
if str(WEATHER_TESTS) not in sys.path:
    sys.path.insert(0, str(WEATHER_TESTS))

from fake_open_meteo import FakeOpenMeteo  # noqa: E402


@pytest.fixture(scope="module")
def fake_meteo() -> Iterator[FakeOpenMeteo]:
    fake = FakeOpenMeteo()
    yield fake
    fake.close()


NAMED_SERVER = "weather"
"""A named server beside the default one, at /servers/weather/mcp."""


def _weather_config(fake: FakeOpenMeteo) -> str:
    return f"""
[server]
name = "weather-host"

[servers.{NAMED_SERVER}]
name = "weather"
plugins = ["weather"]

[plugins.weather]
cache_ttl_s = 0
geocoding_url = "{fake.geocoding_url}"
forecast_url = "{fake.forecast_url}"
"""


@pytest.fixture(scope="module")
def weather_host(fake_meteo: FakeOpenMeteo) -> Iterator[LiveHost]:
    """One host for the module: every client connects to it, each with its own session."""
    with run_host(_weather_config(fake_meteo)) as host:
        yield host


@pytest.fixture(scope="module")
def sessionless_host(fake_meteo: FakeOpenMeteo) -> Iterator[LiveHost]:
    """The same host, for clients of the sessionless revision 2026-07-28 only: no client of
    the handshake era ever opens a session on it, so any session on it is a defect."""
    with run_host(_weather_config(fake_meteo)) as host:
        yield host


@pytest.fixture(scope="session")
def node_clients(tmp_path_factory: pytest.TempPathFactory) -> NodeClients:
    return require_node_clients(tmp_path_factory.mktemp("node-home"))
