"""Traces: the host's spans arrive at a real OTLP/HTTP receiver, as one trace with the client's.

Every live test runs ``mcp-host serve`` exporting to ``OtlpReceiver`` (a loopback collector that
decodes with the official protobuf definitions) and checks what arrived: parentage from the
client's trace context (HTTP header, or ``_meta`` in either protocol era), the attributes of
the MCP semantic conventions and the host's own, and that no argument value left the host.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp_types import CallToolResult
from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from mcp_host.config import ConfigError, HostConfig, parse_config
from mcp_host.telemetry import ExportPlan, plan_export
from mcp_host.testing import LiveHost, run_host

from .otlp_receiver import OtlpReceiver
from .wire import HEADERS, INITIALIZE, QUIET, jsonrpc_of, mcp_post, open_mcp_session

pytestmark = pytest.mark.anyio

WEATHER_TESTS = Path(__file__).parents[1] / "plugins" / "weather" / "tests"
if str(WEATHER_TESTS) not in sys.path:
    sys.path.insert(0, str(WEATHER_TESTS))  # the weather plugin's loopback stand-in for Open-Meteo

from fake_open_meteo import FakeOpenMeteo  # noqa: E402

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"
SECRET_ARGUMENT = "argument-value-that-must-not-leave-the-host"
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "50"}
"""The standard variable: the batch processor sends every 50 ms, not every 5 s."""


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver().running() as running:
        yield running


@pytest.fixture
def fake_meteo() -> Iterator[FakeOpenMeteo]:
    fake = FakeOpenMeteo()
    try:
        yield fake
    finally:
        fake.close()


def _weather(fake: FakeOpenMeteo) -> str:
    return (
        f"[plugins.weather]\ncache_ttl_s = 0\ngeocoding_url = '{fake.geocoding_url}'\n"
        f"forecast_url = '{fake.forecast_url}'\n"
    )


def _config(receiver: OtlpReceiver, extra: str = "") -> str:
    return f"[telemetry]\nendpoint = '{receiver.endpoint}'\nservice_name = 'traced-host'\n" + extra + QUIET


def _call(tool: str, arguments: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": tool, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}


def _assert_no_argument_values(receiver: OtlpReceiver) -> None:
    assert receiver.payloads
    assert not any(SECRET_ARGUMENT.encode() in payload for payload in receiver.payloads)


# --- the live host, exporting ----------------------------------------------------------------


async def test_a_tool_call_is_a_child_of_the_clients_traceparent_header(plugin_env, receiver):
    with run_host(_config(receiver), python=plugin_env.python, env=FAST_EXPORT) as host:
        async with httpx2.AsyncClient() as http:
            session_id = await open_mcp_session(http, host.mcp_url())
            answer = await mcp_post(
                http,
                host.mcp_url(),
                session_id,
                _call("echo", {"text": SECRET_ARGUMENT}),
                headers={"traceparent": TRACEPARENT},
            )
        assert not jsonrpc_of(answer)["result"]["isError"]
        span = receiver.wait_for_span("tools/call echo")
    assert (span.trace_id, span.parent_span_id) == (TRACE_ID, CLIENT_SPAN_ID)
    assert span.kind == "SPAN_KIND_SERVER"
    assert span.service == "traced-host"
    assert span.attributes == {
        # the MCP semantic conventions (the SDK's, and the session id, the host's)
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2025-06-18",
        "jsonrpc.request.id": "2",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "echo",
        "mcp.session.id": session_id,
        "network.transport": "tcp",
        "network.protocol.name": "http",
        # the host's
        "mcp_host.server": "default",
        "mcp_host.transport": "streamable-http",
        "mcp_host.plugin": "echo",
        "mcp_host.tool.outcome": "ok",
    }
    # The SDK's span is the request's: the host added to it, and opened no other for the call.
    in_trace = [other.name for other in receiver.spans if other.trace_id == TRACE_ID]
    assert in_trace == ["tools/call echo"]
    started = receiver.wait_for_span("session start")
    assert started.attributes["mcp.session.id"] == session_id
    _assert_no_argument_values(receiver)


async def test_a_failed_call_carries_its_outcome_and_the_error_id_of_the_log(plugin_env, receiver):
    with run_host(_config(receiver), python=plugin_env.python, env=FAST_EXPORT) as host:
        async with httpx2.AsyncClient() as http:
            session_id = await open_mcp_session(http, host.mcp_url())
            answer = await mcp_post(
                http, host.mcp_url(), session_id, _call("crash", {}), headers={"traceparent": TRACEPARENT}
            )
        assert jsonrpc_of(answer)["result"]["isError"]
        span = receiver.wait_for_span("tools/call crash")
        logged = host.wait_for_log(r"crashed \[error id (\w+)\]")
    assert span.parent_span_id == CLIENT_SPAN_ID
    assert span.status == "STATUS_CODE_ERROR"
    assert span.attributes["error.type"] == "tool_error"
    assert span.attributes["mcp_host.tool.outcome"] == "error"
    assert span.attributes["mcp_host.plugin"] == "counter"
    assert span.attributes["mcp_host.error.id"] == logged.group(1)


async def _echo_in_the_client_trace(session: ClientSession) -> CallToolResult:
    """``echo``, called while the client's own span (``TRACE_ID``/``CLIENT_SPAN_ID``) is
    current: the SDK's client puts that context in the request's ``_meta``."""
    parent = SpanContext(int(TRACE_ID, 16), int(CLIENT_SPAN_ID, 16), True, TraceFlags(TraceFlags.SAMPLED))
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        return await session.call_tool("echo", {"text": SECRET_ARGUMENT})
    finally:
        context.detach(token)


async def test_meta_trace_context_in_the_handshake_era_over_sse(plugin_env, receiver):
    """The SDK's client puts the current trace context in each request's ``_meta``."""
    with run_host(_config(receiver), python=plugin_env.python, env=FAST_EXPORT) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await _echo_in_the_client_trace(session)
        assert not result.is_error
        span = receiver.wait_for_span("tools/call echo")
        session_id = span.attributes["mcp.session.id"]
        ended = receiver.wait_for_span("session end", **{"mcp.session.id": session_id})
    assert (span.trace_id, span.parent_span_id) == (TRACE_ID, CLIENT_SPAN_ID)
    assert span.attributes["mcp_host.transport"] == "sse"
    assert ended.attributes["mcp_host.transport"] == "sse"
    assert ended.attributes["mcp_host.session.duration_s"] >= 0
    _assert_no_argument_values(receiver)


async def test_meta_trace_context_of_a_sessionless_request(plugin_env, receiver):
    modern = "2026-07-28"
    meta = {
        "io.modelcontextprotocol/protocolVersion": modern,
        "io.modelcontextprotocol/clientCapabilities": {},
        "traceparent": TRACEPARENT,
    }
    headers = {**HEADERS, "MCP-Protocol-Version": modern, "Mcp-Method": "tools/call", "Mcp-Name": "echo"}
    with run_host(_config(receiver), python=plugin_env.python, env=FAST_EXPORT) as host:
        async with httpx2.AsyncClient() as http:
            answer = await http.post(
                host.mcp_url(), json=_call("echo", {"text": SECRET_ARGUMENT}, meta), headers=headers
            )
        assert answer.status_code == 200, answer.text
        span = receiver.wait_for_span("tools/call echo")
    assert (span.trace_id, span.parent_span_id) == (TRACE_ID, CLIENT_SPAN_ID)
    assert span.attributes["mcp.protocol.version"] == modern
    assert span.attributes["mcp_host.plugin"] == "echo"
    assert "mcp.session.id" not in span.attributes  # no session: the request stands alone
    _assert_no_argument_values(receiver)


async def test_json_log_lines_of_a_request_carry_its_trace_and_span(plugin_env, receiver):
    args = ("--log-format", "json")
    with run_host(_config(receiver), python=plugin_env.python, env=FAST_EXPORT, args=args) as host:
        async with httpx2.AsyncClient() as http:
            session_id = await open_mcp_session(http, host.mcp_url())
            await mcp_post(
                http, host.mcp_url(), session_id, _call("echo", {"text": "hi"}), {"traceparent": TRACEPARENT}
            )
        span = receiver.wait_for_span("tools/call echo")
        host.wait_for_log('"event": "tool_call"')
        lines = [json.loads(line) for line in host.log_lines]
    call = next(line for line in lines if line.get("event") == "tool_call")
    assert (call["trace_id"], call["span_id"]) == (TRACE_ID, span.span_id)
    started = next(line for line in lines if line.get("event") == "serving")
    assert "trace_id" not in started  # outside any request


async def test_the_weather_plugins_requests_are_child_spans_and_carry_the_trace(receiver, fake_meteo):
    fake = fake_meteo
    with run_host(_config(receiver, _weather(fake)), env=FAST_EXPORT) as host:
        async with httpx2.AsyncClient() as http:
            session_id = await open_mcp_session(http, host.mcp_url())
            answer = await mcp_post(
                http,
                host.mcp_url(),
                session_id,
                _call("get_weather", {"city": "Lisbon"}),
                headers={"traceparent": TRACEPARENT},
            )
        assert not jsonrpc_of(answer)["result"]["isError"], answer.text
        call = receiver.wait_for_span("tools/call get_weather")
        search = receiver.wait_for_span("GET /v1/search")
        forecast = receiver.wait_for_span("GET /v1/forecast")
    assert call.parent_span_id == CLIENT_SPAN_ID
    assert call.attributes["mcp_host.plugin"] == "weather"
    for request in (search, forecast):
        assert (request.trace_id, request.parent_span_id) == (TRACE_ID, call.span_id)
        assert request.kind == "SPAN_KIND_CLIENT"
        assert request.attributes["http.response.status_code"] == 200
        assert request.attributes["server.address"] == "127.0.0.1"
    assert forecast.attributes["url.full"] == fake.forecast_url  # no query: it holds the user's place
    # Open-Meteo was told of the trace: each request carried its own span as the parent.
    sent = {request.path: request.traceparent for request in fake.requests}
    assert sent == {
        "/v1/search": f"00-{TRACE_ID}-{search.span_id}-01",
        "/v1/forecast": f"00-{TRACE_ID}-{forecast.span_id}-01",
    }
    assert not any(b"Lisbon" in payload for payload in receiver.payloads)


@pytest.fixture
def redis_url() -> Iterator[str]:
    from .test_cluster import RedisServer  # skips, as that module does, without redis-server

    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def cluster(plugin_env, receiver, redis_url, fake_meteo) -> Iterator[tuple[LiveHost, LiveHost]]:
    """Hosts A and B sharing sessions through Redis, each exporting as its own service."""
    config = _config(receiver, f"[cluster]\nredis_url = '{redis_url}'\n" + _weather(fake_meteo)).replace(
        "service_name = 'traced-host'\n", ""
    )
    with (
        run_host(config, python=plugin_env.python, env={**FAST_EXPORT, "OTEL_SERVICE_NAME": "host-a"}) as a,
        run_host(config, python=plugin_env.python, env={**FAST_EXPORT, "OTEL_SERVICE_NAME": "host-b"}) as b,
    ):
        yield a, b


async def test_a_request_forwarded_to_its_sessions_owner_stays_one_trace(cluster, receiver):
    """One trace from the client through B, the hop, A and the plugin's own requests."""
    a, b = cluster
    async with httpx2.AsyncClient() as http:
        session_id = await open_mcp_session(http, a.mcp_url())  # A owns the session
        answer = await mcp_post(
            http,
            b.mcp_url(),  # B forwards the request to A
            session_id,
            _call("get_weather", {"city": "Lisbon"}),
            headers={"traceparent": TRACEPARENT},
        )
    assert not jsonrpc_of(answer)["result"]["isError"], answer.text
    hop = receiver.wait_for_span("cluster forward", trace_id=TRACE_ID)
    call = receiver.wait_for_span("tools/call get_weather")
    forecast = receiver.wait_for_span("GET /v1/forecast")
    assert (hop.service, call.service, forecast.service) == ("host-b", "host-a", "host-a")
    assert (hop.trace_id, hop.parent_span_id, hop.kind) == (TRACE_ID, CLIENT_SPAN_ID, "SPAN_KIND_CLIENT")
    assert (call.trace_id, call.parent_span_id) == (TRACE_ID, hop.span_id)
    assert (forecast.trace_id, forecast.parent_span_id) == (TRACE_ID, call.span_id)
    assert hop.attributes["mcp.session.id"] == call.attributes["mcp.session.id"] == session_id
    assert hop.attributes["http.response.status_code"] == 200
    assert hop.attributes["server.address"] == "127.0.0.1"
    assert not any(b"Lisbon" in payload for payload in receiver.payloads)


async def test_an_sse_message_handed_to_its_owner_through_redis_stays_one_trace(cluster, receiver):
    """The client's context is in ``_meta``: B's hop replaces it with its own on the way to A."""
    from .test_cluster import _port, _posts_to

    a, b = cluster
    streams = sse_client(a.sse_url(), httpx_client_factory=_posts_to(lambda: _port(b)))
    async with streams as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await _echo_in_the_client_trace(session)
    assert not result.is_error
    # initialize and notifications/initialized were handed over too, each a trace of its own.
    hop = receiver.wait_for_span("cluster hand-over", trace_id=TRACE_ID)
    call = receiver.wait_for_span("tools/call echo")
    assert (hop.service, call.service) == ("host-b", "host-a")
    assert hop.parent_span_id == CLIENT_SPAN_ID
    assert (call.trace_id, call.parent_span_id) == (TRACE_ID, hop.span_id)
    assert call.attributes["mcp_host.transport"] == "sse"
    assert hop.attributes["http.response.status_code"] == 202
    _assert_no_argument_values(receiver)


def test_an_unreachable_collector_neither_fails_calls_nor_holds_the_stop_past_its_grace(plugin_env):
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    config = f"[telemetry]\nendpoint = 'http://127.0.0.1:{closed}'\n[server]\nshutdown_grace_s = 1\n" + QUIET
    with run_host(config, python=plugin_env.python, env=FAST_EXPORT) as host:
        with httpx2.Client() as http:
            opened = http.post(host.mcp_url(), json=INITIALIZE, headers=HEADERS)
        assert opened.status_code == 200
        host.wait_for_log("encountered while exporting spans")  # the SDK retries, the host serves on
        # The SDK alone would retry for its 10 s export timeout before letting the process exit.
        assert host.stop(timeout=8) == 0
        host.wait_for_log("the last spans could not be exported within")


# --- without telemetry --------------------------------------------------------------------


def test_a_host_without_telemetry_never_imports_the_sdk():
    probe = (
        "import sys\n"
        "from mcp_host.app import create_app\n"
        "from mcp_host.config import HostConfig\n"
        "from mcp_host.host import prepare_host\n"
        "host = prepare_host(HostConfig(), discover=False)\n"
        "create_app(host)\n"
        "exporting = ('opentelemetry.sdk', 'opentelemetry.exporter')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(exporting))\n"
        "assert not loaded, loaded\n"
        "assert host.telemetry is None and not host.factory.tracing\n"
    )
    environment = {"PATH": "/usr/bin:/bin"}  # no OTEL_* variable of the machine's
    subprocess.run([sys.executable, "-c", probe], check=True, env=environment, timeout=60)


# --- the config and the environment ---------------------------------------------------------


def test_the_telemetry_table_is_validated_like_every_other():
    with pytest.raises(ConfigError) as bad_url:
        parse_config("[telemetry]\nendpoint = 'localhost:4318'\n", "host.toml")
    assert str(bad_url.value) == (
        "host.toml: telemetry.endpoint: must be an http:// or https:// URL, e.g. 'http://127.0.0.1:4318'"
    )
    with pytest.raises(ConfigError) as bad_ratio:
        parse_config("[telemetry]\nsample_ratio = 2\n", "host.toml")
    assert "telemetry.sample_ratio: input should be less than or equal to 1 (got 2)" in str(bad_ratio.value)
    with pytest.raises(ConfigError) as unknown:
        parse_config("[telemetry]\nexporter = 'jaeger'\n", "host.toml")
    assert "telemetry.exporter: unknown key; expected one of: enabled, endpoint, headers" in str(
        unknown.value
    )


def test_the_config_wins_over_the_environment():
    config = parse_config(
        "[telemetry]\nendpoint = 'http://collector:4318/'\nservice_name = 'edge'\nsample_ratio = 0.25\n"
        "headers = { authorization = 'Bearer abc' }\n"
    )
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://elsewhere:4318", "OTEL_SDK_DISABLED": "true"}
    assert plan_export(config, "host.toml", environ) == ExportPlan(
        traces_url="http://collector:4318/v1/traces",
        headers={"authorization": "Bearer abc"},
        service_name="edge",
        sample_ratio=0.25,
    )
    off = parse_config("[telemetry]\nenabled = false\n")
    assert plan_export(off, "host.toml", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}) is None


@pytest.mark.parametrize(
    ("environ", "exports"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
    ],
)
def test_without_the_table_the_standard_environment_decides(environ, exports):
    plan = plan_export(HostConfig(), "host.toml", environ)
    # Everything left to the SDK's own reading of the environment.
    assert plan == (ExportPlan() if exports else None)


def test_a_config_that_asks_for_traces_without_the_sdk_is_a_clear_error(monkeypatch, caplog):
    monkeypatch.setattr("mcp_host.telemetry._sdk_installed", lambda: False)
    with pytest.raises(ConfigError) as error:
        plan_export(parse_config("[telemetry]\n"), "host.toml", {})
    assert str(error.value) == (
        "host.toml: telemetry: exporting traces needs the OpenTelemetry SDK: pip install 'mcp-host[otel]'"
    )
    # Asked by the environment alone (which other programs share), it is only a warning.
    assert plan_export(HostConfig(), "host.toml", {"OTEL_TRACES_EXPORTER": "otlp"}) is None
    assert "pip install 'mcp-host[otel]'" in caplog.text
