"""What the host's tests send on the wire, written once."""

QUIET = "[plugins.broken]\nenabled = false\n"
"""A config fragment that keeps the always-failing test plugin out of a test's log."""

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
"""The headers a Streamable HTTP client sends with every POST."""

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw-http", "version": "0"},
    },
}
"""A handshake-era initialize request, as a client sends it."""

INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}

MODERN = "2026-07-28"
"""The current revision: no handshake, no session."""

DISCOVER = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "server/discover",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    },
}
"""A 2026-07-28 ``server/discover``, as a client sends it."""

MODERN_HEADERS = {**HEADERS, "MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"}
"""The headers that go with ``DISCOVER``."""


def jsonrpc_of(response) -> dict:
    """The JSON-RPC message of a Streamable HTTP response, sent as JSON or as one SSE event."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        import json

        data = [
            line[len("data:") :].strip() for line in response.text.splitlines() if line.startswith("data:")
        ]
        return json.loads(next(item for item in data if item))
    return response.json()


async def open_mcp_session(http, url: str, headers: dict[str, str] | None = None) -> str:
    """A Streamable HTTP session opened by hand (initialize, initialized); its id."""
    opened = await http.post(url, json=INITIALIZE, headers={**HEADERS, **(headers or {})})
    assert opened.status_code == 200, opened.text
    session_id = opened.headers["mcp-session-id"]
    await http.post(
        url, json=INITIALIZED, headers={**HEADERS, **(headers or {}), "Mcp-Session-Id": session_id}
    )
    return session_id


async def mcp_post(http, url: str, session_id: str, message: dict, headers: dict[str, str] | None = None):
    return await http.post(
        url, json=message, headers={**HEADERS, **(headers or {}), "Mcp-Session-Id": session_id}
    )
