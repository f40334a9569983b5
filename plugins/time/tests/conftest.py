import pytest


@pytest.fixture
def anyio_backend() -> str:
    # mcp-host runs on asyncio; without this fixture anyio would run every async test
    # once per installed event loop.
    return "asyncio"
