"""The plugin manager: discovers plugins, loads each on its own, and calls their hooks.

A broken plugin never takes the host down. Whatever goes wrong with one (it fails to
import, its hook implementations do not match the specs, its settings model is unusable,
a hook raises) is logged loudly with the plugin's name, distribution, version and the error,
the plugin is marked ``failed`` and the host goes on with the others.

What the config says about each plugin (its settings, prefix, time limits) is applied by
``mcp_host.plugin_config``; this module only finds plugins and calls them.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import anyio
import pluggy
from pydantic import BaseModel

from mcp_host import hookspecs
from mcp_host.config import HostConfig, LimitsSection
from mcp_host.registration import Contributions
from mcp_host.worker_threads import WorkerThreads

logger = logging.getLogger(__name__)


class PluginStatus(StrEnum):
    LOADED = "loaded"
    FAILED = "failed"
    DISABLED = "disabled"


@dataclass
class PluginRecord:
    """What the host knows about one plugin, whatever became of it."""

    name: str
    distribution: str | None = None
    version: str | None = None
    status: PluginStatus = PluginStatus.LOADED
    error: str | None = None
    plugin: Any = None
    settings: BaseModel | None = None
    contributions: Contributions = field(default_factory=Contributions)

    @property
    def is_loaded(self) -> bool:
        return self.status is PluginStatus.LOADED

    @property
    def origin(self) -> str:
        if self.distribution is None:
            return "not installed as a distribution"
        return f"{self.distribution} {self.version}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": str(self.status),
            "error": self.error,
            "tools": self.contributions.tool_names,
            "resources": [str(resource.uri) for resource in self.contributions.resources]
            + [template.uri_template for template in self.contributions.resource_templates],
            "prompts": [prompt.name for prompt in self.contributions.prompts],
        }


class PluginFailure(Exception):
    """A plugin could not be used; the message says what happened, in one line."""


def describe_exception(exc: BaseException) -> str:
    """``Type: message (at file:line)``, pointing at the innermost frame that raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


class PluginManager:
    """Owns the pluggy manager and one ``PluginRecord`` per discovered plugin."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        # One caller per plugin and hook: session hooks run on every connection.
        self._callers: dict[tuple[str, str], Any] = {}
        self.threads = WorkerThreads(LimitsSection().max_tool_threads)
        """The worker threads every plugin's plain ``def`` tools share (``[limits] max_tool_threads``)."""

    # --- discovery -------------------------------------------------------------------------

    def discover(self, config: HostConfig | None = None) -> None:
        """Load every plugin announced in the ``mcp_host`` entry-point group, one at a time.

        Plugins disabled in ``config`` are recorded but never imported.
        """
        for entry_point in sorted(entry_points(group=hookspecs.PROJECT_NAME), key=lambda ep: ep.name):
            self._load_entry_point(entry_point, config)

    def discover_added(self, config: HostConfig) -> list[PluginRecord]:
        """Load the plugins installed, or enabled in ``config``, since discovery last ran, and
        those that failed to import then.

        Python caches what is installed: those caches are dropped first, so that a distribution
        pip installed into the running host's environment is found. (An editable install's code
        is found through a ``.pth`` file, which Python reads only at start: it fails to import.)
        ``restore`` undoes this when the reload that asked is refused.
        """
        importlib.invalidate_caches()
        added = []
        for entry_point in sorted(entry_points(group=hookspecs.PROJECT_NAME), key=lambda ep: ep.name):
            known = self.records.get(entry_point.name)
            if known is not None:
                # Disabled until now, or never imported (a dependency may have been installed
                # since): loaded afresh. A plugin whose code ran keeps its record.
                retry = known.status is PluginStatus.DISABLED or (
                    known.status is PluginStatus.FAILED and known.plugin is None
                )
                if not retry or not config.plugin_entry(known.name).enabled:
                    continue
                del self.records[known.name]
            self._load_entry_point(entry_point, config)
            added.append(self.records[entry_point.name])
        return added

    def restore(self, records: dict[str, PluginRecord]) -> None:
        """Back to ``records`` (a copy of ``self.records`` taken before ``discover_added``)."""
        kept = {id(record) for record in records.values()}
        for record in self.records.values():
            if id(record) not in kept and record.plugin is not None and self._pm.is_registered(record.plugin):
                self._pm.unregister(record.plugin)
        self.records = records
        self._callers.clear()

    def unload(self, record: PluginRecord) -> None:
        """A plugin a reload took out, after its ``host_stopping``: its hooks are never called
        again. Its code stays imported: Python cannot unload a module."""
        record.status = PluginStatus.DISABLED
        if record.plugin is not None and self._pm.is_registered(record.plugin):
            self._pm.unregister(record.plugin)
        self._callers.clear()

    def _load_entry_point(self, entry_point: EntryPoint, config: HostConfig | None) -> None:
        dist = entry_point.dist
        record = PluginRecord(
            name=entry_point.name,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
        )
        if entry_point.name in self.records:
            other = self.records[entry_point.name]
            record.status = PluginStatus.FAILED
            record.error = f"the name {entry_point.name!r} is already taken by {other.origin}"
            self._report(record)
            self.records[f"{entry_point.name} ({record.origin})"] = record
            return
        self.records[record.name] = record
        if config is not None and not config.plugin_entry(record.name).enabled:
            record.status = PluginStatus.DISABLED
            return
        try:
            plugin = entry_point.load()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.fail(record, f"failed to import {entry_point.value!r}: {describe_exception(exc)}")
            return
        self._register(record, plugin)

    def add(self, plugin: Any, name: str, config: HostConfig | None = None) -> PluginRecord:
        """Register a plugin object directly (tests and embedding), as discovery would."""
        record = PluginRecord(name=name)
        self.records[name] = record
        if config is not None and not config.plugin_entry(name).enabled:
            record.status = PluginStatus.DISABLED
            return record
        self._register(record, plugin)
        return record

    def _register(self, record: PluginRecord, plugin: Any) -> None:
        try:
            self._pm.register(plugin, name=record.name)
        except Exception as exc:
            self.fail(record, f"invalid hook implementation: {exc}")
            return
        record.plugin = plugin
        self._callers.clear()  # a cached caller leaves out only the plugins known when it was made
        callers = self._pm.get_hookcallers(plugin) or []
        unknown = sorted(caller.name for caller in callers if not caller.has_spec())
        if unknown:
            known = ", ".join(sorted(name for name in vars(self._pm.hook) if not name.startswith("_")))
            self.fail(record, f"implements unknown hooks {unknown}; the hooks are: {known}")
        elif not callers:
            self.fail(record, "implements no hooks: mark its functions with @mcp_host.hookimpl")

    # --- calling hooks ---------------------------------------------------------------------

    def loaded(self) -> Iterator[PluginRecord]:
        return (record for record in list(self.records.values()) if record.status is PluginStatus.LOADED)

    def call(self, record: PluginRecord, hook_name: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of a hook; ``None`` if it has none.

        Any exception becomes a ``PluginFailure`` naming the plugin and the hook.
        """
        try:
            results = self._caller(record, hook_name)(**kwargs)
        except Exception as exc:
            raise PluginFailure(f"{hook_name} raised {describe_exception(exc)}") from exc
        return results[0] if results else None

    def implements(self, record: PluginRecord, hook_name: str) -> bool:
        """Whether the plugin has an implementation of the hook: per-session hooks that no plugin
        implements are not called at all."""
        return bool(self._caller(record, hook_name).get_hookimpls())

    def _caller(self, record: PluginRecord, hook_name: str) -> Any:
        caller = self._callers.get((hook_name, record.name))
        if caller is None:
            others = [plugin for plugin in self._pm.get_plugins() if plugin is not record.plugin]
            caller = self._pm.subset_hook_caller(hook_name, remove_plugins=others)
            self._callers[hook_name, record.name] = caller
        return caller

    async def call_async(self, record: PluginRecord, hook_name: str, **kwargs: Any) -> None:
        """Call a hook that may be ``async def``, awaiting its result."""
        result = self.call(record, hook_name, **kwargs)
        if inspect.isawaitable(result):
            await _await_reporting(result, hook_name)

    async def start(
        self, changes: Callable[[str], object], records: list[PluginRecord] | None = None
    ) -> None:
        """Run ``host_started`` for every loaded plugin (of ``records``, when given: those a
        reload added); a plugin that fails is dropped.

        ``changes(name)`` makes the plugin's ``changes`` argument.
        """
        chosen = self.loaded() if records is None else records
        for record in [record for record in chosen if record.is_loaded]:
            try:
                await self.call_async(
                    record, "host_started", settings=record.settings, changes=changes(record.name)
                )
            except PluginFailure as exc:
                self.fail(record, str(exc))

    async def stop(self, budget_s: float) -> None:
        """Run ``host_stopping`` for every plugin that started, each within ``budget_s``;
        failures are only logged."""
        await self.call_each_within(
            list(self.loaded()), "host_stopping", budget_s, lambda record: {"settings": record.settings}
        )

    async def call_each_within(
        self,
        records: list[PluginRecord],
        hook_name: str,
        budget_s: float,
        arguments: Callable[[PluginRecord], dict[str, Any]],
        context: str = "",
    ) -> None:
        """Call an ending hook of every plugin in ``records``, side by side, each on a time
        budget of its own and shielded from cancellation (they run as things shut down).

        A plugin that fails or overruns is logged by name (``context`` says where, e.g. "of
        session X") and cut short; the others run to their end regardless. A hook that blocks
        the event loop instead of awaiting cannot be cut short: the stall watchdog reports it.
        """

        async def call_one(record: PluginRecord) -> None:
            with anyio.move_on_after(budget_s) as budget:
                try:
                    await self.call_async(record, hook_name, **arguments(record))
                except PluginFailure as exc:
                    logger.error("plugin %r: %s%s: %s", record.name, hook_name, context, exc)
            if budget.cancelled_caught:
                logger.error(
                    "plugin %r: %s%s took over %.1f s and was cut short",
                    record.name,
                    hook_name,
                    context,
                    budget_s,
                    extra={"event": "hook_overrun", "plugin": record.name, "hook": hook_name},
                )

        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as group:
                for record in records:
                    group.start_soon(call_one, record)

    def failed(self) -> list[PluginRecord]:
        return [record for record in self.records.values() if record.status is PluginStatus.FAILED]

    # --- failure ---------------------------------------------------------------------------

    def fail(self, record: PluginRecord, error: str) -> None:
        """Take the plugin out: logged, its contributions dropped, its hooks never called again."""
        record.status = PluginStatus.FAILED
        record.error = error
        record.contributions = Contributions()
        if record.plugin is not None and self._pm.is_registered(record.plugin):
            self._pm.unregister(record.plugin)
        self._report(record)

    @staticmethod
    def _report(record: PluginRecord) -> None:
        logger.error("plugin %r (%s) failed and is not served: %s", record.name, record.origin, record.error)


async def _await_reporting(result: Awaitable[Any], hook_name: str) -> None:
    try:
        await result
    except Exception as exc:
        raise PluginFailure(f"{hook_name} raised {describe_exception(exc)}") from exc
