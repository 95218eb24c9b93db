"""The status policy: 50 at the first start/item/part, 60 when every routed part is done,
each once, never backwards, configurable (0 turns one off)."""

from __future__ import annotations

from typing import Any

from kds_device.domain.events import Event, EventType
from kds_device.domain.routing import Routing
from kds_device.domain.status_policy import OrderProgress, StatusPolicy

ROUTING = Routing.from_json(
    {
        "items": [
            {"index": 0, "stations": ["grill"], "prepMin": 8},
            {"index": 1, "stations": ["fryer"], "prepMin": 6},
        ],
        "stations": ["fryer", "grill"],
    }
)


def event(seq: int, kind: str, **data: Any) -> Event:
    return Event(seq=seq, location_id="l", type=kind, order_id="o", data=data)


def part(seq: int, station: str, done: bool = True) -> Event:
    return event(seq, EventType.ORDER_PART, station=station, done=done, device="d", key=f"k{seq}")


def item(seq: int, station: str, index: int, done: bool = True) -> Event:
    return event(seq, EventType.ORDER_ITEM, station=station, item=index, done=done, device="d")


def test_statuses_fall_due_once_each_in_order() -> None:
    policy = StatusPolicy()
    events: list[Event] = []
    current = 0
    sent: list[int] = []
    for next_event in (item(1, "grill", 0), part(2, "grill"), part(3, "fryer"), part(4, "fryer")):
        events.append(next_event)
        due = policy.due(current, OrderProgress.of(events), ROUTING)
        sent.extend(due)
        current = max([current, *due])
    assert sent == [50, 60]


def test_a_one_station_order_gets_50_and_60_together() -> None:
    single = Routing.from_json({"items": [{"index": 0, "stations": ["bar"]}], "stations": ["bar"]})
    assert StatusPolicy().due(0, OrderProgress.of([part(1, "bar")]), single) == (50, 60)
    # never backwards: a status already reached (or passed) is not due again
    assert StatusPolicy().due(70, OrderProgress.of([part(1, "bar")]), single) == ()
    assert StatusPolicy().due(50, OrderProgress.of([part(1, "bar")]), single) == (60,)


def test_a_recalled_part_is_not_done_and_an_undone_item_is_not_a_start() -> None:
    progress = OrderProgress.of([part(1, "grill"), part(2, "fryer"), part(3, "fryer", False)])
    assert progress.parts == {"grill": True, "fryer": False}
    assert not progress.all_done(ROUTING.stations)
    assert StatusPolicy().due(50, progress, ROUTING) == ()
    undone = OrderProgress.of([item(1, "grill", 0, False)])
    assert not undone.started
    assert StatusPolicy().due(0, undone, ROUTING) == ()


def test_a_start_from_a_screen_counts_but_deliverects_own_status_does_not() -> None:
    start = event(1, EventType.STATUS_CHANGED, status=50, source="device", device="d")
    assert OrderProgress.of([start]).started
    echo = event(1, EventType.STATUS_CHANGED, status=50, source="deliverect")
    assert not OrderProgress.of([echo]).started


def test_configured_statuses_and_zero_turns_one_off() -> None:
    progress = OrderProgress.of([part(1, "grill"), part(2, "fryer")])
    assert StatusPolicy(first_part_status=0).due(0, progress, ROUTING) == (60,)
    assert StatusPolicy(all_parts_status=0).due(0, progress, ROUTING) == (50,)
    assert StatusPolicy(first_part_status=20, all_parts_status=50).due(0, progress, ROUTING) == (
        20,
        50,
    )


def test_junk_event_data_changes_nothing() -> None:
    progress = OrderProgress.of(
        [
            event(1, EventType.ORDER_PART, station=3, done=True),
            event(2, EventType.ORDER_PART, station="grill", done="yes"),
            event(3, EventType.ORDER_ITEM, station="grill", item="0", done=True),
            event(4, "order.unknown", station="grill", done=True),
        ]
    )
    assert progress == OrderProgress()
