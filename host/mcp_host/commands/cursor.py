"""``mcp-host cursor``: the entry that connects Cursor to this host, printed or merged into
Cursor's ``mcp.json`` (a project's ``.cursor/mcp.json``, or the global ``~/.cursor/mcp.json``).

The entry's URL is the one the host serves with the same ``--config``, ``--host`` and
``--port``; its key is the server's name, which Cursor shows and prefixes tools with.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mcp_host.commands.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_address_arguments,
    add_config_argument,
    connect_url,
    prepare,
    select_servers,
)

NAME = "cursor"
HELP = "print the Cursor mcp.json entry for this host, or merge it into .cursor/mcp.json (--global: ~)"

TOKEN_VARIABLE = "MCP_HOST_TOKEN"
PROJECT_FILE = Path(".cursor/mcp.json")


def global_file() -> Path:
    return Path.home() / ".cursor" / "mcp.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_address_arguments(parser)
    parser.add_argument("--server", metavar="NAME", help="only this server ('default' is [server])")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--write",
        nargs="?",
        const=PROJECT_FILE,
        type=Path,
        metavar="PATH",
        help=f"merge into this mcp.json (default {PROJECT_FILE}, the project's), keeping its other servers",
    )
    where.add_argument(
        "--global",
        dest="write_global",
        action="store_true",
        help="merge into ~/.cursor/mcp.json, Cursor's global file, keeping its other servers",
    )


def run(args: argparse.Namespace) -> int:
    if args.port == 0:
        print(
            "mcp-host: --port 0 lets the host pick its port when it starts: give the port it logged",
            file=sys.stderr,
        )
        return EXIT_USAGE
    host = prepare(args.config, {"host": args.host, "port": args.port})
    entries: dict[str, Any] = {}
    for blueprint in select_servers(host, args.server):
        entry: dict[str, Any] = {"url": connect_url(host, blueprint, blueprint.mcp_path)}
        # With [auth.oauth], Cursor signs its user in itself when the host answers 401.
        if host.config.auth.tokens and host.config.auth.oauth is None:
            # Cursor fills ${env:...} in from its own environment: the token stays out of the file.
            entry["headers"] = {"Authorization": f"Bearer ${{env:{TOKEN_VARIABLE}}}"}
        entries[blueprint.profile.name] = entry
    target = global_file() if args.write_global else args.write
    if target is None:
        print(json.dumps({"mcpServers": entries}, indent=2))
        return EXIT_OK
    return _merge(target, entries)


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"mcp-host: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
