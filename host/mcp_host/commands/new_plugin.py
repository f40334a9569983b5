"""``mcp-host new-plugin NAME``: write a new plugin package, ready to install, test and serve."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from mcp_host.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from mcp_host.programs import own_program
from mcp_host.scaffold import ScaffoldError, create_plugin, plugin_names

NAME = "new-plugin"
HELP = "create a plugin package: pyproject, an example tool with settings, tests, README"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", help="the plugin's name, lower case, e.g. 'time' (makes mcp-host-time, mcp_host_time)"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="the directory to create, which must not exist or be empty (default: ./mcp-host-NAME)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        names = plugin_names(args.name)
        created = create_plugin(names.name, args.dir)
    except ScaffoldError as exc:
        print(f"mcp-host new-plugin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"mcp-host new-plugin: cannot write the package: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    pip, python, mcp_host = own_program("pip"), own_program("python"), own_program("mcp-host")
    package = shlex.quote(str(created))
    print(
        f"created {names.distribution} in {created} (import {names.package}, entry point {names.name!r})\n"
        "next, into the environment this mcp-host runs in:\n"
        f"  {pip} install -e {shlex.quote(f'{created}[test]')}\n"
        f"  {python} -m pytest {package}    # its tests pass as generated\n"
        f"  {mcp_host} plugins    # lists it, with its tool {names.example_tool!r}\n"
        f"  {mcp_host}    # serves it at http://127.0.0.1:8000/mcp\n"
        f"or in a virtualenv of its own: see {created / 'README.md'}"
    )
    return EXIT_OK
