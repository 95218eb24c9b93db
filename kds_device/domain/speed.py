"""Speed of service: each ticket's timeline (arrived, started, each part done, ready, served,
recalled, voided) and the figures a kitchen manager reads from them: per hour, channel or
station, the tickets finished, the median and 90th-percentile ticket time and the share late.

* **Ticket time** runs from the moment the kitchen could start (its arrival at the gateway;
  for a scheduled order the later of that and its start-by, promise minus prep) to *ready*
  (every part done, status 60), or to *served* (the bump, status 70 or more) when no ready was
  seen (a one-screen kitchen bumps straight to 70).
* **Late**: ready (or served) after the promised time; without a promise, a ticket time over
  its prep time (the routing's longest part, which the rules take from the order type's
  default) or, without routing either, over ``fallback_prep_s``.
* **Recall**: a ticket (or one part) reopened after it was done waits for its next ready;
  the first ready does not count. **Voided** tickets and tickets not finished yet are not
  counted.
* **Station** rows use each part's time (from the start to that part done, or to the ticket's
  ready when no part was marked, as when expo bumps the whole order); an order without
  routing (a one-screen kitchen) counts its ticket time at station ``all``.
* The median is the middle time (the mean of the two middle ones for an even count); the
  90th percentile is the nearest rank (the smallest time that at least 90 % of the tickets
  are at or under). Times are rounded to 0.1 s, shares to 0.001.

Built by :func:`timelines_from_events` from the journal's event dicts (the form of
``Event.to_json()``), on the gateway and on the screen alike. Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from statistics import median
from typing import Any, Literal

from kds_device.domain.channels import channel_name
from kds_device.domain.events import EventType
from kds_device.domain.pacing import prep_from_routing
from kds_device.domain.routing import ALL_STATION
from kds_device.domain.timestamps import parse_timestamp

Grouping = Literal["hour", "channel", "station", "location"]
GROUPINGS: tuple[str, ...] = ("hour", "channel", "station", "location")

#: Prep time of an order with neither a promise nor routing to judge it by.
FALLBACK_PREP_S = 15 * 60.0
#: Statuses that mean ready (every part done) and served (bumped, handed over).
READY_STATUS = 60
SERVED_STATUS = 70
#: Statuses past which the order is finalised by Deliverect, not by the kitchen.
_LAST_KITCHEN_STATUS = 89
#: The CSV's columns, in order.
CSV_COLUMNS = ("by", "key", "tickets", "median_s", "p90_s", "late_share")


@dataclass
class TicketTimeline:
    """One order's moments (epoch seconds)."""

    order_id: str
    location_id: str
    channel: int | None
    arrived: float
    started: float | None = None
    parts_done: dict[str, float] = field(default_factory=dict)
    ready: float | None = None
    served: float | None = None
    recalled: list[float] = field(default_factory=list)
    voided: float | None = None
    promised: float | None = None
    #: Stations the order was routed to (``("all",)``: one part, no routing).
    stations: tuple[str, ...] = (ALL_STATION,)
    #: The routing's longest part in seconds (None: no routing with prep times).
    prep_s: float | None = None
    asap: bool = True
    #: The order's ``timezone`` as sent (an IANA name, or empty).
    timezone: str = ""
    #: Reopened since its last ready: the next ready (or serve) replaces the old one.
    reopened: bool = False

    # ---- changes ------------------------------------------------------------------------

    def start(self, at: float) -> None:
        if self.started is None or at < self.started:
            self.started = at

    def part_done(self, station: str, at: float) -> None:
        self.start(at)
        if station not in self.parts_done:
            self.parts_done[station] = at
        routed = [s for s in self.stations if s != ALL_STATION]
        if self.reopened and routed and all(s in self.parts_done for s in routed):
            self.mark_ready(at)

    def part_reopened(self, station: str, at: float) -> None:
        if self.parts_done.pop(station, None) is not None:
            self.recall(at)

    def mark_ready(self, at: float) -> None:
        if self.ready is None or self.reopened:
            self.ready = at
            if self.reopened and self.served is not None:
                self.served = None
            self.reopened = False

    def mark_served(self, at: float) -> None:
        if self.served is None or self.reopened:
            if self.reopened:
                self.ready = None
            self.served = at
            self.reopened = False

    def recall(self, at: float) -> None:
        """Back on the board: the ticket is not done until its next ready."""
        self.recalled.append(at)
        if self.ready is not None or self.served is not None:
            self.reopened = True

    def void(self, at: float) -> None:
        if self.voided is None:
            self.voided = at

    # ---- figures ------------------------------------------------------------------------

    @property
    def clock_from(self) -> float:
        """When its clock starts: arrival, or a scheduled order's start-by when later."""
        if self.asap or self.promised is None:
            return self.arrived
        lead = self.prep_s if self.prep_s is not None else FALLBACK_PREP_S
        return max(self.arrived, self.promised - lead)

    @property
    def finished(self) -> float | None:
        """Ready, else served; None while open, reopened or voided."""
        if self.voided is not None or self.reopened:
            return None
        return self.ready if self.ready is not None else self.served

    @property
    def ticket_s(self) -> float | None:
        end = self.finished
        return None if end is None else max(0.0, end - self.clock_from)

    def deadline(self, fallback_prep_s: float = FALLBACK_PREP_S) -> float:
        if self.promised is not None:
            return self.promised
        prep = self.prep_s if self.prep_s is not None else fallback_prep_s
        return self.clock_from + prep

    def late_at(self, end: float, fallback_prep_s: float = FALLBACK_PREP_S) -> bool:
        return end > self.deadline(fallback_prep_s)


@dataclass(frozen=True)
class SpeedRow:
    key: str
    tickets: int
    median_s: float
    p90_s: float
    late_share: float

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "tickets": self.tickets,
            "medianS": self.median_s,
            "p90S": self.p90_s,
            "lateShare": self.late_share,
        }


# ---- from events ----------------------------------------------------------------------------


def timelines_from_events(events: Iterable[Mapping[str, Any]]) -> list[TicketTimeline]:
    """The timelines of the orders received in ``events`` (``Event.to_json()`` dicts, in
    journal order), in order of arrival. Events of orders not received here are ignored, and
    so is anything unreadable (never a crash)."""
    found: dict[tuple[str, str], TicketTimeline] = {}
    for event in events:
        apply_event(found, event)
    return list(found.values())


def apply_event(found: dict[tuple[str, str], TicketTimeline], event: Mapping[str, Any]) -> None:
    """Apply one event dict to the timelines (keyed by location and order)."""
    order_id, kind = event.get("orderId"), event.get("type")
    at = _epoch(event.get("at"))
    if not isinstance(order_id, str) or at is None:
        return
    location = str(event.get("locationId") or "")
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    key = (location, order_id)
    if kind == EventType.ORDER_RECEIVED:
        if key not in found:
            found[key] = timeline_of_order(order_id, location, data, at)
        return
    timeline = found.get(key)
    if timeline is None:
        return
    if kind == EventType.ORDER_VOIDED:
        timeline.void(at)
    elif kind == EventType.STATUS_CHANGED:
        apply_status(timeline, data.get("status"), at)
    elif kind == EventType.ORDER_PART:
        station, done = data.get("station"), data.get("done")
        if isinstance(station, str) and isinstance(done, bool):
            if done:
                timeline.part_done(station, at)
            else:
                timeline.part_reopened(station, at)
    elif kind == EventType.ORDER_ITEM and data.get("done") is True:
        timeline.start(at)


def apply_status(timeline: TicketTimeline, status: object, at: float) -> None:
    if isinstance(status, bool) or not isinstance(status, int):
        return
    if status > _LAST_KITCHEN_STATUS:
        return
    if status >= 50:
        timeline.start(at)
    if status >= SERVED_STATUS:
        timeline.mark_served(at)
    elif status >= READY_STATUS:
        timeline.mark_ready(at)


def timeline_of_order(
    order_id: str, location_id: str, data: Mapping[str, Any], at: float
) -> TicketTimeline:
    """A new timeline from an ``order.received`` event's data (read leniently)."""
    payload = data.get("payload")
    payload = payload if isinstance(payload, Mapping) else {}
    routing = data.get("routing")
    prep = prep_from_routing(routing)
    stations: tuple[str, ...] = (ALL_STATION,)
    if isinstance(routing, Mapping) and isinstance(routing.get("stations"), list):
        named = tuple(str(s) for s in routing["stations"] if isinstance(s, str))
        stations = named or stations
    promised = None
    for name in ("pickupTime", "estimatedPickupTime", "deliveryTime"):
        promised = _epoch(payload.get(name))
        if promised is not None:
            break
    channel = payload.get("channel")
    asap = payload.get("deliveryIsAsap", True)
    return TicketTimeline(
        order_id=order_id,
        location_id=location_id,
        channel=channel if isinstance(channel, int) and not isinstance(channel, bool) else None,
        arrived=at,
        promised=promised,
        stations=stations,
        prep_s=60.0 * max(prep.values()) if prep else None,
        asap=asap if isinstance(asap, bool) else True,
        timezone=str(payload.get("timezone") or "")[:64],
    )


def _epoch(value: object) -> float | None:
    try:
        moment = parse_timestamp(value)
    except ValueError:
        return None
    return None if moment is None else moment.timestamp()


# ---- figures --------------------------------------------------------------------------------


def speed_figures(
    timelines: Iterable[TicketTimeline],
    by: str,
    tz: tzinfo | None,
    *,
    channel_names: Mapping[int, str] | None = None,
    fallback_prep_s: float = FALLBACK_PREP_S,
) -> list[SpeedRow]:
    """Rows per hour (``"13:00"`` in ``tz``, the hour the ticket's clock started), channel,
    station or location, in
    order (hours and keys ascending). Only finished tickets count."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    groups: dict[str, list[tuple[float, bool]]] = {}
    for timeline in timelines:
        for key, seconds, late in _samples(timeline, by, tz, channel_names or {}, fallback_prep_s):
            groups.setdefault(key, []).append((seconds, late))
    return [_row(key, groups[key]) for key in sorted(groups)]


def speed_total(
    timelines: Iterable[TicketTimeline], fallback_prep_s: float = FALLBACK_PREP_S
) -> SpeedRow:
    """All finished tickets together (``key`` "total")."""
    samples = []
    for timeline in timelines:
        end = timeline.finished
        seconds = timeline.ticket_s
        if end is not None and seconds is not None:
            samples.append((seconds, timeline.late_at(end, fallback_prep_s)))
    return _row("total", samples)


def _samples(
    timeline: TicketTimeline,
    by: str,
    tz: tzinfo | None,
    names: Mapping[int, str],
    fallback_prep_s: float,
) -> list[tuple[str, float, bool]]:
    end = timeline.finished
    seconds = timeline.ticket_s
    if end is None or seconds is None:
        return []
    late = timeline.late_at(end, fallback_prep_s)
    if by == "hour":
        hour = datetime.fromtimestamp(timeline.clock_from, tz=tz).strftime("%H:00")
        return [(hour, seconds, late)]
    if by == "channel":
        return [(channel_name(timeline.channel, names) or "unknown", seconds, late)]
    if by == "location":
        return [(timeline.location_id, seconds, late)]
    stations = set(timeline.parts_done) | set(timeline.stations)
    if stations != {ALL_STATION}:
        stations.discard(ALL_STATION)
    out = []
    for station in sorted(stations):
        done = min(timeline.parts_done.get(station, end), end)
        out.append(
            (station, max(0.0, done - timeline.clock_from), timeline.late_at(done, fallback_prep_s))
        )
    return out


def _row(key: str, samples: Sequence[tuple[float, bool]]) -> SpeedRow:
    times = sorted(s for s, _ in samples)
    if not times:
        return SpeedRow(key, 0, 0.0, 0.0, 0.0)
    late = sum(1 for _, is_late in samples if is_late)
    return SpeedRow(
        key=key,
        tickets=len(times),
        median_s=round(median(times), 1),
        p90_s=round(nearest_rank(times, 0.9), 1),
        late_share=round(late / len(times), 3),
    )


def nearest_rank(ordered: Sequence[float], share: float) -> float:
    """The smallest value with at least ``share`` of ``ordered`` (sorted) at or under it."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def speed_csv(by: str, rows: Iterable[SpeedRow], total: SpeedRow | None = None) -> str:
    """The figures as CSV (``CSV_COLUMNS``; the total last, ``by`` "total")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([by, row.key, row.tickets, row.median_s, row.p90_s, row.late_share])
    if total is not None:
        writer.writerow(
            ["total", total.key, total.tickets, total.median_s, total.p90_s, total.late_share]
        )
    return out.getvalue()


def row_from_json(raw: Mapping[str, Any]) -> SpeedRow:
    """A row from its JSON form (``SpeedRow.to_json``); ValueError when it is not one."""
    try:
        return SpeedRow(
            key=str(raw["key"]),
            tickets=int(raw["tickets"]),
            median_s=float(raw["medianS"]),
            p90_s=float(raw["p90S"]),
            late_share=float(raw["lateShare"]),
        )
    except (KeyError, TypeError, ValueError) as problem:
        raise ValueError(f"not a speed row: {problem}") from None
