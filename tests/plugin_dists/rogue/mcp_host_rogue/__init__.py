"""A plugin written the way the host must survive: it blocks the event loop, returns what
cannot be sent, floods its client and hangs in its hooks, each when its settings say so."""

import json
import time
from pathlib import Path

import anyio
from pydantic import BaseModel, ConfigDict, Field

from mcp_host import current_session, hookimpl


class RogueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hang_on_session_end_s: float = Field(0, description="How long session_ended sleeps.")
    hang_on_stop_s: float = Field(0, description="How long host_stopping sleeps.")
    events_file: str | None = Field(None, description="Where hooks append JSON lines.")


def _record(settings: RogueSettings, event: str, **fields: object) -> None:
    if settings.events_file:
        with Path(settings.events_file).open("a", encoding="utf-8") as events:
            events.write(json.dumps({"plugin": "rogue", "event": event, **fields}) + "\n")


@hookimpl
def plugin_settings():
    return RogueSettings


@hookimpl
def register_tools(register, settings):
    async def block(seconds: float) -> str:
        """Block the event loop, as a careless `async def` tool does with `time.sleep`."""
        time.sleep(seconds)  # noqa: ASYNC251  # the mistake this plugin exists to make
        return "blocked"

    def sync_block(seconds: float) -> str:
        """Sleep in a worker thread."""
        time.sleep(seconds)
        return "slept"

    async def opaque() -> object:
        """Return an object that has no JSON form."""
        return object()

    async def mistyped() -> int:
        """Return something other than its declared type."""
        return "not a number"  # type: ignore[return-value]

    async def blob(mib: int) -> str:
        """Return `mib` MiB of text."""
        return "x" * (mib * 1024 * 1024)

    async def whoami() -> str:
        """The id of the calling client's session."""
        return current_session().id

    for tool in (block, sync_block, opaque, mistyped, blob, whoami):
        register(tool, name=f"rogue_{tool.__name__}")


@hookimpl
async def session_ended(session, settings):
    if settings.hang_on_session_end_s:
        _record(settings, "session_ended hangs", session=session.id)
        await anyio.sleep(settings.hang_on_session_end_s)
    _record(settings, "session_ended", session=session.id)


@hookimpl
async def host_stopping(settings):
    if settings.hang_on_stop_s:
        await anyio.sleep(settings.hang_on_stop_s)
    _record(settings, "host_stopping")
