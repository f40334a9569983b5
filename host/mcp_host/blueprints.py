"""What each configured server offers: its profile and the plugin contributions it serves.

A ``ServerBlueprint`` is computed when the plugins are configured (again if a plugin fails
in ``host_started``, and on each reload); every client connection then builds its own server
from it, and follows the blueprint of its server's key through reloads (``ServedBlueprint``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.resources import FunctionResource
from mcp.server.mcpserver.tools import Tool
from mcp.shared.uri_template import UriTemplate

from mcp_host.config import HostConfig, Problem, ServerProfile
from mcp_host.plugins import PluginRecord, PluginStatus
from mcp_host.registration import CompletionKey, ResourceTemplateSpec

DEFAULT_SERVER = "default"
"""The key of the server configured by ``[server]`` and served at ``/sse``."""


@dataclass(frozen=True)
class ServerBlueprint:
    key: str
    profile: ServerProfile
    plugins: tuple[PluginRecord, ...]
    tools: tuple[Tool, ...]
    resources: tuple[FunctionResource, ...]
    resource_templates: tuple[ResourceTemplateSpec, ...]
    prompts: tuple[Prompt, ...]
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    """The plugin behind each request that names a tool, prompt or resource:
    ``(method, name or URI) -> plugin``."""
    template_owners: tuple[tuple[UriTemplate, str], ...] = ()
    completions: dict[CompletionKey, tuple[str, Callable[..., Any]]] = field(default_factory=dict)
    """Completion functions, with the plugin each belongs to."""

    @property
    def prefix(self) -> str:
        """Where this server's endpoints are, relative to the app's root."""
        return "" if self.key == DEFAULT_SERVER else f"/servers/{self.key}"

    @property
    def sse_path(self) -> str:
        return f"{self.prefix}/sse"

    @property
    def messages_path(self) -> str:
        """Where HTTP+SSE clients post their messages (named in the stream's ``endpoint`` event)."""
        return f"{self.prefix}/messages/"

    @property
    def mcp_path(self) -> str:
        return f"{self.prefix}/mcp"

    def serves(self, plugin: str) -> bool:
        return any(record.name == plugin for record in self.plugins)

    @cached_property
    def tool_names(self) -> frozenset[str]:
        return frozenset(tool.name for tool in self.tools)

    def plugin(self, name: str) -> PluginRecord:
        return next(record for record in self.plugins if record.name == name)

    def owner_of(self, method: str, params: Mapping[str, Any]) -> str | None:
        """The plugin that answers a request (``tools/call``, ``prompts/get``, ``resources/read``,
        ``completion/complete``) from its raw ``params``; ``None`` for the host's own requests."""
        if method == "completion/complete":
            entry = self.completions.get(_completion_key(params.get("ref") or {}))
            return entry[0] if entry else None
        target = str(params.get("uri" if method == "resources/read" else "name"))
        owner = self.owners.get((method, target))
        if owner is None and method == "resources/read":
            matching = (
                plugin for template, plugin in self.template_owners if template.match(target) is not None
            )
            return next(matching, None)
        return owner


class ServedBlueprint:
    """The blueprint one running server answers from. A reload replaces ``current`` in place,
    so the server's middleware, which reads it on every request, follows without a rebuild."""

    def __init__(self, blueprint: ServerBlueprint) -> None:
        self.current = blueprint

    def owner_of(self, method: str, params: Mapping[str, Any]) -> str | None:
        return self.current.owner_of(method, params)

    @property
    def completions(self) -> dict[CompletionKey, tuple[str, Callable[..., Any]]]:
        return self.current.completions


def _completion_key(ref: Mapping[str, Any]) -> CompletionKey:
    if ref.get("type") == "ref/prompt":
        return ("ref/prompt", str(ref.get("name")))
    return ("ref/resource", str(ref.get("uri")))


def build_blueprints(
    config: HostConfig, records: Iterable[PluginRecord]
) -> tuple[dict[str, ServerBlueprint], list[Problem]]:
    """One blueprint per configured server, and the problems of their tool selections."""
    by_name = {record.name: record for record in records}
    blueprints: dict[str, ServerBlueprint] = {}
    problems: list[Problem] = []
    profiles = {DEFAULT_SERVER: (config.server.profile(), "server")}
    for key, profile in config.servers.items():
        profiles[key] = (profile, f"servers.{key}")
    if DEFAULT_SERVER in config.servers:
        problems.append(Problem(f"servers.{DEFAULT_SERVER}", "the name is reserved for [server]"))
    for key, (profile, key_path) in profiles.items():
        blueprint, selection_problems = _build_one(key, profile, key_path, by_name)
        blueprints[key] = blueprint
        problems.extend(selection_problems)
    return blueprints, problems


def _build_one(
    key: str, profile: ServerProfile, key_path: str, records: dict[str, PluginRecord]
) -> tuple[ServerBlueprint, list[Problem]]:
    problems = []
    if profile.plugins is None:
        chosen = [record for record in records.values() if record.status is PluginStatus.LOADED]
    else:
        chosen = []
        for name in profile.plugins:
            record = records.get(name)
            if record is None:
                problems.append(Problem(f"{key_path}.plugins", f"no installed plugin is named {name!r}"))
            elif record.status is PluginStatus.LOADED:
                chosen.append(record)

    tool_owners = {tool.name: record.name for record in chosen for tool in record.contributions.tools}
    tools = [tool for record in chosen for tool in record.contributions.tools]
    if profile.tools is not None:
        wanted = set(profile.tools)
        # A failed plugin's tools are unknown: naming them is not the config's mistake.
        selected = profile.plugins if profile.plugins is not None else list(records)
        some_plugin_failed = any(
            records[name].status is PluginStatus.FAILED for name in selected if name in records
        )
        unknown = sorted(wanted - set(tool_owners))
        if unknown and not some_plugin_failed:
            problems.append(Problem(f"{key_path}.tools", f"no plugin of this server has tools {unknown}"))
        tools = [tool for tool in tools if tool.name in wanted]
        tool_owners = {name: owner for name, owner in tool_owners.items() if name in wanted}

    # Lists in name order: the same on every request and process, whatever order the plugins
    # were discovered in (clients cache them, and 2026-07-28 pages may come from any process).
    blueprint = ServerBlueprint(
        key=key,
        profile=profile,
        plugins=tuple(chosen),
        tools=tuple(sorted(tools, key=lambda tool: tool.name)),
        resources=tuple(
            sorted((r for record in chosen for r in record.contributions.resources), key=lambda r: str(r.uri))
        ),
        resource_templates=tuple(
            sorted(
                (t for record in chosen for t in record.contributions.resource_templates),
                key=lambda t: t.uri_template,
            )
        ),
        prompts=tuple(
            sorted((p for record in chosen for p in record.contributions.prompts), key=lambda p: p.name)
        ),
        owners={
            **{("tools/call", name): owner for name, owner in tool_owners.items()},
            **{
                ("prompts/get", p.name): record.name
                for record in chosen
                for p in record.contributions.prompts
            },
            **{
                ("resources/read", str(r.uri)): record.name
                for record in chosen
                for r in record.contributions.resources
            },
        },
        completions={
            key: (record.name, function)
            for record in chosen
            for key, function in record.contributions.completions.items()
        },
        template_owners=tuple(
            (UriTemplate.parse(t.uri_template), record.name)
            for record in chosen
            for t in record.contributions.resource_templates
        ),
    )
    return blueprint, problems
