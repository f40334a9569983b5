import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

# The helpers beside this file are plain modules, not a package (a package named "tests" would
# clash with the host's own tests); make them importable whatever pytest's --import-mode.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from fake_open_meteo import FakeOpenMeteo
from weather_harness import OpenWeather, StartHost, serve_weather


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeOpenMeteo]:
    fake = FakeOpenMeteo()
    yield fake
    fake.close()


@pytest.fixture
def fake_meteo(_fake_server: FakeOpenMeteo) -> Iterator[FakeOpenMeteo]:
    """The loopback Open-Meteo stand-in, answering normally and with no requests recorded."""
    _fake_server.reset()
    yield _fake_server
    _fake_server.reset()


@pytest.fixture
def open_weather(mcp_host: StartHost, fake_meteo: FakeOpenMeteo) -> OpenWeather:
    """``async with open_weather(**settings) as served``: the plugin's tools behind an MCP client."""
    return partial(serve_weather, mcp_host, fake_meteo)
