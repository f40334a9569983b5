"""The subcommands of ``mcp-host``, one module each."""

from __future__ import annotations

import argparse
from typing import Protocol

from mcp_host.commands import (
    check,
    cursor,
    doctor,
    init,
    install,
    new_plugin,
    plugins,
    reload,
    schema,
    serve,
    tools,
)


class Command(Protocol):
    """What a command module provides."""

    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


ALL: tuple[Command, ...] = (
    serve,
    check,
    plugins,
    tools,
    init,
    schema,
    cursor,
    new_plugin,
    install,
    doctor,
    reload,
)
DEFAULT: Command = serve
