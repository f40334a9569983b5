"""``completion/complete``: handing a client's request to the plugin that offers it."""

from __future__ import annotations

import inspect
from typing import Any

from mcp_types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)

from mcp_host.blueprints import ServedBlueprint
from mcp_host.registration import CompletionKey

MAX_VALUES = 100
"""The most values one completion answer may carry (the MCP specification's limit)."""


def completion_key(ref: PromptReference | ResourceTemplateReference) -> CompletionKey:
    return ("ref/prompt", ref.name) if isinstance(ref, PromptReference) else ("ref/resource", ref.uri)


class CompletionDispatcher:
    """The one completion handler an MCPServer takes, for every plugin's completions."""

    def __init__(self, blueprint: ServedBlueprint) -> None:
        self._blueprint = blueprint

    async def __call__(
        self,
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        entry = self._blueprint.completions.get(completion_key(ref))
        if entry is None:
            return Completion(values=[], total=0, has_more=False)
        _, function = entry
        chosen = (context.arguments if context else None) or {}
        values: Any = function(argument.name, argument.value, chosen)
        if inspect.isawaitable(values):
            values = await values
        found = [str(value) for value in values or []]
        return Completion(values=found[:MAX_VALUES], total=len(found), has_more=len(found) > MAX_VALUES)
