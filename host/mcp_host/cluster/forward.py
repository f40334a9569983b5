"""Streamable HTTP requests for a session owned by another process, proxied to its owner.

Every process listens on an internal address as well (``[cluster] advertise_host``), which
it registers with each session it owns. A request for a session owned elsewhere is sent
there as it came (method, path, headers with the client's own Host and Authorization, so
the owner checks them as usual), marked so that it is never forwarded twice, and the
owner's response, JSON or an SSE stream, is relayed back chunk by chunk as it arrives.
"""

from __future__ import annotations

import logging

import anyio
import httpx2
from opentelemetry import trace
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from mcp_host.cluster.hop_trace import hop_span

logger = logging.getLogger(__name__)

FORWARDED_HEADER = "x-mcp-host-forwarded"
"""Marks a request one process forwarded to the session's owner, so that it goes no further."""

_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",  # recomputed for the body as sent
    }
)
_NOT_RELAYED = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"date", b"server"})
"""Response headers our own server sets again for the client."""


class RequestForwarder:
    """Proxies requests to other processes' internal listeners over one pooled HTTP client."""

    def __init__(self, worker: str, tracing: bool = False) -> None:
        self._worker = worker
        self._tracing = tracing
        # No read timeout: a relayed SSE stream stays open as long as the client wants it.
        self._client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(connect=5.0, read=None, write=30.0, pool=30.0), trust_env=False
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def forward(
        self, address: str, owner: str, session_id: str, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Relay the request to ``owner`` at ``address`` and its response back; ``False`` if
        unreachable. Nothing has been sent to the client when it returns ``False``.

        When the host exports traces, the hop is a span of the client's trace (``hop_trace``).
        """
        body = await Request(scope, receive).body()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        headers.append((FORWARDED_HEADER.encode(), self._worker.encode()))
        if not self._tracing:
            return await self._relay(address, scope, headers, body, receive, send)
        host, _, port = address.rpartition(":")
        peer = {"server.address": host.strip("[]"), "server.port": int(port)}
        with hop_span("cluster forward", session_id, owner, body, **peer) as hop:
            return await self._relay(address, scope, hop.headers(headers), hop.body, receive, send)

    async def _relay(
        self,
        address: str,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        receive: Receive,
        send: Send,
    ) -> bool:
        query = scope.get("query_string", b"")
        target = f"http://{address}{scope.get('raw_path', scope['path'].encode()).decode('latin-1')}"
        if query:
            target += "?" + query.decode("latin-1")
        request = self._client.build_request(scope["method"], target, headers=headers, content=body)
        try:
            upstream = await self._client.send(request, stream=True)
        except httpx2.TransportError as exc:
            logger.info("cluster: the owner at %s is unreachable: %s", address, exc)
            trace.get_current_span().set_attribute("error.type", type(exc).__qualname__)
            return False
        trace.get_current_span().set_attribute("http.response.status_code", upstream.status_code)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": upstream.status_code,
                    "headers": [(k, v) for k, v in upstream.headers.raw if k.lower() not in _NOT_RELAYED],
                }
            )
            async with anyio.create_task_group() as relaying:
                relaying.start_soon(_cancel_on_disconnect, receive, relaying.cancel_scope)
                try:
                    async for chunk in upstream.aiter_raw():
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except httpx2.HTTPError as exc:
                    # The owner went away mid-response: end what the client got so far.
                    logger.info("cluster: the response from %s broke off: %s", address, exc)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                relaying.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()
        return True


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    """A client that leaves ends the relay, and so the request to the owner."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
