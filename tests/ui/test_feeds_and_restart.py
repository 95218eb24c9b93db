"""What reaches the board from outside, on screen: the link state and the offline banner,
the outbox count, actions from other threads; and a restart that shows the same board from
the store. The rules behind them (seq order, saving before acknowledging, bumps into the
outbox first) are tested without Kivy in ``tests/core``."""

from __future__ import annotations

import threading

import pytest

from kds_device.domain.actions import Action
from kds_device.domain.events import Event, EventType
from kds_device.runtime.messages import (
    ActionRequested,
    Link,
    LinkChanged,
    OrderArrived,
    OutboxChanged,
)
from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(60)]


def received(seq: int, payload: dict) -> Event:
    return Event(seq, "loc", EventType.ORDER_RECEIVED, payload["orderId"], {"payload": payload})


def test_a_bad_order_is_skipped_and_the_board_goes_on(board_app: BoardDriver) -> None:
    board_app.post(OrderArrived({"orderId": {"not": "an id"}, "items": []}))
    board_app.post(OrderArrived({"orderId": "flagged", "items": "not a list"}))
    (good,) = board_app.add_orders(1)
    assert len(board_app.app.board.tickets()) == 2  # no id: nothing to show
    assert "NO ITEMS" in board_app.tile("flagged").body_text  # shown, flagged
    assert board_app.app.screen.tile_for(good["orderId"]) is not None


def test_offline_banner_then_escalating_alarm(board_app: BoardDriver) -> None:
    app = board_app.app
    app.sounds.played["alert"] = 0
    bar = app.screen.status_bar
    assert bar.link_text.startswith("LIVE · HTTP")
    board_app.post(LinkChanged(Link.OFFLINE, board_app.clock.now.mono, "no route"))
    board_app.wait_for(lambda: "OFFLINE" in bar.link_text, what="the link state")
    assert app.screen.banner_text == "", "no banner for a short blip"

    board_app.advance(app.device.connection.offline_banner_s + 1)
    assert "OFFLINE" in app.screen.banner_text
    assert "NOT reaching" in app.screen.banner_text
    assert app.sounds.played["alert"] == 0

    board_app.advance(app.device.connection.offline_alarm_s)
    assert app.sounds.played["alert"] == 1
    board_app.advance(1)
    assert app.sounds.played["alert"] == 1, "not every second"
    board_app.advance(31)
    assert app.sounds.played["alert"] == 2

    board_app.post(LinkChanged(Link.LIVE_MQTT, board_app.clock.now.mono))
    board_app.wait_for(lambda: app.screen.banner_text == "", what="the banner to go")
    assert bar.link_text.startswith("LIVE · MQTT")


def test_outbox_and_last_order_in_the_status_bar(board_app: BoardDriver) -> None:
    bar = board_app.app.screen.status_bar
    assert "no orders yet" in bar.info_text
    board_app.add_orders(1)
    board_app.post(OutboxChanged(3))
    board_app.wait_for(lambda: "3 unsent" in bar.link_text)
    board_app.advance(180)
    assert "last order 3 min" in bar.info_text


def test_actions_from_another_thread_run_on_the_main_thread(board_app: BoardDriver) -> None:
    ids = [p["orderId"] for p in board_app.add_orders(2)]
    board = board_app.app.board
    first = board.selected_id
    worker = threading.Thread(target=board_app.app.perform, args=(Action.BUMP,))
    worker.start()
    worker.join()
    assert not board.ticket(first).bumped, "nothing changed off the main thread"
    board_app.wait_for(lambda: board.ticket(first).bumped, what="the bump")
    board_app.post(ActionRequested(Action.UNDO, "gpio:17"))
    board_app.wait_for(lambda: not board.ticket(first).bumped, what="the undo")
    assert set(ids) == {t.order_id for t in board.open_tickets()}


def shown(app: object) -> dict:
    tiles = app.screen.tiles  # type: ignore[attr-defined]
    return {k: (t.title_text, t.body_text, t.clock_text) for k, t in tiles.items()}


def test_restart_shows_the_same_board(board_app: BoardDriver) -> None:
    ids = [p["orderId"] for p in board_app.add_orders(5)]
    app = board_app.app
    app.perform(Action.NEXT)
    app.perform(Action.BUMP)  # bumps the second ticket
    bumped = next(i for i in ids if app.board.ticket(i).bumped)
    victim = next(i for i in ids if i != bumped)
    board_app.post(OrderArrived(board_app.orders.cancel(app.board.ticket(victim).payload)))
    board_app.wait_for(lambda: app.board.ticket(victim).voided)
    board_app.advance(30)
    before = sorted(app.screen.tiles)
    texts = shown(app)

    app = board_app.restart()
    assert sorted(app.screen.tiles) == before
    assert {
        k: (t.title_text, t.body_text, t.clock_text) for k, t in app.screen.tiles.items()
    } == texts
    assert app.board.ticket(bumped).bumped
    assert [t.order_id for t in app.board.recall_list()] == [bumped]
    assert "CANCELLED" in app.screen.tile_for(victim).clock_text
