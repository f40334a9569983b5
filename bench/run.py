"""One benchmark run: every server, one at a time, on each transport; the report as a dict.

On each transport the speed phases run in ``rounds``, each round starting every server
afresh in turn (in a rotated order), and each figure is the median of its rounds: the
machine is shared, and interleaving spreads what others do on it over every server alike.
The memory phases then run once per server, on a fresh process.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Coroutine
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.launch import HOST, PluginEnv, log_problems, running
from bench.phases import Sizes, Target, measure_memory, measure_speed
from bench.proc import raise_open_files_limit
from bench.report import ratios

Phases = Callable[[Target, Sizes], Coroutine[Any, Any, dict[str, Any]]]


def run_benchmark(
    profile: str,
    sizes: Sizes,
    servers: list[str],
    transports: list[str],
    out_dir: Path,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    open_files = raise_open_files_limit()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    load_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    problems: dict[tuple[str, str], int] = {}
    with tempfile.TemporaryDirectory(prefix="mcp-host-bench-") as scratch:
        say("installing the bench plugin into a scratch virtualenv ...")
        env = PluginEnv.create(Path(scratch))

        def run(server: str, transport: str, phases: Phases, label: str) -> dict[str, Any]:
            say(f"{server} on {transport}: {label} ...")
            log = out_dir / f"{server}-{transport}-{label}.log"
            with running(server, env, log) as (process, port):
                measured = asyncio.run(phases(Target(transport, HOST, port, process.pid), sizes))  # type: ignore[arg-type]
            problems[server, transport] = problems.get((server, transport), 0) + log_problems(log)
            return measured

        for transport in transports:
            rounds: dict[str, list[dict[str, Any]]] = {server: [] for server in servers}
            for number in range(sizes.rounds):
                for server in servers[number % len(servers) :] + servers[: number % len(servers)]:
                    rounds[server].append(run(server, transport, measure_speed, f"speed{number + 1}"))
            results[transport] = {
                server: {
                    **_median_of(rounds[server]),
                    **run(server, transport, measure_memory, "memory"),
                    "server": {"log_problems": problems[server, transport], "logs": str(out_dir)},
                    "rounds": rounds[server],
                }
                for server in servers
            }
    return {
        "profile": profile,
        "sizes": vars(sizes),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": _machine(open_files, load_before),
        "results": results,
        "ratios": {transport: ratios(found) for transport, found in results.items() if "mcp-host" in found},
    }


def _median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds; counts of samples and errors are summed."""
    merged: dict[str, Any] = {}
    for phase in rounds[0]:
        merged[phase] = {}
        for key in rounds[0][phase]:
            values = [measured[phase][key] for measured in rounds]
            summed = key in ("samples", "errors", "calls")
            merged[phase][key] = sum(values) if summed else statistics.median(values)
    return merged


def _machine(open_files: int, load_before: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {
            name: version(name) for name in ("mcp-host", "mcp", "starlette", "uvicorn", "sse-starlette")
        },
        "open_files_limit": open_files,
        "load_average_before": [round(load, 2) for load in load_before],
        "load_average_after": [round(load, 2) for load in os.getloadavg()],
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
