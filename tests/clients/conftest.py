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


@pytest.fixture(scope="module")
def weather_host(fake_meteo: FakeOpenMeteo) -> Iterator[LiveHost]:
    """One host for the module: every client connects to it, each with its own session."""
    config = f"""
[server]
name = "weather-host"

[plugins.weather]
cache_ttl_s = 0
geocoding_url = "{fake_meteo.geocoding_url}"
forecast_url = "{fake_meteo.forecast_url}"
"""
    with run_host(config) as host:
        yield host


@pytest.fixture(scope="session")
def node_clients(tmp_path_factory: pytest.TempPathFactory) -> NodeClients:
    return require_node_clients(tmp_path_factory.mktemp("node-home"))
