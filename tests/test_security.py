"""Who may reach the MCP endpoints (``mcp_host.security``), without a server: the Host and
Origin names derived from the config, the port check before the SDK's, and bearer tokens.
``test_safety.py`` checks the same end to end."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from mcp_host.config import SecuritySection, parse_config
from mcp_host.security import StaticTokenVerifier, WellFormedPorts, bearer_matches, transport_security

ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789ab"


def test_a_loopback_address_accepts_the_loopback_names_on_any_port():
    security = transport_security("127.0.0.1", SecuritySection())
    assert security is not None
    assert security.allowed_hosts == [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "127.0.0.1:*",
        "localhost:*",
        "[::1]:*",
    ]
    assert "http://localhost:*" in security.allowed_origins
    assert "https://[::1]:*" in security.allowed_origins


def test_an_ipv6_address_is_named_in_brackets():
    security = transport_security("fd00::5", SecuritySection())
    assert security is not None
    assert "[fd00::5]" in security.allowed_hosts
    assert "[fd00::5]:*" in security.allowed_hosts


def test_configured_names_replace_the_derived_ones():
    settings = SecuritySection(allowed_hosts=["mcp.example.com"], allowed_origins=["https://app.example.com"])
    security = transport_security("0.0.0.0", settings)
    assert security is not None
    assert security.allowed_hosts == ["mcp.example.com"]
    assert security.allowed_origins == ["https://app.example.com"]


def test_protection_off_is_no_settings_at_all():
    assert transport_security("127.0.0.1", SecuritySection(dns_rebinding_protection=False)) is None


async def _answer(headers: dict[str, str]) -> int | None:
    """The status WellFormedPorts answers with, or ``None`` if it passed the request on."""
    sent: list[dict] = []

    async def inner(scope, receive, send):
        sent.append({"type": "passed"})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/sse",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
    }
    await WellFormedPorts(inner)(scope, receive, send)
    if sent == [{"type": "passed"}]:
        return None
    return next(message["status"] for message in sent if message["type"] == "http.response.start")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "127.0.0.1:8000"}, None),
        ({"host": "[::1]:8000"}, None),
        ({"host": "[::1]"}, None),
        ({"host": "localhost"}, None),
        ({"host": "127.0.0.1:evil"}, 421),
        ({"host": "[::1]evil"}, 421),
        ({"host": "[::1"}, 421),
        ({"host": "localhost:8000", "origin": "http://localhost:3000"}, None),
        ({"host": "localhost:8000", "origin": "http://localhost:3000.evil.com"}, 403),
    ],
)
async def test_a_port_that_is_not_a_number_is_refused_before_the_sdks_checks(headers, status):
    assert await _answer(headers) == status


def _auth(text: str):
    return parse_config(text, "c.toml").auth


AUTH = f"""
[[auth.tokens]]
name = "alice"
token = "{ALICE}"

[[auth.tokens]]
name = "bob"
token = "{BOB}"
servers = ["research"]
"""


@pytest.mark.anyio
async def test_a_listed_token_is_its_holder_with_the_servers_it_may_use():
    verifier = StaticTokenVerifier(_auth(AUTH), ["default", "research"])
    alice = await verifier.verify_token(ALICE)
    bob = await verifier.verify_token(BOB)
    assert alice is not None
    assert (alice.client_id, alice.scopes) == ("alice", ["mcp:default", "mcp:research"])
    assert bob is not None
    assert (bob.client_id, bob.scopes) == ("bob", ["mcp:research"])


@pytest.mark.anyio
@pytest.mark.parametrize("token", ["", ALICE[:-1], ALICE + "x", ALICE.upper()])
async def test_any_other_token_is_nobody(token):
    verifier = StaticTokenVerifier(_auth(AUTH), ["default"])
    assert await verifier.verify_token(token) is None


@pytest.mark.parametrize(
    ("authorization", "matches"),
    [
        (f"Bearer {ALICE}", True),
        (f"bearer {ALICE}", True),
        (f"Bearer {BOB}", False),
        (f"Basic {ALICE}", False),
        (ALICE, False),
        (None, False),
    ],
)
def test_bearer_matches_only_the_same_token(authorization, matches):
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    request = Request({"type": "http", "method": "POST", "path": "/", "headers": headers})
    assert bearer_matches(request, ALICE) is matches
