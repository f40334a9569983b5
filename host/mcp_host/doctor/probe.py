"""The first requests of MCP's two HTTP transports and two protocol eras, with every answer explained.

Cursor, given a URL, first tries Streamable HTTP (``POST`` an ``initialize``), then falls back
to HTTP+SSE (``GET`` an event stream whose first ``endpoint`` event names where to ``POST``).
A client of the sessionless revision 2026-07-28 starts with a ``server/discover`` ``POST``
instead, which names its revision in headers and in ``_meta``. These probes make the same
requests with raw HTTP, where every status code and header can be read, and turn each answer
into what it means and, where there is one, a fix. Every request has a time limit; nothing
here raises for a server's misbehaviour.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import anyio
import httpx2
from mcp.shared.inbound import MCP_METHOD_HEADER, MCP_PROTOCOL_VERSION_HEADER
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    PROTOCOL_VERSION_META_KEY,
    UNSUPPORTED_PROTOCOL_VERSION,
)

from mcp_host.version import host_version

HANDSHAKE_PROTOCOL_VERSION = "2025-11-25"
"""What the probe's ``initialize`` asks for: the handshake era, which Cursor speaks."""
MODERN_PROTOCOL_VERSION = "2026-07-28"
"""What the probe's ``server/discover`` asks for: the sessionless revision, which the Python
SDK's ``Client`` speaks by default."""
BODY_SAMPLE_BYTES = 64 * 1024
"""How much of an answer is read to tell what it is: a server must not make us read forever."""


@dataclass(frozen=True)
class ProbeOptions:
    token: str | None = None
    timeout_s: float = 10.0
    """The limit for each network step."""
    keepalive_wait_s: float = 15.0
    """How long to wait for a keep-alive on the SSE stream; 0 skips that check."""
    server_name: str | None = None
    """The server's name in Cursor's mcp.json, for the name-length rule (default: its own name)."""


class BadURL(ValueError):
    """The URL cannot be an MCP server's; the message says why."""


@dataclass(frozen=True)
class Endpoints:
    """The URLs each transport is tried at, and which one the user gave."""

    streamable: str
    sse: str
    given: str  # "streamable", "sse", or "either" for a URL that names neither transport


def endpoints_for(url: str) -> Endpoints:
    """A URL ending in ``/sse`` or ``/mcp`` implies its sibling; any other is tried with both."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadURL(f"{url!r} is not an http:// or https:// URL")

    def sibling(suffix: str) -> str:
        return urlunsplit(parts._replace(path=parts.path[: -len("/sse")] + suffix))

    if parts.path.endswith("/sse"):
        return Endpoints(streamable=sibling("/mcp"), sse=url, given="sse")
    if parts.path.endswith("/mcp"):
        return Endpoints(streamable=url, sse=sibling("/sse"), given="streamable")
    return Endpoints(streamable=url, sse=url, given="either")


# --- explaining HTTP answers ---------------------------------------------------------------


@dataclass
class Probe:
    """What one transport's first request showed."""

    url: str
    works: bool
    detail: str
    fix: str | None = None
    status_code: int | None = None
    unreachable: bool = False
    answered_json_rpc: bool = False
    """A JSON-RPC answer came back, a result or an error: an MCP server is there."""


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2]


def _snippet(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= 80 else text[:77] + "..."


def _explain_status(
    response: httpx2.Response, body: bytes, request: str, url: str, token_sent: bool
) -> tuple[str, str | None]:
    """A failed answer, as (what it means, how to fix it)."""
    code = response.status_code
    said = f"{request} {url}: {code} {response.reason_phrase}"
    if code == 401:
        if token_sent:
            return (
                f"{said}: the host refused the token",
                "use a token listed in the host's [[auth.tokens]] (check the environment variable or "
                "file its ${env:...} or ${file:...} names)",
            )
        return (
            f"{said}: the host needs a bearer token",
            "pass --token TOKEN or set MCP_HOST_TOKEN; in Cursor's mcp.json add "
            '"headers": {"Authorization": "Bearer TOKEN"}',
        )
    if code == 403:
        if "insufficient_scope" in response.headers.get("www-authenticate", ""):
            return (
                f"{said}: the token is not allowed on this server",
                "add this server's key to the token's servers list in [[auth.tokens]], or use another token",
            )
        if b"origin" in body.lower():
            return (
                f"{said}: the host refused the Origin header",
                "add the origin to [security] allowed_origins in the host's config",
            )
        return f"{said}: {_snippet(body)}", None
    if code == 421:
        host = _host_header(url)
        return (
            f"{said}: the host refused the Host header {host!r}",
            f'add "{host}" to [security] allowed_hosts in the host\'s config (behind a proxy, '
            "list the public name with and without its port)",
        )
    if code == 404:
        return (
            f"{said}: nothing is served at this path",
            "mcp-host serves /mcp and /sse, and /servers/NAME/mcp and /servers/NAME/sse for [servers.NAME]",
        )
    if code == 405:
        kind = "a Streamable HTTP endpoint, which takes POST" if request == "POST" else "an HTTP+SSE endpoint"
        return f"{said}: not {kind}", None
    if 300 <= code < 400:
        location = response.headers.get("location", "?")
        return f"{said}: redirects to {location}", f"use {urljoin(url, location)}; clients may not follow"
    if code in (502, 503, 504) and b"session" not in body.lower():
        return (
            f"{said}: a proxy in front could not get an answer from the server",
            "check that mcp-host runs and that the proxy points at its address and port",
        )
    return f"{said}: {_snippet(body)}" if body.strip() else said, None


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, outermost first: the socket error is at the bottom."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


_TOO_SLOW_FIX = "the server is overloaded or stuck, or a proxy holds the answer back; --timeout waits longer"


def _too_slow(options: ProbeOptions) -> str:
    return f"no complete answer in {options.timeout_s:g} s"


def _is_unreachable(exc: httpx2.HTTPError) -> bool:
    """Nothing to talk to at all: no other request to the same address can go better."""
    return isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)


def _connection_failure(exc: httpx2.HTTPError, url: str) -> tuple[str, str]:
    host = _host_header(url)
    if isinstance(exc, httpx2.ConnectTimeout):
        return (
            f"cannot connect to {host}: no answer in time",
            "check the address and port; a firewall may be dropping the connection",
        )
    if isinstance(exc, httpx2.TimeoutException):
        return f"connected to {host}, but no answer in time", _TOO_SLOW_FIX
    if isinstance(exc, httpx2.RemoteProtocolError):
        return (
            f"what answers at {host} does not speak HTTP as expected: {exc}",
            "check the port: it may belong to another service",
        )
    causes = _causes(exc)
    if any(isinstance(cause, socket.gaierror) for cause in causes):
        return f"cannot resolve the name {urlsplit(url).hostname!r}", "check the host name in the URL"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return (
            f"cannot connect to {host}: connection refused, nothing listens there",
            "start mcp-host (`mcp-host --config config.toml`), or check the port in the URL",
        )
    if any(isinstance(cause, ssl.SSLError) for cause in causes):
        return (
            f"the TLS handshake with {host} failed: {exc}",
            "if the host serves plain HTTP, use an http:// URL",
        )
    return f"cannot connect to {host}: {exc or type(exc).__name__}", "check the address and port in the URL"


def _json_rpc_answer(content_type: str, body: bytes) -> dict[str, Any] | None:
    """The JSON-RPC response in a Streamable HTTP answer: a JSON body, or the first SSE ``message``."""
    text = body.decode("utf-8", "replace")
    candidates = [text]
    if content_type.startswith("text/event-stream"):
        candidates = [
            "\n".join(line[len("data:") :].strip() for line in block.splitlines() if line.startswith("data:"))
            for block in text.replace("\r\n", "\n").split("\n\n")
        ]
    for candidate in candidates:
        try:
            message = json.loads(candidate)
        except ValueError:
            continue
        if (
            isinstance(message, dict)
            and message.get("jsonrpc") == "2.0"
            and ("result" in message or "error" in message)
        ):
            return message
    return None


def _has_an_event_with_data(seen: bytes) -> bool:
    complete_events = seen.replace(b"\r\n", b"\n").split(b"\n\n")[:-1]
    return any(
        line.startswith(b"data:") and line[len(b"data:") :].strip()
        for event in complete_events
        for line in event.split(b"\n")
    )


async def _read_sample(response: httpx2.Response, stop_early: Callable[[bytes], bool]) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= BODY_SAMPLE_BYTES or stop_early(body):
            break
    return body[:BODY_SAMPLE_BYTES]


# --- the transports' first requests --------------------------------------------------------


def _initialize_request() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcp-host-doctor", "version": host_version()},
        },
    }


_POST_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@dataclass(frozen=True)
class _Answer:
    """A JSON-RPC answer to a probe's POST, whatever its HTTP status."""

    response: httpx2.Response
    message: dict[str, Any]

    @property
    def error(self) -> dict[str, Any] | None:
        if "error" not in self.message:
            return None
        error = self.message["error"]
        return error if isinstance(error, dict) else {}

    @property
    def result(self) -> dict[str, Any]:
        result = self.message.get("result")
        return result if isinstance(result, dict) else {}


def _code_and_message(error: dict[str, Any]) -> str:
    return f"{error.get('code')}: {error.get('message')}"


async def _post_first_request(
    client: httpx2.AsyncClient,
    url: str,
    request: dict[str, Any],
    headers: dict[str, str],
    options: ProbeOptions,
) -> _Answer | Probe:
    """POST a client's first request: its JSON-RPC answer, or a failed ``Probe`` saying why there
    is none. Any session the request opens is ended."""
    try:
        with anyio.fail_after(options.timeout_s):
            async with client.stream(
                "POST", url, json=request, headers={**_POST_HEADERS, **headers}
            ) as response:
                content_type = response.headers.get("content-type") or ""
                # An SSE answer stays open after the response on some servers: stop at the first
                # event with data, past a resumable stream's priming event (an id, empty data).
                body = await _read_sample(response, _has_an_event_with_data)
    except TimeoutError:
        return Probe(url, False, f"POST {url}: {_too_slow(options)}", _TOO_SLOW_FIX)
    except httpx2.HTTPError as exc:
        detail, fix = _connection_failure(exc, url)
        return Probe(url, False, f"POST {url}: {detail}", fix, unreachable=_is_unreachable(exc))
    session_id = response.headers.get("mcp-session-id")
    if session_id:
        await _end_session(client, url, session_id)
    message = _json_rpc_answer(content_type, body)
    # A 400 with a JSON-RPC error is the server refusing the request itself (no session, a
    # version it does not speak): that error says more than the status. Other failures are
    # about getting through at all (a token, the Host header), which the status explains.
    refused_by_mcp = response.status_code == 400 and message is not None and "error" in message
    if not response.is_success and not refused_by_mcp:
        meaning, fix_for_it = _explain_status(response, body, "POST", url, options.token is not None)
        return Probe(url, False, meaning, fix_for_it, status_code=response.status_code)
    if message is None:
        return Probe(
            url,
            False,
            f"POST {url}: {response.status_code} {content_type or 'no content type'} "
            f"is not an MCP answer: {_snippet(body) or 'empty body'}",
            "this URL is served by something other than an MCP server: check the address, port and path",
            status_code=response.status_code,
        )
    return _Answer(response, message)


async def probe_streamable(client: httpx2.AsyncClient, url: str, options: ProbeOptions) -> Probe:
    """POST an ``initialize``, as a Streamable HTTP client of the handshake era starts; end the
    session it opens."""
    answer = await _post_first_request(client, url, _initialize_request(), {}, options)
    if isinstance(answer, Probe):
        return answer
    fix = None
    if answer.error is not None:
        works, detail = False, f"initialize failed with error {_code_and_message(answer.error)}"
        supported = _supported_versions(answer.error)
        if answer.error.get("code") == UNSUPPORTED_PROTOCOL_VERSION and supported:
            detail += f": the server speaks only {', '.join(supported)}"
            fix = f"Cursor speaks the handshake era ({HANDSHAKE_PROTOCOL_VERSION}): serve it too"
    else:
        works, detail = True, f"answers initialize (protocol {answer.result.get('protocolVersion', '?')})"
    return Probe(
        url,
        works,
        f"POST {url}: {detail}",
        fix,
        status_code=answer.response.status_code,
        answered_json_rpc=True,
    )


def _supported_versions(error: dict[str, Any]) -> list[str]:
    """The versions a -32022 answer names (``data.supported``); none if it names none."""
    data = error.get("data")
    supported = data.get("supported") if isinstance(data, dict) else None
    return [str(version) for version in supported] if isinstance(supported, list) else []


def _discover_request() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "server/discover",
        "params": {
            "_meta": {
                PROTOCOL_VERSION_META_KEY: MODERN_PROTOCOL_VERSION,
                CLIENT_CAPABILITIES_META_KEY: {},
                CLIENT_INFO_META_KEY: {"name": "mcp-host-doctor", "version": host_version()},
            }
        },
    }


async def probe_discover(client: httpx2.AsyncClient, url: str, options: ProbeOptions) -> Probe:
    """POST a ``server/discover``, as a client of 2026-07-28 starts: whether the server speaks it."""
    headers = {MCP_PROTOCOL_VERSION_HEADER: MODERN_PROTOCOL_VERSION, MCP_METHOD_HEADER: "server/discover"}
    answer = await _post_first_request(client, url, _discover_request(), headers, options)
    if isinstance(answer, Probe):
        return answer
    status_code = answer.response.status_code
    if answer.error is not None:
        # What a server of the handshake era says to a request without a session: most often
        # 400 "Missing session ID", or "Method not found".
        return Probe(
            url,
            False,
            f"POST {url}: server/discover answered with error {_code_and_message(answer.error)}; "
            f"the server does not speak {MODERN_PROTOCOL_VERSION}",
            status_code=status_code,
            answered_json_rpc=True,
        )
    versions = answer.result.get("supportedVersions")
    offered = ", ".join(map(str, versions)) if isinstance(versions, list) and versions else "none"
    if not isinstance(versions, list) or MODERN_PROTOCOL_VERSION not in versions:
        return Probe(
            url,
            False,
            f"POST {url}: answers server/discover, but offers the versions {offered}, "
            f"not {MODERN_PROTOCOL_VERSION}",
            status_code=status_code,
            answered_json_rpc=True,
        )
    return Probe(
        url,
        True,
        f"POST {url}: answers server/discover with no session (versions {offered})",
        status_code=status_code,
        answered_json_rpc=True,
    )


async def _end_session(client: httpx2.AsyncClient, url: str, session_id: str) -> None:
    """DELETE the probe's session, so it does not wait on the host for its idle timeout."""
    # If this fails, the host ends the session by itself later: nothing for the user to fix.
    with contextlib.suppress(httpx2.HTTPError):
        await client.delete(url, headers={"Mcp-Session-Id": session_id})


@dataclass
class EventStream:
    """An open SSE response, read event by event."""

    response: httpx2.Response
    opened_at: float
    lines: AsyncIterator[str]
    bytes_seen: bool = False
    _event: str = "message"
    _data: list[str] = field(default_factory=list)

    async def next(self) -> tuple[str, str]:
        """The next event as ``(event, data)``, or a comment as ``(":", text)``; EOFError at the end."""
        async for line in self.lines:
            self.bytes_seen = True
            if line.startswith(":"):
                return ":", line[1:].strip()
            if not line:
                if self._data:
                    event, data = self._event, "\n".join(self._data)
                    self._event, self._data = "message", []
                    return event, data
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                self._event = value
            elif name == "data":
                self._data.append(value)
        raise EOFError


@dataclass
class SseProbe(Probe):
    stream: EventStream | None = None
    buffering_header: bool = False
    """The answer carried ``X-Accel-Buffering: no``, which tells nginx not to buffer it."""


async def probe_sse(
    client: httpx2.AsyncClient, url: str, options: ProbeOptions, stack: AsyncExitStack
) -> SseProbe:
    """GET the event stream and wait for its ``endpoint`` event; the stream is left open on
    ``stack``, for the keep-alive check."""
    try:
        with anyio.fail_after(options.timeout_s):
            response = await stack.enter_async_context(
                client.stream(
                    "GET",
                    url,
                    headers={"Accept": "text/event-stream"},
                    timeout=httpx2.Timeout(options.timeout_s, read=None),
                )
            )
    except TimeoutError:
        return SseProbe(url, False, f"GET {url}: {_too_slow(options)}", _TOO_SLOW_FIX)
    except httpx2.HTTPError as exc:
        detail, fix = _connection_failure(exc, url)
        return SseProbe(url, False, f"GET {url}: {detail}", fix, unreachable=_is_unreachable(exc))
    content_type = response.headers.get("content-type") or ""
    if not response.is_success or not content_type.startswith("text/event-stream"):
        try:
            with anyio.fail_after(options.timeout_s):
                body = await _read_sample(response, lambda seen: False)
        except (httpx2.HTTPError, TimeoutError):
            body = b""
        if not response.is_success:
            meaning, fix_for_it = _explain_status(response, body, "GET", url, options.token is not None)
            return SseProbe(url, False, meaning, fix_for_it, status_code=response.status_code)
        return SseProbe(
            url,
            False,
            f"GET {url}: {response.status_code} {content_type or 'no content type'}, not an event stream: "
            f"{_snippet(body) or 'empty body'}",
            "this URL is served by something other than an MCP server: check the address, port and path",
            status_code=response.status_code,
        )
    stream = EventStream(response, time.monotonic(), response.aiter_lines())
    buffering_header = response.headers.get("x-accel-buffering", "").lower() == "no"
    endpoint: str | None = None
    with anyio.move_on_after(options.timeout_s):
        try:
            while endpoint is None:
                event, data = await stream.next()
                if event == "endpoint":
                    endpoint = data
        except (httpx2.HTTPError, EOFError):
            pass
    if endpoint is None:
        if not stream.bytes_seen:
            return SseProbe(
                url,
                False,
                f"GET {url}: the event stream opened but nothing arrived on it in {options.timeout_s:g} s",
                buffering_fix(buffering_header),
                status_code=response.status_code,
            )
        return SseProbe(
            url,
            False,
            f"GET {url}: an event stream, but without the 'endpoint' event an MCP server sends first",
            "this is not an MCP HTTP+SSE endpoint: check the path",
            status_code=response.status_code,
        )
    messages_url = urljoin(url, endpoint)
    if urlsplit(messages_url)[:2] != urlsplit(url)[:2]:
        return SseProbe(
            url,
            False,
            f"GET {url}: the stream names {messages_url} for messages, another origin: clients refuse it",
            "behind a proxy, set [server] root_path so that the host names its public URLs",
            status_code=response.status_code,
        )
    return SseProbe(
        url,
        True,
        f"GET {url}: an event stream; messages go to {urlsplit(messages_url).path}",
        status_code=response.status_code,
        stream=stream,
        buffering_header=buffering_header,
    )


async def find_endpoint(client: httpx2.AsyncClient, url: str, options: ProbeOptions) -> str | None:
    """For a URL where nothing is served: a nearby Streamable HTTP endpoint that answers."""
    parts = urlsplit(url)
    paths = dict.fromkeys([parts.path.rstrip("/") + "/mcp", "/mcp"])
    for path in paths:
        candidate = urlunsplit(parts._replace(path=path, query=""))
        if candidate == url:
            continue
        probe = await probe_streamable(client, candidate, options)
        if probe.works or probe.status_code in (401, 403, 421):
            return candidate
    return None


def buffering_fix(header_seen: bool) -> str:
    fix = (
        "a proxy between here and the host is holding the stream back (buffering): turn its buffering "
        "off for this path (nginx: proxy_buffering off)"
    )
    if not header_seen:
        fix += (
            "; the answer came without the X-Accel-Buffering: no header the host sends, which tells "
            "nginx not to buffer: let it through"
        )
    return fix
