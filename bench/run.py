"""One benchmark run: every server on each transport; the report as a dict.

On each transport every server runs at once, each in its own process, and takes turns at the
speed phases in a rotated order until each has had ``rounds`` turns of a few seconds. The
machine is shared: interleaving that finely lets whatever else it does fall on every server
alike, where whole runs one after another differ by a quarter. Latency percentiles and CPU
per operation are over all turns; rates are the median of the turns. The memory phases then
run once per server, each on a fresh process.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.launch import (
    HOST,
    MCP_HOST,
    NODE,
    STACKS,
    TS_SDK,
    PluginEnv,
    host_stack,
    log_problems,
    running,
    speaks,
)
from bench.phases import DURATIONS, Sizes, Target, measure_memory, measure_speed, warm_up
from bench.proc import raise_open_files_limit, split_cpus
from bench.report import goal_results, ratios
from bench.stats import latency_ms


def run_benchmark(
    profile: str,
    sizes: Sizes,
    servers: list[str],
    transports: list[str],
    out_dir: Path,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    open_files = raise_open_files_limit()
    placement = split_cpus()
    server_cpus = None
    if placement is not None:
        generator_cpus, server_cpus = placement
        os.sched_setaffinity(0, generator_cpus)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    load_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    stacks = {server: STACKS[server] for server in servers if server in STACKS}
    with tempfile.TemporaryDirectory(prefix="mcp-host-bench-") as scratch:
        say("installing the bench plugin into a scratch virtualenv ...")
        env = PluginEnv.create(Path(scratch))
        if MCP_HOST in servers:
            stacks[MCP_HOST] = host_stack(env)
        for transport in transports:
            speaking = [server for server in servers if speaks(server, transport)]
            turns = speed_turns(env, speaking, transport, sizes, server_cpus, out_dir, say)
            memory: dict[str, dict[str, Any]] = {}
            for server in speaking:
                say(f"{server} on {transport}: memory ...")
                log = out_dir / f"{server}-{transport}-memory.log"
                with running(server, env, log, server_cpus) as (process, port):
                    target = Target(transport, HOST, port, process.pid)  # type: ignore[arg-type]
                    memory[server] = asyncio.run(measure_memory(target, sizes))
                memory[server]["server"] = {
                    "log_problems": log_problems(log) + log_problems(_speed_log(out_dir, server, transport)),
                    "logs": str(out_dir),
                }
            results[transport] = {
                server: {
                    **merge_turns(turns[server]),
                    **memory[server],
                    "rounds": _without_samples(turns[server]),
                }
                for server in speaking
            }
    report: dict[str, Any] = {
        "profile": profile,
        "sizes": vars(sizes),
        "stacks": stacks,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": {
            **_machine(open_files, load_before),
            "cpus_of_load_generator": sorted(placement[0]) if placement else None,
            "cpus_of_servers": sorted(placement[1]) if placement else None,
        },
        "results": results,
        "ratios": {transport: ratios(found) for transport, found in results.items() if MCP_HOST in found},
    }
    report["targets"] = [
        {
            "target": goal.describe(),
            "measured": measured,
            "met": None if measured is None else goal.met(measured),
        }
        for goal, measured in goal_results(report)
    ]
    if TS_SDK in servers:
        report["machine"]["packages"].update(_node_packages())
    return report


def speed_turns(
    env: PluginEnv,
    servers: list[str],
    transport: str,
    sizes: Sizes,
    cpus: set[int] | None,
    out_dir: Path,
    say: Callable[[str], None],
) -> dict[str, list[dict[str, Any]]]:
    """Every server up at once; each warmed up, then ``sizes.rounds`` turns each, interleaved."""
    turns: dict[str, list[dict[str, Any]]] = {server: [] for server in servers}
    with ExitStack() as stack:
        targets = {}
        for server in servers:
            log = _speed_log(out_dir, server, transport)
            process, port = stack.enter_context(running(server, env, log, cpus))
            targets[server] = Target(transport, HOST, port, process.pid)  # type: ignore[arg-type]
            asyncio.run(warm_up(targets[server], sizes))
        for number in range(sizes.rounds):
            say(f"{transport}: speed, turn {number + 1} of {sizes.rounds} for every server ...")
            for server in servers[number % len(servers) :] + servers[: number % len(servers)]:
                turns[server].append(asyncio.run(measure_speed(targets[server], sizes)))
    return turns


def _speed_log(out_dir: Path, server: str, transport: str) -> Path:
    return out_dir / f"{server}-{transport}-speed.log"


def merge_turns(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure per phase and key: percentiles over every turn's samples, counts summed, CPU
    per operation over all turns (the kernel counts CPU time in 10 ms ticks: a turn alone is
    too short to resolve it), and the median of the turns for the rates."""
    merged: dict[str, Any] = {}
    for phase, first in turns[0].items():
        samples = [sample for turn in turns for sample in turn[phase].get(DURATIONS, ())]
        merged[phase] = {}
        for key in first:
            if key == DURATIONS:
                continue
            values = [turn[phase][key] for turn in turns]
            if key in ("samples", "errors", "calls", "sessions", "operations"):
                merged[phase][key] = sum(values)
            elif key.startswith("server_cpu_us_per_"):
                operations = [turn[phase]["operations"] for turn in turns]
                total_us = sum(value * count for value, count in zip(values, operations, strict=True))
                merged[phase][key] = round(total_us / max(1, sum(operations)), 1)
            else:
                merged[phase][key] = statistics.median(values)
        if DURATIONS in first:
            merged[phase].update(latency_ms(samples))
    return merged


def _without_samples(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            phase: {key: value for key, value in figures.items() if key != DURATIONS}
            for phase, figures in turn.items()
        }
        for turn in turns
    ]


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


def _node_packages() -> dict[str, str]:
    sdk = NODE.parent.parent / "@modelcontextprotocol" / "sdk" / "package.json"
    express = NODE.parent.parent / "express" / "package.json"
    return {
        "node": subprocess.check_output([NODE, "--version"], text=True).strip().lstrip("v"),
        "@modelcontextprotocol/sdk": json.loads(sdk.read_text())["version"],
        "express": json.loads(express.read_text())["version"],
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
