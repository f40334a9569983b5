"""Each loaded plugin's ``[plugins.NAME]`` table, applied: its settings validated, its
contributions collected (under its ``prefix``, without its ``disabled_tools``), its tools
time-limited, and the tool names two plugins both claim.

Mistakes in the config are the user's to fix and come back as ``Problem``s; a plugin whose
own code fails here (its settings model, its defaults, a ``register_*`` hook) is marked
failed and the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from mcp_host.config import (
    HOST_PLUGIN_KEYS,
    NOT_WRITTEN,
    HostConfig,
    LimitsSection,
    PluginEntry,
    Problem,
    problems_from_validation,
    validate_as_written,
)
from mcp_host.plugins import PluginFailure, PluginManager, PluginRecord
from mcp_host.programs import own_program
from mcp_host.registration import Collector
from mcp_host.tool_guard import guard_tool
from mcp_host.worker_threads import WorkerThreads

REGISTRATION_HOOKS = ("register_tools", "register_resources", "register_prompts", "register_completions")


def configure_plugins(plugins: PluginManager, config: HostConfig) -> list[Problem]:
    """Validate each loaded plugin's settings and collect what it contributes.

    Returns the config's problems (unknown plugins, invalid settings the user wrote,
    tool-name clashes); the plugins' own failures are recorded on their records.
    """
    plugins.threads = WorkerThreads(config.limits.max_tool_threads)
    problems = _unknown_plugins(plugins, config)
    for record in plugins.loaded():
        problems.extend(_configure_one(plugins, record, config))
    problems.extend(tool_name_clashes(plugins.loaded()))
    return problems


def configure_added(
    plugins: PluginManager, added: Iterable[PluginRecord], serving: Iterable[PluginRecord], config: HostConfig
) -> list[Problem]:
    """``configure_plugins`` for the plugins a reload found (``added``), beside those it
    keeps (``serving``, which are not configured again): the config's problems."""
    problems = _unknown_plugins(plugins, config)
    for record in added:
        if record.is_loaded:
            problems.extend(_configure_one(plugins, record, config))
    problems.extend(tool_name_clashes(record for record in serving if record.is_loaded))
    return problems


def changed_settings_problems(record: PluginRecord, entry: PluginEntry, written: Any) -> list[Problem]:
    """The problems of a running plugin's new ``[plugins.NAME]`` table, checked against the
    settings model it was configured with; nothing is applied."""
    model = type(record.settings) if record.settings is not None else None
    if model is None:
        if entry.settings:
            unknown = ", ".join(sorted(entry.settings))
            return [
                Problem(f"plugins.{record.name}", f"unknown keys {unknown}: this plugin takes no settings")
            ]
        return []
    try:
        validate_as_written(model, entry.settings)
    except ValidationError as exc:
        return _with_host_keys(problems_from_validation(exc, model, ("plugins", record.name), written))
    return []


def _unknown_plugins(plugins: PluginManager, config: HostConfig) -> list[Problem]:
    installed = ", ".join(sorted(plugins.records)) or "none"
    return [
        Problem(
            f"plugins.{name}",
            f"no installed plugin is named {name!r} (installed: {installed}); "
            f"install it (for example `{own_program('mcp-host')} install mcp-host-{name}`) "
            "or set enabled = false",
        )
        for name, entry in config.plugins.items()
        if name not in plugins.records and entry.enabled
    ]


def _configure_one(plugins: PluginManager, record: PluginRecord, config: HostConfig) -> list[Problem]:
    entry = config.plugin_entry(record.name)
    problems = validate_settings(plugins, record, entry, config.written("plugins", record.name))
    if problems or not record.is_loaded:
        return problems
    collector = Collector(prefix=entry.prefix, disabled_tools=frozenset(entry.disabled_tools))
    registrars = (
        collector.register_tool,
        collector.register_resource,
        collector.register_prompt,
        collector.register_completion,
    )
    try:
        for hook_name, register in zip(REGISTRATION_HOOKS, registrars, strict=True):
            plugins.call(record, hook_name, register=register, settings=record.settings)
    except PluginFailure as exc:
        plugins.fail(record, str(exc))
        return []
    contributions = collector.contributions
    contributions.tools = [
        guard_tool(
            tool,
            record.name,
            time_limit(entry, config.limits, contributions.original_tool_names[tool.name]),
            plugins.threads,
        )
        for tool in contributions.tools
    ]
    record.contributions = contributions
    return [
        Problem(
            f"plugins.{record.name}.{key}",
            f"{record.name!r} has no tool named {name!r} (its tools: {sorted(collector.seen_tools)})",
        )
        for key, names in (
            ("disabled_tools", entry.disabled_tools),
            ("tool_timeouts", entry.tool_timeouts),
        )
        for name in names
        if name not in collector.seen_tools
    ]


def validate_settings(
    plugins: PluginManager, record: PluginRecord, entry: PluginEntry, written: Any = NOT_WRITTEN
) -> list[Problem]:
    """Validate the plugin's table against its model: the user's mistakes are problems,
    a plugin whose own model or defaults do not work has failed. ``written`` is the table
    as the file wrote it, to quote rejected values without expanding secrets."""
    key_path = ("plugins", record.name)
    try:
        model = plugins.call(record, "plugin_settings")
        if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise PluginFailure(f"plugin_settings returned {model!r}, not a pydantic model class")
    except PluginFailure as exc:
        plugins.fail(record, str(exc))
        return []
    if model is None:
        if entry.settings:
            unknown = ", ".join(sorted(entry.settings))
            return [Problem(".".join(key_path), f"unknown keys {unknown}: this plugin takes no settings")]
        return []
    try:
        record.settings = validate_as_written(model, entry.settings)
    except ValidationError as exc:
        if entry.settings:
            return _with_host_keys(problems_from_validation(exc, model, key_path, written))
        plugins.fail(record, f"its default settings are invalid: {exc.errors()[0]['msg']}")
    return []


def tool_name_clashes(records: Iterable[PluginRecord]) -> list[Problem]:
    """Tool names are global within a host: a second plugin offering a name is a problem."""
    owners: dict[str, PluginRecord] = {}
    problems = []
    for record in records:
        for tool_name in record.contributions.tool_names:
            first = owners.setdefault(tool_name, record)
            if first is record:
                continue
            original = record.contributions.original_tool_names[tool_name]
            problems.append(
                Problem(
                    f"plugins.{record.name}",
                    f"tool {tool_name!r} is provided by both {first.name!r} and {record.name!r}; "
                    f'give one a prefix ([plugins.{record.name}] prefix = "{record.name}_") '
                    f'or stop serving one (disabled_tools = ["{original}"])',
                )
            )
    return problems


def time_limit(entry: PluginEntry, limits: LimitsSection, tool_name: str) -> float:
    """A tool's own time limit (``tool_timeouts``), else its plugin's, else the host's."""
    if tool_name in entry.tool_timeouts:
        return entry.tool_timeouts[tool_name]
    return entry.call_timeout_s if entry.call_timeout_s is not None else limits.call_timeout_s


def _with_host_keys(problems: list[Problem]) -> list[Problem]:
    """Unknown-key hints for a plugin's table list the host's keys beside the plugin's."""
    host_keys = ", ".join(sorted(HOST_PLUGIN_KEYS))
    return [
        Problem(p.key_path, f"{p.message} (or the host's: {host_keys})")
        if p.message.startswith("unknown key")
        else p
        for p in problems
    ]
