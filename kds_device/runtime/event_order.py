"""Journal events in ``seq`` order: duplicates and old events are dropped, events after a gap
wait (bounded) until the missing ones come, and an HTTP answer that is complete up to
``through`` steps over holes below it (pruned or junk events that will never come)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kds_device.domain.events import Event

log = logging.getLogger(__name__)

#: At most this many events wait behind a gap; the oldest are dropped past it.
MAX_HELD = 5000


class EventOrder:
    """Where the board is in the gateway's journal: ``last_seq`` (everything up to it is
    applied) and the events that arrived early."""

    def __init__(self, last_seq: int = 0) -> None:
        self.last_seq = last_seq
        self.pending: dict[int, Event] = {}

    def ready(self, events: Iterable[Event], through: int | None = None) -> list[Event]:
        """Take ``events`` in; return those that may be applied now, in ``seq`` order.
        ``last_seq`` moves past every returned event (and up to ``through``)."""
        for event in events:
            if event.seq > self.last_seq:
                self.pending[event.seq] = event
        out: list[Event] = []
        if through is not None and through > self.last_seq:
            out += [
                self.pending.pop(seq) for seq in sorted(s for s in self.pending if s <= through)
            ]
            self.last_seq = through
        while self.last_seq + 1 in self.pending:
            self.last_seq += 1
            out.append(self.pending.pop(self.last_seq))
        if self.pending:
            log.warning(
                "events after a gap held back: have %d, waiting for %d (%d held)",
                self.last_seq,
                self.last_seq + 1,
                len(self.pending),
            )
            for seq in sorted(self.pending)[:-MAX_HELD]:
                del self.pending[seq]
        return out
