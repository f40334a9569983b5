"""Recent tool calls per server and tool, for the status page: how many, how many failed, and
how long they took (p50, p99).

Prometheus' histogram (``mcp_host.metrics``) answers latency questions for a monitoring
system, in its buckets' resolution; an operator glancing at the status page wants plain
numbers. The last ``WINDOW`` durations of each tool are kept, so memory stays bounded and
the percentiles follow what the host is doing now.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mcp_host.call_report import Outcome

WINDOW = 1000
"""Durations kept per server and tool."""

NOT_ERRORS = frozenset({Outcome.OK, Outcome.CANCELLED})
"""Outcomes that are no failure: a success, and a call the client gave up on."""


@dataclass
class _ToolCalls:
    calls: int = 0
    errors: int = 0
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))


class ToolCallStats:
    def __init__(self) -> None:
        self._tools: dict[tuple[str, str], _ToolCalls] = {}

    def record(self, server: str, tool: str, outcome: str, seconds: float) -> None:
        stats = self._tools.get((server, tool))
        if stats is None:  # not setdefault: that would build a record, and its deque, per call
            stats = self._tools[server, tool] = _ToolCalls()
        stats.calls += 1
        if outcome not in NOT_ERRORS:
            stats.errors += 1
        stats.durations.append(seconds)

    def snapshot(self) -> list[dict[str, Any]]:
        """One entry per server and tool called, in that order; durations in milliseconds."""
        rows = []
        for (server, tool), stats in sorted(self._tools.items()):
            ordered = sorted(stats.durations)
            rows.append(
                {
                    "server": server,
                    "tool": tool,
                    "calls": stats.calls,
                    "errors": stats.errors,
                    "p50_ms": _percentile_ms(ordered, 0.50),
                    "p99_ms": _percentile_ms(ordered, 0.99),
                }
            )
        return rows


def _percentile_ms(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile: a duration that was actually measured."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000, 1)
