"""``mcp-host serve``: run the host until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import signal
import socket
import sys

import uvicorn

from mcp_host.app import create_app
from mcp_host.commands.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    add_config_argument,
    load,
)
from mcp_host.logs import configure_logging
from mcp_host.runtime import Host, StrictModeError, prepare_host

NAME = "serve"
HELP = "serve the configured servers (the default command)"

logger = logging.getLogger("mcp_host")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--host", help="address to listen on (overrides [server] host)")
    parser.add_argument(
        "--port", type=int, help="port to listen on, 0 for any free one (overrides [server] port)"
    )
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="overrides [server] log_level"
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="overrides [server] log_format ('json': one object a line)",
    )
    parser.add_argument("--strict", action="store_true", help="exit with an error if any plugin fails")


def run(args: argparse.Namespace) -> int:
    config, source = load(
        args.config,
        {"host": args.host, "port": args.port, "log_level": args.log_level, "log_format": args.log_format},
    )
    if args.port is not None and not 0 <= args.port <= 65535:
        print(f"mcp-host: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(config.server.log_level, config.server.log_format)
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
    return EXIT_OK


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
            lifespan="on",
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
        base_url = f"http://{shown_host}:{bound_port}{settings.root_path}"
        for blueprint in host.blueprints.values():
            name, tools = blueprint.profile.name, len(blueprint.tools)
            logger.info("serving %r (%d tools) at %s%s", name, tools, base_url, blueprint.sse_path)
            logger.info("serving %r over Streamable HTTP at %s%s", name, base_url, blueprint.mcp_path)
        await server.serve(sockets=[listener])
    logger.info("stopped")
