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
