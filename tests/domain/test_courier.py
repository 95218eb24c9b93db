"""The courier on the ticket (issue 10): courier statuses kept per order, in any order across
feeds, never backwards within a delivery; COURIER WAITING once per arrival, only when the
order is not ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kds_device.domain import Alert, Board, BoardSettings
from kds_device.domain.courier import (
    CourierBook,
    CourierState,
    CourierStatus,
    courier_text,
    read_courier,
)
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import FakeTime
from tests.fixtures.pacing import courier, received

T0 = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def delivery(orders: OrderGenerator) -> dict[str, Any]:
    return orders.order(orderType=2, deliveryIsAsap=True)


def text(board: Board, order_id: str, clock: FakeTime) -> str:
    ticket = board.ticket(order_id)
    assert ticket is not None
    state = board.pace.courier_of(ticket)
    assert state is not None
    return courier_text(state, clock.now.wall, ticket.status >= 70)


def test_the_words_of_each_status() -> None:
    def says(status: int, ready: bool = False, **data: Any) -> str:
        state = read_courier({"status": status, **data}, 1, T0)
        assert state is not None
        return courier_text(state, T0, ready)

    assert says(81) == "courier booked"
    assert says(83) == "courier en route"
    assert says(83, etaMin=2) == "courier 2 min"
    assert says(84) == "courier close"
    assert says(85) == "COURIER WAITING"
    assert says(85, ready=True, courier={"name": "Sam"}) == "courier here (Sam)"
    assert says(87, ready=True) == "courier left"
    assert says(89, ready=True) == "delivered"
    assert says(115) == "delivery cancelled"


def test_the_eta_counts_down() -> None:
    state = read_courier({"status": 83, "etaMin": 3}, 1, T0)
    assert state is not None
    assert courier_text(state, T0 + timedelta(seconds=70), False) == "courier 2 min"
    assert courier_text(state, T0 + timedelta(minutes=4), False) == "courier due now"


def test_the_gateways_eta_time_wins_over_minutes_from_a_late_apply() -> None:
    at = (T0 + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    late = T0 + timedelta(minutes=1)  # applied a minute after the gateway journaled it
    state = read_courier({"status": 84, "etaMin": 3, "etaAt": at}, 1, late)
    assert state is not None and courier_text(state, late, False) == "courier 2 min"
    junk = read_courier({"status": 84, "etaMin": 3, "etaAt": "soon"}, 1, late)
    assert junk is not None and courier_text(junk, late, False) == "courier 3 min"


def test_unknown_statuses_and_junk_are_ignored() -> None:
    for data in ({"status": 82}, {"status": "x"}, {"status": True}, {}, {"status": 70}):
        assert read_courier(data, 1, T0) is None
    state = read_courier({"status": "85", "etaMin": "soon", "courier": "Sam"}, 1, T0)
    assert state == CourierState(CourierStatus.AT_PICKUP, 1)


def test_a_courier_never_goes_back_within_a_delivery() -> None:
    book = CourierBook()
    at = read_courier({"status": 85}, 5, T0)
    late = read_courier({"status": 83}, 6, T0)
    cancel = read_courier({"status": 115}, 7, T0)
    again = read_courier({"status": 81}, 8, T0)
    assert at and late and cancel and again
    assert book.apply("o1", at)
    assert not book.apply("o1", late)  # a late "en route": stale
    assert not book.apply("o1", at)  # the same event again
    assert book.apply("o1", cancel)
    assert book.apply("o1", again)  # a new delivery after the cancel
    assert book.get("o1") == again


def test_orphans_are_bounded_and_saved_states_load() -> None:
    book = CourierBook(limit=3)
    for index in range(5):
        state = read_courier({"status": 83, "etaMin": 4}, index + 1, T0)
        assert state is not None
        book.apply(f"o{index}", state, known={"o0"})
    assert len(book) == 3 and book.get("o0") is not None and book.get("o1") is None
    copy = CourierBook()
    copy.load(book.to_json())
    assert copy.to_json() == book.to_json() and not copy.dirty
    copy.load({"bad": {"status": 12}, "o9": {"status": 85, "decided": True}})
    assert copy.get("bad") is None and copy.get("o9") == CourierState(
        CourierStatus.AT_PICKUP, decided=True
    )


def test_courier_waiting_shouts_once_when_the_order_is_not_ready(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = Board()
    payload = delivery(orders)
    order_id = payload["orderId"]
    board.apply_event(received(payload), clock())
    outcome = board.apply_event(courier(order_id, 83, etaMin=2), clock())
    assert outcome.changed == {order_id} and outcome.alerts == []
    assert text(board, order_id, clock) == "courier 2 min"
    outcome = board.apply_event(courier(order_id, 85), clock.advance(100))
    assert outcome.alerts == [Alert.COURIER_WAITING]
    ticket = board.ticket(order_id)
    assert ticket is not None and board.pace.courier_waiting(ticket)
    assert text(board, order_id, clock) == "COURIER WAITING"
    # the same arrival again (Deliverect retries): no second shout
    assert board.apply_event(courier(order_id, 85), clock()).alerts == []
    # the food is ready: "courier here", quiet
    board.bump(clock(), order_id)
    assert not board.pace.courier_waiting(ticket)
    assert text(board, order_id, clock) == "courier here"


def test_a_ready_order_does_not_shout(clock: FakeTime, orders: OrderGenerator) -> None:
    board = Board()
    payload = delivery(orders)
    order_id = payload["orderId"]
    board.apply_event(received(payload), clock())
    board.apply_status(order_id, 70, clock())  # expo sent it
    assert board.apply_event(courier(order_id, 85), clock()).alerts == []
    ticket = board.ticket(order_id)
    assert ticket is not None and not board.pace.courier_waiting(ticket)


def test_courier_before_the_order_is_kept_until_it_arrives(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = Board(BoardSettings())
    payload = delivery(orders)
    order_id = payload["orderId"]
    assert board.apply_event(courier(order_id, 85), clock()).alerts == []
    assert board.ticket(order_id) is None  # no tombstone, no tile
    outcome = board.apply_event(received(payload), clock())
    assert Alert.COURIER_WAITING in outcome.alerts
    assert text(board, order_id, clock) == "COURIER WAITING"


def test_delivery_cancelled_is_shown_and_junk_never_breaks_the_board(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = Board()
    payload = delivery(orders)
    order_id = payload["orderId"]
    board.apply_event(received(payload), clock())
    assert not board.apply_event(courier(order_id, 82), clock())
    assert not board.apply_event(courier(None, 85), clock())
    board.apply_event(courier(order_id, 115), clock())
    assert text(board, order_id, clock) == "delivery cancelled"
