"""A cook's fingers on the real board: tap selects, tapping the selected tile bumps, the
undo bar and the recall list bring a ticket back. Touches are real MotionEvents through
Kivy's input dispatch."""

from __future__ import annotations

import pytest

from kds_device.domain.status import OrderStatus
from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(60)]


def test_tap_selects_then_bumps(board_app: BoardDriver) -> None:
    first, second = (p["orderId"] for p in board_app.add_orders(2))
    board = board_app.app.board
    target = second if board.selected_id == first else first

    board_app.tap_widget(board_app.tile(target))
    assert board.selected_id == target
    assert board_app.tile(target).selected
    assert not board.ticket(target).bumped

    board_app.tap_widget(board_app.tile(target))
    assert board.ticket(target).bumped
    assert board_app.app.screen.tile_for(target) is None
    assert [(c.order_id, c.status) for c in board_app.sink.changes] == [
        (target, int(OrderStatus.READY_FOR_PICKUP))
    ]


def test_undo_bar_brings_the_bump_back(board_app: BoardDriver) -> None:
    (payload,) = board_app.add_orders(1)
    order_id = payload["orderId"]
    tile = board_app.tile(order_id)
    board_app.tap_widget(tile)  # already selected (the only ticket): bumps
    assert board_app.app.board.ticket(order_id).bumped
    undo = board_app.app.screen.undo_bar
    assert payload["channelOrderDisplayId"] in undo.text
    assert undo.y >= 0, "the undo bar is on screen"

    board_app.tap_widget(undo.ids.undo)
    assert not board_app.app.board.ticket(order_id).bumped
    assert board_app.app.screen.tile_for(order_id) is not None

    board_app.tap_widget(board_app.tile(order_id))
    board_app.advance(board_app.app.board.settings.undo_window_s + 1)
    assert undo.text == ""
    assert undo.y < 0, "the undo bar leaves the screen when its window closes"


def test_recall_list_restores_a_bumped_ticket(board_app: BoardDriver) -> None:
    payloads = board_app.add_orders(3)
    board = board_app.app.board
    bumped = board.selected_id
    board_app.tap_widget(board_app.tile(bumped))
    assert board.ticket(bumped).bumped

    board_app.tap_widget(board_app.app.screen.status_bar.ids.recall)
    panel = board_app.app.screen.recall
    assert board_app.app.screen.recall_open
    buttons = panel.buttons()
    assert [b.order_id for b in buttons] == [bumped]
    display = next(p for p in payloads if p["orderId"] == bumped)["channelOrderDisplayId"]
    assert display in buttons[0].text

    board_app.tap_widget(buttons[0])
    assert not board_app.app.screen.recall_open
    assert not board.ticket(bumped).bumped
    assert board.ticket(bumped).recalled
    tile = board_app.tile(bumped)
    assert "RECALLED" in tile.source_text
    assert len(board_app.sink.changes) == 1, "a recall sends nothing to Deliverect"


def test_a_tap_on_an_open_panel_never_bumps_the_tile_under_it(board_app: BoardDriver) -> None:
    (payload,) = board_app.add_orders(1)
    tile = board_app.tile(payload["orderId"])
    board_app.tap_widget(board_app.app.screen.status_bar.ids.recall)
    board_app.tap_widget(tile)  # the recall panel covers it
    assert not board_app.app.board.ticket(payload["orderId"]).bumped


def test_all_day_panel_toggles_and_counts(board_app: BoardDriver) -> None:
    payloads = board_app.add_orders(4)
    screen = board_app.app.screen
    columns, column_px = screen.metrics.columns, screen.metrics.column_px
    board_app.tap_widget(screen.status_bar.ids.all_day)
    assert screen.all_day_open
    assert screen.all_day.width <= column_px * 0.61, "the panel takes less than a column"
    assert screen.metrics.columns >= columns - 1
    right = max(t.right for t in screen.tiles.values())
    assert right <= screen.all_day.x, "side by side, nothing covered"
    name, count = board_app.app.board.all_day()[0]
    assert f"{count}[/color][/b]  {name}" in screen.all_day.text
    orders = [board_app.app.board.ticket(p["orderId"]).order for p in payloads]
    expected = sum(item.quantity for o in orders for item in o.items if item.name == name)
    assert count == expected
    board_app.tap_widget(screen.all_day)
    assert not screen.all_day_open
    assert screen.metrics.columns == columns
