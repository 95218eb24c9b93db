"""Time as the domain sees it: passed in, never read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Instant:
    """A moment: ``wall`` (UTC, may step with NTP) and ``mono`` (seconds, never jumps).

    Elapsed times use ``mono``; promised times (set by Deliverect in UTC) use ``wall``.
    """

    wall: datetime
    mono: float

    def later(self, seconds: float) -> Instant:
        return Instant(self.wall + timedelta(seconds=seconds), self.mono + seconds)
