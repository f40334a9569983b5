"""This process as a member of a cluster: its Redis connection, the claims it offers the
live sessions (``mcp_host.live_sessions.SessionClaims``), and the forwarding behind the
wrappers of ``mcp_host.cluster.asgi``.

Redis is needed to open a session and to reach a session owned elsewhere, never to serve a
session's own requests. So when Redis goes away, new sessions are refused with 503 and
requests that land on their session's owner go on; this process reconnects by itself and
registers its live sessions again (Redis may have come back empty).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import anyio
import anyio.abc
from mcp.server.transport_security import RequestBodyLimitMiddleware
from mcp_types import INTERNAL_ERROR
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_host.cluster import ClusterUnavailable
from mcp_host.cluster.asgi import ForwardSseMessages, ForwardStreamableRequests
from mcp_host.cluster.forward import RequestForwarder
from mcp_host.cluster.hop_trace import hop_span
from mcp_host.cluster.registry import Owner, SessionDirectory
from mcp_host.cluster.relay import Answer, MessageRelay
from mcp_host.config import ClusterSection
from mcp_host.jsonrpc_errors import jsonrpc_error, session_not_found
from mcp_host.live_sessions import CLAIMS_UNREACHABLE

logger = logging.getLogger(__name__)

RECONNECT_DELAYS_S = (0.2, 0.5, 1.0, 2.0)
"""Pauses between attempts to reach Redis again; the last one repeats."""
OWNER_CACHE_SIZE = 10_000
"""Owners remembered by session id. A session's owner never changes, and an owner that is
gone or has ended the session says so (PUBLISH finds no receiver, or the owner answers 404),
so a remembered owner is never wrong for long."""
UNREACHABLE = "the session routing store (Redis) is unreachable"


async def check_reachable(settings: ClusterSection) -> None:
    """``ClusterUnavailable`` unless Redis answers (checked once before forking workers)."""
    url = settings.redis_url.get_secret_value()
    redis = _client(url)
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        raise ClusterUnavailable(f"cannot reach Redis at {redact(url)}: {exc}") from None
    finally:
        await redis.aclose()


def _client(url: str) -> Redis:
    # One immediate retry, no more: it replaces a pooled connection that died with a
    # restarted Redis; a second failure means Redis is gone, and we decide what that means
    # (refuse new sessions, reconnect in the background) rather than wait inside the client.
    return Redis.from_url(url, socket_connect_timeout=3.0, socket_timeout=5.0, retry=Retry(NoBackoff(), 1))


def redact(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class ClusterNode:
    """Publishes this process's sessions, and routes requests for the others' sessions."""

    def __init__(self, settings: ClusterSection, max_body_bytes: int, tracing: bool = False) -> None:
        self.settings = settings
        self._tracing = tracing
        """Whether the host exports traces: then each hop to an owner is a span (``hop_trace``)."""
        self.worker = uuid4().hex
        self.address: str | None = None
        self._url = settings.redis_url.get_secret_value()
        self._max_body_bytes = max_body_bytes
        self._available = False
        self._claimed: set[str] = set()
        self._releasing: set[str] = set()
        """Ended sessions whose keys are being deleted: shutdown must not cut that short."""
        self._owners: OrderedDict[str, Owner] = OrderedDict()
        self._redis: Redis | None = None
        self._directory: SessionDirectory | None = None
        self._relay: MessageRelay | None = None
        self._forwarder: RequestForwarder | None = None
        self._task_group: anyio.abc.TaskGroup | None = None

    def advertise(self, address: str) -> None:
        """``host:port`` where the other processes reach this one's internal listener."""
        self.address = address

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Join the cluster for the ``async with`` block; ``ClusterUnavailable`` if Redis is not there."""
        if self.address is None:
            raise RuntimeError("advertise() the internal listener's address before running the node")
        # New in every process, a forked worker's included: ids are never shared or reused.
        self.worker = uuid4().hex
        redis = _client(self._url)
        try:
            await redis.ping()
        except (RedisError, OSError) as exc:
            await redis.aclose()
            raise ClusterUnavailable(f"cannot reach Redis at {redact(self._url)}: {exc}") from None
        prefix = self.settings.key_prefix
        self._redis = redis
        self._directory = SessionDirectory(
            redis, prefix, self.settings.session_ttl_s, Owner(self.worker, self.address)
        )
        self._relay = MessageRelay(redis, prefix, self.worker)
        self._forwarder = RequestForwarder(self.worker, self._tracing)
        try:
            async with self._relay.running(), anyio.create_task_group() as task_group:
                self._task_group = task_group
                await task_group.start(self._listen)
                task_group.start_soon(self._refresh_forever)
                logger.info(
                    "cluster: worker %s joined through Redis at %s (prefix %r); "
                    "forwarded requests reach it at %s",
                    self.worker[:8],
                    redact(self._url),
                    prefix,
                    self.address,
                )
                try:
                    yield
                finally:
                    task_group.cancel_scope.cancel()
                    self._task_group = None
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(2.0):
                await self._forget_all()
            await self._forwarder.aclose()
            await redis.aclose()

    # --- SessionClaims -------------------------------------------------------------------

    def refusal(self) -> str | None:
        return None if self._available else CLAIMS_UNREACHABLE

    def owns(self, session_id: str) -> bool:
        return session_id in self._claimed

    async def claim(self, session_id: str, deliver: ASGIApp | None = None) -> bool:
        if not self._available or self._directory is None or self._relay is None:
            return False
        # Recorded first, so that registering again after a reconnect includes it.
        self._claimed.add(session_id)
        if deliver is not None:
            self._relay.accept_for(session_id, deliver)
        try:
            await self._directory.publish([session_id])
        except RedisError as exc:
            self._claimed.discard(session_id)
            self._relay.stop_accepting(session_id)
            self._lost(exc)
            return False
        return True

    def release(self, session_id: str) -> None:
        if session_id not in self._claimed:
            return
        self._claimed.discard(session_id)
        if self._relay is not None:
            self._relay.stop_accepting(session_id)
        if self._available and self._task_group is not None:
            # Not awaited: the session's teardown does not wait on Redis. If this fails,
            # the key expires.
            self._releasing.add(session_id)
            self._task_group.start_soon(self._unregister, session_id)

    # --- forwarding (mcp_host.cluster.asgi) -------------------------------------------------

    def wrap_streamable(self, app: ASGIApp) -> ASGIApp:
        """``app`` (a server's ``/mcp``), with requests for sessions owned elsewhere sent there."""
        return ForwardStreamableRequests(app, self)

    def wrap_messages(self, app: ASGIApp) -> ASGIApp:
        """``app`` (a server's ``/messages/``), with messages for sessions owned elsewhere
        handed over."""
        return ForwardSseMessages(app, self)

    async def forward_message(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return

        async def hand_over(scope: Scope, receive: Receive, send: Send) -> None:
            body = await Request(scope, receive).body()
            response = await self._hand_over(session_id, scope, body)
            await response(scope, receive, send)

        # The same size limit as the SDK's own handler, before anything is read into Redis.
        await RequestBodyLimitMiddleware(hand_over, self._max_body_bytes)(scope, receive, send)

    async def forward_request(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            owner = await self._owner_of(session_id)
        except RedisError as exc:
            self._lost(exc)
            await jsonrpc_error(f"cannot reach the session now: {UNREACHABLE}", 503, INTERNAL_ERROR)(
                scope, receive, send
            )
            return
        if owner is None or owner.worker == self.worker:
            await session_not_found()(scope, receive, send)
            return
        assert self._forwarder is not None
        if not await self._forwarder.forward(owner.address, owner.worker, session_id, scope, receive, send):
            # Its owner is gone, and the session with it: the client starts a new one.
            self._owners.pop(session_id, None)
            await session_not_found()(scope, receive, send)

    # --- internals ---------------------------------------------------------------------------

    async def _hand_over(self, session_id: str, scope: Scope, body: bytes) -> Response:
        assert self._relay is not None
        not_found = PlainTextResponse("Could not find session", 404)
        try:
            owner = await self._owner_of(session_id)
            if owner is None or owner.worker == self.worker:
                return not_found
            answer = await self._hand_over_traced(owner, session_id, scope, body)
        except RedisError as exc:
            self._lost(exc)
            return PlainTextResponse(f"cannot reach the session now: {UNREACHABLE}", 503)
        except TimeoutError:
            return PlainTextResponse("the process that holds the session did not answer in time", 504)
        if answer is None:
            self._owners.pop(session_id, None)
            return not_found
        headers = {"content-type": answer.content_type} if answer.content_type else None
        return Response(answer.body, answer.status, headers=headers)

    async def _hand_over_traced(
        self, owner: Owner, session_id: str, scope: Scope, body: bytes
    ) -> Answer | None:
        assert self._relay is not None
        if not self._tracing:
            return await self._relay.hand_over(owner, session_id, scope, body)
        with hop_span("cluster hand-over", session_id, owner.worker, body) as hop:
            carried = {**scope, "headers": hop.headers(scope["headers"])}
            answer = await self._relay.hand_over(owner, session_id, carried, hop.body)
            if answer is not None:
                hop.span.set_attribute("http.response.status_code", answer.status)
            return answer

    async def _owner_of(self, session_id: str) -> Owner | None:
        owner = self._owners.get(session_id)
        if owner is not None:
            self._owners.move_to_end(session_id)
            return owner
        assert self._directory is not None
        owner = await self._directory.owner_of(session_id)
        if owner is not None:
            self._owners[session_id] = owner
            if len(self._owners) > OWNER_CACHE_SIZE:
                self._owners.popitem(last=False)
        return owner

    def _lost(self, exc: BaseException) -> None:
        if self._available:
            logger.error(
                "cluster: lost Redis at %s (%s): new sessions are refused until it is back; "
                "sessions already open here go on",
                redact(self._url),
                exc,
            )
        self._available = False

    async def _listen(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Take messages handed to this process, and reconnect whenever Redis was lost."""
        assert self._redis is not None
        assert self._relay is not None
        assert self._directory is not None
        started = False
        attempt = 0
        while True:
            pubsub = self._redis.pubsub()
            try:
                if started:
                    # Connections from before the loss lead nowhere: start the pool afresh.
                    await self._redis.connection_pool.disconnect()
                await pubsub.subscribe(self._relay.channel)
                # Redis may have restarted empty: everything this process owns is written again.
                count = await self._directory.publish(list(self._claimed))
                if started and not self._available:
                    logger.warning("cluster: Redis is back; %d open sessions registered again", count)
                self._available = True
                attempt = 0
                if not started:
                    started = True
                    task_status.started()
                while self._available:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message["type"] == "message":
                        await self._relay.received(message["data"])
            except (RedisError, OSError) as exc:
                if not started:
                    raise ClusterUnavailable(
                        f"cannot subscribe on Redis at {redact(self._url)}: {exc}"
                    ) from None
                self._lost(exc)
            finally:
                with anyio.CancelScope(shield=True), anyio.move_on_after(1.0), suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await anyio.sleep(RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)])
            attempt += 1

    async def _refresh_forever(self) -> None:
        assert self._directory is not None
        while True:
            await anyio.sleep(self.settings.session_ttl_s / 3)
            if not self._available:
                continue
            try:
                await self._directory.publish(list(self._claimed))
            except RedisError as exc:
                self._lost(exc)  # the listener reconnects and registers them again

    async def _unregister(self, session_id: str) -> None:
        assert self._directory is not None
        with suppress(RedisError):  # else it expires
            await self._directory.remove(session_id)
        # Not in a ``finally``: cancelled by a shutdown, it is left to ``_forget_all``.
        self._releasing.discard(session_id)

    async def _forget_all(self) -> None:
        """On shutdown: sessions still open here are closing with it, and the keys of
        sessions that just ended may not have been deleted yet."""
        if self._directory is None or not self._available:
            return
        for session_id in [*self._claimed, *self._releasing]:
            try:
                await self._directory.remove(session_id)
            except RedisError:
                return
