"""The host's stop, as one budget: ``shutdown_grace_s`` from the stop signal to the exit.

Streams finishing, sessions' ``session_ended`` hooks and the plugins' ``host_stopping`` all
spend the same grace; each asks how much is left rather than taking a fixed time of its own.
"""

from __future__ import annotations

import time

MIN_STOP_HOOK_BUDGET_S = 0.1
"""What ``host_stopping`` gets even when nothing is left of the grace (``shutdown_grace_s =
0``): a hook that closes its resources without waiting still runs to its end."""


class ShutdownClock:
    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self._began: float | None = None

    def begin(self) -> None:
        """The stop signal arrived (the first one counts)."""
        if self._began is None:
            self._began = time.monotonic()

    @property
    def stopping(self) -> bool:
        return self._began is not None

    def remaining(self) -> float:
        """Seconds left of the grace; all of it before the stop began."""
        if self._began is None:
            return self.grace_s
        return max(0.0, self.grace_s - (time.monotonic() - self._began))

    def budget(self, usual_s: float) -> float:
        """``usual_s`` for the sessions' ending hooks; when the host is stopping, at most half
        of what is left of the grace: the other half is ``host_stopping``'s."""
        return min(usual_s, self.remaining() / 2) if self.stopping else usual_s
