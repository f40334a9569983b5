"""A plugin that keeps per-client state and records its session hooks in a file."""

import json
import time
from pathlib import Path

import anyio
from pydantic import BaseModel, ConfigDict, Field

from mcp_host import ToolError, current_session, hookimpl


class CounterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(0, description="First value of every client's counter.")
    events_file: str | None = Field(None, description="Where session hooks append JSON lines.")


def _record(settings: CounterSettings, event: str, session_id: str) -> None:
    if settings.events_file:
        with Path(settings.events_file).open("a", encoding="utf-8") as events:
            events.write(json.dumps({"event": event, "session": session_id}) + "\n")


@hookimpl
def plugin_settings():
    return CounterSettings


@hookimpl
def register_tools(register, settings):
    async def increment(by: int = 1) -> int:
        """Add `by` to this client's counter and return the new value."""
        if by < 1:
            raise ToolError("by must be 1 or more")
        state = current_session().state
        state["count"] += by
        return state["count"]

    async def whoami() -> str:
        """The id of the calling client's session."""
        return current_session().id

    async def nap(seconds: float) -> str:
        """Sleep, recording in the events file whether the nap was cut short."""
        session_id = current_session().id
        _record(settings, "nap started", session_id)
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            _record(settings, "nap cancelled", session_id)
            raise
        return "rested"

    def sync_nap(seconds: float) -> str:
        """Sleep in a plain function, which the host runs in a worker thread."""
        time.sleep(seconds)
        return "rested"

    async def crash() -> str:
        """Fail the way a buggy tool does."""
        raise RuntimeError("database password is hunter2")

    register(increment)
    register(whoami)
    register(nap)
    register(sync_nap)
    register(crash)


@hookimpl
def register_resources(register):
    register(lambda: "counts per client", "counter://about", name="about", mime_type="text/plain")


@hookimpl
def register_prompts(register):
    def count_to(n: int) -> str:
        """Ask the model to count."""
        return f"Count to {n}."

    register(count_to)


@hookimpl
def session_started(session, settings):
    session.state["count"] = settings.start
    _record(settings, "started", session.id)


@hookimpl
async def session_ended(session, settings):
    _record(settings, "ended", session.id)
