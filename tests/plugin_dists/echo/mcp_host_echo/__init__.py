"""The smallest useful plugin: one tool, one setting."""

from pydantic import BaseModel, ConfigDict

from mcp_host import hookimpl


class EchoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shout: bool = False


@hookimpl
def plugin_settings():
    return EchoSettings


@hookimpl
def register_tools(register, settings):
    def echo(text: str) -> str:
        """Say `text` back."""
        return text.upper() if settings.shout else text

    register(echo)
