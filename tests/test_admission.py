"""Admission of new sessions (``SessionRegistry.admit``), without a transport."""

from __future__ import annotations

import pytest

from mcp_host.session import SessionRefused, SessionRegistry


class _Routing:
    """A cluster's routing that can be told its store is unreachable."""

    def __init__(self, refusal: str | None) -> None:
        self._refusal = refusal

    def refusal(self) -> str | None:
        return self._refusal


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
    registry.routing = _Routing("cannot accept new sessions now: the session store is unreachable")
    with pytest.raises(SessionRefused, match="the session store is unreachable"):
        registry.admit()
    registry.routing = _Routing(None)
    registry.admit()


def test_places_count_from_admission_not_from_the_registered_session():
    registry = SessionRegistry(max_sessions=1)
    registry.admit()
    assert len(registry) == 0  # no session registered yet, and still no room for another
    with pytest.raises(SessionRefused):
        registry.admit()
