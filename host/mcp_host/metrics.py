"""Prometheus metrics of one host, served at ``/metrics``.

Open sessions and plugin status are read from the host's own state when scraped, so they
cannot drift from it; tool calls are counted as they finish.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mcp_host.call_stats import ToolCallStats
from mcp_host.live_sessions import SessionRegistry
from mcp_host.plugins import PluginManager, PluginStatus
from mcp_host.stall_watchdog import StallWatchdog

CALL_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _LiveState(Collector):
    def __init__(self, sessions: SessionRegistry, plugins: PluginManager, watchdog: StallWatchdog) -> None:
        self._sessions = sessions
        self._plugins = plugins
        self._watchdog = watchdog

    def collect(self) -> Iterator[Metric]:
        sessions = GaugeMetricFamily(
            "mcp_host_sessions", "Open client sessions.", labels=["server", "transport"]
        )
        for server, by_transport in self._sessions.counts().items():
            for transport, count in by_transport.items():
                sessions.add_metric([server, transport], count)
        yield sessions
        plugins = GaugeMetricFamily(
            "mcp_host_plugin_status", "1 for the status each plugin is in.", labels=["plugin", "status"]
        )
        for record in self._plugins.records.values():
            for status in PluginStatus:
                plugins.add_metric([record.name, str(status)], 1 if record.status is status else 0)
        yield plugins
        threads = GaugeMetricFamily(
            "mcp_host_tool_threads",
            "Worker threads running plain 'def' tools: busy (all of them), abandoned (still running a "
            "call past its time limit); at most [limits] max_tool_threads busy.",
            labels=["state"],
        )
        threads.add_metric(["busy"], self._plugins.threads.busy)
        threads.add_metric(["abandoned"], self._plugins.threads.abandoned)
        yield threads
        yield CounterMetricFamily(
            "mcp_host_event_loop_stalls",
            "Times the event loop was blocked longer than [limits] loop_stall_threshold_s "
            "(the log names the tool, plugin and session).",
            value=self._watchdog.stalls,
        )


class HostMetrics:
    """The metrics of one host, in a registry of their own (several hosts can share a process)."""

    def __init__(self, sessions: SessionRegistry, plugins: PluginManager, watchdog: StallWatchdog) -> None:
        self.registry = CollectorRegistry()
        self.recent_calls = ToolCallStats()
        """The same calls as the status page shows them (``/status``)."""
        self.registry.register(_LiveState(sessions, plugins, watchdog))
        self.sessions_opened = Counter(
            "mcp_host_sessions_opened",
            "Client sessions opened.",
            ["server", "transport"],
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "mcp_host_tool_calls",
            "Tool calls by outcome: ok, error (a tool error or crash), timeout, refused (over the "
            "session's or the worker threads' limit), invalid (arguments or request did not validate), "
            'unknown_tool (counted under tool="unknown"), cancelled (the client left or cancelled).',
            ["server", "tool", "outcome"],
            registry=self.registry,
        )
        self.tool_call_seconds = Histogram(
            "mcp_host_tool_call_duration_seconds",
            "How long tool calls took.",
            ["server", "tool"],
            buckets=CALL_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.reloads = Counter(
            "mcp_host_reloads",
            "Reloads of the config and plugins (SIGHUP, mcp-host reload, --watch) by outcome: applied; "
            "refused (the config or a plugin's settings were wrong; the host serves as before); failed "
            "(an error of the host's own while applying it, in the log).",
            ["outcome"],
            registry=self.registry,
        )
        self._call_counters: dict[tuple[str, str, str], Counter] = {}
        self._call_timers: dict[tuple[str, str], Histogram] = {}

    def tool_call(self, server: str, tool: str, outcome: str, seconds: float) -> None:
        # The labelled children, found once: labels() takes a lock and builds its key on every
        # call, a third of what counting a call cost. Their number is bounded, as the labels
        # are (only tools the host serves, only its outcomes).
        key = (server, tool, outcome)
        counter = self._call_counters.get(key)
        if counter is None:
            counter = self._call_counters[key] = self.tool_calls.labels(*key)
        timer = self._call_timers.get((server, tool))
        if timer is None:
            timer = self._call_timers[server, tool] = self.tool_call_seconds.labels(server, tool)
        counter.inc()
        timer.observe(seconds)
        self.recent_calls.record(server, tool, str(outcome), seconds)
