"""The event loop and HTTP parser the host serves on.

uvicorn with uvloop and the httptools parser spends 16-27% less CPU on every MCP call and
connection than with asyncio's loop and the pure-Python h11 parser (BENCHMARKS.md). Both
are dependencies of mcp-host, but a platform without a wheel for one of them (uvloop has
none for Windows) must still serve: ``auto`` picks the fast one when it imports and falls
back to the standard one when it does not, and says so. Naming one explicitly in the
config makes its absence an error.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from mcp_host.programs import own_program

HttpChoice = Literal["auto", "httptools", "h11"]
LoopChoice = Literal["auto", "uvloop", "asyncio"]
Http = Literal["httptools", "h11"]
Loop = Literal["uvloop", "asyncio"]

_T = TypeVar("_T")


class StackUnavailable(Exception):
    """The config names a loop or parser whose package does not import here."""


@dataclass(frozen=True)
class Stack:
    """The loop and parser chosen, and why ``auto`` settled for less than the fast ones."""

    http: Http
    loop: Loop
    fallbacks: tuple[str, ...] = ()

    def run(self, main: Coroutine[Any, Any, _T]) -> _T:
        """``asyncio.run(main)``, on this stack's event loop."""
        with asyncio.Runner(loop_factory=self._loop_factory()) as runner:
            return runner.run(main)

    def _loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        if self.loop == "asyncio":
            return None  # asyncio's default loop
        import uvloop  # here, not at the top: it may not be installed

        return uvloop.new_event_loop

    def describe(self) -> str:
        text = f"event loop {self.loop}, HTTP parser {self.http}"
        if self.fallbacks:
            text += f" ({'; '.join(self.fallbacks)})"
        return text


def choose_stack(http: HttpChoice = "auto", loop: LoopChoice = "auto") -> Stack:
    """The stack for the config's ``[server] http`` and ``loop``; ``StackUnavailable`` if one
    named explicitly does not import."""
    fallbacks: list[str] = []
    chosen_http: Http = "httptools" if _usable("httptools", http, "http", fallbacks) else "h11"
    chosen_loop: Loop = "uvloop" if _usable("uvloop", loop, "loop", fallbacks) else "asyncio"
    return Stack(chosen_http, chosen_loop, tuple(fallbacks))


def _usable(fast: str, choice: str, key: str, fallbacks: list[str]) -> bool:
    if choice not in ("auto", fast):
        return False
    try:
        importlib.import_module(fast)
    except ImportError as exc:
        if choice == fast:
            raise StackUnavailable(
                f'[server] {key} = "{fast}", but {fast} cannot be imported ({exc}): '
                f'{own_program("pip")} install {fast}, or set {key} = "auto" to fall back without it'
            ) from None
        fallbacks.append(f"{fast} cannot be imported: {exc}")
        return False
    return True
