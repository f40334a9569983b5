"""The benchmark's tables: the headline figures of every transport in one table, with
mcp-host's ratio to each baseline and the targets it is held to; then every figure, one
table per transport.

Servers are columns and transports are blocks of rows, so a new server (``bench.launch``)
adds a column and a new transport (``TRANSPORT_NAMES``, ``bench.clients``) adds rows."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from bench.launch import MCP_HOST, TS_SDK


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

TRANSPORT_NAMES = {
    "sse": "HTTP+SSE (/sse)",
    "mcp": "Streamable HTTP (/mcp)",
    "modern": "Streamable HTTP at 2026-07-28, sessionless (/mcp)",
}
TRANSPORT_SHORT_NAMES = {"sse": "SSE", "mcp": "/mcp", "modern": "/mcp 2026-07-28"}

HEADLINE = (
    "tool calls/s",
    "call p99 (ms)",
    "server CPU per call (µs)",
    "handshake p50 (ms)",
    "connect p50 (ms)",
    "RSS per idle session (KiB)",
    "idle sessions alive",
    "RSS growth per 1,000 churned (KiB)",
)
"""The figures of the one table, for every transport."""

SDK_FLOOR = "sdk-per-connection"


@dataclass(frozen=True)
class Goal:
    """A target of issue 18: a ratio of mcp-host to a baseline, or an absolute figure."""

    transport: str
    label: str
    baseline: str | None
    """``None``: ``limit`` bounds mcp-host's own figure."""
    limit: float
    baseline_transport: str | None = None
    """The baseline's figure on another transport (mcp-host's own handshake /mcp, say)."""

    def describe(self) -> str:
        figure = _figure(self.label)
        bound = "≥" if figure.better == "higher" else "≤"
        scale = "x" if self.baseline else ""
        against = f" ÷ {self.baseline}" if self.baseline else ""
        if self.baseline_transport:
            against += f" on {TRANSPORT_SHORT_NAMES[self.baseline_transport]}"
        return f"{TRANSPORT_SHORT_NAMES[self.transport]} {self.label}{against} {bound} {self.limit:g}{scale}"

    def measured(self, every_transport: dict[str, dict[str, dict[str, Any]]]) -> Spread | None:
        """The figure or ratio in each repeat (a ratio within the repeat), and their median."""
        results = every_transport.get(self.transport, {})
        baselines = every_transport.get(self.baseline_transport or self.transport, {})
        if MCP_HOST not in results or (self.baseline is not None and self.baseline not in baselines):
            return None
        figure = _figure(self.label)
        ours = [value(repeat, figure) for repeat in by_repeat(results[MCP_HOST])]
        if self.baseline is None:
            return Spread.of(ours)
        theirs = [value(repeat, figure) for repeat in by_repeat(baselines[self.baseline])]
        return Spread.of([_divide(a, b) for a, b in zip(ours, theirs, strict=True)])

    def met(self, measured: float) -> bool:
        higher = _figure(self.label).better == "higher"
        return measured >= self.limit if higher else measured <= self.limit


GOALS = (
    Goal("sse", "tool calls/s", SDK_FLOOR, 2.0),
    Goal("sse", "tool calls/s", TS_SDK, 1.5),
    Goal("mcp", "tool calls/s", SDK_FLOOR, 1.5),
    Goal("mcp", "tool calls/s", TS_SDK, 1.2),
    Goal("sse", "handshake p50 (ms)", SDK_FLOOR, 0.5),
    Goal("sse", "RSS per idle session (KiB)", None, 64),
    # Issue 14: a self-contained request needs no server per session.
    Goal("modern", "tool calls/s", MCP_HOST, 1.5, baseline_transport="mcp"),
)


@dataclass(frozen=True)
class Spread:
    """A figure across the repeats of a run: their median, lowest and highest."""

    median: float
    low: float
    high: float
    repeats: list[float]

    @classmethod
    def of(cls, values: list[float]) -> Spread | None:
        """``None`` when no repeat measured it."""
        measured = [found for found in values if not math.isnan(found)]
        if not measured:
            return None
        return cls(statistics.median(measured), min(measured), max(measured), measured)

    def as_json(self, digits: int = 3) -> dict[str, Any]:
        return {
            "median": round(self.median, digits),
            "min": round(self.low, digits),
            "max": round(self.high, digits),
            "repeats": [round(found, digits) for found in self.repeats],
        }


MEMORY_PHASES = ("churn_rss", "capacity", "server")
"""Measured once per server and transport, not per repeat: every repeat shares them."""


def value(results: dict[str, Any], figure: Figure) -> float:
    found = results.get(figure.phase, {}).get(figure.key)
    return float(found) if isinstance(found, int | float) else math.nan


def by_repeat(results: dict[str, Any]) -> list[dict[str, Any]]:
    """A server's figures in each repeat, the memory phases (measured once) in every one."""
    repeats = results.get("repeats")
    if not repeats:
        return [results]
    shared = {phase: results[phase] for phase in MEMORY_PHASES if phase in results}
    return [{**repeat, **shared} for repeat in repeats]


def ratio_spread(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any] | None]]:
    """``{baseline: {figure label: mcp-host / baseline}}`` for one transport, each ratio taken
    within each repeat (servers measured side by side), as its median, min, max and repeats."""
    host = by_repeat(results[MCP_HOST])
    table: dict[str, dict[str, dict[str, Any] | None]] = {}
    for baseline, measured in results.items():
        if baseline == MCP_HOST:
            continue
        theirs = by_repeat(measured)
        row: dict[str, dict[str, Any] | None] = {}
        for figure in FIGURES:
            if figure.better:
                found = Spread.of(
                    [_divide(value(a, figure), value(b, figure)) for a, b in zip(host, theirs, strict=True)]
                )
                row[figure.label] = None if found is None else found.as_json()
        table[baseline] = row
    return table


def _divide(ours: float, theirs: float) -> float:
    return ours / theirs if theirs and not math.isnan(theirs) and not math.isnan(ours) else math.nan


def _figure(label: str) -> Figure:
    return next(figure for figure in FIGURES if figure.label == label)


def markdown(report: dict[str, Any]) -> str:
    return "\n\n".join([headline(report), repeats_note(report), goals(report), details(report)])


def repeats_note(report: dict[str, Any]) -> str:
    """How the figures above were made, and under what load."""
    sizes, load = report["sizes"], report["machine"].get("load_average")
    repeats = sizes.get("repeats", 1)
    note = (
        f"Every figure is the median of {repeats} repeat{'s' if repeats != 1 else ''} of {sizes['rounds']} "
        "interleaved turns per server (memory: measured once); every ratio is taken within each "
        "repeat, shown as the median (min-max)."
    )
    if load:
        spread = load["one_minute"]
        note += (
            f" Load average (1 min) during the run: {spread['median']:g} median, "
            f"{spread['min']:g} to {spread['max']:g}, on {report['machine']['cpus']} CPUs."
        )
    return note


def headline(report: dict[str, Any]) -> str:
    """The one table: the headline figures of every transport, every server in a column (its
    HTTP stack under its name), then mcp-host's ratio to each baseline."""
    results = report["results"]
    servers = list(dict.fromkeys(server for found in results.values() for server in found))
    stacks = report.get("stacks", {})
    baselines = [server for server in servers if server != MCP_HOST] if MCP_HOST in servers else []
    header = [
        "",
        *(f"{server} ({stacks[server]})" if server in stacks else server for server in servers),
        *(f"{MCP_HOST} ÷ {baseline}" for baseline in baselines),
    ]
    rows = [header, ["---"] + ["---:"] * (len(header) - 1)]
    for transport, found in results.items():
        table = ratio_spread(found) if MCP_HOST in found else {}
        for label in HEADLINE:
            figure = _figure(label)
            cells = [_cell(found.get(server), figure) for server in servers]
            ratio_cells = [_ratio_cell(table.get(baseline, {}).get(label)) for baseline in baselines]
            rows.append([f"{TRANSPORT_SHORT_NAMES[transport]} {label}", *cells, *ratio_cells])
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "### Every server, every transport\n\n" + "\n".join(lines)


def goal_results(report: dict[str, Any]) -> list[tuple[Goal, Spread | None]]:
    return [(goal, goal.measured(report["results"])) for goal in GOALS if goal.transport in report["results"]]


def goals(report: dict[str, Any]) -> str:
    """Issue 18's targets, as this run measured them: the median of the repeats, and their range."""
    rows = ["| target | median of the repeats | min-max | |", "| --- | ---: | ---: | --- |"]
    for goal, measured in goal_results(report):
        if measured is None:
            rows.append(f"| {goal.describe()} | — | — | not measured |")
            continue
        show = _ratio if goal.baseline else _number
        shown, low, high = show(measured.median), show(measured.low), show(measured.high)
        verdict = "met" if goal.met(measured.median) else "**missed**"
        rows.append(f"| {goal.describe()} | {shown} | {low}-{high} | {verdict} |")
    return "### Targets\n\n" + "\n".join(rows)


def details(report: dict[str, Any]) -> str:
    """One table per transport: servers in columns, then mcp-host's ratio to each baseline."""
    sections = []
    for transport, results in report["results"].items():
        servers = list(results)
        baselines = [server for server in servers if server != MCP_HOST] if MCP_HOST in results else []
        header = ["", *servers, *(f"{MCP_HOST} ÷ {baseline}" for baseline in baselines)]
        rows = [header, ["---"] + ["---:"] * (len(header) - 1)]
        table = ratio_spread(results) if baselines else {}
        for figure in FIGURES:
            cells = [_number(value(results[server], figure)) for server in servers]
            if figure.key == "alive":
                cells = [_alive(cell, results[server]) for cell, server in zip(cells, servers, strict=True)]
            ratio_cells = [_ratio_cell(table[baseline].get(figure.label)) for baseline in baselines]
            rows.append([figure.label, *cells, *ratio_cells])
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        sections.append(f"### {TRANSPORT_NAMES[transport]}\n\n" + "\n".join(lines))
    return "\n\n".join(sections) + "\n"


def _cell(results: dict[str, Any] | None, figure: Figure) -> str:
    if results is None:
        return "—"
    cell = _number(value(results, figure))
    return _alive(cell, results) if figure.key == "alive" else cell


def _alive(cell: str, results: dict[str, Any]) -> str:
    """``alive / held``; a transport with no sessions to hold (2026-07-28) has no capacity phase."""
    return f"{cell} / {results['capacity']['sessions']:,}" if "capacity" in results else cell


def _number(number: float) -> str:
    if math.isnan(number):
        return "—"
    if number == 0 or (number == int(number) and abs(number) >= 10):
        return f"{int(number):,}"
    return f"{number:,.3g}" if abs(number) < 100 else f"{number:,.0f}"


def _ratio(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"


def _ratio_cell(spread: dict[str, Any] | None) -> str:
    """The median ratio of the repeats, and their range when they differ (``1.39x (1.20-1.52)``)."""
    if spread is None:
        return "—"
    median, low, high = _ratio(spread["median"]), _ratio(spread["min"]), _ratio(spread["max"])
    return median if low == high else f"{median} ({low[:-1]}-{high})"
