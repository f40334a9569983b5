"""Serving the host: its listening sockets, uvicorn, stop signals, worker processes, and exit.

``mcp-host serve`` parses its arguments and calls ``serve``; everything that makes a process
serve (and stop) is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import math
import os
import signal
import socket
import sys
import threading
from types import FrameType

import uvicorn

from mcp_host.addresses import url_host
from mcp_host.app import create_app
from mcp_host.banner import log_banner
from mcp_host.cluster import ClusterUnavailable
from mcp_host.cluster import workers as worker_processes
from mcp_host.config import HostConfig
from mcp_host.connections import RateLimitedLoopErrors, http_protocol
from mcp_host.exit_codes import EXIT_FAILURE, EXIT_OK
from mcp_host.host import Host, StrictModeError, prepare_host
from mcp_host.reload import Reloader
from mcp_host.reload_triggers import Reloading, watching
from mcp_host.stack import Stack, StackUnavailable, choose_stack
from mcp_host.telemetry import start_export
from mcp_host.version import host_version

logger = logging.getLogger("mcp_host")

MIN_EXPORT_FLUSH_S = 1.0
"""What sending the last spans gets even when the stop used up its grace."""


def serve(
    config: HostConfig,
    source: str,
    *,
    strict: bool = False,
    workers: int = 1,
    reloading: Reloading | None = None,
) -> int:
    """Serve ``config`` until Ctrl-C or SIGTERM, in ``workers`` processes; the exit code.

    SIGHUP reloads the config (``reloading.read_config``, the config itself when not given)
    and the plugins. Raises ``ConfigError`` for the config's mistakes. ``workers`` above 1
    needs ``[cluster]``.
    """
    reloading = reloading or Reloading(lambda: (config, source))
    host = prepare_host(config, source)
    host.raise_for_problems()
    host.reload_pid = os.getpid()  # before --workers fork: theirs is the supervisor's
    try:
        stack = choose_stack(config.server.http, config.server.loop)
        if strict:
            host.check_strict()
        # Several workers on Linux each listen on a socket of their own (SO_REUSEPORT): this
        # one only holds the address for them.
        own_sockets = workers > 1 and worker_processes.uses_own_sockets()
        listener = _listen(
            config.server.host, config.server.port, reuse_port=own_sockets, listen=not own_sockets
        )
    except (StackUnavailable, StrictModeError, OSError) as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE
    if workers == 1:
        return _run_process(host, listener, stack, strict=strict, worker=0, reloading=reloading)
    from mcp_host.cluster.node import check_reachable  # imports Redis: only with [cluster]

    assert config.cluster is not None
    try:
        # Once, before forking: one clear error rather than one per worker.
        asyncio.run(check_reachable(config.cluster))
    except ClusterUnavailable as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE

    def run_worker(index: int, reloaded: bool) -> int:
        own = worker_processes.worker_listener(listener)
        if own is not listener:
            listener.close()
        worker_reloading = dataclasses.replace(reloading, at_start=reloaded)
        return _run_process(host, own, stack, strict=strict, worker=index, reloading=worker_reloading)

    with reloading.pid_file_written():
        return worker_processes.supervise(workers, run_worker)


def _run_process(
    host: Host, listener: socket.socket, stack: Stack, strict: bool, worker: int, reloading: Reloading
) -> int:
    """Serve in this process until stopped; the exit code."""
    sockets = [listener]
    try:
        if host.cluster is not None:
            settings = host.cluster.settings
            port = settings.internal_port + worker if settings.internal_port else 0
            internal = _listen(settings.advertise_host, port)
            internal_host, internal_port = internal.getsockname()[:2]
            host.cluster.advertise(f"{url_host(internal_host)}:{internal_port}")
            sockets.append(internal)
    except OSError as exc:
        logger.error("internal listener for the cluster: %s", exc)
        return EXIT_FAILURE
    code = EXIT_OK
    export = None if host.telemetry is None else start_export(host.telemetry, host_version())
    # A lone process writes its pid file; workers leave it to their supervisor.
    pid_file = reloading.pid_file_written() if host.reload_pid == os.getpid() else contextlib.nullcontext()
    try:
        with pid_file:
            stack.run(_serve(host, sockets, stack, strict=strict, reloading=reloading))
    except (StrictModeError, ClusterUnavailable) as exc:
        logger.error("%s", exc)
        code = EXIT_FAILURE
    except KeyboardInterrupt:
        pass
    finally:
        if export is not None:
            # The last spans, before a lingering thread makes the process exit at once.
            export.shutdown(max(host.shutdown.remaining(), MIN_EXPORT_FLUSH_S))
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


async def _serve(
    host: Host, sockets: list[socket.socket], stack: Stack, strict: bool, reloading: Reloading
) -> None:
    """Serve on ``sockets``: the public listener first, then the cluster's internal one, if any."""
    listener = sockets[0]
    settings = host.config.server
    server: uvicorn.Server | None = None

    def on_stop_signal(signum: int, frame: object) -> None:
        # uvicorn handles the signal while it serves, then raises it again when done: that
        # second time it must not kill the process before the plugins' host_stopping ran.
        if server is None or not server.started:
            raise KeyboardInterrupt

    loop = asyncio.get_running_loop()
    reloader = Reloader(host, reloading.read_config)

    def on_hangup(signum: int, frame: object) -> None:
        # A signal handler runs between two steps of the loop: the reload is a task of its own.
        loop.call_soon_threadsafe(_start_reload, reloader, "SIGHUP")

    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, on_stop_signal)
    hangup_while_starting = False

    def remember_hangup(signum: int, frame: object) -> None:
        # Not fatal, its default: the reload runs once the host serves.
        nonlocal hangup_while_starting
        hangup_while_starting = True

    signal.signal(signal.SIGHUP, remember_hangup)
    limits = host.config.limits
    loop.set_exception_handler(RateLimitedLoopErrors())
    async with host.running(strict=strict), reloader.running(), watching(reloading.watch, reloader):
        # Built now that the plugins have started, from the blueprints as they are.
        app = create_app(host)
        reloader.follow(app.state.server_routes)
        signal.signal(signal.SIGHUP, on_hangup)
        if reloading.at_start:
            _start_reload(reloader, "worker restarted after a reload")
        elif hangup_while_starting:
            _start_reload(reloader, "SIGHUP while starting")
        server = _Server(
            host,
            uvicorn.Config(
                app,
                http=http_protocol(stack.http, limits.header_timeout_s),
                timeout_keep_alive=limits.idle_connection_timeout_s,
                # uvicorn counts the connection asking among those open: 503 from the (N+1)th.
                limit_concurrency=limits.max_connections + 1,
                log_config=None,
                access_log=False,
                root_path=settings.root_path,
                timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
                lifespan="on",
            ),
        )
        bound_host, bound_port = listener.getsockname()[:2]
        log_banner(host, f"http://{url_host(bound_host)}:{bound_port}{settings.root_path}", stack.describe())
        _keep_startup_objects_out_of_gc()
        try:
            await server.serve(sockets=sockets)
        finally:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
    logger.info("stopped")


_reloads: set[asyncio.Task[bool]] = set()
"""Reloads under way: the loop keeps only weak references to its tasks."""


def _start_reload(reloader: Reloader, reason: str) -> None:
    logger.info("%s: reloading the config and the plugins", reason, extra={"event": "reload_started"})
    task = asyncio.get_running_loop().create_task(reloader.reload())
    _reloads.add(task)
    task.add_done_callback(_reloads.discard)


class _Server(uvicorn.Server):
    """uvicorn's server, draining the host before it stops.

    The first stop signal starts the host's shutdown clock and a drain: requests in flight
    get until shortly before the grace ends to finish (new ones get 503 meanwhile), the rest
    are answered "shutting down". Only then is uvicorn's own shutdown started, which closes
    the listeners and the streams. A second signal stops at once.
    """

    def __init__(self, host: Host, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._host = host
        self._loop = asyncio.get_running_loop()
        self._draining: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining is not None or not self.started:
            super().handle_exit(sig, frame)
            return
        self._host.shutdown.begin()
        # A signal handler runs between two steps of the loop's thread: the drain is
        # scheduled as a task rather than run here.
        self._loop.call_soon_threadsafe(self._start_drain, sig)

    def _start_drain(self, sig: int) -> None:
        if self._draining is None:
            self._draining = self._loop.create_task(self._drain_then_stop(sig))

    async def _drain_then_stop(self, sig: int) -> None:
        shutdown = self._host.shutdown
        # What is kept back from the requests: delivering their answers, the sessions' ending
        # hooks and host_stopping.
        reserve = min(1.0, shutdown.grace_s / 4)
        running = len(self._host.factory.in_flight)
        logger.info(
            "stopping: %d requests in flight get up to %.1f s to finish; new ones get 503",
            running,
            max(0.0, shutdown.remaining() - reserve),
        )
        cut_short = await self._host.factory.in_flight.drain(max(0.0, shutdown.remaining() - reserve))
        if cut_short:
            logger.warning(
                "stopping: %d requests still running were answered 'the server is shutting down'", cut_short
            )
        self.config.timeout_graceful_shutdown = max(1, math.ceil(shutdown.remaining()))
        super().handle_exit(sig, None)
