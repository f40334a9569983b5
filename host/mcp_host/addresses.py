"""Addresses as they appear in URLs and Host headers."""

from __future__ import annotations


def url_host(address: str) -> str:
    """``address`` as the host part of a URL or a ``Host`` header: an IPv6 literal in brackets."""
    return f"[{address}]" if ":" in address else address
