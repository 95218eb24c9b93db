"""Pacing by promise: each ticket's start-by moment, and whether the open work can still meet
the promises ("falling behind: +12 min", the hint a manager needs to turn on Deliverect's
busy mode).

* **Prep time** comes with the order: the gateway stamps its routing on the order event, with
  per station the longest item of that part (or the order type's default from the rules).
  A station screen's part takes the longest of the stations it shows; expo and an "all"
  screen take the order's longest. An order without prep times (no rules when it arrived, an
  old journal) keeps the fixed ``scheduled_lead_s`` as its lead.
* **Start-by** = promised time - prep time. A scheduled order waits UPCOMING until then
  (:mod:`kds_device.domain.urgency` decides, with both clocks).
* **Falling behind**: the open parts of each station are worked in start-by order by that
  station's cooks (one unless configured), each part taking its prep time, every cook free
  from now on. The worst (projected finish - finish-by) over all parts, when above zero, is how
  far behind the kitchen is. Finish-by is the urgency model's LATE moment
  (:func:`kds_device.domain.urgency.late_at`). Parts may start before their start-by in this
  projection (a free cook can start early), so the figure is the least the kitchen will be
  late by: a hint never raised by a lone scheduled order.

Pure: no I/O, times passed in.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

#: A station shown on this screen? (None: every station, as on expo and "all" screens.)
Shows = Callable[[str], bool] | None


def prep_from_routing(raw: object) -> dict[str, int]:
    """The prep minutes per station of a routing JSON object (``{"prepMin": {"grill": 8}}``),
    read leniently: anything that is not a positive whole number of minutes is left out."""
    if not isinstance(raw, Mapping):
        return {}
    prep = raw.get("prepMin")
    if not isinstance(prep, Mapping):
        return {}
    return {
        str(station): int(minutes)
        for station, minutes in prep.items()
        if isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes > 0
    }


def part_prep_s(prep_min: Mapping[str, int], shows: Shows = None) -> float | None:
    """Seconds of prep for this screen's part: the longest of the stations it shows (all of
    them when ``shows`` is None); None when no shown station has a prep time."""
    minutes = [m for station, m in prep_min.items() if shows is None or shows(station)]
    return 60.0 * max(minutes) if minutes else None


def lead_s(prep_s: float | None, fallback_s: float) -> float:
    """How long before the promise a ticket starts: its prep time, else the fixed lead."""
    return prep_s if prep_s is not None and prep_s > 0 else fallback_s


def start_by(promised: datetime | None, lead: float) -> datetime | None:
    """Promised time minus the lead; None without a promise."""
    return None if promised is None else promised - timedelta(seconds=lead)


@dataclass(frozen=True)
class OpenPart:
    """One station's unfinished part of one order, as the projection sees it."""

    order_id: str
    station: str
    start_by: datetime
    finish_by: datetime
    work_s: float  # prep seconds still to do


@dataclass(frozen=True)
class Projection:
    """The worst part of the projection: how far past its finish-by it would end."""

    behind_s: float = 0.0  # > 0: falling behind
    order_id: str | None = None
    station: str | None = None

    @property
    def behind_min(self) -> int:
        """Whole minutes behind, to the nearest; 0 under a minute (no hint for seconds)."""
        return math.floor(self.behind_s / 60.0 + 0.5) if self.behind_s >= 60.0 else 0


def project(
    parts: Iterable[OpenPart],
    now: datetime,
    cooks: Mapping[str, int] | None = None,
    default_cooks: int = 1,
) -> Projection:
    """Work every station's parts in start-by order (ties: finish-by, then order id) with its
    cooks (``cooks[station]``, else ``default_cooks``), all free from ``now``; the part that
    ends furthest past its finish-by, if any ends past it."""
    by_station: dict[str, list[OpenPart]] = {}
    for part in parts:
        by_station.setdefault(part.station, []).append(part)
    worst = Projection()
    for station, queue in sorted(by_station.items()):
        count = max(1, int((cooks or {}).get(station, default_cooks)))
        free = [0.0] * count  # seconds after now each cook is free
        queue.sort(key=lambda p: (p.start_by, p.finish_by, p.order_id))
        for part in queue:
            begins = heapq.heappop(free)
            ends = begins + max(0.0, part.work_s)
            heapq.heappush(free, ends)
            over = ends - (part.finish_by - now).total_seconds()
            if over > worst.behind_s:
                worst = Projection(over, part.order_id, station)
    return worst


def behind_text(projection: Projection) -> str:
    """The status bar's words: ``falling behind: +12 min``, or "" when on pace."""
    minutes = projection.behind_min
    return f"falling behind: +{minutes} min" if minutes else ""
