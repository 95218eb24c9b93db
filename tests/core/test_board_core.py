"""The device's core without a screen: journal events in seq order, saving before
acknowledging, bumps into the outbox before the board file says bumped, the cook's presses
(only on what the current page shows), panels, learn mode, pruning and restarts."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

from kds_device.domain.actions import Action
from kds_device.domain.attention import elsewhere
from kds_device.domain.events import Event, EventType
from kds_device.domain.layout import LayoutSpec
from kds_device.domain.status import OrderStatus
from kds_device.runtime.board_core import PRUNE_EVERY_S, BoardCore
from kds_device.runtime.cook_input import PressStart
from kds_device.runtime.core_view import NoView
from kds_device.runtime.messages import (
    ActionRequested,
    EventsArrived,
    Link,
    LinkChanged,
    OrderArrived,
    OutboxChanged,
)
from kds_device.sim.orders import OrderGenerator
from tests.core.conftest import make_core
from tests.fixtures.common import FakeTime


def received(seq: int, payload: dict) -> Event:
    return Event(seq, "loc", EventType.ORDER_RECEIVED, payload["orderId"], {"payload": payload})


def one_line(orders: OrderGenerator) -> dict:
    """An ASAP order of one plain item (one line on its tile)."""
    payload = orders.order(note="", deliveryIsAsap=True)
    payload["items"] = [{**payload["items"][0], "subItems": []}]
    return payload


def post_orders(core: BoardCore, orders: OrderGenerator, count: int) -> list[str]:
    payloads = [one_line(orders) for _ in range(count)]
    for payload in payloads:
        core.inbox.post(OrderArrived(payload))
    core.drain()
    return [p["orderId"] for p in payloads]


def small_pages(core: BoardCore) -> None:
    """Two one-line tickets a page (one column of nine rows; four rows each)."""
    core.board.set_layout(LayoutSpec(columns=1, rows=9), lambda line: 1)


def view(core: BoardCore) -> NoView:
    assert isinstance(core.view, NoView)
    return core.view


def test_events_apply_in_seq_order_once(core: BoardCore, orders: OrderGenerator) -> None:
    payloads = [orders.order() for _ in range(3)]
    acks: list[str] = []
    cancel = Event(3, "loc", EventType.ORDER_VOIDED, payloads[0]["orderId"], {"reason": "x"})
    # seq 3 (the cancel of seq 1's order) arrives first, with a duplicate of 1; 2 is missing
    core.inbox.post(
        EventsArrived(
            (cancel, received(1, payloads[0]), received(1, payloads[0])),
            "mqtt",
            lambda: acks.append("a"),
        )
    )
    core.drain()
    board = core.board
    assert acks == ["a"] and core.last_seq == 1
    assert not board.ticket(payloads[0]["orderId"]).voided, "seq 3 waits for seq 2"

    core.inbox.post(EventsArrived((received(2, payloads[1]),), "http", lambda: acks.append("b")))
    core.drain()
    assert acks == ["a", "b"] and core.last_seq == 3
    assert board.ticket(payloads[0]["orderId"]).voided
    assert view(core).played == ["chime", "alert"]  # a cancel in the pass outranks the chime

    core.inbox.post(EventsArrived((received(2, payloads[2]),), "mqtt", lambda: acks.append("c")))
    core.drain()  # an old seq with other content: ignored (already applied)
    assert board.ticket(payloads[2]["orderId"]) is None and len(acks) == 3
    assert core.store is not None and core.store.get_meta("last_seq") == "3"


def test_an_http_answer_steps_over_pruned_holes(core: BoardCore, orders: OrderGenerator) -> None:
    payloads = [orders.order() for _ in range(3)]
    core.inbox.post(EventsArrived((received(6, payloads[2]),), "mqtt", lambda: None))
    core.drain()  # a live event beyond the hole: it waits
    assert core.board.ticket(payloads[2]["orderId"]) is None and core.pending_events
    answer = (received(1, payloads[0]), received(5, payloads[1]))
    core.inbox.post(EventsArrived(answer, "http", through=5))
    core.drain()
    assert core.last_seq == 6 and not core.pending_events
    assert all(core.board.ticket(p["orderId"]) is not None for p in payloads)
    assert core.store is not None and core.store.get_meta("last_seq") == "6"


def test_events_are_not_acknowledged_when_the_board_cannot_be_saved(
    core: BoardCore, orders: OrderGenerator
) -> None:
    acks: list[int] = []
    assert core.store is not None
    core.store.close()  # the board file is gone from under the core
    core.inbox.post(EventsArrived((received(1, orders.order()),), "mqtt", lambda: acks.append(1)))
    core.drain()
    assert acks == [], "an unsaved event must come again"


def test_a_bump_reaches_the_outbox_before_the_board_file_says_bumped(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    seen_in_file: list[int] = []

    class PeekingSink:
        def submit(self, change: object) -> None:
            db = sqlite3.connect(tmp_path / "board.db")
            row = db.execute(
                "SELECT bumped FROM tickets WHERE order_id=?",
                (change.order_id,),  # type: ignore[attr-defined]
            ).fetchone()
            db.close()
            seen_in_file.append(row[0] if row else -1)

    core = make_core(tmp_path, clock, PeekingSink())
    (order_id,) = post_orders(core, orders, 1)
    core.perform(Action.BUMP)
    assert seen_in_file == [0], "the outbox got the bump only after the board was saved"
    db = sqlite3.connect(tmp_path / "board.db")
    assert db.execute("SELECT bumped FROM tickets WHERE order_id=?", (order_id,)).fetchone() == (1,)
    db.close()
    core.close()


def test_a_payload_without_an_id_is_skipped_and_the_board_goes_on(
    core: BoardCore, orders: OrderGenerator
) -> None:
    core.inbox.post(OrderArrived({"items": [], "note": "no id anywhere"}))
    (good,) = post_orders(core, orders, 1)
    assert [t.order_id for t in core.board.tickets()] == [good]


def test_a_broken_order_with_an_id_is_shown_flagged(
    core: BoardCore, orders: OrderGenerator
) -> None:
    core.inbox.post(OrderArrived({"orderId": "broken", "items": "not a list"}))
    (good,) = post_orders(core, orders, 1)
    broken = core.board.ticket("broken")
    assert broken is not None and core.board.ticket(good) is not None
    assert broken.order.problems, "the ticket carries what is wrong with it"


def test_link_and_outbox_messages(core: BoardCore, clock: FakeTime) -> None:
    core.inbox.post(LinkChanged(Link.OFFLINE, clock.now.mono, "down"))
    core.inbox.post(OutboxChanged(3))
    core.drain()
    assert core.link.link is Link.OFFLINE and core.outbox_pending == 3


def test_actions_from_another_thread_wait_for_the_main_thread(
    core: BoardCore, orders: OrderGenerator
) -> None:
    post_orders(core, orders, 2)
    first = core.board.selected_id
    worker = threading.Thread(target=core.perform, args=(Action.BUMP,))
    worker.start()
    worker.join()
    assert not core.board.ticket(first).bumped, "nothing changed off the main thread"
    core.drain()
    assert core.board.ticket(first).bumped
    core.inbox.post(ActionRequested(Action.UNDO, "gpio:17"))
    core.drain()
    assert not core.board.ticket(first).bumped


def test_restart_keeps_board_seq_and_last_order(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    core = make_core(tmp_path, clock)
    core.inbox.post(EventsArrived(tuple(received(i + 1, orders.order()) for i in range(3)), "http"))
    core.drain()
    core.perform(Action.BUMP)
    ids = [t.order_id for t in core.board.open_tickets()]
    core.close()
    again = make_core(tmp_path, clock)
    assert again.last_seq == 3 and again.last_order_wall == clock.now.wall
    assert [t.order_id for t in again.board.open_tickets()] == ids
    assert len(again.board.recall_list()) == 1
    again.close()


def test_prune_forgets_old_bumps(core: BoardCore, clock: FakeTime, orders: OrderGenerator) -> None:
    post_orders(core, orders, 2)
    core.perform(Action.BUMP)
    clock.advance(core.board.settings.keep_finished_s + PRUNE_EVERY_S + 1)
    core.tick()
    assert core.board.recall_list() == []
    assert core.store is not None and len(core.store.load(clock())) == 1


# ---- presses: only what the cook can see ---------------------------------------------------


def test_a_bump_never_moves_the_selection_to_another_page(
    core: BoardCore, orders: OrderGenerator
) -> None:
    post_orders(core, orders, 6)
    small_pages(core)
    board = core.board
    assert len(board.pages()) >= 3
    core.perform(Action.PAGE_NEXT)
    here = board.ids_on_page()
    assert board.selected_id == here[0]
    core.perform(Action.BUMP)
    assert board.selected_id is None or board.on_current_page(board.selected_id)
    bumped = [c.order_id for c in core.sink.changes]  # type: ignore[attr-defined]
    core.perform(Action.BUMP)  # a second press: only ever a ticket on this page
    sent = [c.order_id for c in core.sink.changes]  # type: ignore[attr-defined]
    assert all(order_id in here + board.ids_on_page() for order_id in sent)
    assert len(sent) >= len(bumped)


def test_the_last_ticket_of_a_page_bumped_leaves_nothing_selected(
    core: BoardCore, orders: OrderGenerator
) -> None:
    post_orders(core, orders, 3)
    small_pages(core)
    board = core.board
    core.perform(Action.PAGE_NEXT)
    core.perform(Action.PAGE_NEXT)
    (alone,) = board.ids_on_page()
    core.perform(Action.BUMP)
    assert board.ticket(alone).bumped
    assert board.selected_id is None
    core.perform(Action.BUMP)  # nothing is selected: nothing is sent
    core.perform(Action.START)
    assert len(core.sink.changes) == 1  # type: ignore[attr-defined]
    core.perform(Action.NEXT)  # starts on the page on screen
    assert board.on_current_page(board.selected_id)


def test_a_tap_bumps_only_a_settled_selected_ticket(
    core: BoardCore, orders: OrderGenerator
) -> None:
    first, second = post_orders(core, orders, 2)
    place = (0.0, 0.0, 100.0, 100.0)
    settle = core.config.display.tap_settle_s
    assert core.board.selected_id == first
    core.press(PressStart(second, False, place, 5.0), second, place)
    assert core.board.selected_id == second and not core.board.ticket(second).bumped
    core.press(PressStart(second, True, place, settle / 2), second, place)
    assert not core.board.ticket(second).bumped, "the layout had just moved under the finger"
    core.press(PressStart(second, True, place, 5.0), second, (0.0, 50.0, 100.0, 100.0))
    assert not core.board.ticket(second).bumped, "the tile moved while the finger was down"
    core.press(PressStart(first, True, place, 5.0), second, place)
    assert not core.board.ticket(second).bumped, "another ticket was there at finger-down"
    core.press(PressStart(second, True, place, settle + 0.01), second, place)
    assert core.board.ticket(second).bumped
    assert [c.status for c in core.sink.changes] == [int(OrderStatus.READY_FOR_PICKUP)]  # type: ignore[attr-defined]


def test_a_cancel_is_cleared_by_the_hold_not_by_a_tap(
    core: BoardCore, orders: OrderGenerator
) -> None:
    (order_id,) = post_orders(core, orders, 1)
    core.inbox.post(OrderArrived(orders.cancel(core.board.ticket(order_id).payload)))
    core.drain()
    place = (0.0, 0.0, 1.0, 1.0)
    core.press(PressStart(order_id, True, place, 9.0), order_id, place)
    assert not core.board.ticket(order_id).void_acknowledged
    core.clear(order_id)
    assert core.board.ticket(order_id).void_acknowledged


def test_recall_list_takes_the_keys_and_nothing_under_it_moves(
    core: BoardCore, orders: OrderGenerator
) -> None:
    ids = post_orders(core, orders, 3)
    core.perform(Action.BUMP)
    core.perform(Action.BUMP)
    core.perform(Action.RECALL)
    assert core.recall is not None and len(core.recall.order_ids) == 2
    selected = core.board.selected_id
    place = (0.0, 0.0, 1.0, 1.0)
    core.press(PressStart(selected, True, place, 9.0), selected, place)
    assert not core.board.ticket(selected).bumped, "the list covers the board"
    core.perform(Action.NEXT)
    assert core.recall.cursor == 1
    core.perform(Action.BUMP)  # restores the highlighted one
    assert core.recall is None
    assert sum(1 for i in ids if core.board.ticket(i).bumped) == 1


def test_late_and_cancelled_elsewhere_and_the_jump(
    core: BoardCore, clock: FakeTime, orders: OrderGenerator
) -> None:
    # no promised times: the kitchen's late threshold makes them all late at once
    payloads = [one_line(orders) for _ in range(5)]
    for payload in payloads:
        payload.update(pickupTime="", estimatedPickupTime="", deliveryTime="")
        core.inbox.post(OrderArrived(payload))
    core.drain()
    ids = [p["orderId"] for p in payloads]
    small_pages(core)
    core.inbox.post(OrderArrived(orders.cancel(core.board.ticket(ids[4]).payload)))
    core.drain()
    clock.advance(core.board.settings.default_thresholds.late_s + 1)
    board = core.board
    late, cancelled = elsewhere(board, clock())
    assert cancelled == [ids[4]]
    here = board.ids_on_page()
    assert late == [
        t.order_id for t in board.open_tickets() if t.order_id not in here and not t.voided
    ]
    assert len(late) >= 2 and ids[4] not in here
    core.perform(Action.NEXT_URGENT)
    assert board.on_current_page(late[0]) and board.selected_id == late[0]
    core.jump("cancelled")
    assert board.on_current_page(ids[4]) and board.selected_id == ids[4]


def test_clear_all_clears_only_the_cancels_on_screen(
    core: BoardCore, orders: OrderGenerator
) -> None:
    ids = post_orders(core, orders, 4)
    small_pages(core)
    for order_id in ids:
        core.inbox.post(OrderArrived(orders.cancel(core.board.ticket(order_id).payload)))
    core.drain()
    here = core.board.ids_on_page()
    core.perform(Action.CLEAR_ALL)
    cleared = {i for i in ids if core.board.ticket(i).void_acknowledged}
    assert cleared == set(here) and len(cleared) < len(ids)


def test_learn_mode_counts_new_orders_and_ignores_board_keys(
    core: BoardCore, orders: OrderGenerator
) -> None:
    post_orders(core, orders, 1)
    core.request_learn()
    assert view(core).learn_opened == 1
    core.learn_opened(True)
    before = core.board.selected_id
    core.perform(Action.BUMP)
    assert not core.board.ticket(before).bumped
    post_orders(core, orders, 2)
    assert core.new_while_learning == 2 and view(core).played == ["chime", "chime"]
    core.learn_opened(False)
    assert core.new_while_learning == 0


def test_arriving_orders_never_push_the_selection_off_the_screen(
    core: BoardCore, orders: OrderGenerator, clock: FakeTime
) -> None:
    post_orders(core, orders, 6)
    small_pages(core)
    board = core.board
    core.perform(Action.PAGE_NEXT)
    chosen = board.selected_id
    assert chosen is not None and board.page_index == 1
    for _ in range(4):  # each sorts first: the chosen ticket is pushed onwards
        payload = one_line(orders)
        payload["pickupTime"] = (clock.now.wall - timedelta(minutes=1)).isoformat()
        core.inbox.post(OrderArrived(payload))
        core.drain()
        assert board.selected_id == chosen and board.on_current_page(chosen)
    core.perform(Action.BUMP)
    assert [c.order_id for c in core.sink.changes] == [chosen]  # type: ignore[attr-defined]
