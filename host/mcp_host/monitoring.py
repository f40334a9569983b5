"""The operational routes, open without a token: ``/healthz`` (liveness, and the pid that
``mcp-host reload`` signals, to a client on this machine), ``/readyz``
(readiness: plugins started, sessions accepted) and ``/metrics`` (Prometheus; behind a bearer
token when ``[metrics] token`` is set)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcp_host.host import Host
from mcp_host.security import bearer_matches

LOOPBACK = frozenset({"127.0.0.1", "::1"})


def operational_routes(host: Host) -> list[Route]:
    async def healthz(request: Request) -> JSONResponse:
        """Liveness: the process answers (and, in a cluster, which worker it is)."""
        body: dict[str, object] = {"status": "ok", "sessions": len(host.sessions)}
        client = request.client.host if request.client else ""
        if host.reload_pid is not None and client in LOOPBACK:
            # What `mcp-host reload` signals; it runs on this machine, and nobody else needs it.
            body["pid"] = host.reload_pid
        if host.cluster is not None:
            body["worker"] = host.cluster.worker
        return JSONResponse(body)

    async def readyz(request: Request) -> JSONResponse:
        """Readiness: plugins started and sessions accepted (not at the session limit, and in a
        cluster, Redis reachable)."""
        plugins = {record.name: str(record.status) for record in host.plugins.records.values()}
        ready = host.ready and not host.shutdown.stopping and host.sessions.admission_refusal() is None
        body = {
            "status": "ready" if ready else "not ready",
            "accepting_sessions": ready,
            "sessions": len(host.sessions),
            "sessions_by_server": host.sessions.counts(),
            "plugins": plugins,
            # What the process runs, which a reload does not change (`mcp-host plugins --running`).
            "plugin_versions": {record.name: record.version for record in host.plugins.records.values()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    metrics_token = host.config.metrics.token

    async def metrics(request: Request) -> Response:
        if metrics_token is not None and not bearer_matches(request, metrics_token.get_secret_value()):
            return Response(
                "/metrics needs its bearer token ([metrics] token)",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(generate_latest(host.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", endpoint=healthz, methods=["GET"]),
        Route("/readyz", endpoint=readyz, methods=["GET"]),
        Route("/metrics", endpoint=metrics, methods=["GET"]),
    ]
