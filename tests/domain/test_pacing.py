"""Pacing by promise (issue 10): start-by from the routing's prep times, scheduled orders held
UPCOMING until then, and the falling-behind projection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kds_device.domain import Alert, Board, BoardSettings
from kds_device.domain.pacing import (
    OpenPart,
    Projection,
    behind_text,
    lead_s,
    part_prep_s,
    prep_from_routing,
    project,
)
from kds_device.domain.timestamps import format_timestamp
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import FakeTime
from tests.fixtures.pacing import received, routing_for

T0 = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def scheduled(orders: OrderGenerator, clock: FakeTime, minutes: float) -> dict[str, Any]:
    moment = format_timestamp(clock.now.wall + timedelta(minutes=minutes))
    return orders.order(
        deliveryIsAsap=False, pickupTime=moment, estimatedPickupTime="", deliveryTime=""
    )


def asap(orders: OrderGenerator, clock: FakeTime, minutes: float) -> dict[str, Any]:
    moment = format_timestamp(clock.now.wall + timedelta(minutes=minutes))
    return orders.order(
        deliveryIsAsap=True, pickupTime=moment, estimatedPickupTime="", deliveryTime=""
    )


def test_prep_minutes_are_read_leniently() -> None:
    two = {"items": [{}, {}]}
    assert prep_from_routing(routing_for(two, {"grill": 8, "fryer": 6})) == {"grill": 8, "fryer": 6}
    assert prep_from_routing({"prepMin": {"grill": "8", "bar": True, "cold": -1, "x": 4.0}}) == {
        "x": 4
    }
    assert prep_from_routing(None) == {} and prep_from_routing({"prepMin": [8]}) == {}


def test_a_part_takes_the_longest_of_the_stations_it_shows() -> None:
    prep = {"grill": 8, "fryer": 15, "bar": 2}
    assert part_prep_s(prep) == 15 * 60  # expo / all: the order's longest
    assert part_prep_s(prep, lambda s: s in ("grill", "bar")) == 8 * 60
    assert part_prep_s(prep, lambda s: s == "cold") is None
    assert lead_s(None, 1200.0) == 1200.0 and lead_s(480.0, 1200.0) == 480.0


def test_start_by_is_the_promise_minus_the_prep_time(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = Board(BoardSettings(scheduled_lead_s=20 * 60))
    payload = scheduled(orders, clock, 60)
    board.apply_event(received(payload, {"grill": 8, "fryer": 15}), clock())
    (ticket,) = board.upcoming()
    assert board.pace.start_by(ticket, board.settings) == clock.now.wall + timedelta(minutes=45)
    assert board.open_tickets() == []
    # 40 min on the old fixed lead (20) it would have started; with its prep (15) it waits
    assert not board.release_due(clock.advance(44 * 60 + 59))
    outcome = board.release_due(clock.advance(2))
    assert outcome.alerts == [Alert.ORDER_DUE]
    assert board.open_tickets() == [ticket] and board.selected_id == ticket.order_id


def test_without_routing_the_fixed_lead_stays(clock: FakeTime, orders: OrderGenerator) -> None:
    board = Board(BoardSettings(scheduled_lead_s=20 * 60))
    payload = scheduled(orders, clock, 60)
    board.apply_event(received(payload), clock())
    assert not board.release_due(clock.advance(39 * 60 + 59))
    assert board.release_due(clock.advance(2)).alerts == [Alert.ORDER_DUE]


def test_a_cancelled_upcoming_order_shows_on_the_board(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    from kds_device.domain import Cancel

    board = Board()
    payload = scheduled(orders, clock, 120)
    board.receive_order(payload, clock())
    assert board.open_tickets() == []
    board.receive_cancel(Cancel(payload["orderId"]), clock())
    assert [t.order_id for t in board.open_tickets()] == [payload["orderId"]]
    assert board.upcoming() == []


def part(order_id: str, start_min: float, finish_min: float, work_min: float) -> OpenPart:
    return OpenPart(
        order_id,
        "grill",
        T0 + timedelta(minutes=start_min),
        T0 + timedelta(minutes=finish_min),
        work_min * 60,
    )


def test_one_cook_works_in_start_by_order_and_falls_behind() -> None:
    parts = [part("c", 10, 25, 10), part("a", 0, 15, 10), part("b", 5, 20, 10)]
    worst = project(parts, T0)
    # a ends at 10 (on time), b at 20 (on time), c at 30: 5 min past its finish-by
    assert worst == Projection(5 * 60, "c", "grill")
    assert behind_text(worst) == "falling behind: +5 min"


def test_more_cooks_catch_up_and_stations_are_separate() -> None:
    parts = [part("c", 10, 25, 10), part("a", 0, 15, 10), part("b", 5, 20, 10)]
    assert project(parts, T0, {"grill": 2}) == Projection()
    assert behind_text(project(parts, T0, {"grill": 2})) == ""
    fryer = [OpenPart(p.order_id, "fryer", p.start_by, p.finish_by, p.work_s) for p in parts[:2]]
    assert project([*parts[:2], *fryer], T0).behind_s == 0  # two stations, two cooks


def test_under_a_minute_behind_says_nothing() -> None:
    assert behind_text(project([part("a", 0, 9.5, 10)], T0)) == ""
    assert behind_text(project([part("a", 0, 8.9, 10)], T0)) == "falling behind: +1 min"
    assert behind_text(project([part("a", 0, 8.4, 10)], T0)) == "falling behind: +2 min"


def test_the_board_projects_its_open_parts(clock: FakeTime, orders: OrderGenerator) -> None:
    board = Board(BoardSettings(finish_margin_s=120))
    now = clock()
    # three grill orders of 10 min each, promised in 14, 24 and 34 min: finish-by 12, 22, 32;
    # one cook ends them at 10, 20, 30: on pace
    for minutes in (14, 24, 34):
        board.apply_event(received(asap(orders, clock, minutes), {"grill": 10}), now)
    assert board.pace.falling_behind(board, now).behind_s == 0
    # a fourth promised in 30 min (finish-by 28) goes before the one promised in 34: that one
    # now ends at 40, 8 min past its finish-by of 32
    board.apply_event(received(asap(orders, clock, 30), {"grill": 10}), now)
    assert board.pace.falling_behind(board, now).behind_min == 8
    # a second grill cook: on pace again; a bump takes the work away too
    assert board.pace.falling_behind(board, now, {"grill": 2}).behind_s == 0
    first = board.open_tickets()[0]
    board.bump(now, first.order_id)
    assert board.pace.falling_behind(board, now).behind_s == 0
    # orders without prep times are not projected
    board.receive_order(asap(orders, clock, 1), now)
    assert board.pace.falling_behind(board, now).behind_s == 0


def test_a_station_screen_paces_its_own_part(clock: FakeTime, orders: OrderGenerator) -> None:
    from kds_device.domain.roles import Role, RoleKind

    payload = scheduled(orders, clock, 60)
    payload["items"] = payload["items"][:1] * 2  # one item at each station
    event = received(payload, {"grill": 8, "fryer": 15})
    promised = clock.now.wall + timedelta(minutes=60)
    grill = Board(BoardSettings(role=Role(RoleKind.STATIONS, frozenset({"grill"}))))
    expo = Board(BoardSettings(role=Role(RoleKind.EXPO)))
    for board in (grill, expo):
        board.apply_event(event, clock())
    (at_grill,), (at_expo,) = grill.upcoming(), expo.upcoming()
    assert grill.pace.start_by(at_grill, grill.settings) == promised - timedelta(minutes=8)
    assert expo.pace.start_by(at_expo, expo.settings) == promised - timedelta(minutes=15)
    # the grill projects its own 8 min only; expo the whole order's work at both stations
    assert [(p.station, p.work_s) for p in grill.pace.open_parts(grill)] == [("grill", 480.0)]
    assert sorted(p.station for p in expo.pace.open_parts(expo)) == ["fryer", "grill"]
    at_expo.parts.part("fryer").done = True  # the fryer bumped its part
    assert [p.station for p in expo.pace.open_parts(expo)] == ["grill"]


def test_a_station_counts_only_its_own_upcoming_orders(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    from kds_device.domain.roles import Role, RoleKind

    grill = Board(BoardSettings(role=Role(RoleKind.STATIONS, frozenset({"grill"}))))
    fryer_only = scheduled(orders, clock, 60)
    both = scheduled(orders, clock, 70)
    both["items"] = both["items"][:1] * 2
    grill.apply_event(received(fryer_only, {"fryer": 6}), clock())
    grill.apply_event(received(both, {"grill": 8, "fryer": 6}), clock())
    assert [t.order_id for t in grill.upcoming()] == [both["orderId"]]
    assert not grill.release_due(clock())  # nothing moves, nothing chimes
