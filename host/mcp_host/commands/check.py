"""``mcp-host check``: is this config right? Validates it and the plugins, without serving."""

from __future__ import annotations

import argparse
import sys

from mcp_host.blueprints import ServerBlueprint
from mcp_host.commands.common import EXIT_OK, EXIT_USAGE, add_config_argument, prepare
from mcp_host.doctor import client_limits
from mcp_host.plugins import PluginStatus

NAME = "check"
HELP = "validate the config and the plugins without serving (exit 0 when good, 2 when not)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def client_warnings(blueprint: ServerBlueprint) -> list[str]:
    """Where a client would stumble over this server, though nothing is wrong with it."""
    warnings = []
    key = blueprint.profile.name
    for tool, length in client_limits.cursor_drops(key, (tool.name for tool in blueprint.tools)).items():
        warnings.append(
            f"server {blueprint.key!r}: Cursor drops tool {tool!r}: with the server key {key!r} "
            f"its name is {length} characters, over {client_limits.CURSOR_NAME_LIMIT}; "
            "shorten the server's name or the tool's (a shorter plugin prefix)"
        )
    if client_limits.too_many_for_cursor(len(blueprint.tools)):
        warnings.append(
            f"server {blueprint.key!r} offers {len(blueprint.tools)} tools; "
            f"past {client_limits.CURSOR_TOOL_LIMIT} Cursor warns and picks tools less well: "
            "split them into named servers ([servers.NAME])"
        )
    return warnings


def run(args: argparse.Namespace) -> int:
    host = prepare(args.config)
    failed = host.plugins.failed()
    for record in failed:
        print(
            f"{host.source}: plugin {record.name!r} ({record.origin}) failed: {record.error}", file=sys.stderr
        )
    warnings = [warning for blueprint in host.blueprints.values() for warning in client_warnings(blueprint)]
    for warning in warnings:
        print(f"{host.source}: warning: {warning}", file=sys.stderr)
    loaded = [record.name for record in host.plugins.records.values() if record.status is PluginStatus.LOADED]
    tools = sum(len(blueprint.tools) for blueprint in host.blueprints.values())
    verdict = "not ok" if failed else "ok"
    print(
        f"{host.source}: {verdict}: {len(host.blueprints)} servers, {len(loaded)} plugins loaded "
        f"({', '.join(loaded) or 'none'}), {tools} tools served"
        + (f", {len(warnings)} warnings" if warnings else "")
    )
    return EXIT_USAGE if failed else EXIT_OK
