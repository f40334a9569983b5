"""The ``register`` callbacks handed to plugins, and what they collect.

Schemas are derived here, once per plugin at host start, so that building a server for each
connected client only hands these ready objects to the SDK.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.resources import FunctionResource
from mcp.server.mcpserver.tools import Tool
from mcp.shared.tool_name_validation import validate_tool_name
from mcp.shared.uri_template import UriTemplate
from mcp_types import ToolAnnotations


class ToolRegistrar(Protocol):
    """The ``register`` argument of the ``register_tools`` hook."""

    def __call__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        input_schema: dict[str, Any] | None = None,
    ) -> None: ...


class ResourceRegistrar(Protocol):
    """The ``register`` argument of the ``register_resources`` hook."""

    def __call__(
        self,
        fn: Callable[..., Any],
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
    ) -> None: ...


class PromptRegistrar(Protocol):
    """The ``register`` argument of the ``register_prompts`` hook."""

    def __call__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
    ) -> None: ...


class CompletionRegistrar(Protocol):
    """The ``register`` argument of the ``register_completions`` hook."""

    def __call__(
        self,
        fn: Callable[..., Any],
        *,
        prompt: str | None = None,
        resource_template: str | None = None,
    ) -> None: ...


CompletionKey = tuple[str, str]
"""What a completion completes: ``("ref/prompt", name)`` or ``("ref/resource", uri_template)``,
as the client's ``completion/complete`` request names it."""


class RegistrationError(Exception):
    """A plugin registered something the host cannot serve."""


@dataclass(frozen=True)
class ResourceTemplateSpec:
    """A resource template; the SDK offers no prebuilt form, so it is added per server."""

    fn: Callable[..., Any]
    uri_template: str
    name: str | None
    title: str | None
    description: str | None
    mime_type: str | None


@dataclass
class Contributions:
    """Everything one plugin contributes, with the final (prefixed) names."""

    tools: list[Tool] = field(default_factory=list)
    resources: list[FunctionResource] = field(default_factory=list)
    resource_templates: list[ResourceTemplateSpec] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    completions: dict[CompletionKey, Callable[..., Any]] = field(default_factory=dict)
    original_tool_names: dict[str, str] = field(default_factory=dict)

    @property
    def tool_names(self) -> list[str]:
        return [tool.name for tool in self.tools]


def check_tool_name(name: str) -> None:
    """Reject a name that breaks MCP's tool-name rules (SEP-986), which the SDK only warns about."""
    result = validate_tool_name(name)
    if not result.is_valid:
        raise RegistrationError(f"invalid tool name {name!r}: {'; '.join(result.warnings)}")


def _published_schema(tool: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A hand-written input schema, checked for what MCP requires of every tool's."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise RegistrationError(f'tool {tool!r}: input_schema must be a JSON Schema with "type": "object"')
    try:
        json.dumps(schema)
    except (TypeError, ValueError) as exc:
        raise RegistrationError(f"tool {tool!r}: input_schema is not JSON: {exc}") from None
    return schema


def _description(fn: Callable[..., Any], description: str | None) -> str | None:
    """The docstring without its indentation: the SDK would publish it raw."""
    return description if description is not None else inspect.getdoc(fn)


class Collector:
    """Builds one plugin's ``Contributions`` through the three ``register`` callbacks."""

    def __init__(self, prefix: str = "", disabled_tools: frozenset[str] = frozenset()) -> None:
        self.prefix = prefix
        self.disabled_tools = disabled_tools
        self.contributions = Contributions()
        self.seen_tools: set[str] = set()

    def register_tool(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        input_schema: dict[str, Any] | None = None,
    ) -> None:
        base_name = name if name is not None else getattr(fn, "__name__", "")
        self.seen_tools.add(base_name)
        if base_name in self.disabled_tools:
            return
        final_name = self.prefix + base_name
        check_tool_name(final_name)
        if final_name in self.contributions.original_tool_names:
            raise RegistrationError(f"tool {final_name!r} is registered twice")
        try:
            tool = Tool.from_function(
                fn,
                name=final_name,
                title=title,
                description=_description(fn, description),
                annotations=annotations,
            )
        except Exception as exc:
            raise RegistrationError(f"tool {final_name!r} cannot be served: {exc}") from exc
        if input_schema is not None:
            tool = tool.model_copy(update={"parameters": _published_schema(final_name, input_schema)})
        self.contributions.tools.append(tool)
        self.contributions.original_tool_names[final_name] = base_name

    def register_resource(
        self,
        fn: Callable[..., Any],
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
    ) -> None:
        try:
            if UriTemplate.is_template(uri):
                self.contributions.resource_templates.append(
                    ResourceTemplateSpec(fn, uri, name, title, description, mime_type)
                )
            else:
                self.contributions.resources.append(
                    FunctionResource.from_function(
                        fn,
                        uri=uri,
                        name=name,
                        title=title,
                        description=_description(fn, description),
                        mime_type=mime_type,
                    )
                )
        except Exception as exc:
            raise RegistrationError(f"resource {uri!r} cannot be served: {exc}") from exc

    def register_completion(
        self,
        fn: Callable[..., Any],
        *,
        prompt: str | None = None,
        resource_template: str | None = None,
    ) -> None:
        if (prompt is None) == (resource_template is None):
            raise RegistrationError("register a completion for one prompt or one resource template")
        if prompt is not None:
            if prompt not in {registered.name for registered in self.contributions.prompts}:
                raise RegistrationError(
                    f"completion for prompt {prompt!r}, which the plugin did not register"
                )
            key: CompletionKey = ("ref/prompt", prompt)
        else:
            templates = {template.uri_template for template in self.contributions.resource_templates}
            if resource_template not in templates:
                raise RegistrationError(
                    f"completion for resource template {resource_template!r}, "
                    "which the plugin did not register"
                )
            key = ("ref/resource", str(resource_template))
        self.contributions.completions[key] = fn

    def register_prompt(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
    ) -> None:
        try:
            prompt = Prompt.from_function(
                fn, name=name, title=title, description=_description(fn, description)
            )
        except Exception as exc:
            raise RegistrationError(f"prompt {name or fn!r} cannot be served: {exc}") from exc
        self.contributions.prompts.append(prompt)
