"""The assembled host: config, plugins, the servers they make up, and the live sessions."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server.caching import CacheHint
from mcp.server.request_state import RequestStateSecurity

from mcp_host.blueprints import ServerBlueprint, build_blueprints
from mcp_host.changes import ChangeFeed, PluginChanges
from mcp_host.config import ConfigError, HostConfig, Problem
from mcp_host.live_sessions import SessionRegistry
from mcp_host.metrics import HostMetrics
from mcp_host.plugin_config import configure_plugins
from mcp_host.plugins import PluginManager
from mcp_host.programs import own_program
from mcp_host.servers import ServerFactory, SessionlessOptions
from mcp_host.shutdown import MIN_STOP_HOOK_BUDGET_S, ShutdownClock
from mcp_host.stall_watchdog import StallWatchdog
from mcp_host.telemetry import ExportPlan, plan_export
from mcp_host.version import host_version

if TYPE_CHECKING:
    from mcp_host.cluster.node import ClusterNode

logger = logging.getLogger(__name__)


class StrictModeError(Exception):
    """``--strict`` is on and a plugin failed."""


@dataclass
class Host:
    config: HostConfig
    source: str
    plugins: PluginManager
    blueprints: dict[str, ServerBlueprint]
    problems: list[Problem] = field(default_factory=list)
    sessions: SessionRegistry = field(init=False)
    ready: bool = False
    metrics: HostMetrics = field(init=False)
    factory: ServerFactory = field(init=False)
    cluster: ClusterNode | None = field(init=False, default=None)
    """This process's membership of a cluster, with ``[cluster]`` in the config."""
    changes: ChangeFeed = field(init=False, default_factory=ChangeFeed)
    telemetry: ExportPlan | None = field(init=False, default=None)
    """Where this host's traces go, when it exports them (``[telemetry]`` or ``OTEL_*``)."""
    shutdown: ShutdownClock = field(init=False)
    """Counts ``shutdown_grace_s`` down from the stop signal."""
    watchdog: StallWatchdog = field(init=False)
    """Notices the event loop blocked, and what blocked it."""
    """Counts ``shutdown_grace_s`` down from the stop signal."""
    reload_pid: int | None = field(init=False, default=None)
    """The process a SIGHUP reloads: this one, or with ``--workers`` their supervisor."""
    request_state_keys: list[bytes] = field(init=False)
    """Seal the ``requestState`` of multi-round 2026-07-28 calls. Made here, before
    ``--workers`` forks, when the config names none, so that every worker opens what
    another sealed."""

    def __post_init__(self) -> None:
        limits = self.config.limits
        self.shutdown = ShutdownClock(self.config.server.shutdown_grace_s)
        self.telemetry = plan_export(self.config, self.source)
        self.sessions = SessionRegistry(limits.max_sessions, limits.max_sessions_per_client)
        if self.config.cluster is not None:
            self.cluster = _cluster_node(self.config, self.source, tracing=self.telemetry is not None)
            self.sessions.claims = self.cluster
        self.watchdog = StallWatchdog(limits.loop_stall_threshold_s)
        self.metrics = HostMetrics(self.sessions, self.plugins, self.watchdog)
        self.factory = ServerFactory(
            self.plugins,
            self.sessions,
            self.metrics,
            host_version(),
            limits.max_concurrent_calls,
            self.changes,
            lambda: self.blueprints,
            self.shutdown,
            max_pending_output_bytes=limits.max_pending_output_bytes,
            tracing=self.telemetry is not None,
        )
        configured = self.config.security.request_state_keys
        if configured:
            self.request_state_keys = [key.get_secret_value().encode() for key in configured]
        else:
            self.request_state_keys = [secrets.token_bytes(32)]
            if self.config.cluster is not None:
                logger.warning(
                    "[cluster] without security.request_state_keys: this host seals the requestState of "
                    "multi-round 2026-07-28 calls with a key of its own, which its --workers share but "
                    "processes started elsewhere do not; give every process the same keys"
                )

    def sessionless_options(self, blueprint: ServerBlueprint) -> SessionlessOptions:
        """What the server of ``blueprint``'s 2026-07-28 requests needs besides the blueprint."""
        profile = blueprint.profile
        lists = CacheHint(ttl_ms=round(profile.list_ttl_s * 1000), scope=profile.cache_scope)
        return SessionlessOptions(
            # The audience is the server's path: a state sealed for one server opens on no other.
            request_state_security=RequestStateSecurity(
                keys=self.request_state_keys, audience=blueprint.mcp_path
            ),
            cache_hints={
                "server/discover": lists,
                "tools/list": lists,
                "prompts/list": lists,
                "resources/list": lists,
                "resources/templates/list": lists,
                # A resource's content may change at any time: clients read it afresh.
                "resources/read": CacheHint(ttl_ms=0, scope="private"),
            },
            subscriptions=self.changes.bus(blueprint.key),
        )

    def plugin_changes(self, plugin: str) -> PluginChanges:
        """What ``plugin`` announces its changes through: to every server that serves it."""

        def servers() -> list[str]:
            return [key for key, blueprint in self.blueprints.items() if blueprint.serves(plugin)]

        return PluginChanges(self.changes, servers)

    def raise_for_problems(self) -> None:
        """The config's mistakes, if any, as one ``ConfigError``."""
        if self.problems:
            raise ConfigError(self.source, self.problems)

    def check_strict(self) -> None:
        failed = self.plugins.failed()
        if failed:
            names = ", ".join(f"{record.name!r} ({record.error})" for record in failed)
            raise StrictModeError(f"--strict: plugins failed: {names}")

    @asynccontextmanager
    async def running(self, strict: bool = False) -> AsyncIterator[None]:
        """Start the plugins' shared resources for the host's lifetime, and stop them after.

        Inside, what serves clients is built from ``blueprints``, which only a reload
        (``mcp_host.reload``) replaces.

        With ``[cluster]``, join the cluster first: ``ClusterUnavailable`` if Redis cannot be
        reached, before any plugin started.
        """
        async with AsyncExitStack() as stack:
            stack.enter_context(self.watchdog.watching())
            if self.cluster is not None:
                await stack.enter_async_context(self.cluster.running())
            failed_before = len(self.plugins.failed())
            await self.plugins.start(self.plugin_changes)
            try:
                if strict:
                    self.check_strict()
                if len(self.plugins.failed()) > failed_before:
                    # A plugin that failed to start takes its tools out of every server.
                    self.blueprints, _ = build_blueprints(self.config, self.plugins.records.values())
                self.ready = True
                yield
            finally:
                self.ready = False
                # A plugin's host_stopping that hangs is cut short: the process must exit.
                await self.plugins.stop(max(self.shutdown.remaining(), MIN_STOP_HOOK_BUDGET_S))


def _cluster_node(config: HostConfig, source: str, tracing: bool) -> ClusterNode:
    """Imported only here: a host without ``[cluster]`` never loads a Redis client."""
    assert config.cluster is not None
    try:
        from mcp_host.cluster.node import ClusterNode
    except ImportError as exc:
        install = f"{own_program('pip')} install 'mcp-host[cluster]'"
        problem = Problem("cluster", f"needs the redis package ({exc}): {install}")
        raise ConfigError(source, [problem]) from None
    return ClusterNode(config.cluster, config.limits.max_body_bytes, tracing)


def prepare_host(
    config: HostConfig,
    source: str = "<config>",
    *,
    discover: bool = True,
    extra_plugins: Iterable[tuple[str, Any]] = (),
) -> Host:
    """Discover and configure the plugins; the config's mistakes are left in ``Host.problems``."""
    plugins = PluginManager()
    if discover:
        plugins.discover(config)
    for name, plugin in extra_plugins:
        plugins.add(plugin, name, config)
    problems = configure_plugins(plugins, config)
    blueprints, selection_problems = build_blueprints(config, plugins.records.values())
    problems.extend(selection_problems)
    return Host(config=config, source=source, plugins=plugins, blueprints=blueprints, problems=problems)
