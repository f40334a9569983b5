"""The routes of every configured server in the app's router, kept in step with the config.

Each server (a key of ``Host.blueprints``) has its routes (``/sse``, ``/messages/``, ``/mcp``
under its prefix) and a Streamable HTTP server whose sessions live inside its ``running()``.
A reload may add named servers or remove them: ``sync()`` then adds the routes of the new
ones and starts their Streamable HTTP server, and takes out the routes of the removed ones
and stops theirs (the reload has ended their sessions already). The router's list of routes
is Starlette's own; it is read on every request, so a change applies to the next one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from anyio.abc import TaskGroup, TaskStatus
from starlette.routing import BaseRoute, Router

from mcp_host.blueprints import ServerBlueprint
from mcp_host.transport_streamable import StreamableHttpServer

logger = logging.getLogger(__name__)

RoutesOf = Callable[[ServerBlueprint], tuple[list[BaseRoute], StreamableHttpServer]]
"""Builds one server's routes and its Streamable HTTP server."""


@dataclass
class _Served:
    routes: list[BaseRoute]
    stop: anyio.Event


class ServerRoutes:
    def __init__(
        self, router: Router, routes_of: RoutesOf, blueprints: Callable[[], Mapping[str, ServerBlueprint]]
    ) -> None:
        self._router = router
        self._routes_of = routes_of
        self._blueprints = blueprints
        self._served: dict[str, _Served] = {}
        self._tasks: TaskGroup | None = None
        self._lock = anyio.Lock()
        self._pending: dict[str, tuple[list[BaseRoute], StreamableHttpServer]] = {}

    def initial_routes(self) -> list[BaseRoute]:
        """The routes of the servers configured at start, for the app's router; their
        Streamable HTTP servers start with ``running()``."""
        self._pending = {key: self._routes_of(blueprint) for key, blueprint in self._blueprints().items()}
        return [route for routes, _ in self._pending.values() for route in routes]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            for key, (routes, streamable) in self._pending.items():
                self._served[key] = _Served(routes, await tasks.start(_serve, streamable))
            self._pending = {}
            await self.sync()  # a reload may have come between the app's making and its start
            try:
                yield
            finally:
                self._tasks = None
                for served in self._served.values():
                    served.stop.set()

    async def sync(self) -> None:
        """Serve the servers the blueprints now name, and only those."""
        async with self._lock:
            if self._tasks is None:
                return
            blueprints = self._blueprints()
            for key in [key for key in self._served if key not in blueprints]:
                served = self._served.pop(key)
                self._router.routes[:] = [
                    route for route in self._router.routes if route not in served.routes
                ]
                served.stop.set()
                logger.info("server %r removed: its URLs answer 404", key)
            for key, blueprint in blueprints.items():
                if key not in self._served:
                    routes, streamable = self._routes_of(blueprint)
                    self._served[key] = _Served(routes, await self._tasks.start(_serve, streamable))
                    self._router.routes.extend(routes)
                    logger.info(
                        "server %r added at %s and %s",
                        key,
                        blueprint.mcp_path,
                        blueprint.sse_path,
                        extra={"event": "server_added", "server": key},
                    )


async def _serve(
    streamable: StreamableHttpServer, *, task_status: TaskStatus[anyio.Event] = anyio.TASK_STATUS_IGNORED
) -> None:
    stop = anyio.Event()
    async with streamable.running():
        task_status.started(stop)
        await stop.wait()
