"""The benchmark's chart: the headline figures of every server as bars, one panel per figure
and transport, drawn with matplotlib (``pip install -e '.[bench]'``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.launch import MCP_HOST
from bench.report import TRANSPORT_SHORT_NAMES, Figure, _figure, value

PANELS = ("tool calls/s", "handshake p50 (ms)", "RSS per idle session (KiB)")
"""The columns of the chart; its rows are the transports."""

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
    figure, axes = plt.subplots(
        len(transports), len(PANELS), figsize=(4.2 * len(PANELS), 3.4 * len(transports)), squeeze=False
    )
    for row, transport in enumerate(transports):
        results = report["results"][transport]
        servers = list(results)
        for column, label in enumerate(PANELS):
            _panel(axes[row][column], servers, results, transport, _figure(label))
    profile, started = report.get("profile", ""), report.get("started_at", "")
    figure.suptitle(f"python -m bench --{profile}, {started}: mcp-host (red) and its baselines", fontsize=11)
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
    bars = axis.bar(range(len(servers)), [0 if math.isnan(h) else h for h in heights], color=colours)
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
