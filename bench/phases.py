"""The measurements, each against one running server on one transport.

Every phase opens its own sessions and closes them before the next phase begins. The speed
phases (``measure_speed``) are one turn of a server: the caller gives every server many
turns, interleaved. The memory phases (``measure_memory``) run once, on a fresh server:
churn before capacity, since RSS the SDK does not give back after thousands of idle sessions
would hide any growth churning causes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, TypeVar

from bench.clients import Json, Session, SessionError, Transport, handshake, new_session, opening_request
from bench.proc import SETTLE_POLL_S, cpu_seconds, settled_rss_kib
from bench.stats import latency_ms

FAILURES = (SessionError, OSError, TimeoutError, KeyError, ValueError)
"""What counts as an error: HTTP refusals, broken connections, time-outs, unreadable answers."""

WARMUP_CALLS = 5
CHURN_ROUNDS = 4
DURATIONS = "durations_s"
"""The raw latencies of a phase's turn, which the caller pools over every turn of a server."""

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    warmup: int
    """Sessions opened, used and closed on a server before anything is measured."""
    connects: int
    """Per turn."""
    handshakes: int
    """Per turn."""
    concurrency: int
    """C: sessions making tool calls at once."""
    calls: int
    """K: calls each of them makes per turn, one after another."""
    churn: int
    """Sessions opened, used once and closed per turn, ``parallel`` at a time."""
    churn_rss: int
    """M: sessions churned on a fresh server, whose RSS is read as they go."""
    capacity: int
    """S: idle initialized sessions held open at once."""
    parallel: int
    """Sessions opened (or closed) at once in the churn and capacity phases."""
    hold_s: float
    """How long the idle sessions are held before they are pinged."""
    rounds: int
    """Turns each server takes at the speed phases in one repeat. The servers run side by side
    and take their turns in a rotated order, so that what else the machine does falls on all
    alike."""
    repeats: int
    """Independent repeats of the speed phases, each on freshly started servers: every figure
    and ratio is the median of the repeats, with their spread. The memory phases run once."""
    settle_poll_s: float = SETTLE_POLL_S
    """The interval of the RSS samples that decide it has settled."""


PROFILES = {
    "smoke": Sizes(
        warmup=2,
        connects=3,
        handshakes=3,
        concurrency=2,
        calls=3,
        churn=4,
        churn_rss=4,
        capacity=4,
        parallel=2,
        hold_s=0,
        rounds=1,
        repeats=2,
        settle_poll_s=0.02,
    ),
    "quick": Sizes(
        warmup=50,
        connects=20,
        handshakes=20,
        concurrency=16,
        calls=10,
        churn=80,
        churn_rss=400,
        capacity=500,
        parallel=32,
        hold_s=1,
        rounds=2,
        repeats=3,
    ),
    "full": Sizes(
        warmup=100,
        connects=50,
        handshakes=50,
        concurrency=50,
        calls=30,
        churn=200,
        churn_rss=2000,
        capacity=5000,
        parallel=50,
        hold_s=5,
        rounds=4,
        repeats=5,
    ),
}


@dataclass(frozen=True)
class Target:
    transport: Transport
    host: str
    port: int
    pid: int

    def session(self) -> Session:
        return new_session(self.transport, self.host, self.port)


SPEED_PHASES = ("connect", "handshake", "calls", "churn")
MEMORY_PHASES = ("churn_rss", "capacity")


async def warm_up(target: Target, sizes: Sizes) -> None:
    """Sessions opened, used and closed, so that nothing is measured on a cold server."""
    await _sessions(target, sizes.warmup, sizes.parallel, _open_use_close)


async def measure_speed(target: Target, sizes: Sizes) -> dict[str, Any]:
    """One turn of a warm server at every speed phase."""
    return {
        "connect": await connect(target, sizes.connects),
        "handshake": await handshakes(target, sizes.handshakes),
        "calls": await tool_calls(target, sizes.concurrency, sizes.calls),
        "churn": await churn(target, sizes.churn, sizes.parallel),
    }


async def measure_memory(target: Target, sizes: Sizes) -> dict[str, Any]:
    await warm_up(target, sizes)
    memory = {"churn_rss": await churn_rss(target, sizes)}
    if target.transport != "modern":  # 2026-07-28 has no session to hold idle
        memory["capacity"] = await capacity(target, sizes)
    return memory


async def connect(target: Target, count: int) -> dict[str, Any]:
    """SSE: ``GET /sse`` until the ``endpoint`` event. Streamable HTTP: the ``initialize`` POST
    until its answer (the session exists); at 2026-07-28, ``server/discover``. A new TCP
    connection each time, as a new client."""
    durations: list[float] = []
    errors = 0
    cpu_before = cpu_seconds(target.pid)
    for _ in range(count):
        session = target.session()
        try:
            start = perf_counter()
            if target.transport == "sse":
                await session.open()
            else:
                _expect_result(await session.request(*opening_request(target.transport)))
            durations.append(perf_counter() - start)
        except FAILURES:
            errors += 1
        finally:
            await session.close()
    return {
        "samples": len(durations),
        "errors": errors,
        **latency_ms(durations),
        "server_cpu_us_per_session": _cpu_us(target, cpu_before, count),
        "operations": count,
        DURATIONS: durations,
    }


async def handshakes(target: Target, count: int) -> dict[str, Any]:
    """``initialize`` + ``notifications/initialized`` + ``tools/list`` on a fresh session (on SSE,
    after its stream is open: the stream is timed by ``connect``)."""
    durations: list[float] = []
    errors = 0
    cpu_before = cpu_seconds(target.pid)
    for _ in range(count):
        session = target.session()
        try:
            await session.open()
            start = perf_counter()
            _expect_result(await handshake(session))
            durations.append(perf_counter() - start)
        except FAILURES:
            errors += 1
        finally:
            await session.close()
    return {
        "samples": len(durations),
        "errors": errors,
        **latency_ms(durations),
        "server_cpu_us_per_session": _cpu_us(target, cpu_before, count),
        "operations": count,
        DURATIONS: durations,
    }


async def tool_calls(target: Target, concurrency: int, per_session: int) -> dict[str, Any]:
    """C initialized sessions each make K ``tools/call`` requests, one after another, all at once."""
    sessions = [target.session() for _ in range(concurrency)]
    opened = await asyncio.gather(*(_opened(session) for session in sessions))
    # A session that could not open makes its calls' worth of errors, and the run goes on.
    unopened = opened.count(False) * per_session
    sessions = [session for session, ok in zip(sessions, opened, strict=True) if ok]
    warmup: list[float] = []
    await asyncio.gather(*(_call(session, WARMUP_CALLS, warmup) for session in sessions))
    durations: list[float] = []
    cpu_before, start = cpu_seconds(target.pid), perf_counter()
    errors = unopened + sum(
        await asyncio.gather(*(_call(session, per_session, durations) for session in sessions))
    )
    wall, cpu_us = perf_counter() - start, _cpu_us(target, cpu_before, concurrency * per_session)
    await asyncio.gather(*(session.close() for session in sessions))
    return {
        "sessions": concurrency,
        "calls_per_session": per_session,
        "calls": len(durations),
        "errors": errors,
        "calls_per_s": round(len(durations) / wall, 1),
        **latency_ms(durations),
        "server_cpu_us_per_call": cpu_us,
        "wall_s": round(wall, 3),
        "operations": concurrency * per_session,
        DURATIONS: durations,
    }


async def churn(target: Target, count: int, parallel: int) -> dict[str, Any]:
    """``count`` sessions opened, initialized, used for one call and closed, ``parallel`` at a
    time: what a stream of short-lived clients costs."""
    cpu_before, start = cpu_seconds(target.pid), perf_counter()
    errors = await _sessions(target, count, parallel, _open_use_close)
    return {
        "sessions": count,
        "errors": errors,
        "sessions_per_s": round(count / (perf_counter() - start), 1),
        "server_cpu_us_per_session": _cpu_us(target, cpu_before, count),
        "operations": count,
    }


async def churn_rss(target: Target, sizes: Sizes) -> dict[str, Any]:
    """M sessions churned as ``churn`` does, in ``CHURN_ROUNDS`` rounds with the settled RSS
    after each. The first round is the allocator's warm-up; the growth is measured over the
    rounds after it."""
    per_round = max(1, sizes.churn_rss // CHURN_ROUNDS)
    samples = [await settled_rss_kib(target.pid, sizes.settle_poll_s)]
    errors = 0
    for _ in range(CHURN_ROUNDS):
        errors += await _sessions(target, per_round, sizes.parallel, _open_use_close)
        samples.append(await settled_rss_kib(target.pid, sizes.settle_poll_s))
    measured = per_round * (CHURN_ROUNDS - 1)
    return {
        "sessions": per_round * CHURN_ROUNDS,
        "errors": errors,
        "rss_after_rounds_kib": samples,
        "growth_kib_per_1000": round((samples[-1] - samples[1]) * 1000 / measured, 1),
    }


async def capacity(target: Target, sizes: Sizes) -> dict[str, Any]:
    """S initialized sessions held open and idle; RSS per session; then each must answer a ping."""
    count, parallel = sizes.capacity, sizes.parallel
    before = await settled_rss_kib(target.pid, sizes.settle_poll_s)
    held: list[Session] = []

    async def open_and_hold(session: Session) -> None:
        await _open(session)
        session.release_connection()  # an idle session keeps its stream (SSE), nothing more
        held.append(session)

    start = perf_counter()
    errors = await _sessions(target, count, parallel, open_and_hold)
    elapsed = perf_counter() - start
    after = await settled_rss_kib(target.pid, sizes.settle_poll_s)
    await asyncio.sleep(sizes.hold_s)
    alive = sum(await _bounded(parallel, [_pings(session) for session in held]))
    await _bounded(parallel, [session.close() for session in held])
    return {
        "sessions": count,
        "opened": len(held),
        "errors": errors,
        "alive": alive,
        "opened_per_s": round(len(held) / elapsed, 1),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "rss_per_session_kib": round((after - before) / max(1, len(held)), 1),
    }


def _cpu_us(target: Target, cpu_before: float, operations: int) -> float:
    """The server's CPU time since ``cpu_before``, in µs per operation (the kernel counts it
    in ticks of 10 ms: use enough operations)."""
    return round((cpu_seconds(target.pid) - cpu_before) / max(1, operations) * 1e6, 1)


def _expect_result(answer: Json) -> Json:
    if "result" not in answer:
        raise SessionError(f"an error answer: {answer}")
    result: Json = answer["result"]
    return result


async def _open(session: Session) -> None:
    await session.open()
    _expect_result(await handshake(session))


async def _call(session: Session, count: int, durations: list[float]) -> int:
    """``count`` calls of ``add``; their durations are appended; returns the number of errors."""
    errors = 0
    for i in range(count):
        try:
            start = perf_counter()
            result = _expect_result(
                await session.request("tools/call", {"name": "add", "arguments": {"a": i, "b": 1}})
            )
            elapsed = perf_counter() - start
        except FAILURES:
            errors += 1
            continue
        # The echo baseline answers {}; an MCP server must have added.
        if result.get("isError") or result.get("structuredContent", {"result": i + 1})["result"] != i + 1:
            errors += 1
        else:
            durations.append(elapsed)
    return errors


async def _opened(session: Session) -> bool:
    try:
        await _open(session)
    except FAILURES:
        await session.close()
        return False
    return True


async def _open_use_close(session: Session) -> None:
    try:
        await _open(session)
        if await _call(session, 1, []):
            raise SessionError("the tool call failed")
    finally:
        await session.close()


async def _pings(session: Session) -> int:
    try:
        return int("result" in await session.request("ping"))
    except FAILURES:
        return 0


async def _sessions(
    target: Target, count: int, parallel: int, use: Callable[[Session], Awaitable[None]]
) -> int:
    """Run ``use`` on ``count`` new sessions, ``parallel`` at a time; returns the number that failed."""

    async def one() -> int:
        session = target.session()
        try:
            await use(session)
        except FAILURES:
            await session.close()
            return 1
        return 0

    return sum(await _bounded(parallel, [one() for _ in range(count)]))


async def _bounded(parallel: int, work: list[Awaitable[T]]) -> list[T]:
    gate = asyncio.Semaphore(parallel)

    async def gated(item: Awaitable[T]) -> T:
        async with gate:
            return await item

    return await asyncio.gather(*(gated(item) for item in work))
