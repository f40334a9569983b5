"""The Starlette application: every configured server on both transports, the operational
routes (``mcp_host.monitoring``) and the status page (``mcp_host.status_page``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecuritySettings
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from mcp_host.access import AccessControl
from mcp_host.blueprints import ServerBlueprint
from mcp_host.drain import RefuseWhileStopping
from mcp_host.host import Host
from mcp_host.jsonrpc_ids import RejectUnusableIds
from mcp_host.live_tokens import LiveAccessControl
from mcp_host.monitoring import operational_routes
from mcp_host.security import WellFormedPorts, transport_security
from mcp_host.server_routes import RoutesOf, ServerRoutes
from mcp_host.status_page import BrowserExplanation, status_routes
from mcp_host.tracing import TraceContextFromHeaders
from mcp_host.transport_modern import SessionlessRequests
from mcp_host.transport_sse import SseServer
from mcp_host.transport_streamable import StreamableHttpServer


def create_app(host: Host) -> Starlette:
    """Build once the host is running (``Host.running``). The servers' routes follow reloads:
    ``app.state.server_routes.sync()`` after one (``mcp_host.server_routes``)."""
    auth = host.config.auth
    verifier = LiveAccessControl(host) if AccessControl.needed(auth) else None
    security = transport_security(host.config.server.host, host.config.security)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with servers.running():
            yield

    middleware = []
    if verifier is not None:
        middleware = [
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(verifier)),
            Middleware(AuthContextMiddleware),
        ]
    app = Starlette(middleware=middleware, lifespan=lifespan)
    servers = ServerRoutes(app.router, mcp_routes(host, verifier, security), lambda: host.blueprints)
    # Starlette's router keeps a copy of the list it was given: its own is the one to fill.
    app.router.routes.extend(servers.initial_routes())
    if verifier is not None:
        app.router.routes.extend(verifier.routes(host.blueprints))
    app.router.routes.extend(operational_routes(host))
    app.router.routes.extend(status_routes(host, security, tokens_required=verifier is not None))
    app.state.server_routes = servers
    return app


def mcp_routes(
    host: Host, verifier: LiveAccessControl | None, security: TransportSecuritySettings | None
) -> RoutesOf:
    """What builds one configured server's routes on both transports, behind its bearer-token
    scope, and its Streamable HTTP server, whose sessions live as long as the server is
    configured. A browser loading one of their URLs gets a page saying what it is for."""
    settings = host.config.server
    # sse-starlette reads its keep-alive interval from this class attribute, and the SDK's
    # transport offers no other way to set it.
    EventSourceResponse.DEFAULT_PING_INTERVAL = settings.keepalive_s  # type: ignore[assignment]
    limits = host.config.limits

    def protect(app: ASGIApp, server_key: str, path: str, *, takes_messages: bool = True) -> ASGIApp:
        checked = app
        if takes_messages:
            read: ASGIApp = RejectUnusableIds(app)
            if verifier is not None:
                read = verifier.check_messages(read, server_key, path)
            checked = RequestBodyLimitMiddleware(read, limits.max_body_bytes)
        if security is not None:
            checked = WellFormedPorts(checked)
        if verifier is not None:
            checked = verifier.guard(checked, server_key, path)
        if host.telemetry is not None:
            checked = TraceContextFromHeaders(checked)
        return RefuseWhileStopping(checked, host.shutdown)

    def routes_of(blueprint: ServerBlueprint) -> tuple[list[BaseRoute], StreamableHttpServer]:
        key = blueprint.key
        routes: list[BaseRoute] = []
        sse = SseServer(
            blueprint=blueprint,
            factory=host.factory,
            sessions=host.sessions,
            messages_path=blueprint.messages_path,
            security=security,
            max_request_body_size=limits.max_body_bytes,
        )
        streamable = StreamableHttpServer(
            blueprint=blueprint,
            factory=host.factory,
            sessions=host.sessions,
            security=security,
            max_request_body_size=limits.max_body_bytes,
            idle_timeout_s=limits.session_idle_timeout_s,
            abandoned_timeout_s=limits.abandoned_session_timeout_s,
            resumable_events=limits.resumable_events,
            sessionless=SessionlessRequests(
                host.factory.build_sessionless(blueprint, host.sessionless_options(blueprint)),
                security=security,
                max_request_body_size=limits.max_body_bytes,
            ),
        )
        messages: ASGIApp = sse.handle_message
        mcp: ASGIApp = streamable
        if host.cluster is not None:
            # Requests for sessions another process owns go there; the transports never know.
            messages, mcp = host.cluster.wrap_messages(messages), host.cluster.wrap_streamable(mcp)
        # Instances, not functions: Starlette then passes the raw ASGI call through.
        routes.append(
            Route(
                blueprint.sse_path,
                endpoint=BrowserExplanation(
                    protect(sse.stream_app, key, blueprint.sse_path, takes_messages=False),
                    "HTTP+SSE",
                    security,
                ),
                methods=["GET"],
            )
        )
        routes.append(Mount(blueprint.messages_path, app=protect(messages, key, blueprint.messages_path)))
        routes.append(
            Route(
                blueprint.mcp_path,
                endpoint=BrowserExplanation(
                    protect(mcp, key, blueprint.mcp_path), "Streamable HTTP", security
                ),
                methods=["GET", "POST", "DELETE"],
            )
        )
        return routes, streamable

    return routes_of
