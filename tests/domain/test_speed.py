"""Speed of service from known timelines: median, p90, share late, recalls, voids, hours in
the kitchen's local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kds_device.domain.speed import (
    FALLBACK_PREP_S,
    TicketTimeline,
    nearest_rank,
    row_from_json,
    speed_csv,
    speed_figures,
    speed_total,
    timelines_from_events,
)

T0 = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)  # 12:00 in Brussels (CET), the day before DST


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Journal:
    """Builds event dicts as the gateway journals them."""

    def __init__(self, location: str = "loc-1") -> None:
        self.location = location
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, order: str, minute: float, **data: Any) -> Journal:
        self.events.append(
            {
                "seq": len(self.events) + 1,
                "locationId": self.location,
                "type": kind,
                "orderId": order,
                "data": data,
                "at": at(minute),
            }
        )
        return self

    def order(
        self,
        order: str,
        minute: float,
        channel: int = 7,
        promised: float | None = None,
        routing: dict[str, Any] | None = None,
        **payload: Any,
    ) -> Journal:
        body: dict[str, Any] = {"orderId": order, "channel": channel, **payload}
        if promised is not None:
            body["pickupTime"] = at(promised)
        data: dict[str, Any] = {"payload": body}
        if routing is not None:
            data["routing"] = routing
        return self.add("order.received", order, minute, **data)

    def status(self, order: str, minute: float, status: int, source: str = "device") -> Journal:
        return self.add("order.status", order, minute, status=status, source=source)

    def part(self, order: str, minute: float, station: str, done: bool = True) -> Journal:
        return self.add("order.part", order, minute, station=station, done=done, key="k")


def routing(**prep: int) -> dict[str, Any]:
    return {"version": 1, "items": [], "stations": sorted(prep), "prepMin": prep}


def test_median_p90_and_late_share_from_known_ticket_times() -> None:
    journal = Journal()
    # ten orders at minute 0..9, each bumped (70) after 1..10 minutes; promises at +6 min
    for n in range(10):
        journal.order(f"o{n}", n, channel=39, promised=n + 6)
        journal.status(f"o{n}", n + n + 1, 70)
    rows = speed_figures(timelines_from_events(journal.events), "channel", UTC)
    assert len(rows) == 1
    row = rows[0]
    assert row.key == "iFood"  # channel 39's published name
    assert row.tickets == 10
    assert row.median_s == 330.0  # (5 + 6) / 2 minutes
    assert row.p90_s == 540.0  # nearest rank: the 9th of 10
    assert row.late_share == 0.4  # 7, 8, 9 and 10 minutes are after the 6-minute promise


def test_ready_counts_before_served_and_station_rows_use_part_times() -> None:
    journal = Journal()
    journal.order("a", 0, routing=routing(grill=8, fryer=4))
    journal.part("a", 3, "fryer").part("a", 7, "grill")
    journal.status("a", 7, 60, "policy").status("a", 12, 70)
    timelines = timelines_from_events(journal.events)
    (timeline,) = timelines
    assert timeline.started == pytest.approx(T0.timestamp() + 180)
    assert timeline.ticket_s == 420.0  # to ready, not to the expo bump at 12
    stations = {r.key: r for r in speed_figures(timelines, "station", UTC)}
    assert stations["fryer"].median_s == 180.0
    assert stations["grill"].median_s == 420.0
    # no promise: late against the routing's longest part (8 min): neither is late
    assert stations["grill"].late_share == 0.0
    total = speed_total(timelines)
    assert (total.tickets, total.median_s, total.late_share) == (1, 420.0, 0.0)


def test_without_promise_or_routing_the_fallback_prep_decides() -> None:
    journal = Journal()
    minutes = FALLBACK_PREP_S / 60
    journal.order("quick", 0).status("quick", minutes - 1, 70)
    journal.order("slow", 0).status("slow", minutes + 1, 70)
    (row,) = speed_figures(timelines_from_events(journal.events), "channel", UTC)
    assert row.late_share == 0.5


def test_a_recalled_ticket_counts_its_last_ready_and_voids_and_open_tickets_do_not_count() -> None:
    journal = Journal()
    journal.order("recalled", 0, routing=routing(grill=10))
    journal.part("recalled", 4, "grill").status("recalled", 4, 60, "policy")
    journal.part("recalled", 5, "grill", done=False)  # the cook took it back
    journal.part("recalled", 9, "grill")
    journal.order("voided", 1).status("voided", 2, 70)
    journal.add("order.voided", "voided", 3, reason="customer")
    journal.order("open", 2)
    journal.status("unknown-order", 3, 70)  # never received here: ignored
    timelines = {t.order_id: t for t in timelines_from_events(journal.events)}
    assert set(timelines) == {"recalled", "voided", "open"}
    recalled = timelines["recalled"]
    assert recalled.recalled == [T0.timestamp() + 300]
    assert recalled.ticket_s == 540.0
    assert recalled.parts_done == {"grill": T0.timestamp() + 540}
    assert timelines["voided"].voided is not None
    total = speed_total(timelines.values())
    assert (total.tickets, total.median_s) == (1, 540.0)


def test_a_recall_before_the_rebump_leaves_the_ticket_open() -> None:
    timeline = TicketTimeline("x", "loc", None, arrived=1000.0)
    timeline.mark_served(1100.0)
    assert timeline.ticket_s == 100.0
    timeline.recall(1200.0)
    assert timeline.finished is None  # back on the board: not finished
    timeline.mark_served(1400.0)
    assert timeline.ticket_s == 400.0
    timeline.mark_served(1500.0)  # a second bump without a recall changes nothing
    assert timeline.ticket_s == 400.0


def test_hours_are_the_kitchens_local_hours() -> None:
    journal = Journal()
    journal.order("noon", 0).status("noon", 5, 70)  # 11:00 UTC = 12:00 Brussels
    journal.order("one", 65).status("one", 75, 70)  # 12:05 UTC = 13:05 Brussels
    journal.order("one-b", 70).status("one-b", 72, 70)
    timelines = timelines_from_events(journal.events)
    local = speed_figures(timelines, "hour", ZoneInfo("Europe/Brussels"))
    assert [(r.key, r.tickets) for r in local] == [("12:00", 1), ("13:00", 2)]
    assert local[1].median_s == 360.0  # 10 and 2 minutes
    utc = speed_figures(timelines, "hour", UTC)
    assert [r.key for r in utc] == ["11:00", "12:00"]


def test_a_scheduled_order_starts_its_clock_at_its_start_by() -> None:
    journal = Journal()
    # ordered at 0 for pickup at 120; prep 20 min: the clock starts at 100
    journal.order("later", 0, promised=120, routing=routing(grill=20), deliveryIsAsap=False)
    journal.status("later", 115, 70)
    (timeline,) = timelines_from_events(journal.events)
    assert timeline.ticket_s == 900.0
    (row,) = speed_figures([timeline], "hour", UTC)
    assert row.key == "12:00" and row.late_share == 0.0


def test_junk_events_are_skipped_not_fatal() -> None:
    events: list[Any] = [
        {"type": "order.received", "orderId": "a", "at": "not a time", "data": {}},
        {"type": "order.received", "orderId": None, "at": at(0)},
        {"type": "order.received", "orderId": "b", "at": at(0), "data": {"payload": 3}},
        {"type": "order.status", "orderId": "b", "at": at(1), "data": {"status": "70"}},
        {"type": "order.status", "orderId": "b", "at": at(2), "data": {"status": True}},
        {"type": "order.part", "orderId": "b", "at": at(2), "data": {"station": 4, "done": 1}},
        {"type": "order.status", "orderId": "b", "at": at(3), "data": {"status": 70}},
    ]
    (timeline,) = timelines_from_events(events)
    assert timeline.order_id == "b" and timeline.ticket_s == 180.0


def test_figures_refuse_an_unknown_grouping_and_an_empty_rank() -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        speed_figures([], "weekday", UTC)
    with pytest.raises(ValueError):
        nearest_rank([], 0.9)
    assert nearest_rank([1.0], 0.9) == 1.0
    assert speed_total([]).tickets == 0


def test_csv_and_json_forms() -> None:
    journal = Journal()
    journal.order("a", 0, channel=10).status("a", 2, 70)
    timelines = timelines_from_events(journal.events)
    rows = speed_figures(timelines, "channel", UTC, channel_names={10: "Our site"})
    text = speed_csv("channel", rows, speed_total(timelines))
    assert text.splitlines() == [
        "by,key,tickets,median_s,p90_s,late_share",
        "channel,Our site,1,120.0,120.0,0.0",
        "total,total,1,120.0,120.0,0.0",
    ]
    assert row_from_json(rows[0].to_json()) == rows[0]
    with pytest.raises(ValueError):
        row_from_json({"key": "x"})
