"""The Starlette application: every configured server on both transports, and health."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from mcp_host.host import Host
from mcp_host.security import StaticTokenVerifier, server_scope, transport_security
from mcp_host.transport_sse import SseServer
from mcp_host.transport_streamable import StreamableHttpServer

logger = logging.getLogger(__name__)


def create_app(host: Host) -> Starlette:
    settings = host.config.server
    # sse-starlette reads its keep-alive interval from this class attribute, and the SDK's
    # transport offers no other way to set it.
    EventSourceResponse.DEFAULT_PING_INTERVAL = settings.keepalive_s  # type: ignore[assignment]
    limits = host.config.limits
    security = transport_security(settings.host, host.config.security)
    verifier = StaticTokenVerifier(host.config.auth, host.blueprints) if host.config.auth.tokens else None

    def protect(app: ASGIApp, server_key: str) -> ASGIApp:
        if verifier is None:
            return app
        return RequireAuthMiddleware(app, required_scopes=[server_scope(server_key)])

    routes: list[BaseRoute] = []
    streamable_servers: list[StreamableHttpServer] = []
    for key, blueprint in host.blueprints.items():
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
        )
        streamable_servers.append(streamable)
        # Instances, not functions: Starlette then passes the raw ASGI call through.
        routes.append(Route(blueprint.sse_path, endpoint=protect(sse.stream_app, key), methods=["GET"]))
        routes.append(Mount(blueprint.messages_path, app=protect(sse.handle_message, key)))
        routes.append(
            Route(blueprint.mcp_path, endpoint=protect(streamable, key), methods=["GET", "POST", "DELETE"])
        )

    async def healthz(request: Request) -> JSONResponse:
        """Liveness: the process answers (and, in a cluster, which worker it is)."""
        body: dict[str, object] = {"status": "ok", "sessions": len(host.sessions)}
        if host.cluster is not None:
            body["worker"] = host.cluster.worker
        return JSONResponse(body)

    async def readyz(request: Request) -> JSONResponse:
        """Readiness: plugins started and sessions accepted (not at the session limit, and in a
        cluster, Redis reachable)."""
        plugins = {record.name: str(record.status) for record in host.plugins.records.values()}
        ready = host.ready and host.sessions.admission_refusal() is None
        body = {
            "status": "ready" if ready else "not ready",
            "accepting_sessions": ready,
            "sessions": len(host.sessions),
            "sessions_by_server": host.sessions.counts(),
            "plugins": plugins,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(host.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes.append(Route("/healthz", endpoint=healthz, methods=["GET"]))
    routes.append(Route("/readyz", endpoint=readyz, methods=["GET"]))
    routes.append(Route("/metrics", endpoint=metrics, methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for streamable in streamable_servers:
                await stack.enter_async_context(streamable.running())
            yield

    middleware = []
    if verifier is not None:
        logger.info("bearer tokens required for the MCP endpoints (%d tokens)", len(host.config.auth.tokens))
        middleware = [
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(verifier)),
            Middleware(AuthContextMiddleware),
        ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
