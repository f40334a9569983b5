"""Connect to an MCP server the way Cursor does, and say in plain words what is wrong.

``diagnose`` runs the transports' first requests (``mcp_host.doctor.probe``), then a real session with
the SDK's clients on each transport that answered, checks the tools against Cursor's limits, and
finally waits on the open SSE stream for a keep-alive, which a buffering proxy holds back. Each
step yields a ``Check``: ok, warn or fail, with the reason and the fix.
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
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import PaginatedRequestParams, Tool

from mcp_host.doctor.client_limits import (
    CURSOR_NAME_LIMIT,
    CURSOR_TOOL_LIMIT,
    cursor_drops,
    too_many_for_cursor,
)
from mcp_host.doctor.probe import (
    Endpoints,
    Probe,
    ProbeOptions,
    SseProbe,
    buffering_fix,
    endpoints_for,
    find_endpoint,
    probe_sse,
    probe_streamable,
)

KEEPALIVE_GRACE_S = 2.0
"""A keep-alive due after N s may arrive a little later; wait this much longer."""


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

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "status": str(self.status), "detail": self.detail, "fix": self.fix}


# --- sessions with the SDK's clients -------------------------------------------------------


@dataclass
class Session:
    check: Check
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
    except TimeoutError:
        return Session(
            Check(name, Status.FAIL, f"no answer to initialize or tools/list in {options.timeout_s * 2:g} s")
        )
    except Exception as exc:
        return Session(
            Check(
                name,
                Status.FAIL,
                f"initialize or tools/list failed: {_describe_error(exc)}",
                "behind a proxy, check that it forwards every path under the URL (for SSE: /messages/ too)",
            )
        )
    server = init.server_info
    detail = (
        f"'{server.name}' {server.version}, protocol {init.protocol_version}: "
        f"initialize and tools/list answered ({len(tools)} tools)"
    )
    return Session(Check(name, Status.OK, detail), server_name=server.name, tools=tools)


def _page(cursor: str | None) -> PaginatedRequestParams | None:
    return PaginatedRequestParams(cursor=cursor) if cursor is not None else None


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
        for session in sessions:
            yield session.check
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
