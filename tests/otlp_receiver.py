"""An OTLP/HTTP trace receiver on loopback, for tests: what a collector accepts, nothing mocked.

It takes ``POST /v1/traces`` as an OpenTelemetry collector does (``application/x-protobuf``,
gzip or not) and decodes each request with the official protobuf definitions
(``opentelemetry-proto``), so a test sees exactly what a collector would store.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: str
    attributes: dict[str, Any]
    service: str
    status: str
    events: tuple[str, ...]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind is not None else None


class OtlpReceiver:
    """Runs while its ``running()`` block lasts; ``endpoint`` is what ``[telemetry]`` names."""

    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        """Every request body, decompressed: what left the host, byte for byte."""
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver._take(ExportTraceServiceRequest.FromString(body), body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[OtlpReceiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()

    def _take(self, request: ExportTraceServiceRequest, body: bytes) -> None:
        received = []
        for resource_spans in request.resource_spans:
            resource = {item.key: _value(item.value) for item in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=ProtoSpan.SpanKind.Name(span.kind),
                            attributes={item.key: _value(item.value) for item in span.attributes},
                            service=str(resource.get("service.name")),
                            status=Status.StatusCode.Name(span.status.code),
                            events=tuple(event.name for event in span.events),
                        )
                    )
        with self._lock:
            self.payloads.append(body)
            self._spans.extend(received)

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def wait_for(
        self, found: Callable[[list[ReceivedSpan]], bool], timeout: float = 20.0
    ) -> list[ReceivedSpan]:
        """The spans received, once ``found`` says they include what the test waits for."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.spans
            if found(spans):
                return spans
            time.sleep(0.05)
        raise AssertionError(f"the spans waited for did not arrive in {timeout} s; got {self.spans}")

    def wait_for_span(
        self, name: str, trace_id: str | None = None, timeout: float = 20.0, **attributes: Any
    ) -> ReceivedSpan:
        """The first span named ``name`` (in trace ``trace_id``) whose attributes include ``attributes``."""

        def matching(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
            return [
                span
                for span in spans
                if span.name == name
                and trace_id in (None, span.trace_id)
                and all(span.attributes.get(k) == v for k, v in attributes.items())
            ]

        return matching(self.wait_for(lambda spans: bool(matching(spans)), timeout))[0]
