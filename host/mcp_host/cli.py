"""The ``mcp-host`` command line: parses the arguments and runs one of ``mcp_host.commands``.

Exit codes: 0 success; 1 the host could not do its job (a plugin failed under ``--strict``,
the address is taken); 2 a usage or config mistake, reported in one message, no traceback.

Shell completion comes from argcomplete, which asks this same parser: every command and
option completes, with nothing to keep in step by hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import argcomplete

from mcp_host import commands
from mcp_host.commands.common import EXIT_OK, EXIT_USAGE
from mcp_host.config import ConfigError
from mcp_host.version import host_version

HELP_COMMAND = "help"

USAGE = """\
mcp-host [--config PATH] [--host H] [--port P] [...]   serve (the same as `mcp-host serve ...`)
       mcp-host COMMAND [...]                               one of the commands below
       mcp-host help [COMMAND]                              a command's options"""

EPILOG = """\
serve, for example:
  mcp-host --config config.toml --port 8000
  then connect a client to http://127.0.0.1:8000/mcp (or /sse); `mcp-host help serve` lists
  every option (--log-level, --log-format, --strict, --workers).

shell completion (bash, zsh; argcomplete):
  eval "$(register-python-argcomplete mcp-host)"
fish:
  register-python-argcomplete --shell fish mcp-host | source"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-host",
        usage=USAGE,
        description="Serve tool plugins as MCP servers over HTTP, one server per connected client.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {host_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", prog="mcp-host")
    for command in commands.ALL:
        command.add_arguments(subparsers.add_parser(command.NAME, help=command.HELP))
    helper = subparsers.add_parser(HELP_COMMAND, help="show the options of a command, or this overview")
    helper.add_argument(
        "topic", nargs="?", metavar="COMMAND", choices=[command.NAME for command in commands.ALL]
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argcomplete.autocomplete(parser)  # returns at once unless the shell is asking for completions
    arguments = list(sys.argv[1:] if argv is None else argv)
    names = {command.NAME for command in commands.ALL} | {HELP_COMMAND}
    # `mcp-host --config config.toml` means `mcp-host serve --config config.toml`.
    if not arguments or (
        arguments[0] not in names and arguments[0] not in ("-h", "--help", "-V", "--version")
    ):
        arguments.insert(0, commands.DEFAULT.NAME)
    args = parser.parse_args(arguments)
    if args.command == HELP_COMMAND:
        return _print_help(parser, args.topic)
    command = next(command for command in commands.ALL if args.command == command.NAME)
    try:
        return command.run(args)
    except ConfigError as exc:
        print(f"mcp-host: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _print_help(parser: argparse.ArgumentParser, topic: str | None) -> int:
    if topic is None:
        parser.print_help()
    else:
        # `mcp-host help X` is `mcp-host X --help`, which prints and exits 0.
        parser.parse_args([topic, "--help"])
    return EXIT_OK
