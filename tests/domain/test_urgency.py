"""One truth about urgency (issue 9, point 6): age and promise together decide the colour,
the word, the late count and the order of the tickets."""

from __future__ import annotations

import itertools
from datetime import timedelta

from kds_device.domain import AgeClass, Board, BoardSettings
from kds_device.domain.timestamps import format_timestamp
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import FakeTime

NO_PROMISE = {"pickupTime": "", "estimatedPickupTime": "", "deliveryTime": ""}


def make_board(**settings: object) -> Board:
    counter = itertools.count(1)
    return Board(BoardSettings(**settings), key_factory=lambda: f"k{next(counter)}")  # type: ignore[arg-type]


def promised_in(clock: FakeTime, minutes: float) -> dict[str, str]:
    moment = format_timestamp(clock.now.wall + timedelta(minutes=minutes))
    return {"pickupTime": moment, "estimatedPickupTime": moment, "deliveryTime": ""}


def test_an_old_ticket_with_its_promise_ahead_is_hurry_never_late(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    """The tile once said "LATE 08:01" and "due 13 min" at once."""
    board = make_board()
    payload = orders.order(orderType=1, **promised_in(clock, 21))
    board.receive_order(payload, clock())
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    now = clock.advance(8 * 60 + 1)  # past the kitchen's 8 min, 13 min before the promise
    urgency = board.urgency(ticket, now)
    assert urgency.level is AgeClass.CAUTION
    assert urgency.to_promise_s is not None and 12 * 60 < urgency.to_promise_s < 13 * 60
    assert board.late_count(now) == 0


def test_a_promise_passed_is_late_whatever_the_age(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board(finish_margin_s=120.0)
    payload = orders.order(orderType=2, **promised_in(clock, 4))
    board.receive_order(payload, clock())
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    assert board.age_class(ticket, clock()) is AgeClass.CAUTION  # 2 min to finish-by
    now = clock.advance(2 * 60)  # at finish-by: 2 min before the promise, 2 min old
    assert board.age_class(ticket, now) is AgeClass.LATE
    assert board.late_count(now) == 1


def test_the_sort_puts_every_late_ticket_first(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    aged = orders.order(orderType=1, **NO_PROMISE)  # late at arrival + 8 min
    board.receive_order(aged, clock())
    clock.advance(9 * 60)
    far = orders.order(orderType=1, **promised_in(clock, 40))
    soon = orders.order(orderType=1, **promised_in(clock, 5))
    board.receive_order(far, clock())
    board.receive_order(soon, clock())
    now = clock()
    levels = [board.age_class(t, now) for t in board.open_tickets()]
    assert [t.order_id for t in board.open_tickets()] == [
        aged["orderId"],
        soon["orderId"],
        far["orderId"],
    ]
    assert levels == [AgeClass.LATE, AgeClass.CAUTION, AgeClass.ON_TIME]
    assert board.late_count(now) == levels.count(AgeClass.LATE)


def test_without_a_promise_the_kitchen_thresholds_decide(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = make_board()
    payload = orders.order(orderType=1, **NO_PROMISE)
    board.receive_order(payload, clock())
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    assert board.age_class(ticket, clock.advance(299)) is AgeClass.ON_TIME
    assert board.age_class(ticket, clock.advance(2)) is AgeClass.CAUTION
    assert board.age_class(ticket, clock.advance(180)) is AgeClass.LATE


def test_an_asap_promise_no_order_can_have_is_not_trusted(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    """With the clock 11 h behind, an ASAP order's promise looks 11 h away: its age still
    turns it LATE, and it sorts by that."""
    board = make_board()
    payload = orders.order(orderType=1, **promised_in(clock, 11 * 60 + 15))
    board.receive_order(payload, clock())
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    fresh = orders.order(orderType=1, **promised_in(clock, 20))
    board.receive_order(fresh, clock.advance(8 * 60 + 1))
    assert board.age_class(ticket, clock()) is AgeClass.LATE
    assert board.late_count(clock()) == 1
    assert board.open_tickets()[0] is ticket, "the late one first"
    # the clock is corrected: the promise is believable again and decides
    now = clock.step_wall(11 * 3600)
    assert board.age_class(ticket, now) is AgeClass.CAUTION
