"""A plugin that keeps per-client state and records its session hooks in a file.

It is written for sessions (its counter starts in ``session_started``) and knows nothing of
the 2026-07-28 revision, as a plugin author of hook API 1.1 would have written it; ``greet``
and ``touch_about`` use what hook API 1.2 added.
"""

import json
import time
from pathlib import Path
from typing import Annotated

import anyio
from pydantic import BaseModel, ConfigDict, Field

from mcp_host import Elicit, PluginChanges, Resolve, ToolError, current_session, hookimpl


class CounterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(0, description="First value of every client's counter.")
    events_file: str | None = Field(None, description="Where session hooks append JSON lines.")


def _record(settings: CounterSettings, event: str, session_id: str) -> None:
    if settings.events_file:
        with Path(settings.events_file).open("a", encoding="utf-8") as events:
            events.write(json.dumps({"event": event, "session": session_id}) + "\n")


class Name(BaseModel):
    name: str = Field(description="What to call you")


def _ask_name() -> Elicit[Name]:
    return Elicit("What is your name?", Name)


_changes: list[PluginChanges] = []


@hookimpl
def plugin_settings():
    return CounterSettings


@hookimpl
def host_started(changes):
    _changes[:] = [changes]


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

    async def greet(name: Annotated[Name, Resolve(_ask_name)]) -> str:
        """Greet the user, asking their name first."""
        return f"Hello, {name.name}! ({'sessionless' if current_session().sessionless else 'session'})"

    async def touch_about() -> str:
        """Tell subscribed clients that counter://about changed."""
        await _changes[0].resource_updated("counter://about")
        return "touched"

    register(increment)
    register(whoami)
    register(greet)
    register(touch_about)
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
