"""``POST /messages/`` for an HTTP+SSE session owned by another process, over Redis pub/sub.

Why pub/sub and not streams: a handed-over message is worth something only while its
owner is alive to take it, and pub/sub keeps nothing: nothing to trim, no payload left in
Redis once delivered. ``PUBLISH`` answers with the number of receivers, so 0 tells at once
that the owner is gone (the client gets 404, as for any ended session), and one publisher's
messages reach a subscriber in the order they were published. Streams would add
persistence, consumer groups and acknowledgements that this hand-over does not need.

The forwarding process waits for the owner's answer before it answers the client: the
owner runs the message through the SDK's own ``handle_post_message`` (Host, Origin,
content type, session and credential checks, parsing), so the client gets exactly the
status a single process would give, and a 202 means the message is in the owner's session
queue, ahead of anything the client posts next, to whichever process.

On the owner, each session has an inbox drained by one task: a session's messages are
handled one after another, in arrival order, and a slow session never holds up another.
"""

from __future__ import annotations

import json
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Message, Scope

from mcp_host.background import Background
from mcp_host.cluster.registry import Owner, worker_channel
from mcp_host.tracing import trace_context_of

logger = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 10.0
"""How long the forwarding process waits for the owner to take a message (it only queues it)."""
INBOX_SIZE = 256
"""Messages waiting for one session on its owner; more are answered 503 (the client retries)."""
_NOT_CARRIED = {b"authorization", b"proxy-authorization", b"cookie"}
"""Headers kept out of Redis: the forwarding process authenticated the client; its identity
travels instead of its secret."""


@dataclass
class Answer:
    """The owner's HTTP answer to a handed-over message."""

    status: int
    body: bytes
    content_type: str | None


@dataclass
class _Waiting:
    done: anyio.Event = field(default_factory=anyio.Event)
    answer: Answer | None = None


def _encode(header: dict[str, Any], body: bytes) -> bytes:
    # JSON has no raw newline, so the first one ends the header; the body stays bytes.
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def _decode(data: bytes) -> tuple[dict[str, Any], bytes]:
    header, _, body = data.partition(b"\n")
    return json.loads(header), body


def identity_of(scope: Scope) -> dict[str, Any] | None:
    """Who the client authenticated as, in the terms the SDK binds a session to."""
    user = scope.get("user")
    if not isinstance(user, AuthenticatedUser):
        return None
    token = user.access_token
    issuer = (token.claims or {}).get("iss")
    return {
        "client_id": token.client_id,
        "scopes": list(token.scopes),
        "subject": token.subject,
        "issuer": None if issuer is None else str(issuer),
    }


def _user_scope(identity: dict[str, Any] | None) -> dict[str, Any]:
    if identity is None:
        return {}
    issuer = identity.get("issuer")
    token = AccessToken(
        token="",  # never carried: only who it identified
        client_id=identity["client_id"],
        scopes=identity["scopes"],
        subject=identity.get("subject"),
        claims={"iss": issuer} if issuer is not None else None,
    )
    return {"user": AuthenticatedUser(token), "auth": AuthCredentials(token.scopes)}


class MessageRelay:
    """Hands messages to their session's owner, and takes the ones handed to this process."""

    def __init__(self, redis: Redis, prefix: str, me: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self.channel = worker_channel(prefix, me)
        self._waiting: dict[str, _Waiting] = {}
        self._local: dict[str, ASGIApp] = {}
        self._inboxes: dict[str, MemoryObjectSendStream[tuple[dict[str, Any], bytes]]] = {}
        self._background = Background("the cluster relay")

    def running(self) -> AbstractAsyncContextManager[None]:
        return self._background.running()

    # --- the session's owner ---------------------------------------------------------------

    def accept_for(self, session_id: str, deliver: ASGIApp) -> None:
        """Messages for ``session_id`` handed over by other processes go to ``deliver``."""
        self._local[session_id] = deliver

    def stop_accepting(self, session_id: str) -> None:
        self._local.pop(session_id, None)
        inbox = self._inboxes.pop(session_id, None)
        if inbox is not None:
            inbox.close()

    async def received(self, data: bytes) -> None:
        """One message on this process's channel: a handed-over message, or an answer."""
        try:
            header, body = _decode(data)
            kind = header["kind"]
        except (ValueError, KeyError, TypeError):
            logger.warning("cluster: ignored a malformed message on %s", self.channel)
            return
        if kind == "answer":
            waiting = self._waiting.get(str(header.get("id")))
            if waiting is not None:
                waiting.answer = Answer(int(header["status"]), body, header.get("content_type"))
                waiting.done.set()
        elif kind == "message":
            self._queue(header, body)

    def _queue(self, header: dict[str, Any], body: bytes) -> None:
        session_id = str(header.get("session"))
        deliver = self._local.get(session_id)
        if deliver is None:
            self._answer_soon(header, Answer(404, b"Could not find session", "text/plain; charset=utf-8"))
            return
        inbox = self._inboxes.get(session_id)
        if inbox is None:
            inbox, drained = anyio.create_memory_object_stream[tuple[dict[str, Any], bytes]](INBOX_SIZE)
            self._inboxes[session_id] = inbox
            self._background.tasks.start_soon(self._drain, deliver, drained)
        try:
            inbox.send_nowait((header, body))
        except anyio.WouldBlock:
            busy = b"too many messages waiting for this session; retry"
            self._answer_soon(header, Answer(503, busy, "text/plain; charset=utf-8"))

    async def _drain(
        self, deliver: ASGIApp, inbox: MemoryObjectReceiveStream[tuple[dict[str, Any], bytes]]
    ) -> None:
        async with inbox:
            async for header, body in inbox:
                try:
                    await self._deliver(deliver, header, body)
                except Exception:
                    logger.exception(
                        "cluster: a message handed over for session %s failed", header.get("session")
                    )

    async def _deliver(self, deliver: ASGIApp, header: dict[str, Any], body: bytes) -> None:
        """Run the message through the session's own ``POST`` handler, as if posted here."""
        path = str(header.get("path", "/messages/"))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": str(header.get("query", "")).encode("latin-1"),
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in header.get("headers", [])],
            "client": None,
            "server": None,
            "state": {},
            **_user_scope(header.get("identity")),
        }
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            if request_sent:
                return {"type": "http.disconnect"}
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, content_type, chunks, answered = 500, None, [], False

        async def send(message: Message) -> None:
            # The SDK answers, then queues the message for the session: answering from here,
            # before it queues, keeps the client's next message behind this one.
            nonlocal status, content_type, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and not answered:
                    answered = True
                    await self._answer(header, Answer(status, b"".join(chunks), content_type))

        # The hop's trace context, carried in the headers: the message's span is its child.
        with trace_context_of(scope["headers"]):
            await deliver(scope, receive, send)
        if not answered:
            await self._answer(
                header, Answer(500, b"the session gave no answer", "text/plain; charset=utf-8")
            )

    def _answer_soon(self, header: dict[str, Any], answer: Answer) -> None:
        self._background.tasks.start_soon(self._answer, header, answer)

    async def _answer(self, header: dict[str, Any], answer: Answer) -> None:
        reply = {"kind": "answer", "id": header.get("id"), "status": answer.status}
        if answer.content_type is not None:
            reply["content_type"] = answer.content_type
        try:
            await self._redis.publish(str(header.get("reply_to")), _encode(reply, answer.body))
        except RedisError as exc:
            # The forwarding process will answer its client 504; the message itself went on.
            logger.warning("cluster: could not answer a handed-over message: %s", exc)

    # --- any other process ------------------------------------------------------------------

    async def hand_over(self, owner: Owner, session_id: str, scope: Scope, body: bytes) -> Answer | None:
        """Give the message to ``owner`` and wait for its answer; ``None`` if the owner is gone.

        Raises ``RedisError`` when Redis cannot be reached, ``TimeoutError`` when the owner
        took the message but did not answer in time.
        """
        request_id = uuid4().hex
        header = {
            "kind": "message",
            "id": request_id,
            "reply_to": self.channel,
            "session": session_id,
            "path": scope.get("path", ""),
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": [
                [k.decode("latin-1"), v.decode("latin-1")]
                for k, v in scope["headers"]
                if k.lower() not in _NOT_CARRIED
            ],
            "identity": identity_of(scope),
        }
        waiting = _Waiting()
        self._waiting[request_id] = waiting
        try:
            receivers = await self._redis.publish(
                worker_channel(self._prefix, owner.worker), _encode(header, body)
            )
            if receivers == 0:
                return None
            with anyio.fail_after(ANSWER_TIMEOUT_S):
                await waiting.done.wait()
            return waiting.answer
        finally:
            del self._waiting[request_id]
