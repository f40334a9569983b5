"""Which process owns which session, in Redis: one key per live session.

``<prefix>:session:<id>`` holds the owner's worker id and internal address. It is written
before the client learns the id, refreshed while the session lives (its TTL is how long a
dead process's sessions stay routable: requests for them then find nobody and get 404),
and deleted when the session ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class Owner:
    """A process of the cluster, as the others reach it."""

    worker: str
    """Random id, new at every start: a restarted process owns none of its predecessor's sessions."""
    address: str
    """``host:port`` of its internal listener, for forwarded Streamable HTTP requests."""


def worker_channel(prefix: str, worker: str) -> str:
    """The pub/sub channel a worker listens on for handed-over messages and their answers."""
    return f"{prefix}:worker:{worker}"


class SessionDirectory:
    """Reads and writes the session keys of one cluster."""

    def __init__(self, redis: Redis, prefix: str, ttl_s: float, me: Owner) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl_ms = int(ttl_s * 1000)
        self._entry = json.dumps({"worker": me.worker, "address": me.address})

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}:session:{session_id}"

    async def publish(self, session_ids: Iterable[str]) -> int:
        """Write (or rewrite, with a fresh TTL) this process as the owner of these sessions.

        Claiming, refreshing and registering again after Redis came back are the same write,
        so a Redis that restarted empty is repopulated by the next refresh.
        """
        count = 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.set(self._key(session_id), self._entry, px=self._ttl_ms)
                count += 1
            if count:
                await pipe.execute()
        return count

    async def remove(self, session_id: str) -> None:
        await self._redis.delete(self._key(session_id))

    async def owner_of(self, session_id: str) -> Owner | None:
        raw = await self._redis.get(self._key(session_id))
        if raw is None:
            return None
        entry = json.loads(raw)
        return Owner(worker=str(entry["worker"]), address=str(entry["address"]))
