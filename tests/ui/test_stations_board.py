"""Station and expo screens (issue 10) on the real board under Xvfb, with real touches and
real key events: a station shows only its items and a hint of the rest; a tap on an item
line of the selected, settled ticket strikes it through (and a second tap takes it back); a
tap on its header bumps the station's part; expo shows each station's progress, ALL READY in
a loud header, and its bump sends 70 once; recall and undo at item, part and expo level."""

from __future__ import annotations

from typing import Any

import pytest

from kds_device.domain.roles import Role, RoleKind
from kds_device.domain.ticket import ItemChange, PartChange, StatusChange
from kds_device.runtime.messages import EventsArrived
from kds_device.ui.theme import Palette, hex_rgba
from kds_device.ui.tile_view import ALL_READY
from tests.fixtures.board_app import BoardDriver
from tests.fixtures.bumpbar import FakeMono, Keys
from tests.fixtures.stations import Journal, kitchen_order

pytestmark = [pytest.mark.ui, pytest.mark.timeout(90)]

GRILL = Role.for_stations(["grill"])
EXPO = Role(RoleKind.EXPO)


def as_role(board_app: BoardDriver, role: Role) -> Keys:
    board_app.start(board__role=role)
    app = board_app.app
    assert app.keys is not None
    app.keys.clock = FakeMono()
    return Keys(app.keys.clock)


def feed(board_app: BoardDriver, *events: Any) -> None:
    board_app.post(EventsArrived(tuple(events), "mqtt"))
    seq = events[-1].seq
    board_app.wait_for(lambda: board_app.app.core.last_seq >= seq, what=f"event {seq}")
    board_app.frames(2)


def item_spot(board_app: BoardDriver, order_id: str, item: int) -> tuple[float, float]:
    """The window pixel in the middle of the first body row of ``item`` on its tile."""
    tile = board_app.tile(order_id)
    rows = list(tile._view.row_items)
    body = tile.ids.body
    row_px = body.height / len(rows)
    row = rows.index(item)
    return tile.to_window(body.x + 30, body.top - (row + 0.5) * row_px)


def header_spot(board_app: BoardDriver, order_id: str) -> tuple[float, float]:
    tile = board_app.tile(order_id)
    return tile.to_window(tile.center_x, tile.top - tile.head_px / 2)


def header(tile: Any) -> str:
    return " ".join((tile.title_text, tile.clock_text, tile.who_text, tile.due_text))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    r, g, b, _ = hex_rgba(hex_colour)
    return round(r * 255), round(g * 255), round(b * 255)


def near(actual: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 8) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


def test_a_station_screen_shows_only_its_items_and_a_hint(board_app: BoardDriver) -> None:
    as_role(board_app, GRILL)
    journal = Journal()
    mixed = kitchen_order(board_app.orders, ["grill", "fryer", "fryer", "grill"])
    fryer = kitchen_order(board_app.orders, ["fryer"])
    feed(
        board_app,
        journal.received(mixed, ["grill", "fryer", "fryer", "grill"]),
        journal.received(fryer, ["fryer"]),
    )
    shown = {order_id for order_id, _first in board_app.app.screen.tiles}
    assert shown == {mixed["orderId"]}, "an order with nothing for the grill never appears"
    body = board_app.tile(mixed["orderId"]).body_text
    assert "Grill item 0" in body and "Grill item 3" in body and "Extra cheese" in body
    assert "Fryer item" not in body
    assert "+2 at Fryer" in body
    assert "Grill" in board_app.app.screen.status_bar.ids.info.text


def test_item_done_by_touch_strikes_it_through_and_a_second_tap_takes_it_back(
    board_app: BoardDriver,
) -> None:
    keys = as_role(board_app, GRILL)
    journal = Journal()
    first = kitchen_order(board_app.orders, ["grill", "grill", "fryer"])
    second = kitchen_order(board_app.orders, ["grill", "grill"])
    feed(
        board_app,
        journal.received(first, ["grill", "grill", "fryer"]),
        journal.received(second, ["grill", "grill"]),
    )
    board = board_app.app.board
    target = second["orderId"]
    assert board.selected_id != target
    board_app.tap(*item_spot(board_app, target, 1))  # not selected: the tap selects only
    assert board.selected_id == target and board_app.sink.changes == []
    board_app.tap(*item_spot(board_app, target, 1))
    (change,) = board_app.sink.changes
    assert change == ItemChange(target, "grill", 1, True, change.key)
    tile = board_app.tile(target)
    struck = [row for row in tile.body_text.split("\n") if "Grill item 1" in row]
    assert struck and struck[0].startswith("[s]"), "struck through"
    assert "[s]" not in next(r for r in tile.body_text.split("\n") if "Grill item 0" in r)
    assert board_app.app.screen.tile_for(target) is not None, "still on screen"
    assert "item done" in board_app.app.screen.undo_bar.text
    keys.tap("numpad2")  # UNDO
    board_app.frames(2)
    assert board_app.sink.changes[-1] == ItemChange(
        target, "grill", 1, False, board_app.sink.changes[-1].key
    )
    assert "[s]" not in board_app.tile(target).body_text
    board_app.tap(*item_spot(board_app, target, 0))  # done again, then recalled by a tap
    board_app.tap(*item_spot(board_app, target, 0))
    assert [(c.item, c.done) for c in board_app.sink.changes[-2:]] == [(0, True), (0, False)]


def test_part_bump_by_touch_and_recall_reopen_the_part(board_app: BoardDriver) -> None:
    keys = as_role(board_app, GRILL)
    journal = Journal()
    order = kitchen_order(board_app.orders, ["grill", "fryer"])
    order_id = order["orderId"]
    feed(board_app, journal.received(order, ["grill", "fryer"]))
    assert board_app.app.board.selected_id == order_id
    board_app.tap(*header_spot(board_app, order_id))
    (change,) = board_app.sink.changes
    assert change == PartChange(order_id, "grill", True, change.key)
    assert board_app.app.screen.tile_for(order_id) is None
    assert "part bumped" in board_app.app.screen.undo_bar.text
    keys.tap("numpad1")  # RECALL: the list opens
    board_app.frames(2)
    keys.tap("numpad5")  # restore the first entry
    board_app.frames(2)
    assert board_app.sink.changes[-1] == PartChange(
        order_id, "grill", False, board_app.sink.changes[-1].key
    )
    assert board_app.app.screen.tile_for(order_id) is not None
    keys.tap("numpad5")  # bump it again, then undo
    board_app.frames(2)
    keys.tap("numpad2")
    board_app.frames(2)
    assert [c.done for c in board_app.sink.changes] == [True, False, True, False]
    assert not any(isinstance(c, StatusChange) for c in board_app.sink.changes)


def test_expo_shows_progress_all_ready_and_its_bump_sends_70_once(
    board_app: BoardDriver,
) -> None:
    keys = as_role(board_app, EXPO)
    journal = Journal()
    order = kitchen_order(board_app.orders, ["grill", "fryer", "fryer"])
    order_id = order["orderId"]
    feed(board_app, journal.received(order, ["grill", "fryer", "fryer"]))
    body = board_app.tile(order_id).body_text
    assert "Fryer  0/2" in body and "Grill  0/1" in body and "Fryer item 2" in body
    feed(board_app, journal.item(order_id, "fryer", 1, True), journal.part(order_id, "grill", True))
    body = board_app.tile(order_id).body_text
    assert "Fryer  1/2" in body and "Grill  done " in body
    assert ALL_READY not in header(board_app.tile(order_id))
    feed(board_app, journal.part(order_id, "fryer", True))
    tile = board_app.tile(order_id)
    assert ALL_READY in header(tile)
    spot = tile.to_window(tile.right - 12, tile.top - tile.head_px + 3)
    assert near(board_app.pixel(*spot), rgb(Palette.READY)), "ALL READY is loud"
    feed(board_app, journal.part(order_id, "fryer", False))  # fryer recalled its part
    tile = board_app.tile(order_id)
    assert ALL_READY not in header(tile) and "Fryer  1/2" in tile.body_text
    feed(board_app, journal.part(order_id, "fryer", True))
    keys.tap("numpad5")  # expo bump
    board_app.frames(2)
    assert [(type(c), c.status) for c in board_app.sink.changes] == [(StatusChange, 70)]
    assert board_app.app.screen.tile_for(order_id) is None
    keys.tap("numpad2")  # undo: back on expo, nothing sent
    board_app.frames(2)
    assert board_app.app.screen.tile_for(order_id) is not None
    keys.tap("numpad5")
    board_app.frames(2)
    assert len(board_app.sink.changes) == 1, "70 is sent exactly once"


def test_the_screen_takes_a_new_role_from_the_gateway_at_once(board_app: BoardDriver) -> None:
    board_app.start(board__device_id="dev-1")
    journal = Journal()
    mixed = kitchen_order(board_app.orders, ["grill", "fryer"])
    fryer = kitchen_order(board_app.orders, ["fryer"])
    feed(
        board_app,
        journal.received(mixed, ["grill", "fryer"]),
        journal.received(fryer, ["fryer"]),
    )
    assert {o for o, _first in board_app.app.screen.tiles} == {mixed["orderId"], fryer["orderId"]}
    assert "Fryer item 1" in board_app.tile(mixed["orderId"]).body_text
    feed(board_app, journal.role("dev-1", {"kind": "stations", "stations": ["grill"]}))
    assert {o for o, _first in board_app.app.screen.tiles} == {mixed["orderId"]}
    body = board_app.tile(mixed["orderId"]).body_text
    assert "Fryer item 1" not in body and "+1 at Fryer" in body
    assert "Grill" in board_app.app.screen.status_bar.ids.info.text
    feed(board_app, journal.role("dev-1", {"kind": "expo"}))
    assert "Fryer  0/1" in board_app.tile(fryer["orderId"]).body_text
    assert "EXPO" in board_app.app.screen.status_bar.ids.info.text
