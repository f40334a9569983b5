"""The clients people use, against a real host, over both transports and both protocol eras:
list tools, get the weather.

Each client runs as its users run it: the MCP Inspector's command line, a script on the
TypeScript SDK (Cursor's stack), and the Python SDK. The weather plugin answers from the
loopback Open-Meteo fake, so every client's answer can be checked to the degree. The clients of
the sessionless revision 2026-07-28 are checked from the host's side too: no session opened.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import httpx2
import pytest
from fake_open_meteo import GAZETTEER, FakeOpenMeteo, weather_at
from mcp import ClientSession
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_host.testing import LiveHost
from tests.clients.conftest import NAMED_SERVER
from tests.clients.node import NodeClients

TRANSPORTS = ["sse", "http"]
"""HTTP+SSE at /sse, Streamable HTTP at /mcp."""

LISBON = next(place for place in GAZETTEER if place["name"] == "Lisbon")
LISBON_WEATHER = weather_at(LISBON["latitude"], LISBON["longitude"])
LISBON_ARGS = json.dumps({"city": "Lisbon"})

MODERN = "2026-07-28"
"""MCP's current revision: sessionless, no initialize; chosen per request by its header."""
SERVERS = ["default", NAMED_SERVER]
"""/mcp, and a named server's /servers/NAME/mcp."""


def _url(host: LiveHost, transport: str) -> str:
    return host.sse_url() if transport == "sse" else host.url("/mcp")


def _check_tools(tools: list[dict[str, Any]]) -> None:
    by_name = {tool["name"]: tool for tool in tools}
    assert {"get_weather", "get_forecast"} <= set(by_name)
    assert by_name["get_weather"]["inputSchema"]["required"] == ["city"]
    assert "temperature" in by_name["get_weather"]["outputSchema"]["properties"]


def _check_lisbon_weather(result: dict[str, Any], fake: FakeOpenMeteo) -> None:
    assert not result.get("isError"), result
    place = result["structuredContent"]["place"]
    assert (place["name"], place["country"]) == ("Lisbon", "Portugal")
    assert result["structuredContent"]["temperature"] == LISBON_WEATHER.temperature
    assert result["content"][0]["text"].startswith("Lisbon, Lisbon, Portugal")
    assert fake.requests_to("forecast"), "the weather did not come from the provider"


def _sessions(host: LiveHost) -> int:
    with httpx2.Client() as http:
        count: int = http.get(host.url("/healthz")).json()["sessions"]
    return count


@contextmanager
def _leaves_no_session(host: LiveHost) -> Iterator[None]:
    """The client, once gone, must have left nothing behind on the host."""
    before = _sessions(host)
    yield
    deadline = time.monotonic() + 10
    while _sessions(host) > before:
        assert time.monotonic() < deadline, f"the client left {_sessions(host) - before} session(s) open"
        time.sleep(0.05)


@pytest.fixture
def fake(fake_meteo: FakeOpenMeteo) -> FakeOpenMeteo:
    fake_meteo.reset()
    return fake_meteo


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_mcp_inspector_cli(
    transport: str, weather_host: LiveHost, fake: FakeOpenMeteo, node_clients: NodeClients
):
    url = _url(weather_host, transport)
    common = ["--cli", url, "--transport", transport, "--format", "json"]
    # The Inspector's CLI ends a Streamable HTTP session by leaving, not with a DELETE: the
    # host reaps such sessions when they have been idle for a while, not now.
    leaves = _leaves_no_session(weather_host) if transport == "sse" else nullcontext()

    with leaves:
        listed = node_clients.run_json("mcp-inspector", *common, "--method", "tools/list")
        called = node_clients.run_json(
            "mcp-inspector",
            *common,
            *("--method", "tools/call", "--tool-name", "get_weather", "--tool-arg", "city=Lisbon"),
        )
    _check_tools(listed["result"]["tools"])  # type: ignore[index]
    _check_lisbon_weather(called["result"], fake)  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_typescript_sdk_client(
    transport: str, weather_host: LiveHost, fake: FakeOpenMeteo, node_clients: NodeClients
):
    url = _url(weather_host, transport)
    with _leaves_no_session(weather_host):
        output = node_clients.run_json(
            "node", "ts_sdk_client.mjs", url, transport, "get_weather", LISBON_ARGS
        )
    assert output["transport"] == transport
    assert output["server"]["name"] == "weather-host"  # type: ignore[index]
    _check_tools(output["tools"])  # type: ignore[arg-type]
    _check_lisbon_weather(output["result"], fake)  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "negotiated"), [("/sse", "sse"), ("/mcp", "http")])
def test_typescript_sdk_client_tries_streamable_http_first_then_sse(
    path: str, negotiated: str, weather_host: LiveHost, fake: FakeOpenMeteo, node_clients: NodeClients
):
    """What Cursor and the SDK's own examples do with a configured URL: both URLs must work."""
    url = weather_host.url(path)
    with _leaves_no_session(weather_host):
        output = node_clients.run_json("node", "ts_sdk_client.mjs", url, "auto", "get_weather", LISBON_ARGS)
    assert output["transport"] == negotiated
    _check_lisbon_weather(output["result"], fake)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "negotiated"), [("/mcp", "StreamableHTTPClientTransport"), ("/sse", "SSEClientTransport")]
)
def test_mcp_remote_bridge_as_claude_desktop_runs_it(
    path: str, negotiated: str, weather_host: LiveHost, fake: FakeOpenMeteo, node_clients: NodeClients
):
    """Claude Desktop speaks stdio to `npx mcp-remote URL`, which speaks HTTP to the host.

    The Inspector's CLI stands in for Claude Desktop on the stdio side. mcp-remote's default
    strategy tries Streamable HTTP first and falls back to HTTP+SSE, so both URLs must work.
    """
    bridge = ["mcp-remote", weather_host.url(path)]
    done = node_clients.run(
        "mcp-inspector",
        *("--cli", "--format", "json", "--method", "tools/call"),
        *("--tool-name", "get_weather", "--tool-arg", "city=Lisbon", "--", *bridge),
    )
    assert done.returncode == 0, done.stderr
    assert f"Connected to remote server using {negotiated}" in done.stderr
    _check_lisbon_weather(json.loads(done.stdout)["result"], fake)


@pytest.mark.anyio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_python_sdk_client(transport: str, weather_host: LiveHost, fake: FakeOpenMeteo):
    url = _url(weather_host, transport)
    with _leaves_no_session(weather_host):
        streams = sse_client(url) if transport == "sse" else streamable_http_client(url)
        async with streams as (read, write), ClientSession(read, write) as client:
            initialized = await client.initialize()
            tools = (await client.list_tools()).tools
            result = await client.call_tool("get_weather", {"city": "Lisbon"})
    assert initialized.server_info.name == "weather-host"
    _check_tools([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools])
    _check_lisbon_weather(json.loads(result.model_dump_json(by_alias=True, exclude_none=True)), fake)


# --- the current revision, 2026-07-28: sessionless ------------------------------------------


def _new_log(host: LiveHost, since: int, until: str) -> str:
    """The host's log lines after the first ``since``, once one of them matches ``until``.

    The log is read from the host's output as it comes: waiting for the last line a client
    caused means every line before it has been read too."""
    deadline = time.monotonic() + 10
    while not any(re.search(until, line) for line in host.log_lines[since:]):
        assert time.monotonic() < deadline, f"no log line matched {until!r}; log:\n{host.log}"
        time.sleep(0.02)
    return "\n".join(host.log_lines[since:])


def _served_without_a_session(host: LiveHost, server: str, since: int) -> None:
    """What the host saw of a client of 2026-07-28 that listed tools and got the weather:
    a tool call on a request of its own, and no session opened, now or left open."""
    log = _new_log(host, since, rf"tool get_weather on request \w+ \(server '{server}'\)")
    assert "opened on server" not in log, log
    assert _sessions(host) == 0


@pytest.mark.parametrize("server", SERVERS)
def test_mcp_inspector_cli_in_the_current_revision(
    server: str, sessionless_host: LiveHost, fake: FakeOpenMeteo, node_clients: NodeClients
):
    since = len(sessionless_host.log_lines)
    common = ["--cli", sessionless_host.mcp_url(server), "--transport", "http", "--format", "json"]
    common += ["--protocol-era", "modern"]

    listed = node_clients.run_json("mcp-inspector", *common, "--method", "tools/list")
    called = node_clients.run_json(
        "mcp-inspector",
        *common,
        *("--method", "tools/call", "--tool-name", "get_weather", "--tool-arg", "city=Lisbon"),
    )
    _check_tools(listed["result"]["tools"])  # type: ignore[index]
    _check_lisbon_weather(called["result"], fake)  # type: ignore[arg-type]
    # A 2026-07-28 result names its server in _meta: there is no initialize result to do it.
    server_info = called["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]  # type: ignore[index]
    assert server_info["name"] == ("weather-host" if server == "default" else NAMED_SERVER)
    _served_without_a_session(sessionless_host, server, since)


@pytest.mark.anyio
@pytest.mark.parametrize("server", SERVERS)
async def test_python_sdk_client_pinned_to_the_current_revision(
    server: str, sessionless_host: LiveHost, fake: FakeOpenMeteo
):
    since = len(sessionless_host.log_lines)
    async with Client(sessionless_host.mcp_url(server), mode=MODERN) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("get_weather", {"city": "Lisbon"})
        assert client.protocol_version == MODERN
    _check_tools([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools])
    _check_lisbon_weather(json.loads(result.model_dump_json(by_alias=True, exclude_none=True)), fake)
    _served_without_a_session(sessionless_host, server, since)


@pytest.mark.anyio
async def test_python_sdk_client_in_auto_mode_takes_the_current_revision_with_no_fallback(
    sessionless_host: LiveHost, fake: FakeOpenMeteo
):
    """``Client(url)``, the SDK's default: it asks ``server/discover`` and falls back to the
    handshake on anything but a modern answer. Here the first answer must do.

    ``Client(url)`` is ``Client(streamable_http_client(url))``; the HTTP client given to it
    here only records what goes over the wire, to show the round trips it did not make."""
    methods: list[str] = []
    errors: list[object] = []

    async def record_request(request: httpx2.Request) -> None:
        if request.method == "POST":
            methods.append(json.loads(request.content)["method"])

    async def record_response(response: httpx2.Response) -> None:
        if response.headers.get("content-type", "").startswith("application/json"):
            await response.aread()
            errors.append(response.json().get("error"))

    since = len(sessionless_host.log_lines)
    http = httpx2.AsyncClient(event_hooks={"request": [record_request], "response": [record_response]})
    async with http, Client(streamable_http_client(sessionless_host.mcp_url(), http_client=http)) as client:
        assert client.protocol_version == MODERN
        await client.list_tools()
        result = await client.call_tool("get_weather", {"city": "Lisbon"})
    _check_lisbon_weather(json.loads(result.model_dump_json(by_alias=True, exclude_none=True)), fake)
    # One discover, answered at once: no -32022 re-probe, no fallback initialize.
    assert methods == ["server/discover", "tools/list", "tools/call"]
    assert errors == [None, None, None]  # every answer was read, and none was an error
    _served_without_a_session(sessionless_host, "default", since)
