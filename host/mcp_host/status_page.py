"""The status page: what the host serves, to an operator with a browser.

``GET /`` is a small HTML page (``status_page.html``, no build step: plain HTML, CSS and
script) and ``GET /status`` its JSON twin: the host's version; each server with its URLs and
tools; each plugin with its status, version and error; the live sessions per server and
transport; the tool calls with their errors and p50/p99 latency. The page renders the JSON
it is served with, then refreshes it from ``/status``.

Both say what the host serves, so they are guarded as the MCP endpoints are: only for the
host's own Host and Origin headers, and behind a bearer token when tokens are configured.

A browser pointed at ``/mcp`` or ``/sse`` (``Accept: text/html``) gets a short page saying
what the URL is for, rather than a JSON-RPC error; MCP clients never ask for HTML.
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

from mcp.server.auth.middleware.bearer_auth import RequireAuthMiddleware
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.host import Host
from mcp_host.security import WellFormedPorts
from mcp_host.version import host_version

STATUS_PATH = "/status"
PAGE_TEMPLATE = "status_page.html"


def status(host: Host, base_url: str) -> dict[str, Any]:
    """The host's state, as ``/status`` serves it; URLs start with ``base_url``."""
    sessions = host.sessions.counts()
    return {
        "version": host_version(),
        "servers": [
            {
                "key": key,
                "name": blueprint.profile.name,
                "urls": {
                    "streamable_http": base_url + blueprint.mcp_path,
                    "sse": base_url + blueprint.sse_path,
                },
                "tools": [tool.name for tool in blueprint.tools],
                "sessions": sessions.get(key, {}),
            }
            for key, blueprint in host.blueprints.items()
        ],
        "plugins": [
            {
                "name": record.name,
                "status": str(record.status),
                "distribution": record.distribution,
                "version": record.version,
                "error": record.error,
            }
            for record in host.plugins.records.values()
        ],
        "sessions": sum(count for by_transport in sessions.values() for count in by_transport.values()),
        "tool_calls": host.metrics.recent_calls.snapshot(),
    }


def status_routes(
    host: Host, security: TransportSecuritySettings | None, tokens_required: bool
) -> list[Route]:
    template = (files("mcp_host") / PAGE_TEMPLATE).read_text(encoding="utf-8")

    async def status_json(request: Request) -> Response:
        return JSONResponse(status(host, _base_url(request)))

    async def status_page(request: Request) -> Response:
        # The page's first state comes with it, as inert JSON ("<" escaped: it cannot end the
        # script element); the page then refreshes it from /status.
        initial = json.dumps(status(host, _base_url(request))).replace("<", "\\u003c")
        return HTMLResponse(template.replace("{{STATUS_JSON}}", initial))

    def guard(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
        app = host_origin_checked(request_response(endpoint), security)
        return RequireAuthMiddleware(app, required_scopes=[]) if tokens_required else app

    return [
        Route("/", endpoint=guard(status_page), methods=["GET"]),
        Route(STATUS_PATH, endpoint=guard(status_json), methods=["GET"]),
    ]


def _base_url(request: Request) -> str:
    """The host's URL as this request reached it, with the proxy's path prefix (root_path)."""
    return str(request.base_url).rstrip("/")


def host_origin_checked(app: ASGIApp, security: TransportSecuritySettings | None) -> ASGIApp:
    """``app`` behind the MCP endpoints' DNS-rebinding checks: well-formed ports, then the
    SDK's Host and Origin lists (``None``: the protection is off)."""
    return app if security is None else WellFormedPorts(_AllowedHostAndOrigin(app, security))


class _AllowedHostAndOrigin:
    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self._app = app
        self._check = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = await self._check.validate_request(Request(scope, receive), is_post=False)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._app(scope, receive, send)


class BrowserExplanation:
    """In front of an MCP endpoint: a browser's page load gets a short page on what the URL is
    for; every other request (MCP clients ask for JSON or an event stream) goes through."""

    def __init__(self, app: ASGIApp, transport: str, security: TransportSecuritySettings | None) -> None:
        self._app = app
        self._transport = transport
        self._page = host_origin_checked(request_response(self._explanation), security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wants_a_page = scope["type"] == "http" and scope["method"] == "GET" and _wants_a_page(scope)
        await (self._page if wants_a_page else self._app)(scope, receive, send)

    async def _explanation(self, request: Request) -> Response:
        url = html.escape(str(request.url.replace(query="")))
        status_url = html.escape(_base_url(request) + "/")
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mcp-host: an MCP endpoint'
            '</title><link rel="icon" href="data:,"></head><body style="font: 16px system-ui, sans-serif; '
            'max-width: 40em; margin: 3em auto">'
            f"<h1>This is an MCP endpoint</h1><p><code>{url}</code> speaks the Model Context Protocol "
            f"over {self._transport}, to MCP clients such as Cursor or Claude, not to browsers. Give "
            "this URL to your client (<code>mcp-host cursor</code> prints Cursor's entry for it).</p>"
            f'<p>What this host serves: <a href="{status_url}">its status page</a>.</p></body></html>'
        )
        return HTMLResponse(body)


def _wants_a_page(scope: Scope) -> bool:
    accept = b",".join(value for name, value in scope["headers"] if name == b"accept").decode("latin-1")
    return "text/html" in accept and "text/event-stream" not in accept
