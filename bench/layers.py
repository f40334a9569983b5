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
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.launch import MCP_HOST, PluginEnv
from bench.phases import PROFILES
from bench.proc import raise_open_files_limit, split_cpus
from bench.report import FIGURES, TRANSPORT_SHORT_NAMES, Figure, value


def _replace(owner: object, name: str, replacement: object) -> None:
    """Patch the host's code in this process (a copy of mcp-host for measuring only)."""
    assert hasattr(owner, name), f"{owner!r} has no {name!r}: the host changed, update bench/layers.py"
    setattr(owner, name, replacement)


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
    from mcp_host.session import Admission, SessionRegistry

    _replace(SessionRegistry, "admit", lambda self: Admission(None))  # type: ignore[arg-type]


LAYERS: dict[str, Callable[[], None] | None] = {
    "tool-guard": _without_tool_guard,
    "middlewares": _without_middlewares,
    "metrics": _without_metrics,
    "admission": _without_admission,
    "logging": None,
}
"""Each layer and the patch that switches it off. ``logging`` is the host itself logging at
``info``, against the benchmark's ``warning``: its ratio reads as the cost the other way."""

PREFIX = f"{MCP_HOST}-without-"
LOGGING_ON = f"{MCP_HOST}-logging-info"

SHOWN = (
    ("calls", "tool calls/s"),
    ("calls", "server CPU per call (µs)"),
    ("connect", "server CPU per connect (µs)"),
    ("handshake", "server CPU per connect + handshake (µs)"),
    ("churn", "server CPU per churned session (µs)"),
)


def server_name(layer: str) -> str:
    return LOGGING_ON if layer == "logging" else PREFIX + layer


def command(server: str, env: PluginEnv, port: int) -> list[str] | None:
    """The command of one of this module's copies of mcp-host, or None for another server."""
    if server == LOGGING_ON:
        config = env.config.with_name("mcp-host-info.toml")
        config.write_text(env.config.read_text().replace('log_level = "warning"', 'log_level = "info"'))
        return [str(env.python), "-m", "mcp_host", "serve", "--config", str(config), "--port", str(port)]
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


def markdown(report: dict[str, Any]) -> str:
    """Every copy's figures as a ratio to the whole host, one row per layer and figure."""
    servers = [name for name in report["servers"] if name != MCP_HOST]
    transports = list(report["results"])
    header = ["layer", "figure", *(TRANSPORT_SHORT_NAMES[transport] for transport in transports)]
    rows = [header, ["---", "---"] + ["---:"] * len(transports)]
    for server in servers:
        layer = "logging at info (on, not off)" if server == LOGGING_ON else server.removeprefix(PREFIX)
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
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--rounds", type=int, help="turns per server (default: the profile's)")
    parser.add_argument("--layers", nargs="+", choices=sorted(LAYERS), default=list(LAYERS))
    parser.add_argument("--transports", nargs="+", choices=["sse", "mcp"], default=["sse", "mcp"])
    parser.add_argument(
        "--out", type=Path, help="the JSON report (default: bench/results/layers-<time>.json)"
    )
    args = parser.parse_args(arguments)
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
