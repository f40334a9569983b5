"""mcp-host as an OAuth 2.1 resource server, against a real OpenID provider (oidc-provider on
loopback, ``tests/clients/oidc.py``) issuing real tokens, and real MCP clients.

The host trusts the provider's issuer for its own URL (the audience). Its grants: the scope
``mcp:default`` opens ``whoami`` and ``echo`` on the default server, ``payroll`` opens
``payroll`` there, the group ``staff`` opens ``whoami``, and ``mcp:research`` opens the
research server. No grant opens the time plugin's ``current_time``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import jwt
import pytest
from mcp import ClientSession
from mcp.client import Client as SdkClient
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from mcp_host.testing import LiveHost, run_host
from tests.clients.node import NodeClients
from tests.clients.oidc import Client, OpenIDProvider, SigningKey, free_port, sign_in
from tests.wire import HEADERS, INITIALIZE, INITIALIZED, QUIET, jsonrpc_of

pytestmark = pytest.mark.anyio

SCOPES = ["mcp:default", "mcp:research", "payroll"]
MODERN = "2026-07-28"
STATIC_TOKEN = "static-token-0123456789abcdef"
CLIENTS = [
    Client("alice-app", scope="mcp:default mcp:research payroll", groups=["staff", "finance"]),
    Client("bob-app", scope="mcp:default payroll"),
    Client("staff-app", scope="payroll", groups=["staff"]),
    Client("brief-app", scope="mcp:default", access_token_ttl_s=1),
    Client("host-introspection", scope="payroll", auth_method="client_secret_basic"),
    Client("ts-app", scope="mcp:default", groups=["staff"], auth_method="client_secret_basic"),
]


def host_config(issuer: str, audience: str, more_oauth: str = "") -> str:
    return f"""
[server]
plugins = ["caller", "echo", "time"]

[servers.research]
plugins = ["echo"]

[auth.oauth]
issuer = "{issuer}"
audience = "{audience}"
clock_skew_s = 0
keys_refresh_s = 1
unknown_key_cooldown_s = 0
claims = ["groups"]
{more_oauth}
[[auth.oauth.grants]]
servers = ["default"]
tools = ["whoami", "echo"]
scope = "mcp:default"

[[auth.oauth.grants]]
servers = ["default"]
tools = ["payroll"]
scope = "payroll"

[[auth.oauth.grants]]
servers = ["default"]
tools = ["whoami"]
claim = "groups"
value = "staff"

[[auth.oauth.grants]]
servers = ["research"]
scope = "mcp:research"

[[auth.tokens]]
name = "ops"
token = "{STATIC_TOKEN}"
{QUIET}
"""


class IdentityHost:
    """A host that trusts ``provider``, on a port chosen first: its URL is the tokens' audience."""

    def __init__(self, live: LiveHost, provider: OpenIDProvider, audience: str) -> None:
        self.live = live
        self.provider = provider
        self.audience = audience

    def token(self, client_id: str, scope: str) -> str:
        return self.provider.token(client_id, scope=scope, resource=self.audience)


@pytest.fixture(scope="module")
def caller_env(make_scratch_env):
    return make_scratch_env("caller", "echo", "broken")


def _provider(node_clients: NodeClients, tmp_path: Path, **kwargs: Any) -> OpenIDProvider:
    return OpenIDProvider(node_clients, tmp_path, CLIENTS, SCOPES, **kwargs)


@pytest.fixture(scope="module")
def provider(node_clients, tmp_path_factory) -> Iterator[OpenIDProvider]:
    oidc = _provider(node_clients, tmp_path_factory.mktemp("oidc"))
    oidc.start()
    try:
        yield oidc
    finally:
        oidc.stop()


def _run(provider: OpenIDProvider, env) -> Any:
    port = free_port()
    audience = f"http://127.0.0.1:{port}/"
    return run_host(
        host_config(provider.issuer, audience), python=env.python, args=["--port", str(port)]
    ), audience


@pytest.fixture(scope="module")
def host(provider, caller_env) -> Iterator[IdentityHost]:
    running, audience = _run(provider, caller_env)
    with running as live:
        yield IdentityHost(live, provider, audience)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _initialize(http: httpx2.AsyncClient, url: str, token: str) -> httpx2.Response:
    return await http.post(url, json=INITIALIZE, headers={**HEADERS, **bearer(token)})


def _challenge(response: httpx2.Response) -> dict[str, str]:
    """The parameters of a ``WWW-Authenticate: Bearer k="v", ...`` header."""
    value = response.headers["www-authenticate"]
    assert value.startswith("Bearer ")
    params = {}
    for part in value[len("Bearer ") :].split('", '):
        key, _, quoted = part.partition("=")
        params[key.strip()] = quoted.strip('"')
    return params


class _Session:
    """An MCP session of the Python SDK with a bearer token, on either transport."""

    def __init__(self, url: str, token: str, transport: str) -> None:
        self.url, self.token, self.transport = url, token, transport

    async def __aenter__(self) -> ClientSession:
        self._stack = AsyncExitStack()
        stack = await self._stack.__aenter__()
        if self.transport == "sse":
            read, write = await stack.enter_async_context(sse_client(self.url, headers=bearer(self.token)))
        else:
            http = await stack.enter_async_context(httpx2.AsyncClient(headers=bearer(self.token), timeout=30))
            read, write = await stack.enter_async_context(streamable_http_client(self.url, http_client=http))
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()
        return session

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.__aexit__(*exc)


def _url(host: IdentityHost, transport: str, server: str = "default") -> str:
    return host.live.sse_url(server) if transport == "sse" else host.live.mcp_url(server)


async def _tool_names(session: ClientSession) -> set[str]:
    return {tool.name for tool in (await session.list_tools()).tools}


def _json(result: Any) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


# --- metadata and challenges --------------------------------------------------------------------


async def test_every_server_publishes_its_resource_metadata(host):
    host.live.wait_for_log(
        f"OAuth access tokens from {host.provider.issuer} for {host.audience}, and 1 bearer tokens required"
    )
    async with httpx2.AsyncClient() as http:
        for path, scopes in [
            ("/mcp", ["mcp:default", "payroll"]),
            ("/sse", ["mcp:default", "payroll"]),
            ("/servers/research/mcp", ["mcp:research"]),
            ("/servers/research/sse", ["mcp:research"]),
        ]:
            answer = await http.get(host.live.url("/.well-known/oauth-protected-resource" + path))
            assert answer.status_code == 200, path
            metadata = answer.json()
            assert metadata["resource"] == host.audience
            assert metadata["authorization_servers"] == [host.provider.issuer]
            assert metadata["scopes_supported"] == scopes, path


@pytest.mark.parametrize("transport", ["sse", "http"])
async def test_a_request_without_a_token_gets_401_pointing_to_the_metadata(host, transport):
    async with httpx2.AsyncClient() as http:
        url = _url(host, transport)
        answer = await (
            http.get(url) if transport == "sse" else http.post(url, json=INITIALIZE, headers=HEADERS)
        )
        assert answer.status_code == 401
        challenge = _challenge(answer)
        path = "/sse" if transport == "sse" else "/mcp"
        assert (
            challenge["resource_metadata"]
            == host.audience.rstrip("/") + "/.well-known/oauth-protected-resource" + path
        )
        assert "error" not in challenge
        # The address it names is where the metadata is.
        metadata = await http.get(challenge["resource_metadata"])
        assert metadata.json()["authorization_servers"] == [host.provider.issuer]


async def test_behind_a_proxys_path_prefix_the_metadata_is_at_the_public_path(provider, caller_env):
    port = free_port()
    audience = f"http://127.0.0.1:{port}/team/"  # what clients see: a proxy serves the host at /team
    config = host_config(provider.issuer, audience)
    with run_host(config, python=caller_env.python, args=["--port", str(port)]) as live:
        async with httpx2.AsyncClient() as http:
            answer = await http.post(live.mcp_url(), json=INITIALIZE, headers=HEADERS)
            named = _challenge(answer)["resource_metadata"]
            assert named == f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/team/mcp"
            # A proxy that passes that path on unchanged reaches it, and so does one that drops /team.
            for path in (
                "/.well-known/oauth-protected-resource/team/mcp",
                "/.well-known/oauth-protected-resource/mcp",
            ):
                metadata = await http.get(live.url(path))
                assert metadata.json()["resource"] == audience, path


# --- tokens the provider issued -----------------------------------------------------------------


@pytest.mark.parametrize("transport", ["sse", "http"])
async def test_a_valid_token_lists_and_calls_what_its_grants_open(host, transport):
    token = host.token("alice-app", "mcp:default mcp:research payroll")
    async with _Session(_url(host, transport), token, transport) as session:
        assert await _tool_names(session) == {"whoami", "echo", "payroll"}
        who = _json(await session.call_tool("whoami", {}))
        assert who == {
            "client_id": "alice-app",
            "subject": "alice-app",
            "issuer": host.provider.issuer,
            "scopes": ["mcp:default", "mcp:research", "payroll"],
            "claims": {"groups": ["staff", "finance"]},
            "hook_api": "1.3",
        }
        payroll = await session.call_tool("payroll", {})
        assert payroll.content[0].text == "payroll for alice-app"  # type: ignore[union-attr]


async def test_a_tool_no_grant_opens_is_neither_listed_nor_callable(host):
    token = host.token("alice-app", "mcp:default mcp:research payroll")
    async with _Session(_url(host, "http"), token, "http") as session:
        assert "current_time" not in await _tool_names(session)
        refused = await session.call_tool("current_time", {})
        assert refused.is_error
        assert refused.content[0].text == "Unknown tool: current_time"  # type: ignore[union-attr]


async def test_a_claim_opens_tools_without_a_scope(host):
    token = host.token("staff-app", "payroll")
    async with _Session(_url(host, "http"), token, "http") as session:
        assert await _tool_names(session) == {"whoami", "payroll"}
        assert _json(await session.call_tool("whoami", {}))["claims"] == {"groups": ["staff"]}


@pytest.mark.parametrize("transport", ["sse", "http"])
async def test_a_tool_that_needs_more_scope_answers_step_up(host, transport):
    token = host.token("bob-app", "mcp:default")
    async with _Session(_url(host, transport), token, transport) as session:
        assert await _tool_names(session) == {"whoami", "echo"}
    async with httpx2.AsyncClient(timeout=30) as http:
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "payroll", "arguments": {}},
        }
        if transport == "http":
            opened = await _initialize(http, host.live.mcp_url(), token)
            session_headers = {**HEADERS, **bearer(token), "mcp-session-id": opened.headers["mcp-session-id"]}
            answer = await http.post(host.live.mcp_url(), json=call, headers=session_headers)
        else:
            async with http.stream("GET", host.live.sse_url(), headers=bearer(token)) as stream:
                lines = stream.aiter_lines()
                endpoint = ""
                async for line in lines:
                    if line.startswith("data:"):
                        endpoint = line[len("data:") :].strip()
                        break
                answer = await http.post(host.live.url(endpoint), json=call, headers=bearer(token))
    assert answer.status_code == 403
    challenge = _challenge(answer)
    assert challenge["error"] == "insufficient_scope"
    assert challenge["scope"] == "payroll"
    assert challenge["resource_metadata"].endswith(
        "/.well-known/oauth-protected-resource" + ("/mcp" if transport == "http" else "/messages")
    )


async def test_after_a_step_up_the_same_session_goes_on_with_the_new_scope(host):
    narrow = host.token("bob-app", "mcp:default")
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "payroll", "arguments": {}}}
    listing = {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}
    async with httpx2.AsyncClient(timeout=30) as http:
        opened = await _initialize(http, host.live.mcp_url(), narrow)
        session = {**HEADERS, "mcp-session-id": opened.headers["mcp-session-id"]}
        await http.post(host.live.mcp_url(), json=INITIALIZED, headers={**session, **bearer(narrow)})
        stepped_up = await http.post(host.live.mcp_url(), json=call, headers={**session, **bearer(narrow)})
        assert stepped_up.status_code == 403
        wider = host.token("bob-app", _challenge(stepped_up)["scope"] + " mcp:default")
        listed = await http.post(host.live.mcp_url(), json=listing, headers={**session, **bearer(wider)})
        assert {tool["name"] for tool in jsonrpc_of(listed)["result"]["tools"]} == {
            "whoami",
            "echo",
            "payroll",
        }
        called = await http.post(host.live.mcp_url(), json=call, headers={**session, **bearer(wider)})
        result = jsonrpc_of(called)["result"]
        assert result["content"][0]["text"] == "payroll for bob-app", result


@pytest.mark.parametrize("transport", ["sse", "http"])
async def test_a_server_the_token_has_no_scope_for_answers_step_up(host, transport):
    token = host.token("bob-app", "mcp:default payroll")
    async with httpx2.AsyncClient() as http:
        url = _url(host, transport, "research")
        answer = await (
            http.get(url, headers=bearer(token))
            if transport == "sse"
            else http.post(url, json=INITIALIZE, headers={**HEADERS, **bearer(token)})
        )
    assert answer.status_code == 403
    challenge = _challenge(answer)
    assert (challenge["error"], challenge["scope"]) == ("insufficient_scope", "mcp:research")


async def test_a_session_stays_with_the_identity_that_opened_it(host):
    alice = host.token("alice-app", "mcp:default")
    bob = host.token("bob-app", "mcp:default")
    async with httpx2.AsyncClient() as http:
        opened = await _initialize(http, host.live.mcp_url(), alice)
        session = {"mcp-session-id": opened.headers["mcp-session-id"]}
        ping = {"jsonrpc": "2.0", "id": 3, "method": "ping"}
        as_bob = await http.post(
            host.live.mcp_url(), json=ping, headers={**HEADERS, **bearer(bob), **session}
        )
        assert as_bob.status_code == 404
        again = host.token("alice-app", "mcp:default")  # a new token of the same identity
        as_alice = await http.post(
            host.live.mcp_url(), json=ping, headers={**HEADERS, **bearer(again), **session}
        )
        assert as_alice.status_code == 200, as_alice.text


async def test_sessionless_requests_follow_the_same_grants(host):
    token = host.token("bob-app", "mcp:default")
    async with (
        httpx2.AsyncClient(headers=bearer(token), timeout=30) as http,
        SdkClient(streamable_http_client(host.live.mcp_url(), http_client=http), mode=MODERN) as client,
    ):
        assert client.protocol_version == MODERN
        assert {tool.name for tool in (await client.list_tools()).tools} == {"whoami", "echo"}
        assert _json(await client.call_tool("whoami", {}))["subject"] == "bob-app"
        refused = await client.call_tool("current_time", {})
        assert refused.is_error
        assert refused.content[0].text == "Unknown tool: current_time"  # type: ignore[union-attr]


async def test_static_tokens_work_beside_the_provider(host):
    async with _Session(_url(host, "http"), STATIC_TOKEN, "http") as session:
        assert {"whoami", "echo", "payroll", "current_time"} <= await _tool_names(session)
        assert _json(await session.call_tool("whoami", {}))["client_id"] == "ops"


async def test_without_tokens_a_plugin_sees_no_caller(caller_env):
    with run_host(QUIET, python=caller_env.python) as live:
        async with _Session(live.mcp_url(), "", "http") as session:
            assert _json(await session.call_tool("whoami", {})) == {"caller": None, "hook_api": "1.3"}


# --- tokens the host refuses, each with one log line --------------------------------------------


async def _refused(host: IdentityHost, token: str, reason: str) -> None:
    async with httpx2.AsyncClient() as http:
        answer = await _initialize(http, host.live.mcp_url(), token)
    assert answer.status_code == 401
    assert _challenge(answer)["error"] == "invalid_token"
    line = host.live.wait_for_log(f"OAuth token refused: {reason}")
    assert token not in line.string
    assert token not in host.live.log


async def test_an_expired_token_is_refused(host):
    token = host.token("brief-app", "mcp:default")
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    while time.time() < expires + 1:  # its lifetime is one second
        await anyio.sleep(0.2)
    await _refused(host, token, "it has expired")


async def test_a_token_for_another_audience_is_refused(host):
    token = host.provider.token("alice-app", scope="mcp:default", resource="http://127.0.0.1:1/elsewhere")
    await _refused(host, token, "its audience is not this host's")


async def test_a_token_of_another_issuer_is_refused(host, node_clients, tmp_path):
    # The same signing key, another issuer: only the "iss" check can refuse it.
    impostor = _provider(node_clients, tmp_path, keys=host.provider.keys)
    impostor.start()
    try:
        token = impostor.token("alice-app", scope="mcp:default", resource=host.audience)
    finally:
        impostor.stop()
    await _refused(host, token, "its issuer is not")


async def test_a_token_signed_by_a_key_the_issuer_never_published_is_refused(host):
    forged = _signed(SigningKey.new("key-1"), host)  # the provider's kid, another key
    await _refused(host, forged, "its signature does not verify")


def _unsigned(header: object) -> str:
    def encoded(part: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{encoded(header)}.{encoded({'sub': 'mallory'})}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_unsigned({"alg": "none"}), "it is signed with 'none', not one of"),
        (_unsigned({"alg": "HS256", "kid": "key-1"}), "it is signed with 'HS256', not one of"),
        (_unsigned({"alg": "RS256"}), "its header names no signing key"),
        (_unsigned({"alg": "RS256", "kid": 5}), "its header is malformed"),
        ("not-a-jwt-at-all", "it is not a JWT, and .auth.oauth. has no introspection client"),
    ],
)
async def test_a_malformed_token_is_refused_with_its_reason(host, token, reason):
    await _refused(host, token, reason)


def _signed(key: SigningKey, host: IdentityHost) -> str:
    now = int(time.time())
    claims = {"iss": host.provider.issuer, "aud": host.audience, "sub": "mallory", "client_id": "mallory"}
    claims |= {"scope": "mcp:default payroll", "iat": now, "exp": now + 300}
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


# --- opaque tokens: introspection (RFC 7662) ------------------------------------------------------


async def test_an_opaque_token_is_checked_by_introspection(node_clients, tmp_path, caller_env):
    port = free_port()
    audience = f"http://127.0.0.1:{port}/"
    oidc = _provider(node_clients, tmp_path, opaque_resources=[audience])
    oidc.start()
    introspection = oidc.clients["host-introspection"]
    credentials = (
        f'introspection_client_id = "{introspection.client_id}"\n'
        f'introspection_client_secret = "{introspection.client_secret}"\n'
    )
    config = host_config(oidc.issuer, audience, more_oauth=credentials)
    try:
        with run_host(config, python=caller_env.python, args=["--port", str(port)]) as live:
            host = IdentityHost(live, oidc, audience)
            opaque = host.token("bob-app", "mcp:default")
            assert opaque.count(".") != 2  # not a JWT
            await _lists(host, opaque)
            elsewhere = oidc.token("bob-app", scope="mcp:default", resource=None)  # no audience
            await _refused(host, elsewhere, "its audience is not this host's")
            await _refused(host, "made-up-" + opaque[8:], "the issuer's introspection says it is not active")
    finally:
        oidc.stop()


# --- the provider's keys: rotation, and the provider down ---------------------------------------


async def test_keys_rotated_at_the_provider_are_picked_up_and_an_outage_keeps_the_known_ones(
    node_clients, tmp_path, caller_env
):
    oidc = _provider(node_clients, tmp_path, port=free_port())
    oidc.start()
    running, audience = _run(oidc, caller_env)
    try:
        with running as live:
            host = IdentityHost(live, oidc, audience)
            before = host.token("bob-app", "mcp:default")
            await _lists(host, before)

            oidc.rotate_keys()
            after = host.token("bob-app", "mcp:default")
            assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
            await _lists(host, after)  # the same host process: no restart
            # The provider no longer publishes the old key: its tokens are refused.
            await _refused(host, before, "its signing key .* is not one of the issuer's")

            oidc.stop()
            await anyio.sleep(1.2)  # past keys_refresh_s: the cached keys are stale, not gone
            await _lists(host, after)
            unknown = _signed(SigningKey.new("key-never-published"), host)
            await _refused(
                host, unknown, "its signing key .* is unknown and the issuer's keys cannot be fetched"
            )
    finally:
        oidc.stop()


async def test_the_host_starts_while_its_provider_is_down(node_clients, tmp_path, caller_env):
    oidc = _provider(node_clients, tmp_path)
    running, audience = _run(oidc, caller_env)
    try:
        with running as live:
            host = IdentityHost(live, oidc, audience)
            async with httpx2.AsyncClient() as http:
                assert (await http.get(live.url("/healthz"))).status_code == 200
                metadata = await http.get(live.url("/.well-known/oauth-protected-resource/mcp"))
                assert metadata.json()["authorization_servers"] == [oidc.issuer]
            oidc.start()
            await _lists(host, host.token("bob-app", "mcp:default"))
    finally:
        oidc.stop()


async def _lists(host: IdentityHost, token: str) -> None:
    async with _Session(_url(host, "http"), token, "http") as session:
        assert await _tool_names(session) == {"whoami", "echo"}


# --- a real MCP client's own OAuth flow ---------------------------------------------------------


class _Memory(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


@pytest.mark.parametrize("transport", ["sse", "http"])
async def test_the_python_sdks_oauth_client_discovers_signs_in_and_lists_tools(host, transport):
    """The SDK's client meets the 401, reads the resource metadata, finds the provider, gets a
    token for this host (client credentials) and lists the tools that token opens."""
    url = _url(host, transport)
    storage = _Memory()
    auth = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=storage,
        client_id="bob-app",
        client_secret=host.provider.clients["bob-app"].client_secret,
        token_endpoint_auth_method="client_secret_post",
        issuer=host.provider.issuer,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        if transport == "sse":

            def factory(headers=None, timeout=None, auth=None) -> httpx2.AsyncClient:
                return httpx2.AsyncClient(headers=headers, timeout=30, auth=auth)

            streams = sse_client(url, auth=auth, httpx_client_factory=factory)
        else:
            streams = streamable_http_client(url, http_client=http)
        async with streams as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            assert await _tool_names(session) == {"whoami", "echo", "payroll"}
            assert _json(await session.call_tool("whoami", {}))["subject"] == "bob-app"
    assert storage.tokens is not None
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == host.audience


@pytest.mark.parametrize("transport", ["sse", "http"])
def test_the_typescript_sdks_oauth_client_discovers_signs_in_and_lists_tools(host, node_clients, transport):
    """The stack Cursor builds on: the TypeScript SDK's own OAuth flow (client credentials)."""
    client = host.provider.clients["ts-app"]
    done = node_clients.run_json(
        "node",
        "ts_sdk_oauth_client.mjs",
        _url(host, transport),
        transport,
        host.provider.issuer,
        client.client_id,
        client.client_secret,
        "mcp:default",
        "whoami",
    )
    assert {tool["name"] for tool in done["tools"]} == {"whoami", "echo"}  # type: ignore[attr-defined]
    who = json.loads(done["result"]["content"][0]["text"])  # type: ignore[index]
    assert (who["subject"], who["claims"]) == ("ts-app", {"groups": ["staff"]})


async def test_the_python_sdks_authorization_code_flow_signs_a_user_in(host):
    """What Cursor does, with the Python SDK's client: on the 401 it reads the metadata,
    registers itself at the provider (dynamic registration), sends the user to sign in
    (authorization code with PKCE, for this host's resource), gets the token and lists tools."""
    redirect_uri = "http://127.0.0.1:9/callback"  # never reached: the redirect is read instead
    landed: list[str] = []

    async def open_browser(authorization_url: str) -> None:
        landed.append(await sign_in(authorization_url, "carol", redirect_uri))

    async def read_callback() -> AuthorizationCodeResult:
        query = {key: values[0] for key, values in parse_qs(urlsplit(landed[-1]).query).items()}
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    storage = _Memory()
    auth = OAuthClientProvider(
        server_url=host.live.mcp_url(),
        client_metadata=OAuthClientMetadata(
            client_name="mcp-host tests",
            redirect_uris=[redirect_uri],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=open_browser,
        callback_handler=read_callback,
    )
    async with (
        httpx2.AsyncClient(auth=auth, timeout=30) as http,
        streamable_http_client(host.live.mcp_url(), http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        assert await _tool_names(session) == {"whoami", "echo", "payroll"}
        who = _json(await session.call_tool("whoami", {}))
        assert who["subject"] == "carol"
        assert who["client_id"] == storage.client.client_id  # type: ignore[union-attr]
    assert len(landed) == 1


# --- a cluster: validation is local to each process ---------------------------------------------


async def test_two_processes_of_a_cluster_each_verify_tokens_on_their_own(provider, caller_env):
    """Each process fetches the provider's keys and checks tokens itself; Redis carries only
    the sessions' routing. A session opened on one process is used through the other, by
    the identity that opened it and by no other."""
    from tests.test_cluster import STATE_KEY, RedisServer

    redis = RedisServer()
    redis.start()
    port = free_port()
    audience = f"http://127.0.0.1:{port}/"  # the address of the load balancer in front of both
    config = host_config(provider.issuer, audience) + (
        '[cluster]\nredis_url = "${env:MCP_HOST_TEST_REDIS}"\nkey_prefix = "oauth"\n\n'
        '[security]\nrequest_state_keys = ["${env:MCP_HOST_TEST_STATE_KEY}"]\n'
    )
    env = {"MCP_HOST_TEST_REDIS": redis.url, "MCP_HOST_TEST_STATE_KEY": STATE_KEY}
    alice = provider.token("alice-app", scope="mcp:default", resource=audience)
    bob = provider.token("bob-app", scope="mcp:default", resource=audience)
    ping = {"jsonrpc": "2.0", "id": 3, "method": "ping"}
    try:
        with (
            run_host(config, python=caller_env.python, env=env, args=["--port", str(port)]) as a,
            run_host(config, python=caller_env.python, env=env) as b,
        ):
            async with httpx2.AsyncClient(timeout=30) as http:
                opened = await _initialize(http, a.mcp_url(), alice)
                assert opened.status_code == 200, opened.text
                session = {"mcp-session-id": opened.headers["mcp-session-id"]}
                on_b = {**HEADERS, **session}
                answered = await http.post(b.mcp_url(), json=ping, headers={**on_b, **bearer(alice)})
                assert answered.status_code == 200, answered.text
                assert (
                    await http.post(b.mcp_url(), json=ping, headers={**on_b, **bearer(bob)})
                ).status_code == 404
                unsigned = await _initialize(http, b.mcp_url(), "not-a-token")
                assert unsigned.status_code == 401
            # The process that received a token judged it, alone.
            b.wait_for_log("OAuth token refused: it is not a JWT")
            assert "OAuth token refused" not in a.log
    finally:
        redis.stop()
