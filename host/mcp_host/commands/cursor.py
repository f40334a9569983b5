"""``mcp-host cursor``: the entry that connects Cursor to this host, printed or merged into
``.cursor/mcp.json``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mcp_host.commands.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_config_argument,
    connect_url,
    prepare,
    select_servers,
)

NAME = "cursor"
HELP = "print the Cursor mcp.json entry for this host (or merge it into .cursor/mcp.json)"

TOKEN_VARIABLE = "MCP_HOST_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--server", metavar="NAME", help="only this server ('default' is [server])")
    parser.add_argument(
        "--write",
        nargs="?",
        const=Path(".cursor/mcp.json"),
        type=Path,
        metavar="PATH",
        help="merge into this mcp.json (default .cursor/mcp.json), keeping its other servers",
    )


def run(args: argparse.Namespace) -> int:
    host = prepare(args.config)
    entries: dict[str, Any] = {}
    for blueprint in select_servers(host, args.server):
        entry: dict[str, Any] = {"url": connect_url(host, blueprint, blueprint.mcp_path)}
        if host.config.auth.tokens:
            # Cursor fills ${env:...} in from its own environment: the token stays out of the file.
            entry["headers"] = {"Authorization": f"Bearer ${{env:{TOKEN_VARIABLE}}}"}
        entries[blueprint.profile.name] = entry
    if args.write is None:
        print(json.dumps({"mcpServers": entries}, indent=2))
        return EXIT_OK
    return _merge(args.write, entries)


def _merge(path: Path, entries: dict[str, Any]) -> int:
    try:
        document = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError) as exc:
        print(f"mcp-host: {path}: cannot read it as JSON: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(document, dict) or not isinstance(document.setdefault("mcpServers", {}), dict):
        print(f"mcp-host: {path}: 'mcpServers' is not an object; nothing was changed", file=sys.stderr)
        return EXIT_USAGE
    servers = document["mcpServers"]
    for name, entry in entries.items():
        action = "updated" if name in servers else "added"
        servers[name] = entry
        print(f"{path}: {action} {name!r} → {entry['url']}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return EXIT_OK
