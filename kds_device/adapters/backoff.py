"""Exponential backoff with jitter, shared by the device's retrying workers.

Jitter keeps a kitchen's screens from hammering a gateway in lock-step after it comes back.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from ``initial`` up to ``maximum``; each drawn from [d/2, d]."""

    def __init__(
        self,
        initial_s: float = 0.5,
        maximum_s: float = 15.0,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self.initial_s = initial_s
        self.maximum_s = maximum_s
        self.factor = factor
        self._rng = rng or random.Random()
        self._current = initial_s

    def next_delay(self, at_least: float | None = None) -> float:
        """The wait before the next attempt (``at_least`` honours a server's Retry-After)."""
        delay = self._current
        self._current = min(self.maximum_s, self._current * self.factor)
        jittered = delay / 2 + self._rng.random() * delay / 2
        return max(jittered, min(at_least, 3600.0)) if at_least else jittered

    def reset(self) -> None:
        self._current = self.initial_s
