"""Connect to an MCP server the way Cursor does, and say in plain words what is wrong.

``diagnose`` runs the transports' first requests (``mcp_host.doctor.probe``) and the first request
of the sessionless revision 2026-07-28, then a real session with the SDK's clients on each
transport that answered, and ``tools/list`` over 2026-07-28 if the server speaks it; says which
protocol eras the server speaks, checks the tools against Cursor's limits, and finally waits on
the open SSE stream for a keep-alive, which a buffering proxy holds back. Each step yields a
``Check``: ok, warn or fail, with the reason and the fix.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import anyio
import httpx2
from mcp import ClientSession
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import SERVER_INFO_META_KEY, PaginatedRequestParams, Tool

from mcp_host.doctor.client_limits import (
    CURSOR_NAME_LIMIT,
    CURSOR_TOOL_LIMIT,
    cursor_drops,
    too_many_for_cursor,
)
from mcp_host.doctor.probe import (
    MODERN_PROTOCOL_VERSION,
    Endpoints,
    Probe,
    ProbeOptions,
    SseProbe,
    buffering_fix,
    endpoints_for,
    find_endpoint,
    probe_discover,
    probe_sse,
    probe_streamable,
)

KEEPALIVE_GRACE_S = 2.0
"""A keep-alive due after N s may arrive a little later; wait this much longer."""

HANDSHAKE_ERA = "handshake"
"""MCP up to 2025-11-25: an ``initialize`` handshake opens a session (Cursor, the TypeScript
SDK, mcp-remote, the Inspector by default)."""
MODERN_ERA = MODERN_PROTOCOL_VERSION
"""The sessionless revision: every request stands alone (the Python SDK's ``Client``)."""


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "status": str(self.status), "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class ErasCheck(Check):
    """Which protocol eras the server speaks, also as data for ``--json``."""

    eras: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "eras": list(self.eras)}


# --- sessions with the SDK's clients -------------------------------------------------------


@dataclass
class Session:
    check: Check
    era: str = HANDSHAKE_ERA
    server_name: str | None = None
    tools: list[Tool] | None = None


def _leaf_errors(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaf_errors(inner)]
    return [exc]


def _describe_error(exc: BaseException) -> str:
    leaves = _leaf_errors(exc)
    for leaf in leaves:
        if isinstance(leaf, httpx2.HTTPStatusError):
            request, response = leaf.request, leaf.response
            return f"{request.method} {request.url}: {response.status_code} {response.reason_phrase}"
    leaf = leaves[0]
    message = str(leaf).strip().splitlines()[0] if str(leaf).strip() else ""
    return f"{type(leaf).__name__}: {message}" if message else type(leaf).__name__


async def run_session(
    transport: str,
    connect: Callable[[], AbstractAsyncContextManager[Any]],
    options: ProbeOptions,
) -> Session:
    """``initialize`` and every page of ``tools/list``, over one transport, with the SDK's client."""
    name = f"session ({transport})"
    try:
        with anyio.fail_after(options.timeout_s * 2):
            async with connect() as streams, ClientSession(streams[0], streams[1]) as session:
                init = await session.initialize()
                tools: list[Tool] = []
                cursor: str | None = None
                while True:
                    page = await session.list_tools(params=_page(cursor))
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
    except Exception as exc:
        return Session(_session_failure(name, "initialize or tools/list", exc, options))
    server = init.server_info
    detail = (
        f"'{server.name}' {server.version}, protocol {init.protocol_version}: "
        f"initialize and tools/list answered ({len(tools)} tools)"
    )
    return Session(Check(name, Status.OK, detail), server_name=server.name, tools=tools)


async def run_sessionless(url: str, headers: dict[str, str], options: ProbeOptions) -> Session:
    """Every page of ``tools/list`` over 2026-07-28, with the SDK's ``Client`` pinned to it: no
    ``initialize``, no session, each request standing alone."""
    name = f"tools/list ({MODERN_ERA})"
    server_info: Any = None
    try:
        with anyio.fail_after(options.timeout_s * 2):
            async with (
                httpx2.AsyncClient(headers=headers, timeout=options.timeout_s) as http_client,
                Client(
                    streamable_http_client(url, http_client=http_client), mode=MODERN_ERA, cache=None
                ) as client,
            ):
                tools: list[Tool] = []
                cursor: str | None = None
                while True:
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    # Without an initialize result, every 2026-07-28 result may name its server.
                    server_info = (page.meta or {}).get(SERVER_INFO_META_KEY) or server_info
                    cursor = page.next_cursor
                    if cursor is None:
                        break
    except Exception as exc:
        return Session(_session_failure(name, "tools/list", exc, options), era=MODERN_ERA)
    server_name = server_info.get("name") if isinstance(server_info, dict) else None
    server = f"'{server_name}' {server_info.get('version', '')}".rstrip() if server_name else "the server"
    detail = f"{server}: tools/list answered with no session ({len(tools)} tools)"
    return Session(Check(name, Status.OK, detail), era=MODERN_ERA, server_name=server_name, tools=tools)


def _session_failure(name: str, requests: str, exc: Exception, options: ProbeOptions) -> Check:
    if isinstance(exc, TimeoutError):
        return Check(name, Status.FAIL, f"no answer to {requests} in {options.timeout_s * 2:g} s")
    return Check(
        name,
        Status.FAIL,
        f"{requests} failed: {_describe_error(exc)}",
        "behind a proxy, check that it forwards every path under the URL (for SSE: /messages/ too)",
    )


def _page(cursor: str | None) -> PaginatedRequestParams | None:
    return PaginatedRequestParams(cursor=cursor) if cursor is not None else None


# --- the protocol eras ----------------------------------------------------------------------


def discover_check(discover: Probe, *, handshake_answered: bool) -> Check:
    name = f"discover ({MODERN_ERA})"
    if discover.works:
        return Check(name, Status.OK, discover.detail)
    if handshake_answered:
        # Clients of 2026-07-28 fall back to the handshake by themselves: worth knowing, breaks nothing.
        return Check(name, Status.WARN, discover.detail, discover.fix)
    return Check(name, Status.FAIL, discover.detail, discover.fix)


def eras_check(sessions: list[Session]) -> ErasCheck | None:
    """Which eras the server spoke to the SDK's clients; None when it spoke neither (the
    failed checks before this one say why)."""
    spoken = tuple(
        era
        for era in (HANDSHAKE_ERA, MODERN_ERA)
        if any(session.era == era and session.tools is not None for session in sessions)
    )
    if spoken == (HANDSHAKE_ERA, MODERN_ERA):
        detail = (
            f"the server speaks both eras: the handshake (initialize, then a session) and {MODERN_ERA} "
            "(sessionless), each client in the one it asks for"
        )
        return ErasCheck("eras", Status.OK, detail, eras=spoken)
    if spoken == (HANDSHAKE_ERA,):
        detail = (
            f"the server speaks the handshake era only: clients of {MODERN_ERA} fall back to initialize "
            "(the Python SDK's Client by default), one round trip more; one pinned to it cannot connect"
        )
        return ErasCheck("eras", Status.OK, detail, eras=spoken)
    if spoken == (MODERN_ERA,):
        return ErasCheck(
            "eras",
            Status.WARN,
            f"the server speaks {MODERN_ERA} only: clients of the handshake era (Cursor, the TypeScript "
            "SDK, mcp-remote, the Inspector by default) cannot connect",
            "serve the handshake era too, as mcp-host does on the same URL",
            eras=spoken,
        )
    return None


# --- what Cursor makes of the tools --------------------------------------------------------


def tool_checks(tools: list[Tool], server_name: str) -> list[Check]:
    names = [tool.name for tool in tools]
    if not names:
        count = Check(
            "tools",
            Status.WARN,
            "the server offers no tools",
            "check the host's plugins with `mcp-host plugins`, and the server's plugins and tools lists",
        )
    elif too_many_for_cursor(len(names)):
        count = Check(
            "tools",
            Status.WARN,
            f"{len(names)} tools: past about {CURSOR_TOOL_LIMIT} tools in all, Cursor warns and "
            "models choose among them badly",
            "serve fewer: a [servers.NAME] with tools = [...], or disabled_tools in [plugins.NAME]",
        )
    else:
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        count = Check("tools", Status.OK, f"{len(names)} tools: {shown}")
    too_long = cursor_drops(server_name, names)
    if too_long:
        lengths = ", ".join(f"{name!r} ({length})" for name, length in list(too_long.items())[:5])
        length = Check(
            "tool names",
            Status.WARN,
            f"Cursor leaves out tools whose server name and tool name are longer than {CURSOR_NAME_LIMIT} "
            f"characters together; with the server named {server_name!r}: {lengths}",
            "give the server a shorter name in mcp.json (--name tells this check), or shorten the tool names "
            "(a shorter prefix in [plugins.NAME])",
        )
    else:
        length = Check(
            "tool names",
            Status.OK,
            f"every tool's name and the server's, {server_name!r}, fit in {CURSOR_NAME_LIMIT} characters",
        )
    return [count, length]


# --- keep-alive ----------------------------------------------------------------------------


async def keepalive_check(probe: SseProbe, options: ProbeOptions) -> Check:
    """Wait on the open stream for a comment (``: ping``), which arrives only if nothing buffers it."""
    assert probe.stream is not None
    stream = probe.stream
    deadline = stream.opened_at + options.keepalive_wait_s + KEEPALIVE_GRACE_S
    arrived_after: float | None = None
    with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
        try:
            while arrived_after is None:
                event, _ = await stream.next()
                if event == ":":
                    arrived_after = time.monotonic() - stream.opened_at
        except (httpx2.HTTPError, EOFError):
            return Check("keep-alive", Status.WARN, "the SSE stream ended before a keep-alive arrived")
    if arrived_after is not None:
        return Check(
            "keep-alive", Status.OK, f"a keep-alive arrived on the SSE stream in {arrived_after:.1f} s"
        )
    return Check(
        "keep-alive",
        Status.WARN,
        f"no keep-alive arrived on the SSE stream in {options.keepalive_wait_s:g} s",
        "if the host's keepalive_s is longer, pass --keepalive-wait with it; otherwise "
        + buffering_fix(probe.buffering_header),
    )


# --- all together --------------------------------------------------------------------------


def _transport_checks(endpoints: Endpoints, streamable: Probe, sse: Probe) -> list[Check]:
    same_failure = streamable.status_code is not None and streamable.status_code == sse.status_code
    if endpoints.given == "either" and not streamable.works and not sse.works and same_failure:
        # The same answer to both at the same URL: one finding, said once.
        detail = streamable.detail.replace("POST ", "POST and GET ", 1)
        return [Check("endpoint", Status.FAIL, detail, streamable.fix)]
    return [
        _transport_check("streamable-http", streamable, sse, primary=endpoints.given == "streamable"),
        _transport_check("sse", sse, streamable, primary=endpoints.given == "sse"),
    ]


def _transport_check(name: str, probe: Probe, other: Probe, *, primary: bool) -> Check:
    if probe.works:
        return Check(name, Status.OK, probe.detail)
    if not primary and other.works:
        # Cursor falls back from one transport to the other by itself: the sibling of the URL
        # the user gave is worth knowing about, but its absence breaks nothing.
        return Check(name, Status.WARN, probe.detail, probe.fix)
    fix = probe.fix
    if other.works:
        fix = f"{fix}; or use {other.url}, which works" if fix else f"use {other.url}, which works"
    return Check(name, Status.FAIL, probe.detail, fix)


async def diagnose(url: str, options: ProbeOptions) -> AsyncIterator[Check]:
    """Every check in order, as it completes; raises ``BadURL`` for a URL that cannot work."""
    endpoints = endpoints_for(url)
    headers = {"Authorization": f"Bearer {options.token}"} if options.token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=options.timeout_s) as client,
        AsyncExitStack() as stack,
    ):
        streamable = await probe_streamable(client, endpoints.streamable, options)
        if streamable.unreachable:
            yield Check("connect", Status.FAIL, streamable.detail, streamable.fix)
            return
        sse = await probe_sse(client, endpoints.sse, options, stack)
        if not streamable.works and not sse.works:
            await _suggest_an_endpoint(client, url, options, streamable, sse)
        for check in _transport_checks(endpoints, streamable, sse):
            yield check
        discover: Probe | None = None
        if streamable.works or streamable.answered_json_rpc:
            # Only Streamable HTTP carries 2026-07-28, and only where an MCP server answered.
            discover = await probe_discover(client, endpoints.streamable, options)
            yield discover_check(discover, handshake_answered=streamable.works or sse.works)

        sessions = []
        if streamable.works:
            sessions.append(
                await run_session(
                    "streamable-http",
                    lambda: _streamable_connection(endpoints.streamable, headers, options),
                    options,
                )
            )
        if sse.works:
            sessions.append(
                await run_session(
                    "sse",
                    lambda: sse_client(
                        endpoints.sse,
                        headers=headers,
                        timeout=options.timeout_s,
                        sse_read_timeout=options.timeout_s * 2,
                    ),
                    options,
                )
            )
        if discover is not None and discover.works:
            sessions.append(await run_sessionless(endpoints.streamable, headers, options))
        for session in sessions:
            yield session.check
        eras = eras_check(sessions)
        if eras is not None:
            yield eras
        listed = next((session for session in sessions if session.tools is not None), None)
        if listed is not None and listed.tools is not None:
            for check in tool_checks(listed.tools, options.server_name or listed.server_name or ""):
                yield check
        if sse.works and options.keepalive_wait_s > 0:
            yield await keepalive_check(sse, options)


async def _suggest_an_endpoint(
    client: httpx2.AsyncClient, url: str, options: ProbeOptions, *probes: Probe
) -> None:
    """When nothing is served at the URL, point the fix at a path where something is."""
    if not all(probe.status_code in (404, 405) for probe in probes):
        return
    found = await find_endpoint(client, url, options)
    if found is not None:
        for probe in probes:
            probe.fix = f"use {found}: an MCP server answers there"


@asynccontextmanager
async def _streamable_connection(
    url: str, headers: dict[str, str], options: ProbeOptions
) -> AsyncIterator[Any]:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=options.timeout_s) as http_client,
        streamable_http_client(url, http_client=http_client) as streams,
    ):
        yield streams
