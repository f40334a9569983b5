"""Admission of new sessions (``SessionRegistry.admit``, ``Admission.claim``), without a
transport: the one path both transports open a session by."""

from __future__ import annotations

import pytest
from starlette.types import ASGIApp

from mcp_host.live_sessions import CLAIMS_UNREACHABLE, SessionRefused, SessionRegistry

pytestmark = pytest.mark.anyio


class _Claims:
    """A cluster's claims that can be told its store is unreachable, and that records claims."""

    def __init__(self, refusal: str | None, accept: bool = True) -> None:
        self._refusal = refusal
        self._accept = accept
        self.claimed: set[str] = set()

    def refusal(self) -> str | None:
        return self._refusal

    async def claim(self, session_id: str, deliver: ASGIApp | None = None) -> bool:
        if self._accept:
            self.claimed.add(session_id)
        return self._accept

    def release(self, session_id: str) -> None:
        self.claimed.discard(session_id)


def test_places_are_taken_up_to_the_limit_then_refused_with_the_reason():
    registry = SessionRegistry(max_sessions=2)
    registry.admit()
    registry.admit()
    assert registry.is_full()
    with pytest.raises(SessionRefused, match="serving its maximum of 2 sessions; try again later"):
        registry.admit()
    assert registry.admission_refusal() == "the host is serving its maximum of 2 sessions; try again later"


def test_a_released_place_admits_the_next_client_and_releasing_twice_gives_back_one():
    registry = SessionRegistry(max_sessions=1)
    admission = registry.admit()
    admission.release()
    admission.release()
    registry.admit()
    with pytest.raises(SessionRefused):
        registry.admit()


def test_without_a_limit_every_client_is_admitted():
    registry = SessionRegistry()
    for _ in range(1000):
        registry.admit()
    assert registry.admission_refusal() is None


def test_the_routing_store_unreachable_refuses_with_its_own_reason():
    registry = SessionRegistry(max_sessions=5)
    registry.claims = _Claims("cannot accept new sessions now: the session store is unreachable")
    with pytest.raises(SessionRefused, match="the session store is unreachable"):
        registry.admit()
    registry.claims = _Claims(None)
    registry.admit()


def test_places_count_from_admission_not_from_the_registered_session():
    registry = SessionRegistry(max_sessions=1)
    registry.admit()
    assert len(registry) == 0  # no session registered yet, and still no room for another
    with pytest.raises(SessionRefused):
        registry.admit()


async def test_a_claimed_session_is_released_with_its_place():
    registry = SessionRegistry(max_sessions=1)
    registry.claims = claims = _Claims(None)
    admission = registry.admit()
    await admission.claim("abc")
    assert claims.claimed == {"abc"}
    admission.release()
    assert claims.claimed == set()
    registry.admit()


async def test_a_failed_claim_refuses_the_session_with_the_one_message():
    registry = SessionRegistry()
    registry.claims = _Claims(None, accept=False)
    admission = registry.admit()
    with pytest.raises(SessionRefused, match=CLAIMS_UNREACHABLE):
        await admission.claim("abc")


async def test_without_a_cluster_a_claim_publishes_nothing_and_succeeds():
    admission = SessionRegistry().admit()
    await admission.claim("abc")
    admission.release()


def test_a_client_holds_at_most_its_share_and_gets_it_back_when_a_session_ends():
    registry = SessionRegistry(max_sessions=10, max_per_client=2)
    first = registry.admit("token alice")
    registry.admit("token alice")
    with pytest.raises(
        SessionRefused, match=r"the client \(token alice\) already has its 2 open sessions"
    ) as refused:
        registry.admit("token alice")
    assert refused.value.status_code == 429
    registry.admit("token bob")  # the others are not held back
    first.release()
    first.release()  # twice is harmless: the share is given back once
    registry.admit("token alice")
    with pytest.raises(SessionRefused):
        registry.admit("token alice")
