"""One benchmark run: every server on each transport; the report as a dict.

The speed phases run ``repeats`` times. In each repeat, on each transport, every server is
started afresh, all at once, each in its own process, and they take turns at the speed
phases in a rotated order until each has had ``rounds`` turns of a few seconds. The machine
is shared: interleaving that finely lets whatever else it does fall on every server alike,
where whole runs one after another differ by a quarter. Within a repeat, latency percentiles
and CPU per operation are over its turns and rates are the median of its turns; every figure
and every ratio of the run is then the median of the repeats, with their spread (a ratio is
taken within each repeat, between servers measured side by side). The memory phases run once
per server and transport, each on a fresh process, after the repeats: 5,000 idle sessions
take minutes per server, and RSS moves far less with the machine's load than time does.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import tempfile
import threading
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
from bench.report import goal_results, ratio_spread
from bench.stats import latency_ms

LOAD_SAMPLE_S = 30.0


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
    load = LoadSampler()
    results: dict[str, dict[str, Any]] = {}
    stacks = {server: STACKS[server] for server in servers if server in STACKS}
    with tempfile.TemporaryDirectory(prefix="mcp-host-bench-") as scratch:
        say("installing the bench plugin into a scratch virtualenv ...")
        env = PluginEnv.create(Path(scratch))
        if MCP_HOST in servers:
            stacks[MCP_HOST] = host_stack(env)
        speaking = {
            transport: [server for server in servers if speaks(server, transport)] for transport in transports
        }
        # Repeats outside, transports inside: a slow spell of the machine falls on one repeat
        # of every transport, and the spread across repeats shows it.
        repeated: dict[str, dict[str, list[list[dict[str, Any]]]]] = {
            transport: {server: [] for server in speaking[transport]} for transport in transports
        }
        for repeat in range(1, sizes.repeats + 1):
            for transport in transports:
                turns = speed_turns(
                    env, speaking[transport], transport, sizes, server_cpus, out_dir, say, repeat
                )
                for server, found in turns.items():
                    repeated[transport][server].append(found)
        for transport in transports:
            memory: dict[str, dict[str, Any]] = {}
            for server in speaking[transport]:
                say(f"{server} on {transport}: memory ...")
                log = out_dir / f"{server}-{transport}-memory.log"
                with running(server, env, log, server_cpus) as (process, port):
                    target = Target(transport, HOST, port, process.pid)  # type: ignore[arg-type]
                    memory[server] = asyncio.run(measure_memory(target, sizes))
                speed_logs = [_speed_log(out_dir, server, transport, n) for n in range(1, sizes.repeats + 1)]
                memory[server]["server"] = {
                    "log_problems": sum(log_problems(found) for found in [log, *speed_logs]),
                    "logs": str(out_dir),
                }
            results[transport] = {
                server: summarise(repeated[transport][server], memory[server])
                for server in speaking[transport]
            }
        load_during = load.stop()
    report: dict[str, Any] = {
        "profile": profile,
        "sizes": vars(sizes),
        "stacks": stacks,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": {
            **_machine(open_files),
            "load_average": load_during,
            "cpus_of_load_generator": sorted(placement[0]) if placement else None,
            "cpus_of_servers": sorted(placement[1]) if placement else None,
        },
        "results": results,
        "ratios": {
            transport: ratio_spread(found) for transport, found in results.items() if MCP_HOST in found
        },
    }
    report["targets"] = [
        {
            "target": goal.describe(),
            "measured": None if spread is None else spread.median,
            "min": None if spread is None else spread.low,
            "max": None if spread is None else spread.high,
            "repeats": None if spread is None else spread.repeats,
            "met": None if spread is None else goal.met(spread.median),
        }
        for goal, spread in goal_results(report)
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
    repeat: int | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every server up at once, freshly started; each warmed up, then ``sizes.rounds`` turns
    each, interleaved. ``repeat``: which repeat of the run this is, for the logs' names."""
    turns: dict[str, list[dict[str, Any]]] = {server: [] for server in servers}
    with ExitStack() as stack:
        targets = {}
        for server in servers:
            log = _speed_log(out_dir, server, transport, repeat)
            process, port = stack.enter_context(running(server, env, log, cpus))
            targets[server] = Target(transport, HOST, port, process.pid)  # type: ignore[arg-type]
            asyncio.run(warm_up(targets[server], sizes))
        for number in range(sizes.rounds):
            of_repeat = f" of repeat {repeat} of {sizes.repeats}" if repeat else ""
            say(f"{transport}: speed, turn {number + 1} of {sizes.rounds}{of_repeat} for every server ...")
            for server in servers[number % len(servers) :] + servers[: number % len(servers)]:
                turns[server].append(asyncio.run(measure_speed(targets[server], sizes)))
    return turns


def _speed_log(out_dir: Path, server: str, transport: str, repeat: int | None) -> Path:
    return out_dir / f"{server}-{transport}-speed{f'-{repeat}' if repeat else ''}.log"


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
            if key in COUNTS:
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


COUNTS = ("samples", "errors", "calls", "sessions", "operations")
"""Keys that are counts: summed over turns and repeats, where every other figure is a median."""


def summarise(repeats: list[list[dict[str, Any]]], memory: dict[str, Any]) -> dict[str, Any]:
    """A server's figures on one transport: each speed figure the median of the repeats (each
    repeat's figure from its turns, as ``merge_turns``), with its spread across them
    (``spread``: min and max), the memory figures, and every repeat with its turns."""
    merged = [merge_turns(turns) for turns in repeats]
    summary: dict[str, Any] = {}
    spread: dict[str, dict[str, dict[str, float]]] = {}
    for phase, first in merged[0].items():
        summary[phase], spread[phase] = {}, {}
        for key in first:
            values = [repeat[phase][key] for repeat in merged]
            if key in COUNTS:
                summary[phase][key] = sum(values)
            else:
                summary[phase][key] = statistics.median(values)
                spread[phase][key] = {"min": min(values), "max": max(values)}
    return {
        **summary,
        **memory,
        "spread": spread,
        "repeats": [
            {**figures, "turns": _without_samples(turns)}
            for figures, turns in zip(merged, repeats, strict=True)
        ],
    }


def _without_samples(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            phase: {key: value for key, value in figures.items() if key != DURATIONS}
            for phase, figures in turn.items()
        }
        for turn in turns
    ]


class LoadSampler:
    """The machine's load average, sampled every ``interval_s`` in a thread while the run goes
    on: the machine is shared, and what else ran is part of the result."""

    def __init__(self, interval_s: float = LOAD_SAMPLE_S) -> None:
        self._samples: list[tuple[float, float, float, float]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._sample, args=(interval_s,), daemon=True)
        self._thread.start()

    def _sample(self, interval_s: float) -> None:
        while True:
            self._samples.append((round(time.monotonic() - self._started, 1), *os.getloadavg()))
            if self._stop.wait(interval_s):
                return

    def stop(self) -> dict[str, Any]:
        """The samples and a summary of the 1-minute figure: min, median, max."""
        self._stop.set()
        self._thread.join()
        self._samples.append((round(time.monotonic() - self._started, 1), *os.getloadavg()))
        one_minute = [sample[1] for sample in self._samples]
        return {
            "before": [round(load, 2) for load in self._samples[0][1:]],
            "after": [round(load, 2) for load in self._samples[-1][1:]],
            "one_minute": {
                "min": round(min(one_minute), 2),
                "median": round(statistics.median(one_minute), 2),
                "max": round(max(one_minute), 2),
            },
            "samples": [[round(figure, 2) for figure in sample] for sample in self._samples],
            "sampled_every_s": LOAD_SAMPLE_S,
        }


def _machine(open_files: int) -> dict[str, Any]:
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
