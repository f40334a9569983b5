"""Several host processes behind one address, sharing every session through Redis.

Each client's MCP server, and its plugins' per-session state, live in the one process that
opened the session: its *owner*. Only routing goes through Redis:

- ``registry``: which process owns each live session (a key per session, with a TTL its
  owner refreshes; it disappears with the session, or expires with a dead process).
- ``relay``: ``POST /messages/`` (HTTP+SSE) for a session owned elsewhere, handed to the
  owner over Redis pub/sub, and its answer handed back.
- ``forward``: Streamable HTTP requests for a session owned elsewhere, proxied to the
  owner's internal listener and streamed back.
- ``node``: the process's membership: the Redis connection, its loss and recovery, and the
  ``SessionClaims`` that the live sessions publish themselves through.
- ``asgi``: the wrappers ``app.py`` puts around the transports' endpoints, which send a
  request for a session owned elsewhere to its owner; the transports know nothing of this.
- ``workers``: ``mcp-host --workers N``, N such processes on one port.

Nothing here is imported unless the config has a ``[cluster]`` table: a lone host never
loads a Redis client.
"""


class ClusterUnavailable(Exception):
    """Redis could not be reached when the host started."""
