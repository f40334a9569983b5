"""The benchmark's chart: the headline figures of every server as bars, one panel per figure
and transport, then mcp-host's ratios to each baseline; each bar is the median of the repeats,
with a whisker from their lowest to their highest. Drawn with matplotlib
(``pip install -e '.[bench]'``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.launch import MCP_HOST
from bench.report import TRANSPORT_SHORT_NAMES, Figure, _figure, ratio_spread, value

PANELS = ("tool calls/s", "handshake p50 (ms)", "RSS per idle session (KiB)")
"""The columns of the chart, then one of ratios; its rows are the transports."""
RATIO_PANEL = ("tool calls/s", "handshake p50 (ms)")
"""mcp-host ÷ each baseline, in the last column."""

HOST_COLOUR = "#d62728"
BASELINE_COLOUR = "#7f7f7f"


class ChartUnavailable(Exception):
    """matplotlib is not installed."""


def draw(report: dict[str, Any], path: Path) -> Path:
    """Write the chart of ``report`` to ``path`` (a PNG); ``ChartUnavailable`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: render to a file only
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ChartUnavailable(
            f"no chart: matplotlib is not installed ({exc}): pip install -e '.[bench]'"
        ) from None

    transports = list(report["results"])
    columns = len(PANELS) + 1
    figure, axes = plt.subplots(
        len(transports), columns, figsize=(4.2 * columns, 3.4 * len(transports)), squeeze=False
    )
    for row, transport in enumerate(transports):
        results = report["results"][transport]
        servers = list(results)
        for column, label in enumerate(PANELS):
            _panel(axes[row][column], servers, results, transport, _figure(label))
        _ratio_panel(axes[row][len(PANELS)], results, transport)
    profile, started = report.get("profile", ""), report.get("started_at", "")
    repeats = report.get("sizes", {}).get("repeats", 1)
    figure.suptitle(
        f"python -m bench --{profile}, {started}: mcp-host (red) and its baselines; "
        f"median of {repeats} repeats, whiskers min-max",
        fontsize=11,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _panel(axis: Any, servers: list[str], results: dict[str, Any], transport: str, figure: Figure) -> None:
    heights = [value(results[server], figure) for server in servers]
    if all(math.isnan(height) for height in heights):  # e.g. no idle sessions without sessions
        axis.text(0.5, 0.5, "not measured on this transport", ha="center", transform=axis.transAxes)
        axis.set_yticks([])
    colours = [HOST_COLOUR if server == MCP_HOST else BASELINE_COLOUR for server in servers]
    spreads = [results[server].get("spread", {}).get(figure.phase, {}).get(figure.key) for server in servers]
    bars = axis.bar(
        range(len(servers)),
        [0 if math.isnan(h) else h for h in heights],
        color=colours,
        yerr=_whiskers(heights, spreads),
        capsize=3,
    )
    for bar, height in zip(bars, heights, strict=True):
        if not math.isnan(height):
            axis.annotate(
                f"{height:,.0f}" if height >= 100 else f"{height:.3g}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    axis.set_xticks(range(len(servers)), servers, rotation=25, ha="right", fontsize=8)
    better = "higher" if figure.better == "higher" else "lower"
    axis.set_title(f"{TRANSPORT_SHORT_NAMES[transport]} {figure.label}, {better} is better", fontsize=9)
    axis.margins(y=0.15)


def _ratio_panel(axis: Any, results: dict[str, Any], transport: str) -> None:
    """mcp-host ÷ each baseline for ``RATIO_PANEL``'s figures, grouped by baseline; 1 is parity."""
    table = ratio_spread(results) if MCP_HOST in results else {}
    baselines = list(table)
    if not baselines:
        axis.text(0.5, 0.5, "no baseline on this transport", ha="center", transform=axis.transAxes)
        axis.set_yticks([])
        return
    width = 0.8 / len(RATIO_PANEL)
    for offset, label in enumerate(RATIO_PANEL):
        found = [table[baseline].get(label) for baseline in baselines]
        medians = [math.nan if spread is None else spread["median"] for spread in found]
        bars = axis.bar(
            [index + (offset - (len(RATIO_PANEL) - 1) / 2) * width for index in range(len(baselines))],
            [0 if math.isnan(median) else median for median in medians],
            width,
            yerr=_whiskers(medians, found),
            capsize=2,
            label=label,
        )
        for bar, median in zip(bars, medians, strict=True):
            if not math.isnan(median):
                axis.annotate(
                    f"{median:.2f}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    axis.axhline(1, color="black", linewidth=0.8)
    axis.set_xticks(range(len(baselines)), baselines, rotation=25, ha="right", fontsize=8)
    axis.set_title(f"{TRANSPORT_SHORT_NAMES[transport]}: {MCP_HOST} ÷ each baseline", fontsize=9)
    axis.legend(fontsize=7)
    axis.margins(y=0.15)


def _whiskers(medians: list[float], spreads: list[dict[str, Any] | None]) -> list[list[float]]:
    """matplotlib's ``yerr``: how far below and above each bar its repeats' min and max reach."""
    below, above = [], []
    for median, spread in zip(medians, spreads, strict=True):
        if spread is None or math.isnan(median):
            below.append(0.0)
            above.append(0.0)
        else:
            below.append(max(0.0, median - spread["min"]))
            above.append(max(0.0, spread["max"] - median))
    return [below, above]
