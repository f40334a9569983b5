"""Telling connected clients that what a server offers has changed.

Clients learn of changes in two ways, one per protocol era:

- a handshake-era session (HTTP+SSE, or ``/mcp`` after ``initialize``) is sent
  ``notifications/*/list_changed``, and ``notifications/resources/updated`` for the resources
  it subscribed to with ``resources/subscribe``;
- a 2026-07-28 client holds a ``subscriptions/listen`` request open, and the SDK's listen
  handler delivers the events each server's ``SubscriptionBus`` carries.

A plugin announces a change through the ``PluginChanges`` it is given in ``host_started``;
the ``ChangeFeed`` sends it to the clients of every server that serves that plugin, in both
eras. Events stay within this process: in a cluster, a plugin announces in each process
that sees the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ServerEvent,
    SubscriptionBus,
    ToolsListChanged,
)
from mcp_types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

logger = logging.getLogger(__name__)


@dataclass
class _Subscriber:
    """One handshake-era session, and the resources it asked to hear about."""

    server: str
    session: ServerSession
    resources: set[str] = field(default_factory=set)


class ChangeFeed:
    """Every client of this process that can be told of a change, by server."""

    def __init__(self) -> None:
        self._buses: dict[str, InMemorySubscriptionBus] = {}
        self._subscribers: dict[str, _Subscriber] = {}
        """Handshake-era sessions by session id, from their first request to their end."""

    def bus(self, server: str) -> SubscriptionBus:
        """The bus of ``server``'s ``subscriptions/listen`` streams."""
        return self._buses.setdefault(server, InMemorySubscriptionBus())

    def join(self, server: str, session_id: str, session: ServerSession) -> None:
        self._subscribers.setdefault(session_id, _Subscriber(server, session))

    def leave(self, session_id: str) -> None:
        self._subscribers.pop(session_id, None)

    def handlers(
        self, session_id: str
    ) -> tuple[
        Callable[[ServerRequestContext[Any, Any], SubscribeRequestParams], Awaitable[EmptyResult]],
        Callable[[ServerRequestContext[Any, Any], UnsubscribeRequestParams], Awaitable[EmptyResult]],
    ]:
        """``resources/subscribe`` and ``resources/unsubscribe`` for one session."""

        def resources() -> set[str]:
            subscriber = self._subscribers.get(session_id)
            return subscriber.resources if subscriber is not None else set()

        async def subscribe(
            ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams
        ) -> EmptyResult:
            resources().add(str(params.uri))
            return EmptyResult()

        async def unsubscribe(
            ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams
        ) -> EmptyResult:
            resources().discard(str(params.uri))
            return EmptyResult()

        return subscribe, unsubscribe

    async def publish(self, servers: Iterable[str], event: ServerEvent) -> None:
        """Send ``event`` to every client of ``servers``: listen streams and sessions alike."""
        chosen = set(servers)
        for server in chosen:
            if server in self._buses:
                await self._buses[server].publish(event)
        for session_id, subscriber in list(self._subscribers.items()):
            if subscriber.server not in chosen:
                continue
            try:
                await _notify(subscriber, event)
            except Exception as exc:  # a session that is going away: the others still hear
                logger.debug("session %s missed a change notification: %s", session_id, exc)


async def _notify(subscriber: _Subscriber, event: ServerEvent) -> None:
    session = subscriber.session
    if isinstance(event, ToolsListChanged):
        await session.send_tool_list_changed()
    elif isinstance(event, PromptsListChanged):
        await session.send_prompt_list_changed()
    elif isinstance(event, ResourcesListChanged):
        await session.send_resource_list_changed()
    elif isinstance(event, ResourceUpdated) and event.uri in subscriber.resources:
        await session.send_resource_updated(event.uri)


class PluginChanges:
    """What a plugin uses to tell clients that its tools, prompts or resources changed.

    Given to the plugin's ``host_started`` hook as ``changes``. Each call reaches the clients
    of every server that serves the plugin, whichever protocol era they speak: sessions get
    the ``notifications/*`` messages, ``subscriptions/listen`` streams get the events.
    """

    def __init__(self, feed: ChangeFeed, servers: Callable[[], Iterable[str]]) -> None:
        self._feed = feed
        self._servers = servers

    async def resource_updated(self, uri: str) -> None:
        """The content of the resource at ``uri`` changed: its subscribers should read it again."""
        await self._feed.publish(self._servers(), ResourceUpdated(uri=uri))

    async def resources_changed(self) -> None:
        """Resources or resource templates were added or removed."""
        await self._feed.publish(self._servers(), ResourcesListChanged())

    async def tools_changed(self) -> None:
        """Tools were added, removed or changed: clients should list them again."""
        await self._feed.publish(self._servers(), ToolsListChanged())

    async def prompts_changed(self) -> None:
        """Prompts were added, removed or changed."""
        await self._feed.publish(self._servers(), PromptsListChanged())
