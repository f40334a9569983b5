"""``python -m bench.layers``: what each layer mcp-host adds around the SDK costs.

mcp-host runs as the main benchmark runs it, beside copies of itself that each have one
layer switched off (or, for logging, switched on at the shipped default level, ``info``).
They take interleaved turns at the speed phases, and the table gives each copy's figures as
a ratio to the whole host: a layer that costs 5% of a call's CPU reads 0.95x with it off.

Switching a layer off is a patch of the host's own code in the copy's process, made before
it starts (``python -m bench.layers serve LAYER ...``), never an option of the host: these
copies are for measuring only, and several are unsafe (no time limits, no admission).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.launch import MCP_HOST, PLUGIN, PluginEnv
from bench.phases import PROFILES
from bench.proc import raise_open_files_limit, split_cpus
from bench.report import FIGURES, TRANSPORT_SHORT_NAMES, Figure, value

_applied: list[tuple[object, str, object]] = []


def _replace(owner: object, name: str, replacement: object) -> None:
    """Patch the host's code in this process (a copy of mcp-host for measuring only)."""
    assert hasattr(owner, name), f"{owner!r} has no {name!r}: the host changed, update bench/layers.py"
    _applied.append((owner, name, getattr(owner, name)))
    setattr(owner, name, replacement)


@contextmanager
def _switched_off(layer: str) -> Iterator[None]:
    """``layer`` off in this process for the block (``logging``: on, at info)."""
    if layer == "logging":
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            root.setLevel(level)
        return
    patch = LAYERS[layer]
    assert patch is not None
    done = len(_applied)
    patch()
    try:
        yield
    finally:
        while len(_applied) > done:
            owner, name, original = _applied.pop()
            setattr(owner, name, original)


def _without_tool_guard() -> None:
    """Tools served as the SDK builds them: no time limit, no worker threads, no error ids."""
    from mcp_host import plugin_config

    _replace(plugin_config, "guard_tool", lambda tool, *args, **kwargs: tool)


def _without_middlewares() -> None:
    """No per-call middleware: no concurrency limit, call log record, call metrics, or
    plugin-session context."""
    from mcp.server.mcpserver import MCPServer

    from mcp_host import servers

    def bare(*args: Any, middleware: object = None, **kwargs: Any) -> MCPServer[Any]:
        return MCPServer(*args, **kwargs)

    _replace(servers, "MCPServer", bare)


class _Nothing:
    def labels(self, *args: object) -> _Nothing:
        return self

    def inc(self, *args: object) -> None:
        pass


def _without_metrics() -> None:
    """No Prometheus counter or histogram updated per session or call."""
    from mcp_host.metrics import HostMetrics

    built = HostMetrics.__init__

    def init(self: HostMetrics, *args: Any) -> None:
        built(self, *args)
        self.sessions_opened = _Nothing()  # type: ignore[assignment]

    _replace(HostMetrics, "__init__", init)
    _replace(HostMetrics, "tool_call", lambda self, *args: None)


def _without_admission() -> None:
    """No ``max_sessions`` check: every client is admitted."""
    from mcp_host.live_sessions import Admission, SessionRegistry

    _replace(SessionRegistry, "admit", lambda self: Admission(None))  # type: ignore[arg-type]


LAYERS: dict[str, Callable[[], None] | None] = {
    "tool-guard": _without_tool_guard,
    "middlewares": _without_middlewares,
    "metrics": _without_metrics,
    "admission": _without_admission,
    "logging": None,
    "fast-stack": None,
}
"""Each layer and the patch that switches it off. ``logging`` is the host itself logging at
``info``, against the benchmark's ``warning``; ``fast-stack`` is the host on h11 and asyncio
(``--http h11 --loop asyncio``) instead of httptools and uvloop."""

PREFIX = f"{MCP_HOST}-without-"
LOGGING_ON = f"{MCP_HOST}-logging-info"
STANDARD_STACK = f"{MCP_HOST}-h11-asyncio"
SPECIAL = {"logging": LOGGING_ON, "fast-stack": STANDARD_STACK}
LABELS = {LOGGING_ON: "logging at info (switched on)", STANDARD_STACK: "fast stack (h11 + asyncio instead)"}

SHOWN = (
    ("calls", "tool calls/s"),
    ("calls", "server CPU per call (µs)"),
    ("connect", "server CPU per connect (µs)"),
    ("handshake", "server CPU per connect + handshake (µs)"),
    ("churn", "server CPU per churned session (µs)"),
)


def server_name(layer: str) -> str:
    return SPECIAL.get(layer, PREFIX + layer)


def command(server: str, env: PluginEnv, port: int) -> list[str] | None:
    """The command of one of this module's copies of mcp-host, or None for another server."""
    if server == LOGGING_ON:
        config = env.config.with_name("mcp-host-info.toml")
        config.write_text(env.config.read_text().replace('log_level = "warning"', 'log_level = "info"'))
        return [str(env.python), "-m", "mcp_host", "serve", "--config", str(config), "--port", str(port)]
    if server == STANDARD_STACK:
        serve = [
            "serve",
            "--config",
            str(env.config),
            "--port",
            str(port),
            "--http",
            "h11",
            "--loop",
            "asyncio",
        ]
        return [str(env.python), "-m", "mcp_host", *serve]
    if server.startswith(PREFIX):
        layer = server.removeprefix(PREFIX)
        serve = ["serve", "--config", str(env.config), "--port", str(port)]
        return [str(env.python), "-m", "bench.layers", "serve", layer, *serve]
    return None


def _serve(layer: str, arguments: list[str]) -> int:
    patch = LAYERS[layer]
    assert patch is not None
    patch()
    from mcp_host.cli import main

    return main(arguments)


IN_PROCESS_LAYERS = ("tool-guard", "middlewares", "metrics", "logging")


async def in_process(layers: list[str], calls: int, sessions: int, batches: int) -> dict[str, Any]:
    """Process CPU per tool call and per session of an in-process host (``mcp_host.testing``,
    the SDK's client over memory streams) with and without each layer, in alternating
    batches: the client's CPU is in both, so the difference is the layer's own cost. Far
    steadier than the HTTP benchmark on a busy machine, for costs of a few percent."""
    from mcp_host.testing import start_host

    sys.path.insert(0, str(PLUGIN))
    import mcp_host_bench

    logging.basicConfig(level=logging.WARNING, handlers=[logging.FileHandler(os.devnull)], force=True)
    costs: dict[str, Any] = {}
    for layer in layers:
        async with AsyncExitStack() as stack:
            plugins = {"bench": mcp_host_bench}
            whole = await stack.enter_async_context(start_host(plugins=plugins, discover=False))
            with _switched_off(layer):
                without = await stack.enter_async_context(start_host(plugins=plugins, discover=False))
            per_call: dict[str, list[float]] = {"whole": [], "without": []}
            per_session: dict[str, list[float]] = {"whole": [], "without": []}
            for _ in range(batches):
                for name, host in (("whole", whole), ("without", without)):
                    switch = _switched_off(layer) if name == "without" else contextmanager(_nothing)()
                    with switch:
                        per_call[name].append(await _call_cpu_us(host, calls))
                        per_session[name].append(await _session_cpu_us(host, sessions))
        costs[layer] = {
            kind: {name: round(statistics.median(found), 1) for name, found in measured.items()}
            for kind, measured in (("call_us", per_call), ("session_us", per_session))
        }
    return costs


def _nothing() -> Iterator[None]:
    yield


async def _call_cpu_us(host: Any, calls: int) -> float:
    async with host.connect() as client:
        await client.call_tool("add", {"a": 1, "b": 2})
        started = time.process_time()
        for number in range(calls):
            await client.call_tool("add", {"a": number, "b": 1})
        return (time.process_time() - started) / calls * 1e6


async def _session_cpu_us(host: Any, sessions: int) -> float:
    started = time.process_time()
    for _ in range(sessions):
        async with host.connect() as client:
            await client.list_tools()
    return (time.process_time() - started) / sessions * 1e6


def in_process_markdown(costs: dict[str, Any]) -> str:
    rows = [
        "| layer | CPU per call, whole host (µs) | without the layer | difference | "
        "CPU per session, whole host (µs) | without the layer | difference |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for layer, found in costs.items():
        cells = [layer]
        for kind in ("call_us", "session_us"):
            whole, without = found[kind]["whole"], found[kind]["without"]
            cells += [f"{whole:,.0f}", f"{without:,.0f}", f"{whole - without:+,.0f}"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def markdown(report: dict[str, Any]) -> str:
    """Every copy's figures as a ratio to the whole host, one row per layer and figure."""
    servers = [name for name in report["servers"] if name != MCP_HOST]
    transports = list(report["results"])
    header = ["layer", "figure", *(TRANSPORT_SHORT_NAMES[transport] for transport in transports)]
    rows = [header, ["---", "---"] + ["---:"] * len(transports)]
    for server in servers:
        layer = LABELS.get(server, server.removeprefix(PREFIX))
        for _, label in SHOWN:
            figure = _figure(label)
            cells = []
            for transport in transports:
                results = report["results"][transport]
                ours, whole = value(results[server], figure), value(results[MCP_HOST], figure)
                cells.append("—" if not whole or math.isnan(whole) else f"{ours / whole:.2f}x")
            rows.append([layer, label, *cells])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def _figure(label: str) -> Figure:
    return next(figure for figure in FIGURES if figure.label == label)


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["serve"]:
        return _serve(arguments[1], arguments[2:])
    parser = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure each layer's CPU in this process instead (steady on a busy machine)",
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--rounds", type=int, help="turns per server (default: the profile's)")
    parser.add_argument("--layers", nargs="+", choices=sorted(LAYERS), default=list(LAYERS))
    parser.add_argument("--transports", nargs="+", choices=["sse", "mcp"], default=["sse", "mcp"])
    parser.add_argument(
        "--out", type=Path, help="the JSON report (default: bench/results/layers-<time>.json)"
    )
    args = parser.parse_args(arguments)
    if args.in_process:
        layers = [layer for layer in args.layers if layer in IN_PROCESS_LAYERS]
        sizes_in_process = {"smoke": (20, 2, 2), "quick": (200, 20, 10), "full": (300, 30, 30)}
        calls, sessions, batches = sizes_in_process[args.profile]
        print(in_process_markdown(asyncio.run(in_process(layers, calls, sessions, batches))))
        return 0
    from bench.run import merge_turns, speed_turns

    sizes = PROFILES[args.profile]
    if args.rounds:
        sizes = type(sizes)(**{**vars(sizes), "rounds": args.rounds})
    raise_open_files_limit()
    placement = split_cpus()
    cpus = None
    if placement is not None:
        os.sched_setaffinity(0, placement[0])
        cpus = placement[1]
    servers = [MCP_HOST, *(server_name(layer) for layer in args.layers)]
    out = (
        args.out
        or Path(__file__).resolve().parent / "results" / f"layers-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="mcp-host-bench-") as scratch:
        env = PluginEnv.create(Path(scratch))
        for transport in args.transports:
            turns = speed_turns(env, servers, transport, sizes, cpus, out.parent, say)
            results[transport] = {server: merge_turns(found) for server, found in turns.items()}
    report = {"profile": args.profile, "sizes": vars(sizes), "servers": servers, "results": results}
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
