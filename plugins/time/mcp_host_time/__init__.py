"""mcp-host-time: an mcp-host plugin.

mcp-host finds it through the ``time`` entry point in the ``mcp_host`` group (see
pyproject.toml) and calls the hooks below; the hook API is documented in
``mcp_host.hookspecs``.
"""

from typing import Annotated

from mcp_host import ToolError, ToolRegistrar, hookimpl
from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """The ``[plugins.time]`` table of the mcp-host config.

    Give every field a default, so that the plugin runs without a table, and a
    description; ``extra="forbid"`` turns a mistyped key into an error.
    """

    model_config = ConfigDict(extra="forbid")

    greeting: str = Field(
        default="Hello", min_length=1, description="The first word of every greeting."
    )


@hookimpl
def plugin_settings() -> type[Settings]:
    return Settings


@hookimpl
def register_tools(register: ToolRegistrar, settings: Settings) -> None:
    # The tool's input schema comes from its signature, its description from its
    # docstring, and its output schema from its return annotation.
    async def time_greet(
        who: Annotated[str, Field(description="Whom to greet, e.g. 'Ada'.")],
    ) -> str:
        """Greet someone by name."""
        if not who.strip():
            # A ToolError's message reaches the model; any other exception is hidden.
            raise ToolError("who must not be empty; give a name, e.g. 'Ada'")
        return f"{settings.greeting}, {who.strip()}!"

    register(time_greet, title="Greet")
