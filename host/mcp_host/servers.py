"""One MCP server per client: built from a blueprint, run on a transport's streams, torn down.

Transports only carry messages. Everything that makes a client's server its own (its
plugins' session hooks, its state, its entry in the session registry) happens here, so
every transport gets the same behaviour from one code path.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import anyio
from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.mcpserver import MCPServer
from mcp.server.models import InitializationOptions
from mcp.server.request_state import RequestStateSecurity
from mcp.server.subscriptions import SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CallToolResult,
    ListToolsResult,
    SetLevelRequestParams,
    SubscribeRequestParams,
    TextContent,
    UnsubscribeRequestParams,
)
from pydantic import ValidationError
from starlette.requests import Request

from mcp_host.blueprints import ServedBlueprint, ServerBlueprint
from mcp_host.call_report import Outcome, close_report, open_report
from mcp_host.changes import ChangeFeed
from mcp_host.completions import CompletionDispatcher
from mcp_host.config import LimitsSection
from mcp_host.drain import AnswerWhenCutShort, InFlight
from mcp_host.identity import caller_in, tools_allowed_in
from mcp_host.live_sessions import SessionRegistry
from mcp_host.log_level import FilteredWriteStream, SessionLogLevel
from mcp_host.metrics import HostMetrics
from mcp_host.output_bound import BoundedOutput
from mcp_host.plugin_use import PluginUse
from mcp_host.plugins import PluginFailure, PluginManager, PluginRecord
from mcp_host.registration import ResourceTemplateSpec
from mcp_host.security import caller_of
from mcp_host.session import Caller, HostSession, acting_for, sent_by
from mcp_host.shared_answers import SharedCatalogue
from mcp_host.shutdown import ShutdownClock
from mcp_host.tracing import RequestSpans, record_tool_call, session_span

logger = logging.getLogger(__name__)

TRANSPORT = "streamable-http"
"""The only transport that carries sessionless (2026-07-28) requests."""

ANNOUNCED_CHANGES = NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
"""Every session is told when its lists change: by a plugin (``PluginChanges``) or a reload."""

SESSION_ENDED_BUDGET_S = 5.0
"""How long each plugin's ``session_ended`` hook may take (they run side by side, shielded
from cancellation); less when the host is stopping and its grace has less left."""


class ServerFactory:
    """Builds and runs the per-client servers of one host."""

    def __init__(
        self,
        plugins: PluginManager,
        sessions: SessionRegistry,
        metrics: HostMetrics,
        version: str,
        max_concurrent_calls: int,
        changes: ChangeFeed,
        blueprints: Callable[[], Mapping[str, ServerBlueprint]],
        shutdown: ShutdownClock | None = None,
        tracing: bool = False,
        max_pending_output_bytes: int = LimitsSection().max_pending_output_bytes,
    ) -> None:
        self.plugins = plugins
        self.sessions = sessions
        self.metrics = metrics
        self.version = version
        self.max_concurrent_calls = max_concurrent_calls
        self.changes = changes
        self.shutdown = shutdown or ShutdownClock(0.0)
        self.tracing = tracing
        """Whether the host exports traces: only then does it add to them (``mcp_host.tracing``)."""
        self.max_pending_output_bytes = max_pending_output_bytes
        self.in_flight = InFlight()
        """Every request the servers are answering, for the drain when the host stops."""
        self.blueprints = blueprints
        """The current blueprint of every server key: what a new session is built from."""
        self.live: dict[str, LiveServer] = {}
        """The server of every session this process serves, by session id, and of each key's
        2026-07-28 requests (by ``sessionless:KEY``): what a reload updates in place."""
        self.plugin_use = PluginUse()
        """Requests each plugin is answering: a plugin taken out by a reload stops after its last."""
        self._catalogues: dict[str, SharedCatalogue] = {}
        """Per server: its list answers, shared by all its sessions (``mcp_host.shared_answers``)."""
        self._initialization: dict[str, tuple[ServerBlueprint, InitializationOptions]] = {}
        """Per server: what its sessions' ``initialize`` answers, and the blueprint it is of."""

    def build(self, blueprint: ServerBlueprint, session: HostSession) -> MCPServer[Any]:
        """The server of one client session: its lifespan is the session's."""
        return self._build_live(ServedBlueprint(blueprint), session).server

    def _build_live(self, served: ServedBlueprint, session: HostSession) -> LiveServer:
        @asynccontextmanager
        async def session_scope(_: MCPServer[Any]) -> AsyncIterator[HostSession]:
            async with self._session_lifetime(served, session):
                yield session

        server = self._build(
            served,
            lifespan=session_scope,
            middleware=[
                # Outermost: it sees each answer as it will be sent (filtered by _ToolAccess),
                # and the answer it hands out goes to the SDK alone, which copies it.
                self._catalogues.setdefault(served.current.key, SharedCatalogue()),
                AnswerWhenCutShort(self.in_flight),
                *self._request_spans(served, lambda: session),
                _JoinChangeFeed(self.changes, session),
                _ToolAccess(lambda: session),
                _ToolCalls(served, lambda: session, self.metrics, self.max_concurrent_calls),
                _PluginSessionMiddleware(served, lambda: session, self.plugin_use),
            ],
        )
        return LiveServer(server, served, session)

    def build_sessionless(self, blueprint: ServerBlueprint, modern: SessionlessOptions) -> MCPServer[Any]:
        """The one server that answers every 2026-07-28 request for ``blueprint``.

        Such a request belongs to no session, so this server has no session lifetime: each
        message is a session of its own, for the one plugin that serves it. It gets a
        request-scoped ``HostSession`` (what ``current_session()`` answers), and that plugin's
        ``session_started`` and ``session_ended`` run around it, so that a plugin written for
        sessions serves it unchanged. Tool calls pass the same guard, accounting and logging as
        in a session; ``max_concurrent_calls`` counts per client (its token, or its
        address), as there is no session to count in.
        """
        per_request = _RequestSession(blueprint.key)
        served = ServedBlueprint(blueprint)
        server = self._build(
            served,
            lifespan=None,
            middleware=[
                AnswerWhenCutShort(self.in_flight),
                per_request,
                *self._request_spans(served, per_request.current),
                _ToolAccess(per_request.current),
                _ToolCalls(served, per_request.current, self.metrics, self.max_concurrent_calls, _caller),
                _PluginSessionMiddleware(
                    served, per_request.current, self.plugin_use, self._request_lifetime
                ),
            ],
            request_state_security=modern.request_state_security,
            cache_hints=modern.cache_hints,
            subscriptions=modern.subscriptions,
        )
        self.live[sessionless_key(blueprint.key)] = LiveServer(server, served, None)
        return server

    def _request_spans(
        self, blueprint: ServedBlueprint, session: Callable[[], HostSession]
    ) -> list[ServerMiddleware[Any]]:
        return [RequestSpans(blueprint, session)] if self.tracing else []

    def _build(
        self,
        served: ServedBlueprint,
        *,
        lifespan: Callable[[MCPServer[Any]], AbstractAsyncContextManager[Any]] | None,
        middleware: list[ServerMiddleware[Any]],
        request_state_security: RequestStateSecurity | None = None,
        cache_hints: Mapping[CacheableMethod, CacheHint] | None = None,
        subscriptions: SubscriptionBus | None = None,
    ) -> MCPServer[Any]:
        blueprint = served.current
        profile = blueprint.profile
        server: MCPServer[Any] = MCPServer(
            name=profile.name,
            title=profile.title,
            instructions=profile.instructions,
            version=self.version,
            tools=list(blueprint.tools),
            resources=list(blueprint.resources),
            lifespan=lifespan,
            middleware=middleware,
            warn_on_duplicate_prompts=False,
            request_state_security=request_state_security,
            cache_hints=cache_hints,
            subscriptions=subscriptions,
        )
        for template in blueprint.resource_templates:
            add_resource_template(server, template)
        for prompt in blueprint.prompts:
            server.add_prompt(prompt)
        if blueprint.completions:
            answer_completions(server, served)
        return server

    async def serve(
        self,
        blueprint: ServerBlueprint,
        session: HostSession,
        read_stream: Any,
        write_stream: Any,
    ) -> None:
        """Serve one client until its streams close, or a reload ends it.

        The session is built from the current blueprint of ``blueprint``'s key: the transports
        route by key, and a reload may have replaced the blueprint they were made with.
        """
        current = self.blueprints().get(blueprint.key)
        if current is None:
            logger.warning("session %s refused: server %r was removed by a reload", session.id, blueprint.key)
            return
        blueprint = current
        live = self._build_live(ServedBlueprint(blueprint), session)
        server = live.server
        # MCPServer has no public way to run on a transport's streams; its low-level server does.
        lowlevel = server._lowlevel_server
        log_level = SessionLogLevel()
        lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, log_level.handle_set_level)
        subscribe, unsubscribe = self.changes.handlers(session.id)
        lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
        lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)
        with anyio.CancelScope() as serving:
            live.scope = serving
            self.live[session.id] = live

            def end_session(pending_bytes: int) -> None:
                if not serving.cancel_called:
                    logger.warning(
                        "session %s on server %r ended: %d bytes of output wait for a client that "
                        "does not read them (over max_pending_output_bytes = %d)",
                        session.id,
                        blueprint.key,
                        pending_bytes,
                        self.max_pending_output_bytes,
                        extra={
                            "event": "session_overflow",
                            "pending_bytes": pending_bytes,
                            **session.log_fields(),
                        },
                    )
                serving.cancel()

            output = BoundedOutput(write_stream, self.max_pending_output_bytes, end_session)
            try:
                await lowlevel.run(
                    read_stream,
                    FilteredWriteStream(output, log_level),
                    self._initialization_options(blueprint, lowlevel),
                )
            finally:
                self.live.pop(session.id, None)

    def _initialization_options(
        self, blueprint: ServerBlueprint, lowlevel: Server[Any]
    ) -> InitializationOptions:
        """The same for every session of a blueprint (its profile, the handlers it has): one
        copy shared, where building them per session kept 3.6 KiB of models per session."""
        known = self._initialization.get(blueprint.key)
        if known is None or known[0] is not blueprint:
            known = (blueprint, lowlevel.create_initialization_options(ANNOUNCED_CHANGES))
            self._initialization[blueprint.key] = known
        return known[1]

    @asynccontextmanager
    async def _session_lifetime(self, served: ServedBlueprint, session: HostSession) -> AsyncIterator[None]:
        blueprint = served.current
        self.sessions.add(session)
        self.metrics.sessions_opened.labels(blueprint.key, session.transport).inc()
        logger.info(
            "session %s opened on server %r (%s)",
            session.id,
            blueprint.key,
            session.transport,
            extra={"event": "session_opened", **session.log_fields()},
        )
        try:
            starters = self._implementers("session_started", blueprint)
            with self._session_span("start", session):
                await self._call_session_hooks("session_started", starters, session)
            yield
        finally:
            with self._session_span("end", session):
                # The plugins the session has now: a reload may have added or taken out some.
                if enders := self._implementers("session_ended", served.current):
                    # Shielded: a session ends by cancellation as often as not.
                    await self._end_session_hooks(enders, session)
            session.plugin_state.clear()
            self.changes.leave(session.id)
            self.sessions.remove(session.id)
            elapsed = time.time() - session.started_at
            logger.info(
                "session %s closed on server %r after %.1f s",
                session.id,
                blueprint.key,
                elapsed,
                extra={"event": "session_closed", "duration_s": round(elapsed, 3), **session.log_fields()},
            )

    def _session_span(self, event: str, session: HostSession) -> AbstractContextManager[None]:
        return session_span(event, session) if self.tracing else nullcontext()

    @asynccontextmanager
    async def _request_lifetime(self, record: PluginRecord, session: HostSession) -> AsyncIterator[None]:
        """A sessionless request, as a session of its own for the plugin that serves it."""
        implements = self.plugins.implements
        if implements(record, "session_started"):
            await self._call_session_hooks("session_started", [record], session)
        try:
            yield
        finally:
            if implements(record, "session_ended"):
                await self._end_session_hooks([record], session)
            session.plugin_state.clear()

    def _implementers(self, hook: str, blueprint: ServerBlueprint) -> list[PluginRecord]:
        return [record for record in blueprint.plugins if self.plugins.implements(record, hook)]

    async def plugins_joined(self, plugins: list[PluginRecord], session: HostSession) -> None:
        """A reload added ``plugins`` to a live session: their ``session_started``."""
        starters = [record for record in plugins if self.plugins.implements(record, "session_started")]
        await self._call_session_hooks("session_started", starters, session)

    async def plugins_left(self, plugins: list[PluginRecord], session: HostSession) -> None:
        """A reload took ``plugins`` out of a live session: their ``session_ended``, and their
        state in it is dropped, as when the session ends."""
        if enders := [record for record in plugins if self.plugins.implements(record, "session_ended")]:
            await self._end_session_hooks(enders, session)
        for record in plugins:
            session.plugin_state.pop(record.name, None)

    async def _end_session_hooks(self, plugins: list[PluginRecord], session: HostSession) -> None:
        """Each plugin's ``session_ended`` on its own budget, side by side, so that one plugin
        that hangs neither starves the others nor holds the host's stop past its grace."""
        await self.plugins.call_each_within(
            plugins,
            "session_ended",
            self.shutdown.budget(SESSION_ENDED_BUDGET_S),
            lambda record: {"session": session.for_plugin(record.name), "settings": record.settings},
            f" of session {session.id}",
        )

    async def _call_session_hooks(self, hook: str, plugins: list[PluginRecord], session: HostSession) -> None:
        """A plugin's failing session hook is logged; the session and the other plugins go on."""
        for record in plugins:
            view = session.for_plugin(record.name)
            try:
                await self.plugins.call_async(record, hook, session=view, settings=record.settings)
            except PluginFailure as exc:
                logger.error("plugin %r, session %s: %s", record.name, session.id, exc)


def add_resource_template(server: MCPServer[Any], template: ResourceTemplateSpec) -> None:
    """Serve ``template`` on ``server``: the SDK takes templates only through its decorator."""
    server.resource(
        template.uri_template,
        name=template.name,
        title=template.title,
        description=template.description,
        mime_type=template.mime_type,
    )(template.fn)


def answer_completions(server: MCPServer[Any], served: ServedBlueprint) -> None:
    """Give ``server`` its ``completion/complete`` handler, which reads ``served`` per request;
    once is enough, also when a reload brings the server's first completions."""
    if server._lowlevel_server.get_request_handler("completion/complete") is None:
        server.completion()(CompletionDispatcher(served))  # type: ignore[no-untyped-call]  # the SDK's decorator is untyped


@dataclass
class LiveServer:
    """One running server: a session's, or (``session`` ``None``) a key's 2026-07-28 requests'."""

    server: MCPServer[Any]
    served: ServedBlueprint
    session: HostSession | None
    scope: anyio.CancelScope | None = None
    """Cancelled to end the session (its server or its token was removed by a reload)."""


def sessionless_key(server: str) -> str:
    """The ``ServerFactory.live`` key of a server's 2026-07-28 requests (no session id has a colon)."""
    return f"sessionless:{server}"


@dataclass(frozen=True)
class SessionlessOptions:
    """What the server of 2026-07-28 requests needs beyond a blueprint."""

    request_state_security: RequestStateSecurity
    """Seals the ``requestState`` of multi-round calls; shared by every process of a host."""
    cache_hints: Mapping[CacheableMethod, CacheHint]
    subscriptions: SubscriptionBus
    """Carries list and resource changes to the server's ``subscriptions/listen`` streams."""


_request_session: contextvars.ContextVar[HostSession] = contextvars.ContextVar("mcp_host_request_session")


class _RequestSession:
    """Gives each message to the sessionless server a ``HostSession`` of its own."""

    def __init__(self, server: str) -> None:
        self._server = server

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        scope = ctx.request.scope if isinstance(ctx.request, Request) else {}
        session = HostSession(
            id=uuid4().hex,
            server=self._server,
            transport=TRANSPORT,
            sessionless=True,
            caller=caller_in(scope),
            tools_allowed=tools_allowed_in(scope, self._server),
        )
        token = _request_session.set(session)
        try:
            return await call_next(ctx)
        finally:
            _request_session.reset(token)

    @staticmethod
    def current() -> HostSession:
        return _request_session.get()


class _JoinChangeFeed:
    """Enrols a session in the change feed at its first message, when its SDK session is known."""

    def __init__(self, changes: ChangeFeed, session: HostSession) -> None:
        self._changes = changes
        self._session = session
        self._joined = False

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if not self._joined:
            self._changes.join(self._session.server, self._session.id, ctx.session)
            self._joined = True
        return await call_next(ctx)


class _ToolAccess:
    """A tool the request's token may not use is neither listed nor callable: its call is
    answered as a call of a tool the server does not have.

    Each request is judged by its own token, not the one that opened the session: after a
    step-up, the same session goes on with the scope the client was granted."""

    def __init__(self, session: Callable[[], HostSession]) -> None:
        self._session = session

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        session = self._session()
        request = ctx.request
        if isinstance(request, Request):
            caller, allowed = caller_in(request.scope), tools_allowed_in(request.scope, session.server)
        else:
            caller, allowed = session.caller, session.tools_allowed
        with sent_by(caller):
            return await self._judged(ctx, call_next, caller, allowed)

    async def _judged(
        self,
        ctx: ServerRequestContext[Any, Any],
        call_next: CallNext,
        caller: Caller | None,
        allowed: frozenset[str] | None,
    ) -> HandlerResult:
        if allowed is None or ctx.method not in ("tools/list", "tools/call"):
            return await call_next(ctx)
        if ctx.method == "tools/call":
            name = (ctx.params or {}).get("name")
            if name not in allowed:
                session = self._session()
                logger.info(
                    "tool %s refused on server %r: no grant of %s opens it",
                    _shown(name),
                    session.server,
                    caller.client_id if caller else "the caller",
                    extra={"event": "tool_refused", **session.log_fields()},
                )
                text = f"Unknown tool: {name}"
                return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
            return await call_next(ctx)
        result = await call_next(ctx)
        if isinstance(result, ListToolsResult):
            result.tools = [tool for tool in result.tools if tool.name in allowed]
        elif isinstance(result, dict) and isinstance(result.get("tools"), list):
            result["tools"] = [
                tool for tool in result["tools"] if isinstance(tool, dict) and tool.get("name") in allowed
            ]
        return result


UNKNOWN_TOOL_LABEL = "unknown"
"""The metric label of every tool name the server does not serve: labels come only from what
the host knows, so clients cannot grow the metrics by naming tools."""

_SHOWN_NAME_CHARS = 80
_SHOWN_ERROR_CHARS = 300


def _caller(ctx: ServerRequestContext[Any, Any]) -> str:
    """Who sent a sessionless request (its HTTP request's token or address)."""
    request = ctx.request
    return caller_of(request.scope) if isinstance(request, Request) else "in-process"


class _ToolCalls:
    """Tool calls, each one logged and counted, at most ``limit`` running at once for each
    caller: in a session, the session; for sessionless requests, each client (``caller_of``)."""

    def __init__(
        self,
        blueprint: ServedBlueprint,
        session: Callable[[], HostSession],
        metrics: HostMetrics,
        limit: int,
        caller: Callable[[ServerRequestContext[Any, Any]], Hashable] | None = None,
    ) -> None:
        self._blueprint = blueprint
        self._session = session
        self._metrics = metrics
        self._limit = limit
        self._caller = caller
        self._running: Counter[Hashable] = Counter()

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        name = (ctx.params or {}).get("name")
        tool = name if isinstance(name, str) and name in self._blueprint.current.tool_names else None
        session = self._session()
        caller = None if self._caller is None else self._caller(ctx)
        if self._running[caller] >= self._limit:
            self._record(session, tool, name, Outcome.REFUSED, 0.0)
            per = "session" if self._caller is None else "client"
            message = (
                f"too many tool calls at once: at most {self._limit} per {per}; retry when one has finished"
            )
            return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
        self._running[caller] += 1
        started = time.perf_counter()
        report, token = open_report()
        outcome = Outcome.CANCELLED
        error: str | None = None
        try:
            result = await call_next(ctx)
            error = _error_text(result)
            # No report: the SDK answered without running the tool.
            outcome = report.outcome or (Outcome.UNKNOWN_TOOL if tool is None else Outcome.INVALID)
            return result
        except (MCPError, ValidationError):
            outcome = Outcome.INVALID
            raise
        except Exception:
            outcome = Outcome.ERROR
            raise
        finally:
            close_report(token)
            self._running[caller] -= 1
            if not self._running[caller]:
                del self._running[caller]
            self._record(session, tool, name, outcome, time.perf_counter() - started, error, report.error_id)

    def _record(
        self,
        session: HostSession,
        tool: str | None,
        requested: object,
        outcome: Outcome,
        seconds: float,
        error: str | None = None,
        error_id: str | None = None,
    ) -> None:
        label = tool if tool is not None else UNKNOWN_TOOL_LABEL
        self._metrics.tool_call(session.server, label, outcome, seconds)
        record_tool_call(outcome, error_id)
        if not logger.isEnabledFor(logging.INFO):
            return  # the record's fields cost more than the check, and nobody would read them
        fields: dict[str, Any] = {
            "event": "tool_call",
            "tool": label,
            "outcome": str(outcome),
            "duration_ms": round(seconds * 1000, 1),
            **session.log_fields(),
        }
        # This is the one line a tool error gets (logs.py mutes the SDK's own): it says what
        # the client was told, quoted (on one line) and cut short, as it may echo the client.
        if error is not None:
            fields["error"] = error
        logger.info(
            "tool %s on %s %s (server %r): %s in %.0f ms" + (": %s" if error is not None else ""),
            # What the client named, quoted and cut short: it is theirs, not ours.
            label if tool is not None else _shown(requested),
            "request" if session.sessionless else "session",
            session.id,
            session.server,
            outcome,
            seconds * 1000,
            *(() if error is None else (_shown(error, _SHOWN_ERROR_CHARS),)),
            extra=fields,
        )


def _shown(value: object, limit: int = _SHOWN_NAME_CHARS) -> str:
    """``repr(value)``, cut at ``limit`` characters: what a client sent, fit for one log line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _error_text(result: HandlerResult) -> str | None:
    """The text of an error result (``None`` when the call succeeded)."""
    # Inner middleware hands results on as models or, once serialised, as wire dicts.
    if isinstance(result, CallToolResult):
        failed, content = result.is_error, [block.model_dump() for block in result.content]
    elif isinstance(result, dict):
        failed, content = bool(result.get("isError")), list(result.get("content") or [])
    else:
        return None
    if not failed:
        return None
    return " ".join(str(block.get("text", "")) for block in content if isinstance(block, dict)) or "error"


RequestLifetime = Callable[[PluginRecord, HostSession], AbstractAsyncContextManager[None]]


class _PluginSessionMiddleware:
    """Makes ``mcp_host.current_session()`` answer inside tools, resources and prompts.

    With a ``lifetime`` (sessionless requests), the request is also the serving plugin's
    session from start to end.
    """

    def __init__(
        self,
        blueprint: ServedBlueprint,
        session: Callable[[], HostSession],
        use: PluginUse,
        lifetime: RequestLifetime | None = None,
    ) -> None:
        self._blueprint = blueprint
        self._session = session
        self._use = use
        self._lifetime = lifetime

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        blueprint = self._blueprint.current
        plugin = blueprint.owner_of(ctx.method, ctx.params or {})
        if plugin is None:
            return await call_next(ctx)
        session = self._session()
        with acting_for(session.for_plugin(plugin)), self._use.using(plugin):
            if self._lifetime is None:
                return await call_next(ctx)
            async with self._lifetime(blueprint.plugin(plugin), session):
                return await call_next(ctx)
