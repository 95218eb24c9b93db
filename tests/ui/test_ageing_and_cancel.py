"""What the cook sees as tickets age and get cancelled: the late header is red in the pixels
and says LATE in words; a cancel shouts (red, struck through, CANCELLED) until tapped away;
a clock tick updates timers without rebuilding tiles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kds_device.runtime.messages import OrderArrived
from kds_device.ui.theme import Palette, hex_rgba
from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(60)]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    r, g, b, _ = hex_rgba(hex_colour)
    return round(r * 255), round(g * 255), round(b * 255)


def close(actual: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 6) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


def header_pixel(board_app: BoardDriver, order_id: str) -> tuple[int, int, int]:
    """A pixel of the tile's header background, clear of text and the selection frame."""
    tile = board_app.tile(order_id)
    x = tile.x + tile.width * 0.5
    y = tile.top - tile.row1_px - tile.row2_px - tile.row3_px * 0.1  # below the row-2 text
    x, y = tile.to_window(x, y)
    return board_app.pixel(x, y)


def body_pixel(board_app: BoardDriver, order_id: str) -> tuple[int, int, int]:
    """A pixel of the tile's body background, right of the text, above the bottom edge."""
    tile = board_app.tile(order_id)
    x = tile.right - tile.pad_px - 2  # item lines start at the left and are short here
    y = tile.y + tile.gap_px + tile.outline_px * 2 + 2
    return board_app.pixel(*tile.to_window(x, y))


def test_late_ticket_header_is_red_and_says_late(board_app: BoardDriver) -> None:
    promised = (board_app.clock.now.wall + timedelta(minutes=8)).isoformat()
    promise = {"pickupTime": promised, "estimatedPickupTime": promised, "deliveryTime": ""}
    old, fresh = (p["orderId"] for p in board_app.add_orders(2, **promise))
    on_time = Palette.HEADER[next(a for a in Palette.HEADER if a.value == "on time")][0]
    assert close(header_pixel(board_app, old), rgb(on_time))

    board_app.clock.advance(500)  # 8 min 20 s: both past their promise: late
    board_app.post(OrderArrived(board_app.orders.order()))
    board_app.wait_for(lambda: len(board_app.app.board.open_tickets()) == 3)
    board_app.advance(0)

    late_bg = Palette.HEADER[next(a for a in Palette.HEADER if a.value == "late")][0]
    assert close(header_pixel(board_app, old), rgb(late_bg)), header_pixel(board_app, old)
    tile = board_app.tile(old)
    assert "LATE" in tile.clock_text + tile.due_text, "never colour alone"
    assert "08:20" in board_app.tile(old).clock_text
    assert "[b]3[/b] open" in board_app.app.screen.status_bar.info_text
    assert "2 LATE" in board_app.app.screen.status_bar.late_text
    assert fresh


def test_clock_tick_changes_timer_labels_only(board_app: BoardDriver) -> None:
    ids = [p["orderId"] for p in board_app.add_orders(3)]
    tiles = {i: board_app.tile(i) for i in ids}
    bodies = {i: tiles[i].ids.body.texture for i in ids}
    before = {i: tiles[i].clock_text for i in ids}
    board_app.advance(61)
    for order_id in ids:
        tile = board_app.tile(order_id)
        assert tile is tiles[order_id], "the same widget, not a rebuilt one"
        assert tile.ids.body.texture is bodies[order_id], "body not re-rendered"
        assert tile.clock_text != before[order_id]


def test_new_order_adds_one_tile_and_keeps_the_others(board_app: BoardDriver) -> None:
    ids = [p["orderId"] for p in board_app.add_orders(3)]
    screen = board_app.app.screen
    placed = dict(screen._placed)
    tiles = dict(screen.tiles)
    bodies = {key: tile.ids.body.texture for key, tile in tiles.items()}
    (new,) = board_app.add_orders(1)
    assert len({order_id for order_id, _first in screen.tiles}) == 4
    kept = [k for k, p in placed.items() if k in screen._placed and screen._placed[k] == p]
    assert kept, "at least the first ticket stays where it was"
    for key in kept:  # a ticket whose place did not change is neither rebuilt nor redrawn
        assert screen.tiles[key] is tiles[key]
        assert screen.tiles[key].ids.body.texture is bodies[key]
    assert board_app.tile(new["orderId"]) not in [tiles[k] for k in kept]
    assert set(ids) <= {order_id for order_id, _first in screen.tiles}


def test_cancel_shouts_and_stays_until_held(board_app: BoardDriver) -> None:
    payload, other = board_app.add_orders(2)
    order_id = payload["orderId"]
    board_app.post(OrderArrived(board_app.orders.cancel(payload, reason="Store too busy")))
    board_app.wait_for(lambda: board_app.app.board.ticket(order_id).voided, what="the cancel")
    board_app.frames(2)
    assert board_app.app.sounds.played["alert"] == 1

    tile = board_app.tile(order_id)
    assert "CANCELLED" in tile.clock_text
    assert tile.clock_px >= tile.title_px, "CANCELLED at least as large as the id"
    assert "HOLD TO CLEAR" in tile.who_text
    assert "Store too busy" in tile.source_text
    assert tile.body_text.startswith("[s]") and "[color" not in tile.body_text, "plain white"
    assert close(header_pixel(board_app, order_id), rgb(Palette.HEADER_VOID[0]))
    assert close(body_pixel(board_app, order_id), rgb(Palette.TILE_VOID)), "red all over"
    assert not close(body_pixel(board_app, other["orderId"]), rgb(Palette.TILE_VOID))

    board_app.advance(3600)  # an hour later it is still there
    assert board_app.app.screen.tile_for(order_id) is not None

    board_app.tap_widget(board_app.tile(order_id), hold_s=1.1)
    assert board_app.app.screen.tile_for(order_id) is None
    assert board_app.app.board.ticket(order_id).void_acknowledged
    assert board_app.sink.changes == [], "nothing is ever sent for a voided order"
    assert board_app.app.screen.tile_for(other["orderId"]) is not None


def test_new_order_chimes(board_app: BoardDriver) -> None:
    board_app.add_orders(1)
    assert board_app.app.sounds.played["chime"] == 1
