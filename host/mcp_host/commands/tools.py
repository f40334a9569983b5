"""``mcp-host tools``: the tools each server would serve, with their schemas."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mcp_host.blueprints import ServerBlueprint
from mcp_host.commands.common import EXIT_OK, add_config_argument, prepare, select_servers

NAME = "tools"
HELP = "list the tools each server would serve, with their schemas"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--server", metavar="NAME", help="only this server ('default' is [server])")
    parser.add_argument("--json", action="store_true", help="print JSON")


def describe(blueprint: ServerBlueprint) -> dict[str, Any]:
    return {
        "name": blueprint.profile.name,
        "paths": {"streamable_http": blueprint.mcp_path, "sse": blueprint.sse_path},
        "tools": [
            {
                "name": tool.name,
                "plugin": blueprint.owner_of("tools/call", {"name": tool.name}),
                "title": tool.title,
                "description": tool.description,
                "input_schema": tool.parameters,
                "output_schema": tool.output_schema,
            }
            for tool in blueprint.tools
        ],
    }


def run(args: argparse.Namespace) -> int:
    host = prepare(args.config)
    servers = {blueprint.key: describe(blueprint) for blueprint in select_servers(host, args.server)}
    if args.json:
        print(json.dumps({"servers": servers}, indent=2))
        return EXIT_OK
    for key, server in servers.items():
        print(
            f"{key}: {server['name']!r} at {server['paths']['streamable_http']} and {server['paths']['sse']}"
        )
        if not server["tools"]:
            print("    no tools")
        for tool in server["tools"]:
            summary = (tool["description"] or "").strip().splitlines()[0] if tool["description"] else ""
            print(f"    {tool['name']}  ({tool['plugin']})  {summary}")
            for argument, line in _arguments(tool["input_schema"]):
                print(f"        {argument}: {line}")
    return EXIT_OK


def _arguments(schema: dict[str, Any]) -> list[tuple[str, str]]:
    required = set(schema.get("required", []))
    lines = []
    for name, prop in schema.get("properties", {}).items():
        kind = (
            prop.get("type")
            or " | ".join(str(option.get("type", "?")) for option in prop.get("anyOf", []))
            or "any"
        )
        details = ["required" if name in required else f"default {json.dumps(prop.get('default'))}"]
        if prop.get("description"):
            details.append(prop["description"])
        lines.append((name, f"{kind} ({details[0]})" + (f" {details[1]}" if len(details) > 1 else "")))
    return lines
