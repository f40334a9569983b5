"""The installed mcp-host's version, without importing the server stack to learn it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def host_version() -> str:
    try:
        return version("mcp-host")
    except PackageNotFoundError:
        return "0+unknown"
