"""The benchmark's table: every figure of every server, and mcp-host's as ratios to each baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.launch import MCP_HOST


@dataclass(frozen=True)
class Figure:
    label: str
    phase: str
    key: str
    better: str
    """``"lower"`` or ``"higher"``; ``""`` for a count that no ratio describes."""


FIGURES = (
    Figure("connect p50 (ms)", "connect", "p50_ms", "lower"),
    Figure("connect p99 (ms)", "connect", "p99_ms", "lower"),
    Figure("server CPU per connect (µs)", "connect", "server_cpu_us_per_session", "lower"),
    Figure("handshake p50 (ms)", "handshake", "p50_ms", "lower"),
    Figure("handshake p99 (ms)", "handshake", "p99_ms", "lower"),
    Figure("server CPU per connect + handshake (µs)", "handshake", "server_cpu_us_per_session", "lower"),
    Figure("tool calls/s", "calls", "calls_per_s", "higher"),
    Figure("call p50 (ms)", "calls", "p50_ms", "lower"),
    Figure("call p99 (ms)", "calls", "p99_ms", "lower"),
    Figure("server CPU per call (µs)", "calls", "server_cpu_us_per_call", "lower"),
    Figure("call errors", "calls", "errors", ""),
    Figure("idle sessions opened/s", "capacity", "opened_per_s", "higher"),
    Figure("idle sessions alive", "capacity", "alive", ""),
    Figure("RSS per idle session (KiB)", "capacity", "rss_per_session_kib", "lower"),
    Figure("churned sessions/s", "churn", "sessions_per_s", "higher"),
    Figure("server CPU per churned session (µs)", "churn", "server_cpu_us_per_session", "lower"),
    Figure("RSS growth per 1,000 churned (KiB)", "churn_rss", "growth_kib_per_1000", ""),
    Figure("errors in the server's log", "server", "log_problems", ""),
)

TRANSPORT_NAMES = {"sse": "HTTP+SSE (/sse)", "mcp": "Streamable HTTP (/mcp)"}


def value(results: dict[str, Any], figure: Figure) -> float:
    found = results.get(figure.phase, {}).get(figure.key)
    return float(found) if isinstance(found, int | float) else math.nan


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """``{baseline: {figure label: mcp-host / baseline}}`` for one transport."""
    host = results[MCP_HOST]
    table: dict[str, dict[str, float | None]] = {}
    for baseline, measured in results.items():
        if baseline == MCP_HOST:
            continue
        row: dict[str, float | None] = {}
        for figure in FIGURES:
            if figure.better:
                ours, theirs = value(host, figure), value(measured, figure)
                row[figure.label] = round(ours / theirs, 3) if theirs and not math.isnan(theirs) else None
        table[baseline] = row
    return table


def markdown(report: dict[str, Any]) -> str:
    """One table per transport: servers in columns, then mcp-host's ratio to each baseline."""
    sections = []
    for transport, results in report["results"].items():
        servers = list(results)
        baselines = [server for server in servers if server != MCP_HOST] if MCP_HOST in results else []
        header = ["", *servers, *(f"{MCP_HOST} ÷ {baseline}" for baseline in baselines)]
        rows = [header, ["---"] + ["---:"] * (len(header) - 1)]
        table = ratios(results) if baselines else {}
        for figure in FIGURES:
            cells = [_number(value(results[server], figure)) for server in servers]
            if figure.key == "alive":
                cells = [
                    f"{cell} / {results[server]['capacity']['sessions']:,}"
                    for cell, server in zip(cells, servers, strict=True)
                ]
            ratio_cells = [_ratio(table[baseline].get(figure.label)) for baseline in baselines]
            rows.append([figure.label, *cells, *ratio_cells])
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        sections.append(f"### {TRANSPORT_NAMES[transport]}\n\n" + "\n".join(lines))
    return "\n\n".join(sections) + "\n"


def _number(number: float) -> str:
    if math.isnan(number):
        return "—"
    if number == 0 or (number == int(number) and abs(number) >= 10):
        return f"{int(number):,}"
    return f"{number:,.3g}" if abs(number) < 100 else f"{number:,.0f}"


def _ratio(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"
