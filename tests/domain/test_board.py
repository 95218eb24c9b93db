"""The board: ordering, lifecycle, cancels, recall/undo, ageing, all-day, pages."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from kds_device.domain import (
    AgeClass,
    AgeThresholds,
    Alert,
    Board,
    BoardSettings,
    Cancel,
    Event,
    EventType,
    LayoutSpec,
    OrderType,
)
from kds_device.domain.actions import Action, apply_action
from kds_device.domain.timestamps import format_timestamp
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import FakeTime


def make_board(**settings: object) -> Board:
    counter = itertools.count(1)
    return Board(BoardSettings(**settings), key_factory=lambda: f"k{next(counter)}")  # type: ignore[arg-type]


def test_new_order_adds_one_ticket_and_a_chime(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    payload = orders.order()
    outcome = board.receive_order(payload, clock())
    assert outcome.changed == {payload["orderId"]}
    assert outcome.alerts == [Alert.NEW_ORDER]
    assert [t.order_id for t in board.open_tickets()] == [payload["orderId"]]
    assert board.selected_id == payload["orderId"]


def test_same_order_six_times_is_one_ticket(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    payload = orders.order()
    outcomes = [board.receive_order(payload, clock()) for _ in range(6)]
    assert len(board.open_tickets()) == 1
    assert all(not o for o in outcomes[1:])


def test_open_tickets_by_promised_time_then_arrival(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = make_board()
    base = clock.now.wall
    late_promise = orders.order(pickupTime=format_timestamp(base + timedelta(minutes=30)))
    early_promise = orders.order(pickupTime=format_timestamp(base + timedelta(minutes=10)))
    same_a = orders.order(pickupTime=format_timestamp(base + timedelta(minutes=20)))
    same_b = orders.order(pickupTime=format_timestamp(base + timedelta(minutes=20)))
    for payload in (late_promise, early_promise, same_a, same_b):
        board.receive_order(payload, clock.advance(1))
    assert [t.order_id for t in board.open_tickets()] == [
        early_promise["orderId"],
        same_a["orderId"],
        same_b["orderId"],
        late_promise["orderId"],
    ]


def test_bump_sends_the_configured_status_once(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board(bump_status=60)
    payload = orders.order()
    board.receive_order(payload, clock())
    outcome = board.bump(clock())
    assert [(c.order_id, c.status) for c in outcome.status_changes] == [(payload["orderId"], 60)]
    assert board.open_tickets() == []
    assert board.bump(clock(), payload["orderId"]).status_changes == []


def test_start_then_bump_sends_50_then_70(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    board.receive_order(orders.order(), clock())
    started = board.start(clock())
    assert [c.status for c in started.status_changes] == [50]
    assert board.start(clock()).status_changes == []  # never twice
    assert [c.status for c in board.bump(clock()).status_changes] == [70]


def test_cancel_voids_and_shouts_and_nothing_is_ever_sent(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = make_board()
    payload = orders.order()
    board.receive_order(payload, clock())
    outcome = board.receive_cancel(Cancel(payload["orderId"], reason="Courier not found"), clock())
    assert outcome.alerts == [Alert.ORDER_VOIDED]
    ticket = board.open_tickets()[0]
    assert ticket.voided and ticket.void_reason == "Courier not found"
    assert board.start(clock()).status_changes == []
    bumped = board.bump(clock())  # bumping a voided ticket acknowledges it
    assert bumped.status_changes == []
    assert board.open_tickets() == []


def test_cancel_before_order_leaves_a_tombstone(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    payload = orders.order()
    board.receive_cancel(Cancel(payload["orderId"]), clock())
    assert board.open_tickets() == []  # nothing to show yet
    outcome = board.receive_order(payload, clock.advance(5))
    assert outcome.alerts == [Alert.ORDER_VOIDED]
    assert board.open_tickets()[0].voided


def test_cancel_after_bump_brings_the_ticket_back(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    payload = orders.order()
    board.receive_order(payload, clock())
    board.bump(clock())
    board.receive_cancel(Cancel(payload["orderId"]), clock.advance(60))
    assert [t.order_id for t in board.open_tickets()] == [payload["orderId"]]
    assert board.open_tickets()[0].voided


def test_recall_and_undo(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board(undo_window_s=10.0)
    first, second = orders.order(), orders.order()
    board.receive_order(first, clock())
    board.receive_order(second, clock())
    board.bump(clock(), first["orderId"])
    board.bump(clock.advance(1), second["orderId"])
    assert [t.order_id for t in board.recall_list()] == [second["orderId"], first["orderId"]]
    assert board.undo_available(clock.advance(5)) == second["orderId"]
    board.undo(clock())
    assert [t.order_id for t in board.open_tickets()] == [second["orderId"]]
    assert board.open_tickets()[0].recalled
    assert board.undo_available(clock.advance(60)) is None
    assert board.undo(clock()).changed == set()
    board.recall(first["orderId"], clock())
    assert {t.order_id for t in board.open_tickets()} == {first["orderId"], second["orderId"]}
    # re-bumping a recalled ticket sends nothing: Deliverect already has 70
    assert board.bump(clock(), first["orderId"]).status_changes == []


def test_age_classes_use_monotonic_time_and_per_type_thresholds(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = make_board(
        thresholds={OrderType.EAT_IN: AgeThresholds(caution_s=120, late_s=240)},
    )
    no_promise = {"pickupTime": "", "estimatedPickupTime": "", "deliveryTime": ""}
    delivery = orders.order(orderType=2, **no_promise)
    eat_in = orders.order(orderType=3, table="4", **no_promise)
    board.receive_order(delivery, clock())
    board.receive_order(eat_in, clock())
    d, e = board.ticket(delivery["orderId"]), board.ticket(eat_in["orderId"])
    assert d and e
    assert board.age_class(d, clock()) is AgeClass.ON_TIME
    now = clock.advance(250)
    assert board.age_class(e, now) is AgeClass.LATE
    assert board.age_class(d, now) is AgeClass.ON_TIME
    now = clock.advance(100)
    assert board.age_class(d, now) is AgeClass.CAUTION
    now = clock.advance(200)
    assert board.age_class(d, now) is AgeClass.LATE
    assert board.late_count(now) == 2


def test_wall_clock_jumps_do_not_move_timers(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    board.receive_order(orders.order(), clock())
    ticket = board.open_tickets()[0]
    before = board.elapsed_s(ticket, clock.advance(90))
    assert board.elapsed_s(ticket, clock.step_wall(3 * 3600)) == before
    assert board.elapsed_s(ticket, clock.step_wall(-6 * 3600)) == before


def test_an_order_that_waited_shows_its_real_age(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    created_4_min_ago = orders.order(
        _created=format_timestamp(clock.now.wall - timedelta(minutes=4))
    )
    board.receive_order(created_4_min_ago, clock())
    ticket = board.ticket(created_4_min_ago["orderId"])
    assert ticket is not None and board.elapsed_s(ticket, clock()) == 240
    journaled = orders.order(_created="")
    event = Event(
        1,
        "loc",
        EventType.ORDER_RECEIVED,
        journaled["orderId"],
        {"payload": journaled},
        at=format_timestamp(clock.now.wall - timedelta(minutes=2)),
    )
    board.apply_event(event, clock())
    ticket = board.ticket(journaled["orderId"])
    assert ticket is not None and board.elapsed_s(ticket, clock()) == 120


def test_a_skewed_clock_cannot_make_ages_absurd(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    future = orders.order(_created=format_timestamp(clock.now.wall + timedelta(hours=2)))
    ancient = orders.order(_created=format_timestamp(clock.now.wall - timedelta(days=2)))
    board.receive_order(future, clock())
    board.receive_order(ancient, clock())
    elapsed = {t.order_id: board.elapsed_s(t, clock()) for t in board.open_tickets()}
    assert elapsed[future["orderId"]] == 0
    assert elapsed[ancient["orderId"]] == 3 * 3600


def test_scheduled_order_is_upcoming_until_its_lead_time(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = make_board(scheduled_lead_s=1200)
    due = clock.now.wall + timedelta(minutes=90)
    payload = orders.order(deliveryIsAsap=False, pickupTime=format_timestamp(due))
    board.receive_order(payload, clock())
    assert board.open_tickets() == []  # not a tile: it waits UPCOMING
    (ticket,) = board.upcoming()
    assert board.age_class(ticket, clock()) is AgeClass.UPCOMING
    assert not board.release_due(clock.advance(70 * 60 - 1))
    assert board.age_class(ticket, clock.advance(2)) is AgeClass.ON_TIME
    outcome = board.release_due(clock())
    assert outcome.alerts == [Alert.ORDER_DUE] and payload["orderId"] in outcome.changed
    assert board.open_tickets() == [ticket] and board.upcoming() == []


def test_all_day_counts_open_workable_items(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    a = orders.order(items=[{"name": "Fries", "quantity": 2}, {"name": "Cola", "quantity": 1}])
    b = orders.order(items=[{"name": "Fries", "quantity": 1}])
    c = orders.order(items=[{"name": "Fries", "quantity": 5}])
    for payload in (a, b, c):
        board.receive_order(payload, clock())
    board.receive_cancel(Cancel(c["orderId"]), clock())
    assert board.all_day() == [("Fries", 3), ("Cola", 1)]
    board.bump(clock(), a["orderId"])
    assert board.all_day() == [("Fries", 1)]


def test_selection_moves_and_follows_bumps(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    ids = []
    for minutes in (10, 20, 30):
        payload = orders.order(
            pickupTime=format_timestamp(clock.now.wall + timedelta(minutes=minutes))
        )
        ids.append(payload["orderId"])
        board.receive_order(payload, clock())
    assert board.selected_id == ids[0]
    apply_action(board, Action.NEXT, clock())
    apply_action(board, Action.NEXT, clock())
    apply_action(board, Action.NEXT, clock())
    assert board.selected_id == ids[2]
    apply_action(board, Action.PREVIOUS, clock())
    assert board.selected_id == ids[1]
    apply_action(board, Action.BUMP, clock())
    assert board.selected_id in (ids[0], ids[2])
    apply_action(board, Action.FIRST, clock())
    assert board.selected_id == ids[0]


def test_pages_and_tickets_off_screen(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    board.set_layout(LayoutSpec(columns=2, rows=10, header_rows=3), lambda line: 1)
    for _ in range(9):  # ASAP: a scheduled order would wait UPCOMING, off the pages
        payload = orders.order(items=[{"name": "Fries", "quantity": 1}] * 4, deliveryIsAsap=True)
        board.receive_order(payload, clock())
    pages = board.pages()
    assert len(pages) == 5  # one 7-row ticket per 10-row column, 2 columns a page
    assert board.tickets_after_page() == 7
    board.page_next()
    assert board.page_index == 1 and board.tickets_after_page() == 5
    first_on_page = pages[1][0][0].order_id
    assert board.selected_id == first_on_page
    board.page_previous()
    board.page_previous()
    assert board.page_index == 0


def test_status_events_from_elsewhere_move_forward_only(
    clock: FakeTime, orders: OrderGenerator
) -> None:
    board = make_board()
    payload = orders.order()
    order_id = payload["orderId"]
    board.apply_event(
        Event(1, "loc", EventType.ORDER_RECEIVED, order_id, {"payload": payload}), clock()
    )
    board.apply_event(Event(2, "loc", EventType.STATUS_CHANGED, order_id, {"status": 50}), clock())
    assert board.ticket(order_id).status == 50  # type: ignore[union-attr]
    board.apply_event(Event(3, "loc", EventType.STATUS_CHANGED, order_id, {"status": 70}), clock())
    assert board.open_tickets() == []  # another screen bumped it
    board.apply_event(Event(4, "loc", EventType.STATUS_CHANGED, order_id, {"status": 50}), clock())
    assert board.ticket(order_id).status == 70  # type: ignore[union-attr]


def test_own_echo_does_not_undo_a_recall(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    payload = orders.order()
    board.receive_order(payload, clock())
    key = board.bump(clock()).status_changes[0].key
    board.recall(payload["orderId"], clock())
    echo = Event(9, "loc", EventType.STATUS_CHANGED, payload["orderId"], {"status": 70, "key": key})
    board.apply_event(echo, clock())
    assert [t.order_id for t in board.open_tickets()] == [payload["orderId"]]


def test_deliverect_void_status_voids(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    payload = orders.order()
    board.receive_order(payload, clock())
    board.apply_status(payload["orderId"], 110, clock())
    assert board.open_tickets()[0].voided


def test_prune_forgets_old_finished_tickets(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board(keep_finished_s=3600)
    done, still = orders.order(), orders.order()
    board.receive_order(done, clock())
    board.receive_order(still, clock())
    board.bump(clock(), done["orderId"])
    assert board.prune(clock.advance(1800)).removed == set()
    assert board.prune(clock.advance(1801)).removed == {done["orderId"]}
    assert [t.order_id for t in board.tickets()] == [still["orderId"]]


def test_clear_all_acknowledges_every_cancel(clock: FakeTime, orders: OrderGenerator) -> None:
    board = make_board()
    payloads = [orders.order() for _ in range(3)]
    for payload in payloads:
        board.receive_order(payload, clock())
    for payload in payloads[:2]:
        board.receive_cancel(Cancel(payload["orderId"]), clock())
    apply_action(board, Action.CLEAR_ALL, clock())
    assert [t.order_id for t in board.open_tickets()] == [payloads[2]["orderId"]]


def test_bump_status_must_be_sendable() -> None:
    with pytest.raises(ValueError, match="bump status"):
        BoardSettings(bump_status=90)
