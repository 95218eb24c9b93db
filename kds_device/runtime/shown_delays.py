"""Order-to-screen delays waiting for the heartbeat: the board's thread notes one each time it
applies an ``order.received`` event; the heartbeat's thread reads them and forgets those the
gateway took. Bounded: past :data:`~kds_device.domain.heartbeat.MAX_SHOWN` the oldest go (the
chart is a median, a lost sample changes little; a screen offline for hours keeps no backlog).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from kds_device.domain.heartbeat import MAX_SHOWN, shown_delay_ms


class ShownDelays:
    """``seq -> ms`` for orders shown and not yet reported, at most ``limit`` of them."""

    def __init__(self, limit: int = MAX_SHOWN) -> None:
        self.limit = max(1, limit)
        self._samples: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()
        #: Samples left out: an unreadable or implausible delay, or pushed out by newer ones.
        self.skipped = 0

    def note(self, seq: int, journaled: str, applied: datetime) -> None:
        """The board applied event ``seq`` (journaled at ``journaled``) at ``applied``."""
        ms = shown_delay_ms(journaled, applied)
        with self._lock:
            if ms is None:
                self.skipped += 1
                return
            self._samples[seq] = ms
            while len(self._samples) > self.limit:
                self._samples.popitem(last=False)
                self.skipped += 1

    def pending(self) -> tuple[tuple[int, int], ...]:
        """The samples not reported yet, oldest first."""
        with self._lock:
            return tuple(self._samples.items())

    def sent(self, samples: tuple[tuple[int, int], ...]) -> None:
        """The gateway took ``samples``: forget them (ones noted since stay)."""
        with self._lock:
            for seq, _ms in samples:
                self._samples.pop(seq, None)

    def discard(self) -> int:
        """Drop everything (measured with a clock not known to be right); how many went."""
        with self._lock:
            dropped = len(self._samples)
            self._samples.clear()
            self.skipped += dropped
            return dropped
