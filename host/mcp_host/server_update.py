"""Bringing a running SDK server to a new blueprint in place, and what its clients are told.

A reload does this to every live session's server and to each key's 2026-07-28 server: the
session goes on (its id, its streams, its plugins' state) and only its lists change. The
SDK's ``MCPServer`` adds and removes tools and prompts but has no way to remove a resource
or a template: those are taken from its managers' tables, the one place they are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from mcp.server.caching import CacheableMethod, CacheHint, validate_cache_hints
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import PromptsListChanged, ResourcesListChanged, ServerEvent, ToolsListChanged

from mcp_host.blueprints import ServerBlueprint
from mcp_host.config import ServerProfile
from mcp_host.servers import add_resource_template

T = TypeVar("T")


def list_changes(old: ServerBlueprint, new: ServerBlueprint) -> list[ServerEvent]:
    """The ``list_changed`` events that tell a client of ``old`` to list again under ``new``."""
    events: list[ServerEvent] = []
    if not _same(old.tools, new.tools):
        events.append(ToolsListChanged())
    if not _same(old.prompts, new.prompts):
        events.append(PromptsListChanged())
    if not (_same(old.resources, new.resources) and _same(old.resource_templates, new.resource_templates)):
        events.append(ResourcesListChanged())
    return events


def update_server(server: MCPServer[Any], old: ServerBlueprint, new: ServerBlueprint) -> None:
    """Take out of ``server`` what ``old`` offered and ``new`` does not, and add what is new.

    An entry a plugin contributed again (a new object under the same name) is replaced.
    """
    tools = server._tool_manager
    for tool in _gone(old.tools, new.tools):
        tools.remove_tool(tool.name)
    for tool in _gone(new.tools, old.tools):
        tools._tools[tool.name] = tool
    prompts = server._prompt_manager
    for prompt in _gone(old.prompts, new.prompts):
        prompts.remove_prompt(prompt.name)
    for prompt in _gone(new.prompts, old.prompts):
        prompts.add_prompt(prompt)
    resources = server._resource_manager
    for resource in _gone(old.resources, new.resources):
        del resources._resources[str(resource.uri)]
    for resource in _gone(new.resources, old.resources):
        resources.add_resource(resource)
    for template in _gone(old.resource_templates, new.resource_templates):
        del resources._templates[template.uri_template]
    for template in _gone(new.resource_templates, old.resource_templates):
        add_resource_template(server, template)


def update_identity(
    server: MCPServer[Any], profile: ServerProfile, cache_hints: Mapping[CacheableMethod, CacheHint]
) -> None:
    """A 2026-07-28 server's name, title, instructions and list caching, as its next
    ``server/discover`` and lists announce them. (A session keeps what its ``initialize`` said.)"""
    lowlevel = server._lowlevel_server
    lowlevel.name, lowlevel.title, lowlevel.instructions = profile.name, profile.title, profile.instructions
    # The SDK dumps its identity once per server, as a cached property: dropped, it is made again.
    lowlevel.__dict__.pop("_server_info_stamp_source", None)
    lowlevel.cache_hints = validate_cache_hints(cache_hints)


def _same(old: Sequence[object], new: Sequence[object]) -> bool:
    """The same entries: a plugin kept through a reload keeps its very objects."""
    return len(old) == len(new) and all(a is b for a, b in zip(old, new, strict=True))


def _gone(old: Sequence[T], new: Sequence[T]) -> list[T]:
    """Entries of ``old`` that ``new`` lacks, or holds as another object."""
    kept = {id(entry) for entry in new}
    return [entry for entry in old if id(entry) not in kept]
