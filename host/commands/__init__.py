"""The subcommands of ``mcp-host``, one module each."""

from __future__ import annotations

import argparse
from typing import Protocol

from mcp_host.commands import new_plugin, plugins, serve


class Command(Protocol):
    """What a command module provides."""

    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


ALL: tuple[Command, ...] = (serve, plugins, new_plugin)
DEFAULT: Command = serve
