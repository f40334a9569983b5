"""The host under attack and under bad luck: it holds, and says clearly what happened."""

from __future__ import annotations

import re

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_host.testing import LiveHost, run_host

from .wire import HEADERS, INITIALIZE, QUIET

pytestmark = pytest.mark.anyio

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef0000"


async def _call(session: ClientSession, tool: str, arguments: dict[str, object] | None = None):
    return await session.call_tool(tool, arguments or {})


def _text(result) -> str:
    return result.content[0].text


# --- Host and Origin ------------------------------------------------------------------------


async def _status_of_each_endpoint(host: LiveHost, headers: dict[str, str]) -> dict[str, int]:
    async with httpx2.AsyncClient(timeout=10) as http:
        # An accepted stream stays open: only its status matters here.
        async with http.stream(
            "GET", host.sse_url(), headers={**headers, "Accept": "text/event-stream"}
        ) as sse:
            pass
        messages = await http.post(
            host.url("/messages/?session_id=" + "0" * 32), json=INITIALIZE, headers={**HEADERS, **headers}
        )
        mcp = await http.post(host.url("/mcp"), json=INITIALIZE, headers={**HEADERS, **headers})
    return {"sse": sse.status_code, "messages": messages.status_code, "mcp": mcp.status_code}


async def test_a_foreign_host_or_origin_is_refused_on_every_endpoint(plugin_env):
    with run_host(QUIET, python=plugin_env.python, args=["--log-level", "debug"]) as host:
        foreign_host = await _status_of_each_endpoint(host, {"Host": "evil.example.com"})
        foreign_origin = await _status_of_each_endpoint(host, {"Origin": "http://evil.example.com"})
        own_origin = await _status_of_each_endpoint(host, {"Origin": host.base_url})
        host.wait_for_log(r"accepted Host headers: 127\.0\.0\.1, localhost, \[::1\], 127\.0\.0\.1:\*")
    assert foreign_host == {"sse": 421, "messages": 421, "mcp": 421}
    assert foreign_origin == {"sse": 403, "messages": 403, "mcp": 403}
    # Allowed: the stream opens; an unknown session is 404; a new session is created.
    assert own_origin == {"sse": 200, "messages": 404, "mcp": 200}


async def test_configured_names_are_accepted(plugin_env):
    config = (
        "[security]\nallowed_hosts = ['mcp.example.com']\nallowed_origins = ['https://app.example.com']\n"
    )
    with run_host(config + QUIET, python=plugin_env.python) as host:
        named = await _status_of_each_endpoint(
            host, {"Host": "mcp.example.com", "Origin": "https://app.example.com"}
        )
        loopback = await _status_of_each_endpoint(host, {})
    assert named["mcp"] == 200
    assert loopback["mcp"] == 421


# --- Bearer tokens --------------------------------------------------------------------------

AUTH_CONFIG = (
    """
[[auth.tokens]]
name = "alice"
token = "${env:ALICE_TOKEN}"

[[auth.tokens]]
name = "bob"
token = "${file:{bob_file}}"
servers = ["counting"]

[servers.counting]
plugins = ["counter"]
"""
    + QUIET
)


@pytest.fixture
def auth_host(plugin_env, tmp_path):
    bob_file = tmp_path / "bob.token"
    bob_file.write_text(BOB + "\n")
    config = AUTH_CONFIG.replace("{bob_file}", str(bob_file))
    with run_host(config, python=plugin_env.python, env={"ALICE_TOKEN": ALICE}) as host:
        yield host


async def test_a_missing_or_wrong_token_is_401_and_health_stays_open(auth_host):
    async with httpx2.AsyncClient(timeout=10) as http:
        missing = await http.post(auth_host.url("/mcp"), json=INITIALIZE, headers=HEADERS)
        wrong = await http.post(
            auth_host.url("/mcp"), json=INITIALIZE, headers={**HEADERS, "Authorization": "Bearer nope"}
        )
        sse = await http.get(auth_host.sse_url())
        health = await http.get(auth_host.url("/healthz"))
    assert missing.status_code == wrong.status_code == sse.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert health.status_code == 200


async def test_the_right_token_works_on_both_transports(auth_host):
    auth = {"Authorization": f"Bearer {ALICE}"}
    async with (
        sse_client(auth_host.sse_url(), headers=auth) as (read, write),
        ClientSession(read, write) as s,
    ):
        await s.initialize()
        assert _text(await _call(s, "whoami"))
    async with (
        streamable_http_client(auth_host.url("/mcp"), http_client=httpx2.AsyncClient(headers=auth)) as (
            read,
            write,
        ),
        ClientSession(read, write) as s,
    ):
        await s.initialize()
        assert _text(await _call(s, "whoami"))


async def test_a_token_limited_to_some_servers_gets_403_elsewhere(auth_host):
    bob = {**HEADERS, "Authorization": f"Bearer {BOB}"}
    async with httpx2.AsyncClient(timeout=10) as http:
        elsewhere = await http.post(auth_host.url("/mcp"), json=INITIALIZE, headers=bob)
        allowed = await http.post(auth_host.url("/servers/counting/mcp"), json=INITIALIZE, headers=bob)
    assert elsewhere.status_code == 403
    assert allowed.status_code == 200


async def test_another_credential_cannot_use_a_session(auth_host):
    alice = {**HEADERS, "Authorization": f"Bearer {ALICE}"}
    bob = {**HEADERS, "Authorization": f"Bearer {BOB}"}
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    async with httpx2.AsyncClient(timeout=10) as http:
        opened = await http.post(auth_host.url("/servers/counting/mcp"), json=INITIALIZE, headers=alice)
        session = opened.headers["mcp-session-id"]
        hijack = await http.post(
            auth_host.url("/servers/counting/mcp"), json=ping, headers={**bob, "Mcp-Session-Id": session}
        )
        own = await http.post(
            auth_host.url("/servers/counting/mcp"), json=ping, headers={**alice, "Mcp-Session-Id": session}
        )
        async with http.stream("GET", auth_host.url("/servers/counting/sse"), headers=alice) as stream:
            lines = stream.aiter_lines()
            await anext(lines)
            messages_url = auth_host.url((await anext(lines)).removeprefix("data: "))
            sse_hijack = await http.post(messages_url, json=ping, headers=bob)
            sse_own = await http.post(messages_url, json=INITIALIZE, headers=alice)
    assert hijack.status_code == 404
    assert own.status_code == 200
    assert sse_hijack.status_code == 404
    assert sse_own.status_code == 202


# --- Limits and faults ------------------------------------------------------------------------

LIMITS_CONFIG = (
    """
[limits]
call_timeout_s = 30
max_concurrent_calls = 2
max_body_bytes = 2048

[plugins.counter]
tool_timeouts = { nap = 0.5, sync_nap = 0.5 }
"""
    + QUIET
)


@pytest.fixture(scope="module")
def limited_host(plugin_env):
    with run_host(LIMITS_CONFIG, python=plugin_env.python) as host:
        yield host


@pytest.fixture(params=["sse", "streamable-http"])
async def limited_session(request, limited_host):
    if request.param == "sse":
        transport = sse_client(limited_host.sse_url())
    else:
        transport = streamable_http_client(limited_host.url("/mcp"))
    async with transport as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield limited_host, session


async def test_a_call_past_its_time_limit_is_a_tool_error_and_the_session_goes_on(limited_session):
    _, session = limited_session
    for tool in ("nap", "sync_nap"):
        with anyio.fail_after(10):
            result = await _call(session, tool, {"seconds": 30})
        assert result.is_error
        assert _text(result) == f"Error executing tool {tool}: timed out after 0.5 s"
    assert _text(await _call(session, "nap", {"seconds": 0.01})) == "rested"


async def test_a_crashing_tool_reports_an_error_id_found_in_the_log(limited_session):
    host, session = limited_session
    result = await _call(session, "crash")
    assert result.is_error
    message = _text(result)
    assert "crash failed unexpectedly (RuntimeError)" in message
    assert "hunter2" not in message
    error_id = re.search(r"error id ([0-9a-f]{8})", message).group(1)  # type: ignore[union-attr]
    host.wait_for_log(rf"tool 'crash' of plugin 'counter' crashed \[error id {error_id}\]")
    assert len([line for line in host.log_lines if f"crashed [error id {error_id}]" in line]) == 1
    assert _text(await _call(session, "increment")) == "1"


async def test_too_many_calls_at_once_are_refused_and_the_rest_run(limited_session):
    _, session = limited_session
    results = []

    async def call(seconds: float) -> None:
        results.append(await _call(session, "nap", {"seconds": seconds}))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(call, 0.3)
        tasks.start_soon(call, 0.3)
        await anyio.sleep(0.1)
        tasks.start_soon(call, 0.01)
    refused = [r for r in results if r.is_error]
    assert len(refused) == 1
    assert "too many tool calls at once: at most 2 per session" in _text(refused[0])
    assert [_text(r) for r in results if not r.is_error] == ["rested", "rested"]


async def test_an_oversized_body_is_413(limited_host):
    big = {**INITIALIZE, "padding": "x" * 4096}
    async with httpx2.AsyncClient(timeout=10) as http:
        over_mcp = await http.post(limited_host.url("/mcp"), json=big, headers=HEADERS)
        over_sse = await http.post(
            limited_host.url("/messages/?session_id=" + "0" * 32), json=big, headers=HEADERS
        )
    assert over_mcp.status_code == over_sse.status_code == 413


async def test_malformed_json_is_400_and_one_log_line(plugin_env):
    with run_host(QUIET, python=plugin_env.python) as host:
        async with httpx2.AsyncClient(timeout=10) as http, http.stream("GET", host.sse_url()) as stream:
            lines = stream.aiter_lines()
            await anext(lines)
            messages_url = host.url((await anext(lines)).removeprefix("data: "))
            responses = [
                await http.post(messages_url, content=b"{not json", headers=HEADERS) for _ in range(5)
            ]
            still_there = await http.post(messages_url, json=INITIALIZE, headers=HEADERS)
        await anyio.sleep(0.3)
    assert {r.status_code for r in responses} == {400}
    assert still_there.status_code == 202
    bad = [line for line in host.log_lines if "not JSON-RPC" in line]
    assert len(bad) == 5
    assert "Traceback" not in host.log


async def test_a_thread_still_running_an_abandoned_call_does_not_hold_up_shutdown(plugin_env):
    config = "[plugins.counter]\ntool_timeouts = { sync_nap = 0.5 }\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            assert _text(await _call(session, "sync_nap", {"seconds": 60})).endswith("timed out after 0.5 s")
        started = anyio.current_time()
        exit_code = await anyio.to_thread.run_sync(host.stop)
        elapsed = anyio.current_time() - started
    assert exit_code == 0
    assert elapsed < 8, f"took {elapsed:.1f} s"
    host.wait_for_log(r"exiting without waiting for 1 abandoned tool calls in worker threads")
