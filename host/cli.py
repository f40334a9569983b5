"""The ``mcp-host`` command line.

Exit codes: 0 success; 1 the host could not run (strict-mode plugin failure, the address is
taken); 2 a usage or config mistake, reported in one message with no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from mcp_host.app import create_app
from mcp_host.config import ConfigError, HostConfig, load_config
from mcp_host.hookspecs import HOOK_API_VERSION
from mcp_host.plugins import PluginStatus
from mcp_host.runtime import Host, StrictModeError, host_version, prepare_host

logger = logging.getLogger("mcp_host")

EXIT_FAILURE = 1
EXIT_USAGE = 2
COMMANDS = ("serve", "plugins")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-host",
        description="Serve tool plugins as MCP servers over HTTP, one server per connected client.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {host_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the configured servers (the default command)")
    _add_config_argument(serve)
    serve.add_argument("--host", help="address to listen on (overrides [server] host)")
    serve.add_argument(
        "--port", type=int, help="port to listen on, 0 for any free one (overrides [server] port)"
    )
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="overrides [server] log_level"
    )
    serve.add_argument("--strict", action="store_true", help="exit with an error if any plugin fails")

    plugins = commands.add_parser("plugins", help="list the discovered plugins and what they serve")
    _add_config_argument(plugins)
    plugins.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, metavar="PATH", help="config file (TOML); every default when omitted"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "serve")
    args = build_parser().parse_args(args_list)
    try:
        if args.command == "plugins":
            return list_plugins(args.config, as_json=args.json)
        return serve(args)
    except ConfigError as exc:
        print(f"mcp-host: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _load(path: Path | None, overrides: dict[str, object] | None = None) -> tuple[HostConfig, str]:
    config = load_config(path)
    if overrides:
        server = config.server.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        config = config.model_copy(update={"server": server})
    return config, str(path) if path else "<defaults>"


def configure_logging(level: str) -> None:
    # Before any MCPServer exists: the SDK calls logging.basicConfig when one is created.
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # Plugins' HTTP clients would log every request, with its query, at INFO.
    for chatty in ("httpx2", "httpcore2"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))


def serve(args: argparse.Namespace) -> int:
    config, source = _load(args.config, {"host": args.host, "port": args.port, "log_level": args.log_level})
    if args.port is not None and not 0 <= args.port <= 65535:
        print(f"mcp-host: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(config.server.log_level)
    host = prepare_host(config, source)
    host.raise_for_problems()
    try:
        if args.strict:
            host.check_strict()
        listener = _listen(config.server.host, config.server.port)
    except (StrictModeError, OSError) as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE
    try:
        asyncio.run(_serve(host, listener, strict=args.strict))
    except StrictModeError as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        pass
    return 0


def _listen(address: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so that port 0 becomes a known port before serving."""
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {address}:{port}: {exc.strerror}") from None
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(sockaddr)
    except OSError as exc:
        listener.close()
        raise OSError(f"cannot listen on {address}:{port}: {exc.strerror}") from None
    # Listening now queues early connections until uvicorn accepts them, so the URL we log
    # works from the moment it is printed.
    listener.listen(2048)
    return listener


async def _serve(host: Host, listener: socket.socket, strict: bool) -> None:
    settings = host.config.server
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(host),
            log_config=None,
            access_log=False,
            root_path=settings.root_path,
            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
            lifespan="off",
        )
    )

    def on_stop_signal(signum: int, frame: object) -> None:
        # uvicorn handles the signal while it serves, then raises it again when done: that
        # second time it must not kill the process before the plugins' host_stopping ran.
        if not server.started:
            raise KeyboardInterrupt

    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, on_stop_signal)
    async with host.running(strict=strict):
        bound_host, bound_port = listener.getsockname()[:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        for blueprint in host.blueprints.values():
            logger.info(
                "serving %r (%d tools) at http://%s:%d%s%s",
                blueprint.profile.name,
                len(blueprint.tools),
                shown_host,
                bound_port,
                settings.root_path,
                blueprint.path,
            )
        await server.serve(sockets=[listener])
    logger.info("stopped")


def list_plugins(path: Path | None, as_json: bool) -> int:
    config, source = _load(path)
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
    return EXIT_USAGE if problems else 0
