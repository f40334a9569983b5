"""``mcp-host serve``: run the host until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import math
import os
import signal
import socket
import sys
import threading

import uvicorn

from mcp_host.app import create_app
from mcp_host.cluster import ClusterUnavailable, workers
from mcp_host.commands.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    add_address_arguments,
    add_config_argument,
    load,
)
from mcp_host.host import Host, StrictModeError, prepare_host
from mcp_host.logs import configure_logging
from mcp_host.stack import Stack, StackUnavailable, choose_stack

NAME = "serve"
HELP = "serve the configured servers (the default command)"

logger = logging.getLogger("mcp_host")


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
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N processes on the port, sharing sessions through Redis (needs [cluster])",
    )


def run(args: argparse.Namespace) -> int:
    config, source = load(
        args.config,
        {
            "host": args.host,
            "port": args.port,
            "log_level": args.log_level,
            "log_format": args.log_format,
            "http": args.http,
            "loop": args.loop,
        },
    )
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
    host = prepare_host(config, source)
    host.raise_for_problems()
    try:
        stack = choose_stack(config.server.http, config.server.loop)
        if args.strict:
            host.check_strict()
        # Several workers on Linux each listen on a socket of their own (SO_REUSEPORT): this
        # one only holds the address for them.
        own_sockets = args.workers > 1 and workers.uses_own_sockets()
        listener = _listen(
            config.server.host, config.server.port, reuse_port=own_sockets, listen=not own_sockets
        )
    except (StackUnavailable, StrictModeError, OSError) as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE
    if args.workers == 1:
        return _run_process(host, listener, stack, strict=args.strict, worker=0)
    from mcp_host.cluster.node import check_reachable  # imports Redis: only with [cluster]

    assert config.cluster is not None
    try:
        # Once, before forking: one clear error rather than one per worker.
        asyncio.run(check_reachable(config.cluster))
    except ClusterUnavailable as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE

    def run_worker(index: int) -> int:
        own = workers.worker_listener(listener)
        if own is not listener:
            listener.close()
        return _run_process(host, own, stack, strict=args.strict, worker=index)

    return workers.supervise(args.workers, run_worker)


def _run_process(host: Host, listener: socket.socket, stack: Stack, strict: bool, worker: int) -> int:
    """Serve in this process until stopped; the exit code."""
    sockets = [listener]
    try:
        if host.cluster is not None:
            settings = host.cluster.settings
            port = settings.internal_port + worker if settings.internal_port else 0
            internal = _listen(settings.advertise_host, port)
            internal_host, internal_port = internal.getsockname()[:2]
            shown = f"[{internal_host}]" if ":" in internal_host else internal_host
            host.cluster.advertise(f"{shown}:{internal_port}")
            sockets.append(internal)
    except OSError as exc:
        logger.error("internal listener for the cluster: %s", exc)
        return EXIT_FAILURE
    code = EXIT_OK
    try:
        stack.run(_serve(host, sockets, stack, strict=strict))
    except (StrictModeError, ClusterUnavailable) as exc:
        logger.error("%s", exc)
        code = EXIT_FAILURE
    except KeyboardInterrupt:
        pass
    _exit_now_if_threads_linger(code)
    return code


def _keep_startup_objects_out_of_gc() -> None:
    """What start-up built (modules, plugins, schemas, the app) lives as long as the process,
    yet every full collection of the cyclic garbage collector walked all of it again, stalling
    every client for ~90 ms in the benchmark. Frozen, those collections only walk what
    sessions allocate (~15 ms) and cost a sixth of the CPU."""
    gc.collect()
    gc.freeze()


def _exit_now_if_threads_linger(code: int) -> None:
    """A plain ``def`` tool that ran past its time limit may still be running in a worker
    thread, and the interpreter would wait for it at exit, for as long as it takes. The host
    has stopped and its plugins are closed: it exits without waiting."""
    lingering = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and thread.is_alive() and not thread.daemon
    ]
    if lingering:
        logger.warning(
            "exiting without waiting for %d abandoned tool calls in worker threads", len(lingering)
        )
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _listen(address: str, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
    """Bind the listening socket ourselves, so that port 0 becomes a known port before serving."""
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {address}:{port}: {exc.strerror}") from None
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind(sockaddr)
    except OSError as exc:
        listener.close()
        raise OSError(f"cannot listen on {address}:{port}: {exc.strerror}") from None
    # Listening now queues early connections until uvicorn accepts them, so the URL we log
    # works from the moment it is printed.
    if listen:
        listener.listen(2048)
    return listener


async def _serve(host: Host, sockets: list[socket.socket], stack: Stack, strict: bool) -> None:
    """Serve on ``sockets``: the public listener first, then the cluster's internal one, if any."""
    listener = sockets[0]
    settings = host.config.server
    server: uvicorn.Server | None = None

    def on_stop_signal(signum: int, frame: object) -> None:
        # uvicorn handles the signal while it serves, then raises it again when done: that
        # second time it must not kill the process before the plugins' host_stopping ran.
        if server is None or not server.started:
            raise KeyboardInterrupt

    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, on_stop_signal)
    async with host.running(strict=strict):
        # Built now that the plugins have started: the blueprints are final.
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(host),
                http=stack.http,
                log_config=None,
                access_log=False,
                root_path=settings.root_path,
                timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
                lifespan="on",
            )
        )
        bound_host, bound_port = listener.getsockname()[:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        base_url = f"http://{shown_host}:{bound_port}{settings.root_path}"
        for blueprint in host.blueprints.values():
            name, tools = blueprint.profile.name, len(blueprint.tools)
            logger.info("serving %r (%d tools) at %s%s", name, tools, base_url, blueprint.sse_path)
            logger.info("serving %r over Streamable HTTP at %s%s", name, base_url, blueprint.mcp_path)
        logger.info("running with %s", stack.describe())
        _keep_startup_objects_out_of_gc()
        await server.serve(sockets=sockets)
    logger.info("stopped")
