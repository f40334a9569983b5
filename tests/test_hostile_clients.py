"""Clients that send what they should not: the host stays bounded, truthful and readable."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import anyio
import httpx2
import pytest

from mcp_host.testing import run_host

from .wire import HEADERS, INITIALIZE, INITIALIZED, jsonrpc_of, mcp_post, open_mcp_session

pytestmark = pytest.mark.anyio

METRICS_TOKEN = "metrics-token-0123456789"


def _call(request_id: int, name: object, arguments: object = None) -> dict:
    params: dict[str, object] = {"name": name, "arguments": arguments or {}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _tool_call_series(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines() if line.startswith("mcp_host_tool_calls_total{")]


async def test_tool_names_clients_make_up_never_become_metric_labels(rogue_env):
    hostile_names = ["no_such_tool", "x" * 60_000, 'quote"and}brace', "é" * 10]
    with run_host("", python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_mcp_session(http, host.mcp_url())
            for request_id, name in enumerate(hostile_names, start=2):
                answer = jsonrpc_of(await mcp_post(http, host.mcp_url(), session, _call(request_id, name)))
                assert answer["result"]["isError"] is True
            await mcp_post(http, host.mcp_url(), session, _call(10, "rogue_whoami"))
            metrics = (await http.get(host.url("/metrics"))).text
    series = _tool_call_series(metrics)
    assert 'mcp_host_tool_calls_total{outcome="unknown_tool",server="default",tool="unknown"} 4.0' in series
    assert 'mcp_host_tool_calls_total{outcome="ok",server="default",tool="rogue_whoami"} 1.0' in series
    assert len(series) == 2, series
    assert "no_such_tool" not in metrics
    assert "xxxxxxxx" not in metrics


async def test_invalid_requests_are_counted_as_invalid_under_the_unknown_label(rogue_env):
    with run_host("", python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_mcp_session(http, host.mcp_url())
            for request_id, name in enumerate([5, None, ["rogue_whoami"]], start=2):
                answer = jsonrpc_of(await mcp_post(http, host.mcp_url(), session, _call(request_id, name)))
                assert answer["error"]["code"] == -32602
            bad_arguments = _call(9, "rogue_block", {"seconds": "a while"})
            assert jsonrpc_of(await mcp_post(http, host.mcp_url(), session, bad_arguments))["result"][
                "isError"
            ]
            metrics = (await http.get(host.url("/metrics"))).text
    series = _tool_call_series(metrics)
    assert 'mcp_host_tool_calls_total{outcome="invalid",server="default",tool="unknown"} 3.0' in series
    assert 'mcp_host_tool_calls_total{outcome="invalid",server="default",tool="rogue_block"} 1.0' in series
    assert not [line for line in series if 'outcome="cancelled"' in line]
    assert 'tool="5"' not in metrics
    assert 'tool="None"' not in metrics


async def test_metrics_can_require_a_token(rogue_env):
    config = '[metrics]\ntoken = "${env:METRICS_TOKEN}"\n'
    with run_host(config, python=rogue_env.python, env={"METRICS_TOKEN": METRICS_TOKEN}) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            without = await http.get(host.url("/metrics"))
            wrong = await http.get(host.url("/metrics"), headers={"Authorization": "Bearer nope"})
            right = await http.get(host.url("/metrics"), headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            health = await http.get(host.url("/healthz"))
    assert without.status_code == wrong.status_code == 401
    assert without.headers["www-authenticate"].startswith("Bearer")
    assert right.status_code == 200
    assert "mcp_host_sessions" in right.text
    assert health.status_code == 200


async def test_a_line_break_in_a_tool_name_cannot_forge_a_log_line(rogue_env):
    forged = "2026-01-01 00:00:00,000 ERROR   mcp_host: forged line"
    with run_host("", python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_mcp_session(http, host.mcp_url())
            await mcp_post(http, host.mcp_url(), session, _call(2, f"evil\n{forged}"))
        host.wait_for_log(r"on session \w+ \(server 'default'\): \w+ in \d+ ms")
    assert "tool 'evil\\n2026-01-01 00:00:00,000 ERROR" in host.log
    assert not [line for line in host.log_lines if line.startswith(forged)]
    assert not [line for line in host.log_lines if line.startswith("2026-01-01")]


@pytest.mark.parametrize("header", [{"Host": "127.0.0.1:evil"}, {"Origin": "http://localhost:evil.example"}])
async def test_a_port_that_is_no_number_is_refused(rogue_env, header):
    with run_host("", python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            answer = await http.post(host.mcp_url(), json=_call(1, "x"), headers={**HEADERS, **header})
            own_port = await http.post(
                host.mcp_url(), json=_call(1, "x"), headers={**HEADERS, "Host": host.base_url[7:]}
            )
    assert answer.status_code == (421 if "Host" in header else 403)
    assert own_port.status_code == 400  # past the Host check: no session


@pytest.mark.parametrize("request_id", [{}, [1], None, 1.5])
async def test_a_request_whose_id_cannot_be_answered_is_refused_not_dropped(rogue_env, request_id):
    ping = {"jsonrpc": "2.0", "id": request_id, "method": "ping"}
    with run_host("", python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            session = await open_mcp_session(http, host.mcp_url())
            over_mcp = await mcp_post(http, host.mcp_url(), session, ping)
            async with http.stream("GET", host.sse_url()) as stream:
                lines = stream.aiter_lines()
                await anext(lines)
                messages_url = host.url((await anext(lines)).removeprefix("data: "))
                over_sse = await http.post(messages_url, json=ping, headers=HEADERS)
    for answer in (over_mcp, over_sse):
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == -32600
        assert "id must be a string or an integer" in answer.json()["error"]["message"]


def _closed_by_the_host(sock: socket.socket, wait_s: float = 20) -> bool:
    """Whether the host closes the connection (within ``wait_s``, a bound, not a measure)."""
    sock.settimeout(wait_s)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_slow_and_silent_connections_are_closed_at_the_header_deadline(rogue_env, http):
    config = f"[server]\nhttp = '{http}'\n\n[limits]\nheader_timeout_s = 1\n"
    with run_host(config, python=rogue_env.python) as host:
        address = ("127.0.0.1", int(host.base_url.rsplit(":", 1)[1]))
        with socket.create_connection(address) as silent, socket.create_connection(address) as slowloris:
            slowloris.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127")  # ... and never the rest
            closed = await anyio.to_thread.run_sync(
                lambda: (_closed_by_the_host(silent), _closed_by_the_host(slowloris))
            )
        async with httpx2.AsyncClient(timeout=10) as http_client:
            still_serving = await http_client.get(host.url("/healthz"))
    assert closed == (True, True)
    assert still_serving.status_code == 200


async def test_connections_beyond_max_connections_get_503(rogue_env):
    with run_host("[limits]\nmax_connections = 2\n", python=rogue_env.python) as host:
        async with (
            httpx2.AsyncClient(timeout=10) as first,
            httpx2.AsyncClient(timeout=10) as second,
            httpx2.AsyncClient(timeout=10) as third,
            first.stream("GET", host.sse_url()) as one,
            second.stream("GET", host.sse_url()) as two,
        ):
            beyond = await third.get(host.url("/healthz"))
            assert (one.status_code, two.status_code) == (200, 200)
        async with httpx2.AsyncClient(timeout=10) as http:
            after = await http.get(host.url("/healthz"))
    assert beyond.status_code == 503
    assert after.status_code == 200


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
async def test_running_out_of_file_descriptors_logs_accept_errors_once_per_interval(
    rogue_env, tmp_path, loop
):
    # The host's own python, with few file descriptors: connections beyond them fail to accept.
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nulimit -n 80\nexec "{rogue_env.python}" "$@"\n')
    python.chmod(0o755)
    with run_host(f"[server]\nloop = '{loop}'\n", python=python) as host:
        address = ("127.0.0.1", int(host.base_url.rsplit(":", 1)[1]))
        connections = [socket.create_connection(address) for _ in range(150)]
        try:
            await anyio.sleep(3)  # accept() fails over and over meanwhile
        finally:
            for connection in connections:
                connection.close()
        async with httpx2.AsyncClient(timeout=10) as http:
            still_serving = await http.get(host.url("/healthz"))
    accept_errors = [line for line in host.log_lines if "socket.accept() out of system resource" in line]
    assert still_serving.status_code == 200
    assert len(accept_errors) <= 2, "\n".join(accept_errors[:5])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _blob_call(request_id: int) -> dict:
    return _call(request_id, "rogue_blob", {"mib": 1})


async def test_a_client_that_stops_reading_its_sse_stream_is_ended_and_memory_stays_bounded(rogue_env):
    config = "[limits]\nmax_pending_output_bytes = 4194304\n"
    overflow = r"session (\w+) on server 'default' ended: \d+ bytes of output wait"
    with run_host(config, python=rogue_env.python) as host:
        port = int(host.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as stream:
            stream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stream.sendall(f"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            received = b""
            while (endpoint := re.search(rb"data: (\S+session_id=[0-9a-f]{32})", received)) is None:
                received += stream.recv(4096)
            messages_url = host.url(endpoint.group(1).decode())
            # From here on the client reads nothing more.
            before = _rss_mib(host.process.pid)
            async with httpx2.AsyncClient(timeout=30) as http:
                await http.post(messages_url, json=INITIALIZE, headers=HEADERS)
                await http.post(messages_url, json=INITIALIZED, headers=HEADERS)
                for request_id in range(2, 302):
                    await http.post(messages_url, json=_blob_call(request_id), headers=HEADERS)
                    if re.search(overflow, host.log):
                        break
                ended = await anyio.to_thread.run_sync(lambda: host.wait_for_log(overflow))
                grown = _rss_mib(host.process.pid) - before
                # Its stream is cut once its last events had their time: the session is gone.
                ping = {"jsonrpc": "2.0", "id": 999, "method": "ping"}
                for _ in range(100):
                    gone = await http.post(messages_url, json=ping, headers=HEADERS)
                    if gone.status_code == 404:
                        break
                    await anyio.sleep(0.2)
    assert ended.group(1) in messages_url
    assert grown < 100, f"RSS grew by {grown:.0f} MiB"
    assert gone.status_code == 404
    assert "Traceback" not in host.log


async def test_a_client_that_does_not_read_its_responses_over_mcp_is_ended(rogue_env):
    config = "[limits]\nmax_pending_output_bytes = 4194304\n"
    with run_host(config, python=rogue_env.python) as host:
        port = int(host.base_url.rsplit(":", 1)[1])
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_mcp_session(http, host.mcp_url())
        unread = []
        try:
            for request_id in range(2, 42):
                connection = socket.create_connection(("127.0.0.1", port))
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                body = json.dumps(_blob_call(request_id)).encode()
                connection.sendall(
                    f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                    f"Accept: application/json, text/event-stream\r\nMcp-Session-Id: {session}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                unread.append(connection)  # its response is never read
            host.wait_for_log(
                rf"session {session} on server 'default' ended: \d+ bytes of output wait", timeout=30
            )
        finally:
            for connection in unread:
                connection.close()
        async with httpx2.AsyncClient(timeout=30) as http:
            gone = await mcp_post(
                http, host.mcp_url(), session, {"jsonrpc": "2.0", "id": 99, "method": "ping"}
            )
    assert gone.status_code == 404


QUOTA_ALICE = "alice-token-0123456789abcdef"
QUOTA_BOB = "bob-token-0123456789abcdef0000"


async def test_one_token_cannot_take_every_session(rogue_env):
    config = (
        "[limits]\nmax_sessions = 10\nmax_sessions_per_client = 3\n\n"
        f"[[auth.tokens]]\nname = 'alice'\ntoken = '{QUOTA_ALICE}'\n\n"
        f"[[auth.tokens]]\nname = 'bob'\ntoken = '{QUOTA_BOB}'\n"
    )
    alice, bob = {"Authorization": f"Bearer {QUOTA_ALICE}"}, {"Authorization": f"Bearer {QUOTA_BOB}"}
    with run_host(config, python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            for _ in range(3):
                await open_mcp_session(http, host.mcp_url(), alice)
            over_mcp = await http.post(host.mcp_url(), json=INITIALIZE, headers={**HEADERS, **alice})
            async with http.stream("GET", host.sse_url(), headers=alice) as over_sse:
                pass
            others = await http.post(host.mcp_url(), json=INITIALIZE, headers={**HEADERS, **bob})
        host.wait_for_log(
            r"refused a new session: the client \(token alice\) already has its 3 open sessions"
        )
    assert over_mcp.status_code == over_sse.status_code == 429
    assert "max_sessions_per_client" in over_mcp.text
    assert others.status_code == 200


async def test_without_tokens_the_quota_is_per_client_address(rogue_env):
    config = "[limits]\nmax_sessions = 10\nmax_sessions_per_client = 2\n"
    with run_host(config, python=rogue_env.python) as host:
        one = httpx2.AsyncClient(timeout=10, transport=httpx2.AsyncHTTPTransport(local_address="127.0.0.1"))
        other = httpx2.AsyncClient(timeout=10, transport=httpx2.AsyncHTTPTransport(local_address="127.0.0.2"))
        async with one, other:
            for _ in range(2):
                await open_mcp_session(one, host.mcp_url())
            over = await one.post(host.mcp_url(), json=INITIALIZE, headers=HEADERS)
            elsewhere = await other.post(host.mcp_url(), json=INITIALIZE, headers=HEADERS)
    assert over.status_code == 429
    assert elsewhere.status_code == 200


async def test_a_session_left_after_its_initialize_is_reaped_before_the_idle_timeout(rogue_env):
    config = "[limits]\nabandoned_session_timeout_s = 1\n"
    with run_host(config, python=rogue_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http:
            opened = await http.post(host.mcp_url(), json=INITIALIZE, headers=HEADERS)
            abandoned = opened.headers["mcp-session-id"]
            used = await open_mcp_session(http, host.mcp_url())  # initialize, then initialized
            host.wait_for_log(rf"session {abandoned} closed: no request followed its initialize within 1 s")
            ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
            gone = await mcp_post(http, host.mcp_url(), abandoned, ping)
            alive = await mcp_post(http, host.mcp_url(), used, ping)
    assert gone.status_code == 404
    assert alive.status_code == 200
