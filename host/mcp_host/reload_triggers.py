"""What makes a running host reload, besides SIGHUP: ``--watch`` on its config file, and the
pid file through which ``mcp-host reload`` finds the process to signal."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio

from mcp_host.reload import ConfigReader, Reloader

logger = logging.getLogger(__name__)

WATCH_INTERVAL_S = 1.0
"""How often ``--watch`` looks at the config file. One ``stat`` a second of one file costs
nothing, and needs no file-watching library."""


@dataclass(frozen=True)
class Reloading:
    read_config: ConfigReader
    """Reads the config afresh, with the command line's overrides applied again."""
    pid_file: Path | None = None
    """Where ``serve --pid-file`` writes the pid that ``mcp-host reload`` signals."""
    watch: Path | None = None
    """The config file ``--watch`` reloads on when it changes."""
    at_start: bool = False
    """Reload as soon as serving: a worker restarted after a reload, forked from the old host."""

    @contextmanager
    def pid_file_written(self) -> Iterator[None]:
        """The pid file, for as long as this process serves (with ``--workers``, the
        supervisor's pid: it passes the signal to every worker)."""
        if self.pid_file is None:
            yield
            return
        self.pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                if self.pid_file.read_text(encoding="utf-8").strip() == str(os.getpid()):
                    self.pid_file.unlink()


@asynccontextmanager
async def watching(path: Path | None, reloader: Reloader) -> AsyncIterator[None]:
    """With ``path``, reload whenever the file changes (its time, size or inode: editors that
    save by renaming a new file over the old one are seen too)."""
    if path is None:
        yield
        return
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_watch, path, reloader)
        try:
            yield
        finally:
            tasks.cancel_scope.cancel()


async def _watch(path: Path, reloader: Reloader) -> None:
    seen = _signature(path)
    while True:
        await anyio.sleep(WATCH_INTERVAL_S)
        now = _signature(path)
        if now is None or now == seen:
            continue  # a file being replaced may be missing for a moment
        seen = now
        logger.info(
            "%s changed: reloading the config and the plugins", path, extra={"event": "reload_started"}
        )
        await reloader.reload()


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino
