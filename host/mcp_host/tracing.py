"""The host's part of each trace, through ``opentelemetry-api`` alone.

The SDK's ``OpenTelemetryMiddleware`` opens one SERVER span per JSON-RPC message, named
``tools/call get_weather`` and the like, with ``mcp.method.name``, ``gen_ai.tool.name`` and
the protocol version, as a child of the trace context the client put in ``_meta``. That span
is the request's span: the host adds what only it knows (session, configured server,
transport, plugin, a tool call's outcome and error id) rather than opening another. Argument
values are never recorded: they are the client's data.

A client that sends the W3C ``traceparent`` HTTP header instead gets the same parentage:
``TraceContextFromHeaders`` makes it the current context of the HTTP request, which the SDK
hands to the message's handler. When both are there, ``_meta`` wins (the SDK reads it).

Sessions get two short spans of their own, ``session start`` and ``session end``, around the
plugins' session hooks.

The middleware and the session spans are installed only when the host exports traces
(``mcp_host.telemetry``); otherwise what is left is ``record_tool_call``'s one look at the
current span, which then records nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from opentelemetry import context, propagate, trace
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.blueprints import ServedBlueprint
from mcp_host.session import HostSession

tracer = trace.get_tracer("mcp_host")

TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
"""The HTTP headers of W3C trace context (and baggage), as ASGI spells them."""

# Attribute names: the OpenTelemetry semantic conventions' where they have one, else the host's.
SESSION_ID = "mcp.session.id"
SERVER = "mcp_host.server"
"""The configured server's key: ``default`` or the name of a ``[servers.NAME]`` table."""
TRANSPORT = "mcp_host.transport"
"""``sse`` or ``streamable-http``."""
PLUGIN = "mcp_host.plugin"
OUTCOME = "mcp_host.tool.outcome"
"""What became of a tool call, as the host's log and metrics name it (``ok``, ``timeout``...)."""
ERROR_ID = "mcp_host.error.id"
"""The id under which the host's log has a crashed tool's traceback."""


def session_attributes(session: HostSession) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        SERVER: session.server,
        TRANSPORT: session.transport,
        "network.transport": "tcp",
        "network.protocol.name": "http",
    }
    if not session.sessionless:  # a 2026-07-28 request has no session; its id names the request
        attributes[SESSION_ID] = session.id
    return attributes


class RequestSpans:
    """Server middleware: the host's attributes on the SDK's span of each message."""

    def __init__(self, blueprint: ServedBlueprint, session: Callable[[], HostSession]) -> None:
        self._blueprint = blueprint
        self._session = session

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        span = trace.get_current_span()
        if span.is_recording():
            attributes = session_attributes(self._session())
            plugin = self._blueprint.owner_of(ctx.method, ctx.params or {})
            if plugin is not None:
                attributes[PLUGIN] = plugin
            span.set_attributes(attributes)
        return await call_next(ctx)


def record_tool_call(outcome: str, error_id: str | None) -> None:
    """A tool call's outcome (and a crash's error id) on the span of its request."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(OUTCOME, outcome)
        if error_id is not None:
            span.set_attribute(ERROR_ID, error_id)


@contextmanager
def session_span(event: str, session: HostSession) -> Iterator[None]:
    """``session start`` or ``session end``: the plugins' session hooks, timed."""
    attributes = session_attributes(session)
    if event == "end":
        attributes["mcp_host.session.duration_s"] = round(time.time() - session.started_at, 3)
    with tracer.start_as_current_span(f"session {event}", attributes=attributes):
        yield


class TraceContextFromHeaders:
    """ASGI middleware: the ``traceparent`` a client sent in the HTTP headers becomes the
    current trace context for its request, so the request's spans are children of it."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with trace_context_of(scope["headers"]):
            await self._app(scope, receive, send)


@contextmanager
def trace_context_of(headers: Iterable[tuple[bytes, bytes]]) -> Iterator[None]:
    """The trace context that ``headers`` (an ASGI scope's) carry, as the current one inside."""
    carrier = {
        name.decode("latin-1"): value.decode("latin-1") for name, value in headers if name in TRACE_HEADERS
    }
    if not carrier:
        yield
        return
    token = context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        context.detach(token)
