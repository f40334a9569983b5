"""``mcp-host --workers N``: N host processes on one port, sharing sessions through Redis.

The parent prepares the host once (config, plugins: mistakes are reported once, before
anything starts), then forks the workers and only supervises them: it passes SIGTERM and
Ctrl-C on, passes SIGHUP (reload) to every worker, each of which reloads on its own, restarts
a worker that dies (its clients reconnect to the others; its sessions' routing entries
expire), and gives up when one dies right after it started, which means it cannot run at all.

On Linux every worker listens on its own socket bound to the same port (SO_REUSEPORT), so
the kernel spreads new connections evenly over them; elsewhere they share the parent's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

STARTUP_S = 10.0
"""A worker that exits within this time of its start is broken, not unlucky: no restart."""
RESTART_DELAY_S = 1.0


def uses_own_sockets() -> bool:
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def worker_listener(shared: socket.socket) -> socket.socket:
    """The listening socket of one worker, on the parent's address."""
    if not uses_own_sockets():
        return shared
    own = socket.socket(shared.family, shared.type, shared.proto)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    own.bind(shared.getsockname())
    own.listen(2048)
    return own


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Each stops every worker gracefully (SIGTERM to each)."""


def supervise(count: int, run_worker: Callable[[int, bool], int]) -> int:
    """Run ``run_worker(index, reloaded)`` in ``count`` forked processes until told to stop.

    ``reloaded`` is true for a worker restarted after a reload: it was forked from the host as
    it started, and must reload at once to serve what the others serve.
    """
    children: dict[int, tuple[int, float]] = {}  # pid -> (index, started at)
    stopping = False
    reloaded = False

    def start(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.setpgid(0, 0)  # Ctrl-C reaches the parent only, which passes it on once
                for stop_signal in STOP_SIGNALS:
                    signal.signal(stop_signal, signal.SIG_DFL)
                # Until the worker serves and reloads on it: not the parent's handler, nor fatal.
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                _exit_with_parent(os.getppid())
                code = run_worker(index, reloaded)
            except Exception:
                logger.exception("worker %d failed", index)
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = (index, time.monotonic())
        logger.info("started worker %d of %d (pid %d)", index + 1, count, pid)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def reload(signum: int, frame: object) -> None:
        nonlocal reloaded
        reloaded = True
        logger.info("SIGHUP: passing the reload to %d workers", len(children))
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGHUP)

    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, stop)
    signal.signal(signal.SIGHUP, reload)
    for index in range(count):
        start(index)
    result = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index, started_at = children.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            continue
        logger.error("worker %d (pid %d) exited with %s", index + 1, pid, code)
        if time.monotonic() - started_at < STARTUP_S:
            logger.error("worker %d could not run; stopping the others", index + 1)
            result = 1
            stop(signal.SIGTERM, None)
            continue
        time.sleep(RESTART_DELAY_S)
        if not stopping:
            start(index)
    logger.info("stopped")
    return result


def _exit_with_parent(parent: int) -> None:
    """A worker whose supervisor was killed outright stops too, instead of serving on alone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="mcp-host-parent-watch", daemon=True).start()
