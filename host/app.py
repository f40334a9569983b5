"""The Starlette application: one SSE endpoint pair per configured server, and health."""

from __future__ import annotations

from collections.abc import Callable

from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from mcp_host.catalog import DEFAULT_SERVER, ServerBlueprint
from mcp_host.runtime import Host
from mcp_host.security import transport_security
from mcp_host.transport_sse import SseServer


def create_app(host: Host) -> Starlette:
    settings = host.config.server
    # sse-starlette reads its keep-alive interval from this class attribute, and the SDK's
    # transport offers no other way to set it.
    EventSourceResponse.DEFAULT_PING_INTERVAL = settings.keepalive_s  # type: ignore[assignment]
    security = transport_security(settings.host)

    routes: list[BaseRoute] = []
    for key in host.blueprints:
        prefix = "" if key == DEFAULT_SERVER else f"/servers/{key}"
        sse = SseServer(
            blueprint=_current_blueprint(host, key),
            factory=host.factory,
            messages_path=f"{prefix}/messages/",
            security=security,
            max_request_body_size=DEFAULT_MAX_REQUEST_BODY_SIZE,
        )
        routes.append(Route(f"{prefix}/sse", endpoint=sse.stream_app, methods=["GET"]))
        routes.append(Mount(f"{prefix}/messages/", app=sse.handle_message))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok" if host.ready else "starting",
                "sessions": len(host.sessions),
                "sessions_by_server": host.sessions.counts(),
            }
        )

    routes.append(Route("/healthz", endpoint=healthz, methods=["GET"]))
    return Starlette(routes=routes)


def _current_blueprint(host: Host, key: str) -> Callable[[], ServerBlueprint]:
    """Blueprints are rebuilt when a plugin fails to start; connections take the latest."""
    return lambda: host.blueprints[key]
