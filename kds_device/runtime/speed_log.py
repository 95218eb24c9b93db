"""This screen's speed of service: the timelines of the orders it has seen, kept as events apply
and as the cook works (:class:`~kds_device.runtime.board_core.BoardCore` feeds it), saved in
the board file's ``timeline`` table, and the figures of the "Today" view computed from them
with the gateway's own function (:func:`kds_device.domain.speed.speed_figures`).

* Journal events give arrival (the gateway's time), other screens' parts and statuses, voids.
* This screen's own bumps, parts and items count at once, at this screen's (corrected) clock:
  the Today view is right while the link is down. Their echoes from the gateway are skipped
  by key (a late echo must not undo a recall made meanwhile).
* A recall or an undo on this screen reopens the ticket: only its next ready counts.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from pathlib import Path

from kds_device.adapters.timeline_store import TimelineStore
from kds_device.domain.events import Event, EventType
from kds_device.domain.speed import (
    SpeedRow,
    TicketTimeline,
    apply_event,
    apply_status,
    speed_figures,
    speed_total,
)
from kds_device.domain.ticket import ItemChange, PartChange, Request, StatusChange

log = logging.getLogger(__name__)

#: Timelines older than this are forgotten (the view shows today; yesterday stays a while).
KEEP_S = 2 * 86_400.0
#: Own keys remembered to recognise their echoes.
OWN_KEYS = 500


class SpeedLog:
    def __init__(self) -> None:
        self.timelines: dict[tuple[str, str], TicketTimeline] = {}
        self._by_order: dict[str, tuple[str, str]] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._own: deque[tuple[str, str]] = deque(maxlen=OWN_KEYS)
        self.store: TimelineStore | None = None
        #: Orders seen bumped on this screen (a recall or undo is seen as "not any more").
        self._bumped: set[str] = set()

    # ---- persistence --------------------------------------------------------------------

    def open(self, path: Path, now: float) -> None:
        """Load the kept timelines of the last two days from the board file at ``path``."""
        try:
            self.store = TimelineStore(path)
            self.store.forget_before(now - KEEP_S)
            for timeline in self.store.load(now - KEEP_S):
                self._add(timeline)
        except Exception:
            log.exception("timeline table unusable; speed figures from now on only")
            self.store = None

    def save(self) -> None:
        """Write the timelines changed since the last save (after the board's own save)."""
        if self.store is None or not self._dirty:
            self._dirty.clear()
            return
        changed = [self.timelines[k] for k in self._dirty if k in self.timelines]
        try:
            self.store.save(changed)
            self._dirty.clear()
        except Exception:
            log.exception("saving %d timelines failed; kept for the next save", len(changed))

    def prune(self, now: float) -> None:
        cutoff = now - KEEP_S
        for key in [k for k, t in self.timelines.items() if t.arrived < cutoff]:
            del self.timelines[key]
            self._by_order.pop(key[1], None)
            self._bumped.discard(key[1])
            self._dirty.discard(key)
        if self.store is not None:
            try:
                self.store.forget_before(cutoff)
            except Exception:
                log.exception("forgetting old timelines failed")

    def close(self) -> None:
        self.save()
        if self.store is not None:
            self.store.close()
            self.store = None

    # ---- what happened --------------------------------------------------------------------

    def event(self, event: Event) -> None:
        """A journal event applied by the board (any type; the ones of a timeline count)."""
        key = event.data.get("key")
        if isinstance(key, str) and (event.type, key) in self._own:
            return  # the echo of this screen's own change, counted when it was made
        raw = event.to_json()
        before = len(self.timelines)
        apply_event(self.timelines, raw)
        if event.order_id is None:
            return
        found = (event.location_id, event.order_id)
        if found in self.timelines:
            if len(self.timelines) != before:
                self._by_order[event.order_id] = found
            self._dirty.add(found)

    def local(self, changes: Iterable[Request], at: float) -> None:
        """This screen's own requests (bumps, starts, parts, items), as it makes them."""
        for change in changes:
            timeline = self._find(change.order_id)
            if isinstance(change, StatusChange):
                self._own.append((EventType.STATUS_CHANGED.value, change.key))
                if timeline is not None:
                    apply_status(timeline, change.status, at)
            elif isinstance(change, PartChange):
                self._own.append((EventType.ORDER_PART.value, change.key))
                if timeline is not None:
                    if change.done:
                        timeline.part_done(change.station, at)
                    else:
                        timeline.part_reopened(change.station, at)
            elif isinstance(change, ItemChange):
                self._own.append((EventType.ORDER_ITEM.value, change.key))
                if timeline is not None and change.done:
                    timeline.start(at)

    def recalled(self, order_id: str, at: float) -> None:
        """The ticket came back on this screen (recall, undo)."""
        timeline = self._find(order_id)
        if timeline is not None:
            timeline.recall(at)

    def observe(self, order_id: str, bumped: bool, recalled: bool, at: float) -> None:
        """A ticket of a screen that is not a station, as the board now has it: gone back on
        the board after a bump is a recall (or an undo), which sends nothing; bumped again
        after that is its new finish (a re-bump sends nothing either)."""
        timeline = self._find(order_id)
        if timeline is None:
            return
        if bumped:
            self._bumped.add(order_id)
            if timeline.reopened:
                timeline.mark_served(at)
        elif recalled and order_id in self._bumped:
            self._bumped.discard(order_id)
            timeline.recall(at)

    def _find(self, order_id: str) -> TicketTimeline | None:
        key = self._by_order.get(order_id)
        if key is None:
            return None
        self._dirty.add(key)
        return self.timelines.get(key)

    def _add(self, timeline: TicketTimeline) -> None:
        key = (timeline.location_id, timeline.order_id)
        self.timelines[key] = timeline
        self._by_order[timeline.order_id] = key

    # ---- figures --------------------------------------------------------------------------

    def today(
        self,
        by: str,
        now: datetime,
        tz: tzinfo | None,
        channel_names: Mapping[int, str] | None = None,
    ) -> tuple[list[SpeedRow], SpeedRow]:
        """The rows and the total of the orders that arrived since local midnight."""
        # naive local time without a zone: its timestamp() asks the C library, DST and all
        local = now.astimezone(tz) if tz is not None else datetime.fromtimestamp(now.timestamp())
        since = local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        today = [t for t in self.timelines.values() if t.arrived >= since]
        rows = speed_figures(today, by, tz, channel_names=channel_names)
        return rows, speed_total(today)
