"""Several host processes behind one address, sharing every session through a real Redis.

Two hosts (A and B) on two ports share one ``redis-server`` that the tests start on a free
loopback port. Clients open their session on one process and send requests to the other,
as they would behind a round-robin load balancer; the counter plugin's per-session state
proves that one server, in its owner process, handled every call.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitRequestParams, ElicitResult

from mcp_host.cluster import workers as workers_module
from mcp_host.testing import LiveHost, run_host

from .external_tools import skip_reason
from .wire import HEADERS, INITIALIZE, INITIALIZED

pytestmark = pytest.mark.anyio

REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None and not os.environ.get("CI"):
    pytest.skip(skip_reason("redis-server"), allow_module_level=True)

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef0000"
CONFIG = f"""
[cluster]
redis_url = "${{env:MCP_HOST_TEST_REDIS}}"
key_prefix = "test"
session_ttl_s = 3

[security]
request_state_keys = ["${{env:MCP_HOST_TEST_STATE_KEY}}"]

[[auth.tokens]]
name = "alice"
token = "{ALICE}"

[[auth.tokens]]
name = "bob"
token = "{BOB}"

[plugins.broken]
enabled = false
"""
STATE_KEY = "state-key-shared-by-every-process-0123456789"
AS_ALICE = {"Authorization": f"Bearer {ALICE}"}
AS_BOB = {"Authorization": f"Bearer {BOB}"}
PING = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 8, "method": "tools/list"}


# --- a real redis-server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``redis-server`` on a loopback port, with nothing written to disk; stoppable and restartable."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None, "redis-server is not installed; .ci/run installs it"
        self._process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        self._process = None

    def keys(self, pattern: str) -> list[str]:
        import redis

        with redis.Redis(port=self.port, decode_responses=True) as client:
            return sorted(client.scan_iter(pattern))

    def command_calls(self, command: str) -> int:
        """How many times Redis has run ``command`` since it started."""
        import redis

        with redis.Redis(port=self.port, decode_responses=True) as client:
            stats = client.info("commandstats").get(f"cmdstat_{command}", {})
            return int(stats.get("calls", 0))

    def get(self, key: str) -> str | None:
        import redis

        with redis.Redis(port=self.port, decode_responses=True) as client:
            value = client.get(key)
            return None if value is None else str(value)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _env(redis: RedisServer) -> dict[str, str]:
    return {"MCP_HOST_TEST_REDIS": redis.url, "MCP_HOST_TEST_STATE_KEY": STATE_KEY}


@pytest.fixture(scope="module")
def hosts(plugin_env, redis_server) -> Iterator[tuple[LiveHost, LiveHost]]:
    env = _env(redis_server)
    with (
        run_host(CONFIG, python=plugin_env.python, env=env) as a,
        run_host(CONFIG, python=plugin_env.python, env=env) as b,
    ):
        yield a, b


# --- clients that choose the process per request, as a load balancer would ----------------------


def _port(host: LiveHost) -> int:
    port = urlsplit(host.base_url).port
    assert port is not None
    return port


class _Steer(httpx2.AsyncBaseTransport):
    """Sends each request to the port ``choose`` picks for it."""

    def __init__(self, choose: Callable[[httpx2.Request], int]) -> None:
        self._choose = choose
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(port=self._choose(request))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _posts_to(choose: Callable[[], int]) -> Any:
    """An ``httpx_client_factory`` for ``sse_client``: the stream stays put, POSTs go to ``choose()``."""

    def factory(headers=None, timeout=None, auth=None) -> httpx2.AsyncClient:
        def route(request: httpx2.Request) -> int:
            return choose() if request.method == "POST" else int(request.url.port or 80)

        return httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth, transport=_Steer(route))

    return factory


@asynccontextmanager
async def _sse_session(stream_on: LiveHost, post_to: Callable[[], int], headers=AS_ALICE):
    async with (
        sse_client(stream_on.sse_url(), headers=headers, httpx_client_factory=_posts_to(post_to)) as (
            read,
            write,
        ),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def _round_robin_session(*hosts: LiveHost, headers=AS_ALICE):
    """A Streamable HTTP session whose every request goes to the next process in turn."""
    ports = itertools.cycle([_port(host) for host in hosts])
    http = httpx2.AsyncClient(headers=headers, transport=_Steer(lambda _: next(ports)), timeout=30)
    async with (
        http,
        streamable_http_client(hosts[0].mcp_url(), http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def _text(session: ClientSession, tool: str, arguments: dict[str, object] | None = None) -> str:
    result = await session.call_tool(tool, arguments or {})
    assert not result.is_error, result.content
    return result.content[0].text  # type: ignore[union-attr]


async def _counts(session: ClientSession, times: int) -> list[str]:
    return [await _text(session, "increment") for _ in range(times)]


# --- the tests ----------------------------------------------------------------------------------


async def test_sse_stream_on_one_process_and_every_message_posted_to_the_other(hosts, redis_server):
    a, b = hosts
    async with _sse_session(a, lambda: _port(b)) as session:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert {"increment", "whoami"} <= tools
        assert await _counts(session, 4) == ["1", "2", "3", "4"]
        session_id = await _text(session, "whoami")
        owner = json.loads(redis_server.get(f"test:session:{session_id}") or "{}")
        async with httpx2.AsyncClient() as http:
            assert owner["worker"] == (await http.get(a.url("/healthz"))).json()["worker"]
    # Ended with its stream: its routing entry is gone, and both processes answer 404.
    with anyio.fail_after(10):
        while redis_server.get(f"test:session:{session_id}") is not None:
            await anyio.sleep(0.05)
    async with httpx2.AsyncClient(headers=AS_ALICE) as http:
        for host in (a, b):
            stale = await http.post(host.url(f"/messages/?session_id={session_id}"), json=PING)
            assert (stale.status_code, stale.text) == (404, "Could not find session")


async def test_streamable_http_alternating_between_processes(hosts):
    a, b = hosts
    async with _round_robin_session(a, b) as session:
        assert len((await session.list_tools()).tools) >= 2
        assert await _counts(session, 5) == ["1", "2", "3", "4", "5"]
        session_id = await _text(session, "whoami")
    # The client's DELETE, through whichever process, ended the session on its owner.
    async with httpx2.AsyncClient(headers={**AS_ALICE, **HEADERS}) as http:
        for host in (a, b):
            stale = await http.post(host.mcp_url(), json=PING, headers={"Mcp-Session-Id": session_id})
            assert stale.status_code == 404
            assert stale.json()["error"]["message"] == "Session not found"


async def test_modern_requests_are_answered_by_any_process_even_mid_elicitation(hosts, redis_server):
    """A 2026-07-28 request has no owner: it is served where it lands, with no Redis lookup, and
    the requestState one process sealed opens on the other (the config's shared key)."""
    a, b = hosts
    ports = itertools.cycle([_port(a), _port(b)])
    used: list[int] = []

    def choose(request: httpx2.Request) -> int:
        used.append(next(ports))
        return used[-1]

    async def answer(context: Any, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "Ada"})

    lookups_before = redis_server.command_calls("get")
    http = httpx2.AsyncClient(headers=AS_ALICE, transport=_Steer(choose), timeout=30)
    async with (
        http,
        Client(
            streamable_http_client(a.mcp_url(), http_client=http),
            mode="2026-07-28",
            elicitation_callback=answer,
        ) as client,
    ):
        greetings = [_tool_text(await client.call_tool("greet", {})) for _ in range(2)]
        counts = [_tool_text(await client.call_tool("increment", {})) for _ in range(2)]
    assert greetings == ["Hello, Ada! (sessionless)"] * 2
    assert counts == ["1", "1"]
    assert set(used) == {_port(a), _port(b)}
    assert redis_server.command_calls("get") == lookups_before
    assert redis_server.keys("test:session:*") == []


def _tool_text(result: Any) -> str:
    assert not result.is_error, result.content
    return str(result.content[0].text)


async def test_messages_from_one_client_reach_its_server_in_order(hosts):
    a, b = hosts
    # Alternate the POSTs: half are handed over through Redis, half go straight to the owner.
    ports = itertools.cycle([_port(b), _port(a)])
    async with _sse_session(a, lambda: next(ports)) as session:
        values = [await _text(session, "increment", {"by": by}) for by in range(1, 11)]
    assert values == [str(sum(range(1, n + 1))) for n in range(1, 11)]


async def test_unknown_sessions_are_404_and_malformed_ids_400_on_every_process(hosts):
    a, b = hosts
    unknown = uuid4().hex
    async with httpx2.AsyncClient(headers=AS_ALICE) as http:
        for host in (a, b):
            sse = await http.post(host.url(f"/messages/?session_id={unknown}"), json=PING)
            malformed = await http.post(host.url("/messages/?session_id=nope"), json=PING)
            mcp = await http.post(host.mcp_url(), json=PING, headers={**HEADERS, "Mcp-Session-Id": unknown})
            assert (sse.status_code, sse.text) == (404, "Could not find session")
            assert malformed.status_code == 400
            assert mcp.status_code == 404


async def test_a_session_answers_only_its_own_credential_on_every_process(hosts):
    a, b = hosts
    async with _sse_session(a, lambda: _port(b)) as session:
        session_id = await _text(session, "whoami")
        async with httpx2.AsyncClient() as http:
            url = b.url(f"/messages/?session_id={session_id}")
            as_bob = await http.post(url, json=PING, headers=AS_BOB)
            as_alice = await http.post(url, json=PING, headers=AS_ALICE)
        assert (as_bob.status_code, as_bob.text) == (404, "Could not find session")
        assert as_alice.status_code == 202
        assert await _counts(session, 1) == ["1"]

    async with _round_robin_session(a) as session:  # opened on A
        session_id = await _text(session, "whoami")
        async with httpx2.AsyncClient(headers=HEADERS) as http:
            headers = {"Mcp-Session-Id": session_id}
            as_bob = await http.post(b.mcp_url(), json=PING, headers={**headers, **AS_BOB})
            as_alice = await http.post(b.mcp_url(), json=PING, headers={**headers, **AS_ALICE})
        assert as_bob.status_code == 404
        assert as_alice.status_code == 200


async def _wait_for_status(http: httpx2.AsyncClient, url: str, status: int) -> None:
    with anyio.fail_after(15):
        while (await http.get(url)).status_code != status:
            await anyio.sleep(0.1)


async def test_redis_lost_and_back_while_serving(hosts, redis_server):
    a, b = hosts
    post_to = _port(a)
    async with _sse_session(a, lambda: post_to) as sse, _round_robin_session(a) as mcp:
        assert await _counts(sse, 1) == ["1"]
        assert await _counts(mcp, 1) == ["1"]
        sse_id = await _text(sse, "whoami")

        redis_server.stop()
        async with httpx2.AsyncClient(headers=AS_ALICE, timeout=10) as http:
            for host in (a, b):
                await _wait_for_status(http, host.url("/readyz"), 503)
            refused_sse = await http.get(b.sse_url())
            refused_mcp = await http.post(b.mcp_url(), json=INITIALIZE, headers=HEADERS)
            unroutable = await http.post(b.url(f"/messages/?session_id={sse_id}"), json=PING)
        assert refused_sse.status_code == 503
        assert refused_mcp.status_code == 503
        assert unroutable.status_code == 503  # B cannot find the owner without Redis: retry later
        a.wait_for_log(r"cluster: lost Redis at redis://127\.0\.0\.1:\d+/0 .*new sessions are refused")
        b.wait_for_log(r"refused a new session: cannot accept new sessions now")

        # Requests that land on their session's owner go on.
        assert await _counts(sse, 2) == ["2", "3"]
        assert await _counts(mcp, 1) == ["2"]

        redis_server.start()  # empty: the owners register their sessions again by themselves
        async with httpx2.AsyncClient() as http:
            for host in (a, b):
                await _wait_for_status(http, host.url("/readyz"), 200)
        a.wait_for_log(r"cluster: Redis is back; \d+ open sessions registered again")
        post_to = _port(b)
        assert await _counts(sse, 2) == ["4", "5"]
    # New sessions across processes work again.
    async with _round_robin_session(b, a) as session:
        assert await _counts(session, 3) == ["1", "2", "3"]


async def test_a_killed_process_takes_only_its_own_sessions(plugin_env, hosts, redis_server):
    a, _ = hosts
    env = _env(redis_server)
    with run_host(CONFIG, python=plugin_env.python, env=env) as doomed:
        async with (
            httpx2.AsyncClient(headers={**AS_ALICE, **HEADERS}) as http,
            _sse_session(a, lambda: _port(a)) as survivor,
        ):
            opened = await http.post(doomed.mcp_url(), json=INITIALIZE)
            doomed_mcp = opened.headers["mcp-session-id"]
            # Reached once through A while its owner lives: A now knows where it lives.
            await http.post(a.mcp_url(), json=PING, headers={"Mcp-Session-Id": doomed_mcp})
            async with (
                sse_client(doomed.sse_url(), headers=AS_ALICE) as (read, write),
                ClientSession(read, write) as doomed_sse,
            ):
                await doomed_sse.initialize()
                doomed_sse_id = await _text(doomed_sse, "whoami")
                doomed.process.send_signal(signal.SIGKILL)
                doomed.process.wait(10)
            # Its sessions are gone: A answers 404 at once, with no word from anyone.
            sse = await http.post(a.url(f"/messages/?session_id={doomed_sse_id}"), json=PING)
            mcp = await http.post(a.mcp_url(), json=PING, headers={"Mcp-Session-Id": doomed_mcp})
            assert sse.status_code == 404
            assert mcp.status_code == 404
            assert await _counts(survivor, 2) == ["1", "2"]
            # And its routing entries expire (session_ttl_s = 3).
            with anyio.fail_after(10):
                while redis_server.get(f"test:session:{doomed_mcp}") or redis_server.get(
                    f"test:session:{doomed_sse_id}"
                ):
                    await anyio.sleep(0.2)


async def test_workers_share_one_port(plugin_env, redis_server):
    env = _env(redis_server)
    config = CONFIG.replace('key_prefix = "test"', 'key_prefix = "workers"')
    with run_host(config, python=plugin_env.python, env=env, args=["--workers", "2"]) as host:
        # A fresh connection per request: the kernel spreads them over the workers.
        no_reuse = httpx2.Limits(max_keepalive_connections=0)
        for _ in range(2):
            http = httpx2.AsyncClient(headers=AS_ALICE, limits=no_reuse, timeout=30)
            async with (
                http,
                streamable_http_client(host.mcp_url(), http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                assert await _counts(session, 6) == [str(n) for n in range(1, 7)]
        # Sessions opened on both workers.
        sessions = []
        async with httpx2.AsyncClient(headers={**AS_ALICE, **HEADERS}, limits=no_reuse) as http:
            for _ in range(16):
                opened = await http.post(host.mcp_url(), json=INITIALIZE)
                sessions.append(opened.headers["mcp-session-id"])
            owners = {
                json.loads(redis_server.get(f"workers:session:{sid}") or "{}").get("worker")
                for sid in sessions
            }
            for sid in sessions:
                assert (await http.delete(host.mcp_url(), headers={"Mcp-Session-Id": sid})).status_code == 200
        assert len(owners) == 2, owners
        host.wait_for_log(r"started worker 2 of 2")
        assert host.stop() == 0
    assert redis_server.keys("workers:session:*") == []


def test_redis_unreachable_at_start_is_a_clear_error(plugin_env, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    for workers in ("1", "2"):
        env = {
            **os.environ,
            "MCP_HOST_TEST_REDIS": f"redis://127.0.0.1:{_free_port()}/0",
            "MCP_HOST_TEST_STATE_KEY": STATE_KEY,
        }
        result = subprocess.run(
            [
                plugin_env.python,
                "-m",
                "mcp_host",
                "serve",
                "--config",
                config,
                "--port",
                "0",
                "--workers",
                workers,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 1, result.stderr
        assert "cannot reach Redis at redis://127.0.0.1:" in result.stderr


def test_workers_need_a_cluster_table(plugin_env, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[plugins.broken]\nenabled = false\n")
    result = plugin_env.mcp_host("serve", "--config", str(config), "--workers", "2")
    assert result.returncode == 2
    assert "add a [cluster] table" in result.stderr
    assert "redis_url" in result.stderr


async def _all_serve(host: LiveHost, workers: int) -> None:
    """Until every worker serves: each logs its start-up block."""
    with anyio.fail_after(30):
        while len(re.findall(r"plugins loaded: ", host.log)) < workers:
            await anyio.sleep(0.05)


async def test_a_reload_signalled_to_the_supervisor_reaches_every_worker(plugin_env, redis_server, tmp_path):
    env = _env(redis_server)
    base = CONFIG.replace('key_prefix = "test"', 'key_prefix = "reload"')
    config, pid_file = tmp_path / "config.toml", tmp_path / "mcp-host.pid"
    config.write_text(base + "\n[plugins.echo]\nenabled = false\n")
    args = ["--workers", "2", "--pid-file", str(pid_file)]
    with run_host(config, python=plugin_env.python, env=env, args=args) as host:
        await _all_serve(host, 2)
        assert pid_file.read_text().strip() == str(host.process.pid)  # the supervisor's
        config.write_text(base)
        reloaded = plugin_env.mcp_host("reload", "--pid-file", str(pid_file))
        assert reloaded.returncode == 0, reloaded.stderr
        host.wait_for_log(r"SIGHUP: passing the reload to 2 workers")
        with anyio.fail_after(20):
            while len(re.findall(r"plugins added \['echo'\]", host.log)) < 2:
                await anyio.sleep(0.05)
        # Fresh connections, which the kernel spreads over both workers: each serves echo.
        no_reuse = httpx2.Limits(max_keepalive_connections=0)
        async with httpx2.AsyncClient(headers={**AS_ALICE, **HEADERS}, limits=no_reuse) as http:
            for _ in range(8):
                opened = await http.post(host.mcp_url(), json=INITIALIZE)
                session = {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
                await http.post(host.mcp_url(), headers=session, json=INITIALIZED)
                listed = await http.post(host.mcp_url(), headers=session, json=LIST_TOOLS)
                assert '"echo"' in listed.text
                await http.delete(host.mcp_url(), headers=session)


async def test_a_worker_started_again_after_a_reload_reloads_as_it_starts(plugin_env, redis_server, tmp_path):
    env = _env(redis_server)
    base = CONFIG.replace('key_prefix = "test"', 'key_prefix = "restart"')
    config = tmp_path / "config.toml"
    config.write_text(base + "\n[plugins.echo]\nenabled = false\n")
    with run_host(config, python=plugin_env.python, env=env, args=["--workers", "2"]) as host:
        pid = int(host.wait_for_log(r"started worker 1 of 2 \(pid (\d+)\)").group(1))
        await _all_serve(host, 2)
        config.write_text(base)
        host.process.send_signal(signal.SIGHUP)
        with anyio.fail_after(20):
            while len(re.findall(r"plugins added \['echo'\]", host.log)) < 2:
                await anyio.sleep(0.05)
        # The supervisor starts a worker again only if it ran past its start-up window.
        await anyio.sleep(workers_module.STARTUP_S + 0.5)
        os.kill(pid, signal.SIGKILL)
        host.wait_for_log(rf"started worker 1 of 2 \(pid (?!{pid}\))\d+\)", timeout=30)
        host.wait_for_log(r"worker restarted after a reload: reloading the config", timeout=30)
        with anyio.fail_after(30):
            while len(re.findall(r"plugins added \['echo'\]", host.log)) < 3:
                await anyio.sleep(0.05)
