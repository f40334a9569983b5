"""Reloading a running host: its config and its installed plugins, without dropping a client.

A reload is one transaction. It reads and validates the config file, discovers the plugins
again (loading those installed or enabled since), configures the new ones and builds the
servers' blueprints; any mistake the config holds, with the same file and key ``mcp-host
check`` names, refuses the whole reload and the host serves on as before. Only then are the
new plugins started (``host_started``, isolated as at start: one that fails is logged and left
out) and the new blueprints swapped in:

- new sessions get them at once;
- every live session keeps its server, its id and its plugins' state, and is brought to its
  key's new blueprint in place (``server_update``), with ``session_started`` for plugins it
  gains and ``session_ended`` for those it loses; it is then sent the ``list_changed``
  notifications of what changed, and ``subscriptions/listen`` streams get the same events;
- a session of a server the config no longer has is ended, with a log line;
- a plugin disabled by the config stops being offered; its ``host_stopping`` runs once no
  request of it runs any more. Its code stays imported: Python cannot unload a module.

What a reload does not change is logged as needing a restart (``reload_scope``): among it,
the settings of a plugin that is already running (its ``host_started`` ran with the old
ones), and new code of an upgraded plugin, which is not imported again.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from anyio.abc import TaskGroup
from mcp.server.subscriptions import ServerEvent

from mcp_host.blueprints import ServerBlueprint, build_blueprints
from mcp_host.config import ConfigError, HostConfig, Problem
from mcp_host.host import Host
from mcp_host.live_tokens import end_sessions_of_revoked_tokens
from mcp_host.plugin_config import changed_settings_problems, configure_added
from mcp_host.plugins import PluginRecord, PluginStatus
from mcp_host.reload_scope import applied_config, apply_limits
from mcp_host.server_routes import ServerRoutes
from mcp_host.server_update import list_changes, update_identity, update_server
from mcp_host.servers import answer_completions
from mcp_host.shutdown import MIN_STOP_HOOK_BUDGET_S

logger = logging.getLogger(__name__)

ConfigReader = Callable[[], tuple[HostConfig, str]]
"""Reads the config file afresh, with the command line's overrides: the config and its source."""

HOST_STOPPING_BUDGET_S = 10.0
"""How long the ``host_stopping`` of a plugin a reload took out may take."""


@dataclass
class _Plan:
    """What a reload will change, all of it validated."""

    config: HostConfig
    source: str
    blueprints: dict[str, ServerBlueprint]
    added: list[PluginRecord]
    retiring: list[PluginRecord]
    needs_restart: list[str]


class Reloader:
    """Reloads ``host`` from ``read_config``: at most one reload at a time."""

    def __init__(self, host: Host, read_config: ConfigReader) -> None:
        self._host = host
        self._read_config = read_config
        self._lock = anyio.Lock()
        self._retiring: dict[str, PluginRecord] = {}
        self._tasks: TaskGroup | None = None
        self._routes: ServerRoutes | None = None

    def follow(self, routes: ServerRoutes) -> None:
        """Keep ``routes`` (the app's) in step with the servers each reload configures."""
        self._routes = routes

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Reloads may run inside. On the way out, plugins taken out by a reload and still
        waiting for their last request are stopped at once, as the host stops."""
        try:
            async with anyio.create_task_group() as tasks:
                self._tasks = tasks
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            self._tasks = None
            if self._retiring:
                await self._stop(list(self._retiring.values()))

    async def reload(self) -> bool:
        """Reload once; ``False`` when the config was refused (the host serves as before)."""
        async with self._lock:
            host = self._host
            started = time.perf_counter()
            try:
                plan = self._prepare()
            except ConfigError as exc:
                host.metrics.reloads.labels("refused").inc()
                logger.error(
                    "reload refused, serving the previous config: %s",
                    exc,
                    extra={"event": "reload_refused", "problems": [str(p) for p in exc.problems]},
                )
                return False
            except Exception:
                host.metrics.reloads.labels("refused").inc()
                logger.exception("reload refused, serving the previous config: it failed unexpectedly")
                return False
            try:
                await self._apply(plan, started)
            except Exception:
                # A bug of ours, past the point of no return: said loudly, the host serves on.
                logger.exception("reload failed while it was being applied")
                host.metrics.reloads.labels("failed").inc()
                return False
            host.metrics.reloads.labels("applied").inc()
            return True

    # --- the transaction: nothing here changes what clients see ---------------------------

    def _prepare(self) -> _Plan:
        host = self._host
        config, source = self._read_config()
        plugins = host.plugins
        problems = [
            Problem(
                f"plugins.{name}.enabled",
                f"{name!r} is still stopping since the last reload (its host_stopping has not run "
                "yet); reload again once it has",
            )
            for name in self._retiring
            if config.plugin_entry(name).enabled
        ]
        if problems:
            raise ConfigError(source, problems)
        retiring = [record for record in plugins.loaded() if not config.plugin_entry(record.name).enabled]
        leaving = {id(record) for record in retiring}
        before = dict(plugins.records)
        added = plugins.discover_added(config)
        try:
            kept = [record for record in plugins.loaded() if id(record) not in leaving]
            problems = configure_added(plugins, added, kept, config)
            for record in kept:
                if record is not before.get(record.name):
                    continue  # just configured from the new table
                entry = config.plugin_entry(record.name)
                if entry != host.config.plugin_entry(record.name):
                    written = config.written("plugins", record.name)
                    problems.extend(changed_settings_problems(record, entry, written))
            view = [
                dataclasses.replace(record, status=PluginStatus.DISABLED) if id(record) in leaving else record
                for record in plugins.records.values()
            ]
            blueprints, selection_problems = build_blueprints(config, view)
            problems.extend(selection_problems)
            if problems:
                raise ConfigError(source, problems)
        except BaseException:
            plugins.restore(before)
            raise
        applied, needs_restart = applied_config(host.config, config, kept_plugins=before)
        return _Plan(applied, source, blueprints, added, retiring, needs_restart)

    # --- the swap --------------------------------------------------------------------------

    async def _apply(self, plan: _Plan, started: float) -> None:
        host = self._host
        plugins = host.plugins
        failed_before = len(plugins.failed())
        await plugins.start(host.plugin_changes, plan.added)
        blueprints = plan.blueprints
        if len(plugins.failed()) > failed_before:
            # A plugin that failed to start takes its tools out of every server, as at start.
            blueprints, _ = build_blueprints(plan.config, _without(plugins.records.values(), plan.retiring))
        for record in plan.retiring:
            record.status = PluginStatus.DISABLED
            self._retiring[record.name] = record
        old_auth = host.config.auth
        host.config, host.source, host.blueprints = plan.config, plan.source, blueprints
        apply_limits(host)
        updated = await self._update_live_servers(blueprints)
        end_sessions_of_revoked_tokens(host, old_auth)
        if self._routes is not None:
            await self._routes.sync()
        for key in plan.needs_restart:
            logger.warning("reload: %s changed in %s; that takes a restart", key, plan.source)
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info(
            "reloaded %s: plugins added %s, taken out %s; %d live sessions updated in %.0f ms",
            plan.source,
            [record.name for record in plan.added if record.is_loaded] or "none",
            [record.name for record in plan.retiring] or "none",
            updated,
            elapsed_ms,
            extra={
                "event": "reloaded",
                "duration_ms": round(elapsed_ms, 1),
                "plugins_added": [record.name for record in plan.added if record.is_loaded],
                "plugins_removed": [record.name for record in plan.retiring],
            },
        )
        for record in plan.retiring:
            if self._tasks is not None:
                self._tasks.start_soon(self._retire, record)

    async def _update_live_servers(self, blueprints: dict[str, ServerBlueprint]) -> int:
        """Every running server to its key's new blueprint; the sessions of removed keys end.
        Each key's clients are told once of what changed for it. The number of sessions updated."""
        factory = self._host.factory
        events_by_key: dict[str, list[ServerEvent]] = {}
        updated = 0
        for live_key, live in list(factory.live.items()):
            old = live.served.current
            new = blueprints.get(old.key)
            if new is None:
                if live.session is None:
                    del factory.live[live_key]  # its routes go with the server's (ServerRoutes)
                elif live.scope is not None:
                    logger.warning(
                        "session %s ended: the reload removed its server %r",
                        live.session.id,
                        old.key,
                        extra={"event": "session_ended_by_reload", **live.session.log_fields()},
                    )
                    live.scope.cancel()
                continue
            update_server(live.server, old, new)
            if new.completions:
                answer_completions(live.server, live.served)
            if live.session is None and old.profile != new.profile:
                update_identity(live.server, new.profile, self._host.sessionless_options(new).cache_hints)
            live.served.current = new
            events_by_key.setdefault(old.key, list_changes(old, new))
            if live.session is not None:
                updated += 1
                joined = [record for record in new.plugins if not old.serves(record.name)]
                left = [record for record in old.plugins if not new.serves(record.name)]
                await factory.plugins_joined(joined, live.session)
                await factory.plugins_left(left, live.session)
        for key, events in events_by_key.items():
            for event in events:
                await self._host.changes.publish([key], event)
        return updated

    async def _retire(self, record: PluginRecord) -> None:
        """``host_stopping`` once the plugin's last request has finished, then its hooks are gone."""
        await self._host.factory.plugin_use.wait_idle(record.name)
        await self._stop([record])

    async def _stop(self, records: list[PluginRecord]) -> None:
        host = self._host
        budget = max(min(HOST_STOPPING_BUDGET_S, host.shutdown.remaining()), MIN_STOP_HOOK_BUDGET_S)
        await host.plugins.call_each_within(
            records, "host_stopping", budget, lambda record: {"settings": record.settings}, " (reload)"
        )
        for record in records:
            host.plugins.unload(record)
            self._retiring.pop(record.name, None)
            logger.info("plugin %r stopped: the reload took it out", record.name)


def _without(records: Iterable[PluginRecord], retiring: list[PluginRecord]) -> list[PluginRecord]:
    leaving = {id(record) for record in retiring}
    return [record for record in records if id(record) not in leaving]
