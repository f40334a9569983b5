"""The Starlette application: every configured server on both transports, and health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from mcp_host.catalog import ServerBlueprint
from mcp_host.runtime import Host
from mcp_host.security import transport_security
from mcp_host.transport_sse import SseServer
from mcp_host.transport_streamable import StreamableHttpServer


def create_app(host: Host) -> Starlette:
    settings = host.config.server
    # sse-starlette reads its keep-alive interval from this class attribute, and the SDK's
    # transport offers no other way to set it.
    EventSourceResponse.DEFAULT_PING_INTERVAL = settings.keepalive_s  # type: ignore[assignment]
    security = transport_security(settings.host)

    routes: list[BaseRoute] = []
    streamable_servers: list[StreamableHttpServer] = []
    for key in host.blueprints:
        prefix = host.blueprints[key].prefix
        blueprint = _current_blueprint(host, key)
        sse = SseServer(
            blueprint=blueprint,
            factory=host.factory,
            sessions=host.sessions,
            messages_path=f"{prefix}/messages/",
            security=security,
            max_request_body_size=DEFAULT_MAX_REQUEST_BODY_SIZE,
        )
        streamable = StreamableHttpServer(
            blueprint=blueprint,
            factory=host.factory,
            sessions=host.sessions,
            security=security,
            max_request_body_size=DEFAULT_MAX_REQUEST_BODY_SIZE,
            idle_timeout_s=settings.session_idle_timeout_s,
        )
        streamable_servers.append(streamable)
        routes.append(Route(f"{prefix}/sse", endpoint=sse.stream_app, methods=["GET"]))
        routes.append(Mount(f"{prefix}/messages/", app=sse.handle_message))
        # An instance, so Starlette passes every method through and adds no /mcp/ redirect.
        routes.append(Route(f"{prefix}/mcp", endpoint=streamable, methods=["GET", "POST", "DELETE"]))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok" if host.ready else "starting",
                "sessions": len(host.sessions),
                "sessions_by_server": host.sessions.counts(),
            }
        )

    routes.append(Route("/healthz", endpoint=healthz, methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for streamable in streamable_servers:
                await stack.enter_async_context(streamable.running())
            yield

    return Starlette(routes=routes, lifespan=lifespan)


def _current_blueprint(host: Host, key: str) -> Callable[[], ServerBlueprint]:
    """Blueprints are rebuilt when a plugin fails to start; connections take the latest."""
    return lambda: host.blueprints[key]
