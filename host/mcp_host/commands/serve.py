"""``mcp-host serve``: run the host until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcp_host.commands.common import EXIT_USAGE, add_address_arguments, add_config_argument, load
from mcp_host.logs import configure_logging
from mcp_host.reload_triggers import Reloading
from mcp_host.serving import serve

NAME = "serve"
HELP = "serve the configured servers (the default command)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_address_arguments(parser)
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="overrides [server] log_level"
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="overrides [server] log_format ('json': one object a line)",
    )
    parser.add_argument(
        "--http", choices=["auto", "httptools", "h11"], help="HTTP parser (overrides [server] http)"
    )
    parser.add_argument(
        "--loop", choices=["auto", "uvloop", "asyncio"], help="event loop (overrides [server] loop)"
    )
    parser.add_argument("--strict", action="store_true", help="exit with an error if any plugin fails")
    parser.add_argument(
        "--pid-file",
        type=Path,
        metavar="PATH",
        help="write the host's pid there while it serves, for `mcp-host reload --pid-file PATH`",
    )
    parser.add_argument(
        "--watch", action="store_true", help="reload whenever the config file changes (as SIGHUP does)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N processes on the port, sharing sessions through Redis (needs [cluster])",
    )


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "log_format": args.log_format,
        "http": args.http,
        "loop": args.loop,
    }
    config, source = load(args.config, overrides)
    if args.watch and args.config is None:
        print("mcp-host: --watch needs a config file to watch: --config PATH", file=sys.stderr)
        return EXIT_USAGE
    if args.workers < 1:
        print(f"mcp-host: --workers must be 1 or more, not {args.workers}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers > 1 and config.cluster is None:
        print(
            f"mcp-host: --workers {args.workers} runs processes that share their sessions through "
            f'Redis: add a [cluster] table to {source} with redis_url = "redis://127.0.0.1:6379/0" '
            "(see 'Running several processes' in the README)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    configure_logging(config.server.log_level, config.server.log_format)
    reloading = Reloading(
        lambda: load(args.config, overrides),
        pid_file=args.pid_file,
        watch=args.config if args.watch else None,
    )
    return serve(config, source, strict=args.strict, workers=args.workers, reloading=reloading)
