"""A request sent on to its session's owner, as a span of the client's trace: the hop.

On the process the client reached, the hop is a CLIENT span, timed from the hand-over to the
owner's answer, and a child of the client's trace context: the ``traceparent`` in the
message's ``_meta`` when it has one (as the owner's SDK would read it), else the HTTP header's
(``mcp_host.tracing.TraceContextFromHeaders`` made that current). The request then goes on
with the hop's context in place of the client's, in its headers and in its ``_meta``, so
the owner's request span is the hop's child and the trace stays one across the processes.
Only a host that exports traces does this (``ClusterNode`` is told); others send requests on
untouched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind

from mcp_host.tracing import SESSION_ID, tracer

OWNER = "mcp_host.cluster.owner"
"""The id of the process that owns the session (as the session directory in Redis names it)."""


class Hop:
    """The hop's span, and the request as it goes on: carrying the hop's trace context."""

    def __init__(self, span: Span, body: bytes) -> None:
        self.span = span
        self.body = body
        """The message, its ``_meta`` trace context now the hop's."""

    def headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """``headers`` with the hop's trace context in place of the client's."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        replaced = {name.encode("latin-1") for name in carrier}
        kept = [(name, value) for name, value in headers if name.lower() not in replaced]
        return kept + [(name.encode("latin-1"), value.encode("latin-1")) for name, value in carrier.items()]


@contextmanager
def hop_span(name: str, session_id: str, owner: str, body: bytes, **attributes: Any) -> Iterator[Hop]:
    message = _json_object(body)
    meta = _meta_of(message)
    with tracer.start_as_current_span(
        name,
        kind=SpanKind.CLIENT,
        context=_context_of(meta),
        attributes={SESSION_ID: session_id, OWNER: owner, **attributes},
    ) as span:
        if message is not None and meta is not None and "traceparent" in meta:
            meta.pop("tracestate", None)
            propagate.inject(meta)
            body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        yield Hop(span, body)


def _json_object(body: bytes) -> dict[str, Any] | None:
    """The message, if it is one JSON object (a batch or garbage is the owner's to refuse)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _meta_of(message: dict[str, Any] | None) -> dict[str, Any] | None:
    params = message.get("params") if message is not None else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta if isinstance(meta, dict) else None


def _context_of(meta: dict[str, Any] | None) -> Context | None:
    """The trace context of ``_meta``; ``None`` (the current one) when it has none that is valid."""
    if meta is None or not isinstance(meta.get("traceparent"), str):
        return None
    extracted = propagate.extract(meta)
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None
