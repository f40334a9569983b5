"""What the benchmark reads about a server process from /proc, and the file descriptor limit."""

from __future__ import annotations

import asyncio
import os
import resource
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETTLE_POLL_S = 0.25
SETTLE_MAX_S = 10.0
SETTLED_WITHIN_KIB = 64


def rss_kib(pid: int) -> int:
    """Resident set size (``VmRSS`` in /proc/<pid>/status), in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def settled_rss_kib(pid: int, poll_s: float = SETTLE_POLL_S) -> int:
    """RSS once it has stopped moving: two samples ``poll_s`` apart within
    ``SETTLED_WITHIN_KIB`` of each other (or the last one after ``SETTLE_MAX_S``)."""
    deadline = time.monotonic() + SETTLE_MAX_S
    previous = rss_kib(pid)
    while True:
        await asyncio.sleep(poll_s)
        current = rss_kib(pid)
        if abs(current - previous) <= SETTLED_WITHIN_KIB or time.monotonic() > deadline:
            return current
        previous = current


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def split_cpus() -> tuple[set[int], set[int]] | None:
    """One CPU for the load generator and the others for the servers, or ``None`` with a single
    CPU. Left to the scheduler, a server and the generator sometimes share a core and sometimes
    not, and a request's round trip differs by half between the two: a turn landing one way
    or the other moved one server's latency more than the gaps measured."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[0]}, set(cpus[1:])


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (servers started from here
    inherit it); returns the new limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
