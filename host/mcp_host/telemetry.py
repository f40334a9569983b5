"""Opt-in export of the host's traces to an OpenTelemetry collector, over OTLP/HTTP.

The spans themselves are made through ``opentelemetry-api`` alone (the SDK's
``OpenTelemetryMiddleware``, ``mcp_host.tracing``, plugins): with no tracer provider installed
they are no-ops. This module installs one, exporting over OTLP/HTTP, when ``[telemetry]`` or the
standard ``OTEL_*`` environment asks for it. Only then are the OpenTelemetry SDK and its
exporter imported: a host that does not export traces never loads them.

The config wins over the environment, key by key; every key left out is the SDK's to read from
its usual variables (``OTEL_EXPORTER_OTLP_*``, ``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``...).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcp_host.config import ConfigError, HostConfig, Problem

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'mcp-host[otel]'"
DEFAULT_SERVICE_NAME = "mcp-host"
TRACES_PATH = "/v1/traces"

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


@dataclass(frozen=True)
class ExportPlan:
    """What ``start_export`` sets up: the config's choices; ``None`` leaves one to ``OTEL_*``."""

    traces_url: str | None = None
    headers: dict[str, str] | None = field(default=None, repr=False)
    service_name: str | None = None
    sample_ratio: float | None = None


def plan_export(
    config: HostConfig, source: str, environ: Mapping[str, str] = os.environ
) -> ExportPlan | None:
    """Whether this host exports traces, and how; ``None``: it does not.

    ``[telemetry]`` turns export on (or off, with ``enabled = false``); without it, the
    environment does when it names an OTLP endpoint or exporter, unless ``OTEL_SDK_DISABLED``
    or ``OTEL_TRACES_EXPORTER=none`` says otherwise. Raises ``ConfigError`` when the config asks
    for traces and the SDK is not installed; when only the environment does, that is a warning.
    """
    settings = config.telemetry
    if settings is None:
        if not _environment_asks(environ):
            return None
        if not _sdk_installed():
            logger.warning(
                "the OTEL_* environment asks for traces, but the OpenTelemetry SDK is not installed: "
                "none are exported (%s)",
                INSTALL_HINT,
            )
            return None
        plan = ExportPlan()
    elif not settings.enabled:
        return None
    else:
        if not _sdk_installed():
            problem = Problem("telemetry", f"exporting traces needs the OpenTelemetry SDK: {INSTALL_HINT}")
            raise ConfigError(source, [problem])
        plan = ExportPlan(
            traces_url=None if settings.endpoint is None else _traces_url(settings.endpoint),
            headers={name: value.get_secret_value() for name, value in settings.headers.items()} or None,
            service_name=settings.service_name,
            sample_ratio=settings.sample_ratio,
        )
    if plan.traces_url is None and any(environ.get(name, "") == "grpc" for name in _PROTOCOL_VARIABLES):
        logger.warning(
            "traces are exported over OTLP/HTTP (http/protobuf), not gRPC: point the endpoint at the "
            "collector's HTTP port (4318 by default)"
        )
    return plan


def _environment_asks(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = {name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")}
    if "none" in exporters:
        return False
    return "otlp" in exporters or any(environ.get(name) for name in _ENDPOINT_VARIABLES)


def _sdk_installed() -> bool:
    try:
        return (
            importlib.util.find_spec("opentelemetry.sdk") is not None
            and importlib.util.find_spec("opentelemetry.exporter.otlp.proto.http") is not None
        )
    except ModuleNotFoundError:  # a parent package is missing altogether
        return False


def _traces_url(endpoint: str) -> str:
    """The collector's base address, as ``OTEL_EXPORTER_OTLP_ENDPOINT`` gives it, made the
    traces URL; one that already ends in ``/v1/traces`` is kept as written."""
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


class Export:
    """Traces flowing to the collector from this process, until ``shutdown``."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider

    def shutdown(self, within_s: float) -> None:
        """Send the spans still waiting, for at most ``within_s`` seconds, then stop.

        The SDK's own shutdown waits up to 30 s for a collector that does not answer, retrying;
        the host's stop has its grace to keep. It runs in a daemon thread, given up on (and
        ended with the process) when the time is up.
        """
        flushing = threading.Thread(target=self._provider.shutdown, name="trace-export-shutdown", daemon=True)
        flushing.start()
        flushing.join(within_s)
        if flushing.is_alive():
            logger.warning("the last spans could not be exported within %.1f s; they are dropped", within_s)


def start_export(plan: ExportPlan, version: str) -> Export:
    """Install the tracer provider that exports this process's spans.

    Called in each serving process (after ``--workers`` forked): the exporter's thread and
    connections are the process's own.
    """
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    resource = Resource.create({SERVICE_VERSION: version})
    if plan.service_name is not None:
        resource = resource.merge(Resource({SERVICE_NAME: plan.service_name}))
    elif str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    sampler = None if plan.sample_ratio is None else ParentBased(TraceIdRatioBased(plan.sample_ratio))
    provider = TracerProvider(resource=resource, sampler=sampler, shutdown_on_exit=False)
    exporter = OTLPSpanExporter(endpoint=plan.traces_url, headers=plan.headers)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    logger.info(
        "traces of service %r exported over OTLP/HTTP to %s",
        resource.attributes.get(SERVICE_NAME),
        plan.traces_url or _traces_url_of_environment(os.environ),
    )
    return Export(provider)


def _traces_url_of_environment(environ: Mapping[str, str]) -> str:
    """Where the exporter sends spans when the config names no endpoint (as the SDK reads it)."""
    if url := environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return url
    return _traces_url(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318")
