"""The core keeps each ticket's timeline as events apply and as the cook works, in the board
file's ``timeline`` table; the TODAY action opens the view and keeps the board's keys out of
it meanwhile."""

from __future__ import annotations

import sqlite3
from datetime import UTC
from pathlib import Path

from kds_device.domain.actions import Action
from kds_device.domain.events import Event, EventType
from kds_device.domain.timestamps import format_timestamp
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.messages import EventsArrived
from kds_device.sim.orders import OrderGenerator
from tests.core.conftest import Sink, make_core
from tests.fixtures.common import FakeTime


class Feed:
    """Journal events of one location, stamped with the fake clock's wall time."""

    def __init__(self, clock: FakeTime) -> None:
        self.clock = clock
        self.seq = 0

    def send(self, core: BoardCore, kind: EventType, order_id: str, **data: object) -> None:
        self.seq += 1
        at = format_timestamp(self.clock.now.wall)
        event = Event(self.seq, "loc", kind, order_id, dict(data), at)
        core.inbox.post(EventsArrived([event], "http"))
        core.drain()

    def order(self, core: BoardCore, orders: OrderGenerator) -> str:
        payload = orders.order(note="", deliveryIsAsap=True)
        payload["pickupTime"] = format_timestamp(self.clock.now.wall.replace(year=2030))
        self.send(core, EventType.ORDER_RECEIVED, payload["orderId"], payload=payload)
        return str(payload["orderId"])


def totals(core: BoardCore, by: str = "hour") -> tuple[int, float]:
    _rows, total = core.speed.today(by, core.now().wall, UTC)
    return total.tickets, total.median_s


def test_own_bump_counts_at_once_and_a_late_echo_changes_nothing(
    core: BoardCore, clock: FakeTime, orders: OrderGenerator
) -> None:
    feed = Feed(clock)
    first = feed.order(core, orders)
    clock.advance(240)
    core.board.select(first)
    core.perform(Action.BUMP)
    assert totals(core) == (1, 240.0)  # counted before the gateway heard of it
    sink = core.sink
    assert isinstance(sink, Sink)
    key = sink.changes[-1].key
    clock.advance(3)
    core.perform(Action.UNDO)  # taken back while the link was down
    clock.advance(30)
    feed.send(core, EventType.STATUS_CHANGED, first, status=70, source="device", key=key)
    assert totals(core) == (0, 0.0)  # the echo of the undone bump is not a finish
    clock.advance(30)
    core.board.select(first)
    core.perform(Action.BUMP)
    assert totals(core) == (1, 303.0)


def test_recall_and_rebump_count_the_last_bump(
    core: BoardCore, clock: FakeTime, orders: OrderGenerator
) -> None:
    feed = Feed(clock)
    first = feed.order(core, orders)
    clock.advance(120)
    core.board.select(first)
    core.perform(Action.BUMP)
    clock.advance(5)
    core.perform(Action.UNDO)  # back on the board: not done after all
    assert totals(core) == (0, 0.0)
    assert len(core.speed.timelines[("loc", first)].recalled) == 1
    clock.advance(175)
    core.board.select(first)
    core.perform(Action.BUMP)  # a re-bump sends nothing, and counts
    assert totals(core) == (1, 300.0)


def test_other_screens_and_voids_come_from_events(
    core: BoardCore, clock: FakeTime, orders: OrderGenerator
) -> None:
    feed = Feed(clock)
    first, second = feed.order(core, orders), feed.order(core, orders)
    clock.advance(400)
    feed.send(core, EventType.STATUS_CHANGED, first, status=70, source="device", key="other")
    feed.send(core, EventType.ORDER_VOIDED, second, reason="customer")
    assert totals(core) == (1, 400.0)


def test_timelines_survive_a_restart_in_the_board_file(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    data = tmp_path / "data"
    core = make_core(data, clock)
    feed = Feed(clock)
    first = feed.order(core, orders)
    clock.advance(90)
    core.board.select(first)
    core.perform(Action.BUMP)
    core.close()
    with sqlite3.connect(data / "board.db") as db:
        rows = db.execute("SELECT order_id, served - arrived FROM timeline").fetchall()
    assert rows == [(first, 90.0)]
    again = make_core(data, clock)
    try:
        assert totals(again) == (1, 90.0)
    finally:
        again.close()


def test_today_toggles_and_keeps_board_actions_out(
    core: BoardCore, clock: FakeTime, orders: OrderGenerator
) -> None:
    feed = Feed(clock)
    first = feed.order(core, orders)
    core.board.select(first)
    core.perform(Action.RECALL)
    core.perform(Action.TODAY)
    assert core.today_open and core.recall is None  # the view replaces the recall list
    core.perform(Action.BUMP)
    assert not core.board.ticket(first).bumped  # nothing is bumped blind
    assert core.today_by == "hour"
    core.perform(Action.NEXT)
    assert core.today_by == "channel"
    core.perform(Action.PREVIOUS)
    core.perform(Action.PREVIOUS)
    assert core.today_by == "station"
    core.perform(Action.TODAY)
    assert not core.today_open
    core.perform(Action.BUMP)
    assert core.board.ticket(first).bumped
