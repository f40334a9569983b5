"""The ``mcp-host`` command line: parses the arguments and runs one of ``mcp_host.commands``.

Exit codes: 0 success; 1 the host could not do its job (a plugin failed under ``--strict``,
the address is taken); 2 a usage or config mistake, reported in one message, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mcp_host import commands
from mcp_host.commands.common import EXIT_USAGE
from mcp_host.config import ConfigError
from mcp_host.version import host_version


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-host",
        description="Serve tool plugins as MCP servers over HTTP, one server per connected client.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {host_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands.ALL:
        command.add_arguments(subparsers.add_parser(command.NAME, help=command.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    names = {command.NAME for command in commands.ALL}
    # `mcp-host --config config.toml` means `mcp-host serve --config config.toml`.
    if not arguments or (arguments[0] not in names and arguments[0] not in ("-h", "--help", "--version")):
        arguments.insert(0, commands.DEFAULT.NAME)
    args = build_parser().parse_args(arguments)
    command = next(command for command in commands.ALL if args.command == command.NAME)
    try:
        return command.run(args)
    except ConfigError as exc:
        print(f"mcp-host: {exc}", file=sys.stderr)
        return EXIT_USAGE
