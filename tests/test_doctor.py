"""``mcp-host doctor URL``: run as a user would, against real hosts and what stands in front of them."""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from mcp_host.testing import LiveHost, run_host

TOKEN = "a-token-of-at-least-16-characters"
AUTH_CONFIG = '[[auth.tokens]]\nname = "a"\ntoken = "${env:T}"\n'


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "MCP_HOST_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "mcp_host", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        env={**environment, **(env or {})},
    )


def statuses(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The check names and statuses of the text output: {"sse": "ok", ...}."""
    found = {}
    for line in result.stdout.splitlines()[:-1]:  # the last line sums up
        status, rest = line.split(maxsplit=1)
        found[rest[:26].strip()] = status
    return found


@pytest.fixture(scope="module")
def healthy_host() -> Iterator[LiveHost]:
    config = "[server]\nkeepalive_s = 1\n[servers.weather]\nplugins = ['weather']\n"
    with run_host(config) as host:
        yield host


def test_a_healthy_host_passes_every_check_on_both_transports(healthy_host):
    result = doctor(healthy_host.sse_url(), "--keepalive-wait", "1")

    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(result) == {
        "streamable-http": "ok",
        "sse": "ok",
        "discover (2026-07-28)": "ok",
        "session (streamable-http)": "ok",
        "session (sse)": "ok",
        "tools/list (2026-07-28)": "ok",
        "eras": "ok",
        "tools": "ok",
        "tool names": "ok",
        "keep-alive": "ok",
    }
    assert f"POST {healthy_host.mcp_url()}: answers initialize" in result.stdout
    assert "messages go to /messages/" in result.stdout
    assert "initialize and tools/list answered" in result.stdout
    assert (
        f"POST {healthy_host.mcp_url()}: answers server/discover with no session (versions 2026-07-28)"
        in (result.stdout)
    )
    assert "tools/list answered with no session" in result.stdout
    assert "the server speaks both eras: the handshake (initialize, then a session) and 2026-07-28" in (
        result.stdout
    )
    assert result.stdout.splitlines()[-1] == "Cursor can connect"


def test_json_output(healthy_host):
    result = doctor(healthy_host.mcp_url(), "--keepalive-wait", "0", "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["url"] == healthy_host.mcp_url()
    assert document["ok"] is True
    assert document["eras"] == ["handshake", "2026-07-28"]
    assert [check["name"] for check in document["checks"]] == [
        "streamable-http",
        "sse",
        "discover (2026-07-28)",
        "session (streamable-http)",
        "session (sse)",
        "tools/list (2026-07-28)",
        "eras",
        "tools",
        "tool names",
    ]
    assert {check["status"] for check in document["checks"]} == {"ok"}
    eras = next(check for check in document["checks"] if check["name"] == "eras")
    assert eras["eras"] == ["handshake", "2026-07-28"]


def test_the_current_revision_is_probed_without_opening_a_session(healthy_host):
    """The 2026-07-28 checks must not pass on the handshake's back: a session opened by them
    would show in the log, beside the ones the handshake checks open and close."""
    since = len(healthy_host.log_lines)
    result = doctor(healthy_host.mcp_url("weather"), "--keepalive-wait", "0")

    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(result)["tools/list (2026-07-28)"] == "ok"
    # The SSE probe's stream stays open to the end: once its session has closed, every line
    # the doctor caused has been read.
    probe_stream = healthy_host.wait_for_log(r"session (\w+) opened on server 'weather' \(sse\)").group(1)
    healthy_host.wait_for_log(rf"session {probe_stream} closed")
    opened = [line for line in healthy_host.log_lines[since:] if "opened on server" in line]
    # The handshake checks' sessions only: the first POST and GET, and the SDK's client on each transport.
    assert len(opened) == 4, opened


def test_a_server_of_the_handshake_era_only_still_lets_cursor_connect(healthy_host):
    with one_era_proxy(healthy_host, "handshake") as proxy_url:
        text = doctor(proxy_url + "/mcp", "--keepalive-wait", "0")
        as_json = doctor(proxy_url + "/mcp", "--keepalive-wait", "0", "--json")

    assert text.returncode == 0, text.stdout + text.stderr
    found = statuses(text)
    assert found["discover (2026-07-28)"] == "warn"
    assert "tools/list (2026-07-28)" not in found
    assert found["eras"] == "ok"
    assert (
        f"POST {proxy_url}/mcp: server/discover answered with error -32600: Bad Request: Missing session ID; "
        "the server does not speak 2026-07-28"
    ) in text.stdout
    assert "the server speaks the handshake era only: clients of 2026-07-28 fall back to initialize" in (
        text.stdout
    )
    assert text.stdout.splitlines()[-1] == "Cursor can connect (1 warnings)"
    assert json.loads(as_json.stdout)["eras"] == ["handshake"]


def test_a_server_of_the_current_revision_only_is_one_cursor_cannot_use(healthy_host):
    with one_era_proxy(healthy_host, "2026-07-28") as proxy_url:
        result = doctor(proxy_url + "/mcp", "--keepalive-wait", "0", "--json")

    assert result.returncode == 1
    document = json.loads(result.stdout)
    checks = {check["name"]: check for check in document["checks"]}
    assert checks["streamable-http"]["status"] == "fail"
    assert checks["streamable-http"]["detail"] == (
        f"POST {proxy_url}/mcp: initialize failed with error -32022: Unsupported protocol version: "
        "the server speaks only 2026-07-28"
    )
    assert checks["streamable-http"]["fix"] == "Cursor speaks the handshake era (2025-11-25): serve it too"
    assert checks["discover (2026-07-28)"]["status"] == "ok"
    assert checks["tools/list (2026-07-28)"]["status"] == "ok"
    assert checks["eras"]["status"] == "warn"
    assert checks["eras"]["detail"].startswith(
        "the server speaks 2026-07-28 only: clients of the handshake era (Cursor"
    )
    assert document["eras"] == ["2026-07-28"]
    assert checks["tools"]["status"] == "ok"  # what it serves is still checked against Cursor's limits


def test_cursor_s_name_length_limit_uses_the_name_given_in_mcp_json(healthy_host):
    result = doctor(healthy_host.mcp_url(), "--keepalive-wait", "0", "--name", "x" * 60)

    assert result.returncode == 0  # a warning, not a failure: the other tools still work
    assert statuses(result)["tool names"] == "warn"
    assert "Cursor leaves out tools whose server name and tool name are longer than 60" in result.stdout


def test_a_wrong_path_is_named_with_the_url_that_works(healthy_host):
    result = doctor(healthy_host.url("/nope"), "--keepalive-wait", "0")

    assert result.returncode == 1
    assert statuses(result) == {"endpoint": "fail"}
    assert f"POST and GET {healthy_host.url('/nope')}: 404 Not Found" in result.stdout
    assert f"Fix: use {healthy_host.mcp_url()}: an MCP server answers there" in result.stdout


def test_a_closed_port_says_nothing_listens_there():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = doctor(f"http://127.0.0.1:{port}/mcp")

    assert result.returncode == 1
    assert statuses(result) == {"connect": "fail"}
    assert f"cannot connect to 127.0.0.1:{port}: connection refused" in result.stdout
    assert "Fix: start mcp-host" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_host_that_needs_a_token_without_a_wrong_and_with_the_right_one():
    with run_host(AUTH_CONFIG, env={"T": TOKEN}) as host:
        without = doctor(host.mcp_url(), "--keepalive-wait", "0")
        wrong = doctor(host.mcp_url(), "--keepalive-wait", "0", "--token", "not-the-token-at-all")
        right = doctor(host.mcp_url(), "--keepalive-wait", "0", env={"MCP_HOST_TOKEN": TOKEN})

    assert without.returncode == 1
    assert statuses(without)["streamable-http"] == "fail"
    assert "401 Unauthorized: the host needs a bearer token" in without.stdout
    assert "Fix: pass --token TOKEN or set MCP_HOST_TOKEN" in without.stdout

    assert wrong.returncode == 1
    assert "401 Unauthorized: the host refused the token" in wrong.stdout

    assert right.returncode == 0, right.stdout + right.stderr
    assert set(statuses(right).values()) == {"ok"}


def test_a_host_that_refuses_the_host_header_says_which_name_to_allow():
    with run_host('[security]\nallowed_hosts = ["other.example"]\n') as host:
        result = doctor(host.mcp_url(), "--keepalive-wait", "0")
    host_header = host.base_url.removeprefix("http://")

    assert result.returncode == 1
    assert statuses(result) == {"streamable-http": "fail", "sse": "fail"}
    assert f"421 Misdirected Request: the host refused the Host header '{host_header}'" in result.stdout
    assert f'Fix: add "{host_header}" to [security] allowed_hosts' in result.stdout


def test_a_proxy_that_buffers_the_stream_is_recognised(healthy_host):
    with buffering_proxy(healthy_host) as proxy_url:
        result = doctor(proxy_url + "/sse", "--timeout", "2", "--keepalive-wait", "1")

    assert result.returncode == 1
    found = statuses(result)
    assert found["streamable-http"] == "ok"  # a buffered answer still arrives, once complete
    assert found["sse"] == "fail"
    assert "the event stream opened but nothing arrived on it in 2 s" in result.stdout
    assert "proxy_buffering off" in result.stdout
    assert "the answer came without the X-Accel-Buffering: no header" in result.stdout
    assert f"or use {proxy_url}/mcp, which works" in result.stdout


def test_a_server_that_is_not_an_mcp_server():
    with web_page_server() as url:
        result = doctor(url + "/mcp", "--keepalive-wait", "0")

    assert result.returncode == 1
    assert "200 text/html is not an MCP answer: <html>" in result.stdout
    assert "200 text/html, not an event stream" in result.stdout
    assert "something other than an MCP server" in result.stdout


def test_a_url_that_is_not_http_is_a_usage_error():
    result = doctor("ftp://127.0.0.1/mcp")
    assert result.returncode == 2
    assert result.stderr == "mcp-host doctor: 'ftp://127.0.0.1/mcp' is not an http:// or https:// URL\n"


# --- what stands in front of a host ----------------------------------------------------------


def _read_head(connection: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the end of the head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _read_request(connection: socket.socket) -> tuple[list[bytes], bytes]:
    """A request's head lines and its whole body."""
    head, body = _read_head(connection)
    lines = head.split(b"\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        body += connection.recv(65536)
    return lines, body


class _BufferingProxyHandler(socketserver.BaseRequestHandler):
    """Passes the request on and the answer's head back at once, but holds its body until the host
    has sent all of it: what nginx does with proxy_buffering on. An event stream never arrives."""

    upstream_port: int

    def handle(self) -> None:
        self.request.settimeout(30)
        lines, body = _read_request(self.request)
        # The host closes the connection after its answer: its end is the end of the body.
        kept = [line for line in lines if not line.lower().startswith(b"connection:")]
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
            upstream.sendall(b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n" + body)
            response_head, buffered = _read_head(upstream)
            passed = [
                line
                for line in response_head.split(b"\r\n")
                if not line.lower().startswith(b"x-accel-buffering:")  # as a proxy may drop it
            ]
            self.request.sendall(b"\r\n".join(passed) + b"\r\n\r\n")
            try:
                while chunk := upstream.recv(65536):
                    buffered += chunk
            except OSError:
                return  # the stream never ended: nothing of it was ever passed on
        self.request.sendall(buffered)


@contextmanager
def _serve(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _in_front_of(
    host: LiveHost, handler: type[socketserver.BaseRequestHandler], **settings: object
) -> AbstractContextManager[str]:
    port = int(host.base_url.rsplit(":", 1)[1])
    return _serve(type("Handler", (handler,), {"upstream_port": port, **settings}))


def buffering_proxy(host: LiveHost) -> AbstractContextManager[str]:
    return _in_front_of(host, _BufferingProxyHandler)


def one_era_proxy(host: LiveHost, era: str) -> AbstractContextManager[str]:
    return _in_front_of(host, _OneEraProxyHandler, era=era)


def _json_answer(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


class _OneEraProxyHandler(socketserver.BaseRequestHandler):
    """A server of one protocol era only, made of a real host: requests of the other era are
    refused as such a server refuses them, every other one is passed on to the host and its
    answer streamed back as it comes."""

    upstream_port: int
    era: str

    MISSING_SESSION = _json_answer(
        b"400 Bad Request",
        b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request: Missing session ID"}}',
    )
    """What a server of the handshake era (mcp-host before 2026-07-28 too) says to a request of
    2026-07-28: it has no session ID."""
    UNSUPPORTED_VERSION = _json_answer(
        b"400 Bad Request",
        b'{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"Unsupported protocol version",'
        b'"data":{"supported":["2026-07-28"],"requested":"2025-11-25"}}}',
    )
    """What a server of 2026-07-28 only says to anything else."""

    def handle(self) -> None:
        self.request.settimeout(30)
        lines, body = _read_request(self.request)
        modern = any(line.lower() == b"mcp-protocol-version: 2026-07-28" for line in lines)
        if self.era == "handshake" and modern:
            self.request.sendall(self.MISSING_SESSION)
            return
        if self.era == "2026-07-28" and not modern:
            self.request.sendall(self.UNSUPPORTED_VERSION)
            return
        kept = [line for line in lines if not line.lower().startswith(b"connection:")]
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
            upstream.sendall(b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n" + body)
            try:
                while chunk := upstream.recv(65536):
                    self.request.sendall(chunk)
            except OSError:
                return  # the client left an event stream it no longer reads


class _WebPageHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        _read_head(self.request)
        page = b"<html><body>Welcome to the intranet</body></html>"
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(page)}\r\n\r\n".encode()
            + page
        )


@contextmanager
def web_page_server() -> Iterator[str]:
    with _serve(_WebPageHandler) as url:
        yield url
