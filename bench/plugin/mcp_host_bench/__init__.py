"""The benchmark's tool, as a plugin: mcp-host serves it through its plugin pipeline, and the
baseline servers import ``add`` from here, so every server under test runs the same function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_host import hookimpl


async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@hookimpl
def register_tools(register: Callable[..., Any]) -> None:
    register(add)
