"""The hook API: everything a plugin can contribute to mcp-host, and when it is called.

This module is the public contract between the host and its plugins (see ``HOOK_API_VERSION``).
A plugin is any object (usually a module, sometimes an instance that keeps shared state)
announced through an entry point in the ``mcp_host`` group, whose functions are marked with
``mcp_host.hookimpl``. It implements only the hooks it needs, and each implementation may
accept only the arguments it uses, in any order: pluggy passes them by name.

Every hook is called for one plugin at a time, so a plugin that raises is reported and
skipped without touching the others. ``settings`` is always the plugin's own validated
settings object (an instance of the model returned by ``plugin_settings``) or ``None`` when
the plugin declares no settings.

The order, for each plugin: ``plugin_settings``, then ``register_tools``,
``register_resources``, ``register_prompts`` and ``register_completions`` (once, at start-up,
before any event loop runs), then ``host_started``; then ``session_started`` and
``session_ended`` once per client session; last ``host_stopping``.

A reload of the running host (``SIGHUP``, ``mcp-host reload``) keeps that order for each
plugin. A plugin it adds (newly installed or enabled) gets the start-up hooks then, while
the host serves, and ``session_started`` for each open session it joins; a plugin it takes
out (disabled) gets ``session_ended`` for each open session it leaves and ``host_stopping``
once its last request has finished, while the host serves on. A plugin that stays keeps its
settings and is not called again.

Sessions and the 2026-07-28 revision: a handshake-era client (HTTP+SSE, or ``/mcp`` after
``initialize``) has a session, with its own server, its ``session_started`` and
``session_ended``, and a ``session.state`` that lasts as long as it does. A request of the
sessionless revision 2026-07-28 belongs to no session, so it is a session of its own for the
plugin that serves it: that plugin's ``session_started`` runs before the tool, prompt or
resource, and its ``session_ended`` after the answer, with ``session.sessionless`` true and a
``state`` that lives for that one request. A plugin written for sessions serves such requests
unchanged; memory across calls needs a session (or the client's ``requestState``, which the
host seals, in a multi-round call).

Hooks that may do I/O (``host_started``, ``host_stopping``, ``session_started``,
``session_ended``) may be written as ``async def``; the host awaits what they return.

Compatibility: within one major version, hooks and arguments are only ever added, never
removed or changed. A plugin that needs a newer hook declares ``mcp-host>=X.Y``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pydantic import BaseModel

    from mcp_host.changes import PluginChanges
    from mcp_host.registration import CompletionRegistrar, PromptRegistrar, ResourceRegistrar, ToolRegistrar
    from mcp_host.session import PluginSession

PROJECT_NAME = "mcp_host"
"""The pluggy project name, and the entry-point group plugins announce themselves in."""

HOOK_API_VERSION = "1.3"
"""Version of the hook API described in this module (major.minor). 1.1 added
``register_completions``; 1.2 validates ``plugin_settings`` models strictly, with an opt-out;
added the helpers for tools ``mcp_host.tool_errors`` (a domain error as the error result the
model reads) and ``mcp_host.tool_result`` (text for the model and structured content); and
added the 2026-07-28 protocol revision (sessionless requests: ``PluginSession.sessionless``),
``host_started``'s ``changes``, ``input_schema=`` for tools, and asking the client mid-call
(``mcp_host.Resolve`` with ``Elicit``, ``Sample``, ``ListRoots``). 1.3 added
``PluginSession.caller``: who is calling (``mcp_host.Caller``: client id, subject, issuer,
scopes and the claims ``[auth.oauth] claims`` selects), so that a tool can act on the user's
behalf."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def plugin_settings() -> type[BaseModel] | None:
    """Declare the plugin's settings as a pydantic model class.

    The host validates the ``[plugins.<name>]`` table of the config against it (the host's
    own keys ``enabled``, ``prefix`` and ``disabled_tools`` removed first) and passes the
    instance as ``settings`` to every other hook. Give every field a default so that the
    plugin runs with no config at all. Unknown keys are rejected unless the model allows
    them, so set ``model_config = ConfigDict(extra="forbid")`` to be explicit.

    Since 1.2 values are validated strictly, as they are written in the config (pydantic's
    strict mode on the TOML values): ``days = "3"`` is no integer and ``verbose = "no"`` no
    boolean, while an integer is a valid float and a string still makes a ``Path``, a URL or
    a date. A model that must coerce sets ``strict=False`` in its ``model_config`` and is
    validated as before 1.2.

    Return ``None`` (or do not implement the hook) for a plugin without settings; then any
    key but the host's own in its table is a config error.
    """


@hookspec
def register_tools(register: ToolRegistrar, settings: Any) -> None:
    """Contribute tools, once, at host start.

    Call ``register(fn, name=None, title=None, description=None, annotations=None,
    input_schema=None)`` for each tool. The input schema is derived from ``fn``'s signature
    and the output schema from its return annotation, exactly as the MCP SDK's
    ``MCPServer.add_tool`` does; the description defaults to the docstring. ``input_schema``
    (hook API 1.2) publishes a hand-written JSON Schema (2020-12, ``"type": "object"``)
    instead of the derived one, for what a signature cannot say (``$defs``, ``if``/``then``,
    ``additionalProperties: false``); arguments are still checked against ``fn``'s
    signature, so keep the two in agreement. ``fn`` is shared by every connected client:
    prefer ``async def`` (a plain ``def`` runs in a worker thread and must be thread-safe).

    Raise ``mcp_host.ToolError`` inside a tool for a failure the model should read and act
    on; any other exception is reported to the client as a failed call without its text.
    Inside a call, ``mcp_host.current_session()`` gives the calling client's session, and
    its ``caller`` (hook API 1.3) who is calling: subject, scopes and selected claims of this
    request's token (the identity that opened the session), to act on that user's behalf
    (``None`` without tokens).

    A tool that needs the user's answer or the client's model mid-call declares a parameter
    ``Annotated[T, mcp_host.Resolve(ask)]`` whose resolver ``ask`` returns
    ``mcp_host.Elicit(message, Model)`` (ask the user), ``mcp_host.Sample(...)`` (ask the
    client's model) or ``mcp_host.ListRoots()``. The same body serves both protocol eras: in a
    session the host sends the client a request and waits for the answer; on a 2026-07-28
    request it answers ``input_required`` and runs the tool again when the client retries
    with the answer (the host seals the state in between, so a client cannot forge it).
    """


@hookspec
def register_resources(register: ResourceRegistrar, settings: Any) -> None:
    """Contribute resources, once, at host start.

    Call ``register(fn, uri, name=None, title=None, description=None, mime_type=None)``.
    A ``uri`` with ``{placeholders}`` registers a resource template whose placeholders
    are passed to ``fn`` as arguments. ``fn`` returns ``str`` (text) or ``bytes`` (blob).
    """


@hookspec
def register_prompts(register: PromptRegistrar, settings: Any) -> None:
    """Contribute prompts, once, at host start.

    Call ``register(fn, name=None, title=None, description=None)``. The prompt's arguments
    are ``fn``'s parameters; it returns a string, a message or a list of messages, as with
    the MCP SDK's ``MCPServer.prompt``.
    """


@hookspec
def register_completions(register: CompletionRegistrar, settings: Any) -> None:
    """Offer completions for the arguments of the plugin's own prompts and resource templates.

    Added in hook API 1.1. Call ``register(fn, prompt="name")`` or
    ``register(fn, resource_template="uri/{template}")``. The host calls
    ``fn(argument, value, context)`` (``async def`` or plain) while a client types ``value``
    for ``argument``; ``context`` holds the arguments already chosen. It returns the matching
    values, best first; the host sends the first 100.
    """


@hookspec
def host_started(settings: Any, changes: PluginChanges) -> Awaitable[None] | None:
    """Set up what the plugin shares between all clients (HTTP clients, pools, caches).

    Called once, after the host has loaded every plugin and before it accepts the first
    connection. A plugin whose ``host_started`` raises is reported as failed and its tools
    are not served (with ``--strict`` the host does not start).

    ``changes`` (added in hook API 1.2) is how the plugin tells clients, later, that one of
    its resources changed (``await changes.resource_updated(uri)``) or that its lists did
    (``resources_changed()``, ``tools_changed()``, ``prompts_changed()``). Keep it if the
    plugin's resources can change while the host runs: clients that subscribed to a resource
    (``resources/subscribe`` in a session, ``subscriptions/listen`` on a 2026-07-28 request)
    are told on every server that serves the plugin.
    """


@hookspec
def host_stopping(settings: Any) -> Awaitable[None] | None:
    """Release what ``host_started`` set up. Called once, as the host shuts down.

    Called only for plugins whose ``host_started`` succeeded (or that do not implement it),
    after every client session has ended.
    """


@hookspec
def session_started(session: PluginSession, settings: Any) -> Awaitable[None] | None:
    """A client connected to a server that serves this plugin.

    ``session.state`` is a dict private to this plugin and this client: keep per-client
    state there. Tools read it back through ``mcp_host.current_session()``. ``session.caller``
    (1.3) is who opened the session. If this hook raises, the error is logged and the session
    goes on.
    """


@hookspec
def session_ended(session: PluginSession, settings: Any) -> Awaitable[None] | None:
    """The client's session is over: it disconnected, or the host is stopping.

    Release per-client resources here. By now the session's in-flight calls have been
    cancelled. It runs shielded from cancellation, for at most a few seconds.
    """
