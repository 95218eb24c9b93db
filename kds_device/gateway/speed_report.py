"""Speed of service from the journal (either store): the timelines of the orders that arrived
since a moment, at one location or all of them, and their figures per hour, channel, station
or location (:mod:`kds_device.domain.speed` computes; this module reads and frames).

Used by ``GET /api/v1/report`` (a screen's own location) and by the admin page (any or every
location). The figures cover what the journal still keeps (``database.retention``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from datetime import time as day_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kds_device.domain.events import EventType
from kds_device.domain.speed import (
    GROUPINGS,
    SpeedRow,
    TicketTimeline,
    speed_csv,
    speed_figures,
    speed_total,
    timelines_from_events,
)
from kds_device.domain.timestamps import format_timestamp, parse_timestamp
from kds_device.gateway.storage import Store

#: The events a timeline is made of.
TIMELINE_EVENTS = (
    EventType.ORDER_RECEIVED,
    EventType.STATUS_CHANGED,
    EventType.ORDER_PART,
    EventType.ORDER_ITEM,
    EventType.ORDER_VOIDED,
)
#: An order's row may be made this long before the order itself (a status or cancel that came
#: first); rows this much older than ``since`` are read too, and the order's arrival decides.
_EARLY_ROW_S = 86_400.0
#: Local midnights lie within this of UTC's (zones run from -12 h to +14 h).
_ZONE_MARGIN_S = 2 * 86_400.0


class ReportError(ValueError):
    """A report asked for wrongly (the HTTP layer answers 400 with the message)."""


class UnknownZone(ReportError):
    """A well-formed zone name the zone database does not have (the HTTP layer: 404)."""


@dataclass(frozen=True)
class SpeedReport:
    location_id: str | None  # None: every location
    since: float
    by: str
    tz_name: str
    rows: list[SpeedRow]
    total: SpeedRow

    def to_json(self) -> dict[str, Any]:
        return {
            "locationId": self.location_id,
            "since": format_timestamp(datetime.fromtimestamp(self.since, tz=UTC)),
            "by": self.by,
            "tz": self.tz_name,
            "rows": [row.to_json() for row in self.rows],
            "total": self.total.to_json(),
        }

    def to_csv(self) -> str:
        return speed_csv(self.by, self.rows, self.total)


def zone(name: str) -> ZoneInfo:
    """An IANA time zone; ReportError when there is no such zone."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ReportError(f"tz must be an IANA time zone name, not {name[:64]!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownZone(f"no time zone {name[:64]!r} in this gateway's zone database") from None


def read_since(text: str | None, tz: tzinfo, now: float | None = None) -> float:
    """``today`` (local midnight in ``tz``; also when absent), epoch seconds, a date
    ``2026-11-30`` (its local midnight) or an ISO time (UTC when it names no offset), as
    epoch seconds."""
    now = time.time() if now is None else now
    if text is None or text.strip() in ("", "today"):
        today = datetime.fromtimestamp(now, tz=tz).date()
        return _midnight(today, tz)
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 11:
        return float(text)
    try:
        return _midnight(date.fromisoformat(text), tz)
    except ValueError:
        pass
    try:
        moment = parse_timestamp(text)
    except ValueError:
        moment = None
    if moment is None:
        raise ReportError("since must be today, epoch seconds, a date (2026-11-30) or an ISO time")
    return moment.timestamp()


def _midnight(day: date, tz: tzinfo) -> float:
    return datetime.combine(day, day_time(0), tzinfo=tz).timestamp()


def load_timelines(store: Store, location_id: str | None, since: float) -> list[TicketTimeline]:
    """The timelines of orders that arrived at or after ``since`` (at ``location_id``, or at
    every location), from their journal events, oldest first."""
    types = ", ".join("?" for _ in TIMELINE_EVENTS)
    where = "o.created >= ?" + (" AND o.location_id = ?" if location_id is not None else "")
    params: list[Any] = [since - _EARLY_ROW_S]
    if location_id is not None:
        params.append(location_id)
    params.extend(t.value for t in TIMELINE_EVENTS)
    rows = store.read().execute(
        "SELECT e.seq, e.location_id, e.type, e.order_id, e.data, e.at FROM orders AS o"
        " JOIN events AS e ON e.location_id = o.location_id AND e.order_id = o.order_id"
        f" WHERE {where} AND e.type IN ({types}) ORDER BY e.location_id, e.seq",
        tuple(params),
    )
    events = (
        {
            "seq": int(row[0]),
            "locationId": row[1],
            "type": row[2],
            "orderId": row[3],
            "data": json.loads(row[4]),
            "at": row[5],
        }
        for row in rows
    )
    found = [t for t in timelines_from_events(events) if t.arrived >= since]
    found.sort(key=lambda t: (t.arrived, t.location_id, t.order_id))
    return found


def speed_report(
    store: Store,
    location_id: str | None,
    *,
    since: str | None = None,
    by: str = "hour",
    tz: str | None = None,
    now: float | None = None,
) -> SpeedReport:
    """The report a screen or the admin page asks for. ``tz`` (IANA) sets the hours and
    "today"; without it the zone the orders name (Deliverect's ``timezone``, the latest that
    is a known zone), else UTC. ReportError for a bad argument."""
    if by not in GROUPINGS:
        raise ReportError(f"by must be one of {', '.join(GROUPINGS)}")
    now = time.time() if now is None else now
    local: tzinfo = zone(tz) if tz else UTC
    # Read from early enough for any zone's "today" (or date), then cut at the local start.
    timelines = load_timelines(store, location_id, read_since(since, UTC, now) - _ZONE_MARGIN_S)
    zone_name = tz or _orders_zone(timelines) or "UTC"
    if not tz and zone_name != "UTC":
        local = zone(zone_name)
    start = read_since(since, local, now)
    timelines = [t for t in timelines if t.arrived >= start]
    return SpeedReport(
        location_id=location_id,
        since=start,
        by=by,
        tz_name=zone_name,
        rows=speed_figures(timelines, by, local),
        total=speed_total(timelines),
    )


def _orders_zone(timelines: list[TicketTimeline]) -> str | None:
    for timeline in reversed(timelines):
        if timeline.timezone:
            try:
                zone(timeline.timezone)
            except ReportError:
                continue
            return timeline.timezone
    return None
