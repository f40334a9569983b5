"""``mcp-host plugins``: every discovered plugin, its status and what it serves."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from mcp_host.commands.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    add_address_arguments,
    add_config_argument,
    load,
    local_url,
)
from mcp_host.hookspecs import HOOK_API_VERSION
from mcp_host.host import prepare_host
from mcp_host.plugins import PluginRecord, PluginStatus
from mcp_host.version import host_version

NAME = "plugins"
HELP = "list the discovered plugins and what they serve"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--running",
        action="store_true",
        help="beside each plugin, what the host serving --config runs (loaded, version), and what "
        "a reload or a restart would change",
    )
    add_address_arguments(parser)


def run(args: argparse.Namespace) -> int:
    running = None
    if args.running:
        config, _ = load(args.config, {"host": args.host, "port": args.port})
        running = RunningPlugins.fetch(local_url(config, "/readyz"))
        if running.problem is not None:
            print(f"mcp-host plugins: {running.problem}", file=sys.stderr)
            return EXIT_FAILURE
    return list_plugins(args.config, as_json=args.json, running=running)


@dataclass
class RunningPlugins:
    """The plugins of the running host, as its ``/readyz`` lists them."""

    statuses: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=dict)
    problem: str | None = None

    @classmethod
    def fetch(cls, url: str) -> RunningPlugins:
        try:
            body = httpx2.get(url, timeout=5.0).json()
            return cls(dict(body["plugins"]), dict(body["plugin_versions"]))
        except (httpx2.HTTPError, ValueError, KeyError, TypeError) as exc:
            return cls(problem=f"no mcp-host of this version answers at {url} ({exc}); give --host/--port")

    def describe(self, record: PluginRecord) -> tuple[dict[str, str | None] | None, str]:
        """What the running host has of ``record``: for JSON, and as a note for the listing."""
        status = self.statuses.get(record.name)
        if status is None:
            return None, "running host: not loaded; `mcp-host reload` loads it"
        running = {"status": status, "version": self.versions.get(record.name)}
        version = running["version"]
        if status == "loaded" and version != record.version:
            restart = f"a restart loads {record.version} (a reload keeps the code it runs)"
            return running, f"running host: {version}; {restart}"
        return running, f"running host: {status}"


def list_plugins(path: Path | None, as_json: bool, running: RunningPlugins | None = None) -> int:
    config, source = load(path)
    logging.basicConfig(level=logging.CRITICAL)  # the listing reports failures itself
    host = prepare_host(config, source)
    records = list(host.plugins.records.values())
    problems = [str(problem) for problem in host.problems]
    if as_json:
        listed = [record.as_dict() for record in records]
        if running is not None:
            for entry, record in zip(listed, records, strict=True):
                entry["running"] = running.describe(record)[0]
        document = {
            "host_version": host_version(),
            "hook_api_version": HOOK_API_VERSION,
            "plugins": listed,
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
            if running is not None:
                print(f"    {running.describe(record)[1]}")
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
