"""Random input and endless reconnects: the host never answers 5xx, never dies, never leaks."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_host.testing import LiveHost, run_host

from .wire import HEADERS, INITIALIZE, QUIET


class RawSseSession:
    """A legitimate client on a raw SSE stream, read by a thread, to check on after the fuzzing."""

    def __init__(self, host: LiveHost) -> None:
        self.events: queue.Queue[str] = queue.Queue()
        self._client = httpx2.Client(timeout=30)
        self._response = self._client.send(self._client.build_request("GET", host.sse_url()), stream=True)
        lines = self._response.iter_lines()
        assert next(lines) == "event: endpoint"
        self.messages_url = host.url(next(lines).removeprefix("data: "))
        self.session_id = self.messages_url.rsplit("=", 1)[1]
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()

    def _read(self, lines: Iterator[str]) -> None:
        try:
            for line in lines:
                if line.startswith("data: "):
                    self.events.put(line.removeprefix("data: "))
        except httpx2.HTTPError:
            pass

    def request(self, message: dict[str, object]) -> dict[str, object]:
        """Post a request and wait for its response, skipping anything else on the stream."""
        assert self._client.post(self.messages_url, json=message).status_code == 202
        while True:
            event = json.loads(self.events.get(timeout=10))
            if event.get("id") == message["id"]:
                return event

    def close(self) -> None:
        self._response.close()
        self._client.close()


@pytest.fixture(scope="module")
def fuzz_target(plugin_env) -> Iterator[tuple[LiveHost, RawSseSession, httpx2.Client]]:
    with run_host(QUIET, python=plugin_env.python) as host:
        legit = RawSseSession(host)
        legit.request(INITIALIZE)
        legit._client.post(legit.messages_url, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        with httpx2.Client(timeout=10) as http:
            yield host, legit, http
        legit.close()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
JSONRPC_SHAPED = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
        "method": st.sampled_from(["ping", "tools/call", "x", ""]),
    },
    optional={"id": st.integers() | st.text(max_size=5) | st.none(), "params": JSON_VALUES},
).map(lambda message: json.dumps(message).encode())
BODIES = st.binary(max_size=256) | JSON_VALUES.map(lambda value: json.dumps(value).encode()) | JSONRPC_SHAPED
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
    ]
) | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30).filter(
    # HTTP itself forbids white space around a header value: the client would refuse to send it.
    lambda value: value == value.strip()
)
QUERIES = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#"), max_size=40
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=BODIES,
    content_type=CONTENT_TYPES,
    session=st.sampled_from(["legit", "random", "garbage", "none"]),
    random_id=st.uuids().map(lambda value: value.hex),
    garbage=QUERIES,
)
def test_fuzzed_posts_never_get_5xx(fuzz_target, body, content_type, session, random_id, garbage):
    host, legit, http = fuzz_target
    query = {
        "legit": f"session_id={legit.session_id}",
        "random": f"session_id={random_id}",
        "garbage": garbage,
        "none": "",
    }[session]
    response = http.post(
        host.url(f"/messages/?{query}"), content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code < 500, (response.status_code, response.text)
    mcp = http.post(host.url("/mcp"), content=body, headers={**HEADERS, "Content-Type": content_type})
    assert mcp.status_code < 500, (mcp.status_code, mcp.text)


def test_the_host_and_the_legitimate_session_survive_the_fuzzing(fuzz_target):
    host, legit, http = fuzz_target
    assert host.process.poll() is None
    reply = legit.request(
        {"jsonrpc": "2.0", "id": 9001, "method": "tools/call", "params": {"name": "increment"}}
    )
    assert reply["result"]["structuredContent"]["result"] >= 1  # type: ignore[index]
    assert http.get(host.url("/healthz")).json()["status"] == "ok"


# --- churn ------------------------------------------------------------------------------------

CYCLES = 2000
WARM_UP = 200
CONCURRENCY = 8
RSS_GROWTH_BOUND = 24 * 1024 * 1024


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _sse_cycle(http: httpx2.AsyncClient, host: LiveHost) -> None:
    async with http.stream("GET", host.sse_url()) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                break


async def _streamable_cycle(http: httpx2.AsyncClient, host: LiveHost) -> None:
    opened = await http.post(host.url("/mcp"), json=INITIALIZE, headers=HEADERS)
    assert opened.status_code == 200, opened.text
    closed = await http.delete(
        host.url("/mcp"), headers={**HEADERS, "Mcp-Session-Id": opened.headers["mcp-session-id"]}
    )
    assert closed.status_code == 200


async def _churn(host: LiveHost, cycle, count: int) -> None:
    limiter = anyio.Semaphore(CONCURRENCY)

    async def one(http: httpx2.AsyncClient) -> None:
        async with limiter:
            await cycle(http, host)

    async with httpx2.AsyncClient(timeout=30) as http, anyio.create_task_group() as tasks:
        for _ in range(count):
            tasks.start_soon(one, http)


async def _sessions(host: LiveHost) -> int:
    async with httpx2.AsyncClient() as http:
        with anyio.fail_after(30):
            while sessions := (await http.get(host.url("/healthz"))).json()["sessions"]:
                await anyio.sleep(0.1)
    return sessions


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
async def test_churned_sessions_leave_nothing_behind(plugin_env, transport):
    cycle = _sse_cycle if transport == "sse" else _streamable_cycle
    with run_host(QUIET, python=plugin_env.python) as host:
        await _churn(host, cycle, WARM_UP)
        assert await _sessions(host) == 0
        before = _rss(host.process.pid)
        await _churn(host, cycle, CYCLES)
        assert await _sessions(host) == 0
        growth = _rss(host.process.pid) - before
        print(f"{transport}: RSS grew {growth / 1024:.0f} KiB over {CYCLES} sessions")
        assert growth < RSS_GROWTH_BOUND, f"RSS grew {growth / 1024 / 1024:.1f} MiB over {CYCLES} sessions"
        assert host.log.count("opened on server") == CYCLES + WARM_UP
        assert host.log.count("closed on server") == CYCLES + WARM_UP
