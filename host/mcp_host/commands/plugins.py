"""``mcp-host plugins``: every discovered plugin, its status and what it serves."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from mcp_host.commands.common import EXIT_OK, EXIT_USAGE, add_config_argument, load
from mcp_host.hookspecs import HOOK_API_VERSION
from mcp_host.host import prepare_host
from mcp_host.plugins import PluginStatus
from mcp_host.version import host_version

NAME = "plugins"
HELP = "list the discovered plugins and what they serve"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    return list_plugins(args.config, as_json=args.json)


def list_plugins(path: Path | None, as_json: bool) -> int:
    config, source = load(path)
    logging.basicConfig(level=logging.CRITICAL)  # the listing reports failures itself
    host = prepare_host(config, source)
    records = list(host.plugins.records.values())
    problems = [str(problem) for problem in host.problems]
    if as_json:
        document = {
            "host_version": host_version(),
            "hook_api_version": HOOK_API_VERSION,
            "plugins": [record.as_dict() for record in records],
            "config_problems": problems,
        }
        print(json.dumps(document, indent=2))
    else:
        if not records:
            print("no plugins installed (they announce themselves in the 'mcp_host' entry-point group)")
        for record in records:
            status = str(record.status)
            if record.status is PluginStatus.FAILED:
                status += f": {record.error}"
            print(f"{record.name}  ({record.origin})  {status}")
            for kind, names in (
                ("tools", record.contributions.tool_names),
                ("resources", record.as_dict()["resources"]),
                ("prompts", record.as_dict()["prompts"]),
            ):
                if names:
                    print(f"    {kind}: {', '.join(names)}")
        for problem in problems:
            print(f"{source}: {problem}", file=sys.stderr)
    return EXIT_USAGE if problems else EXIT_OK
