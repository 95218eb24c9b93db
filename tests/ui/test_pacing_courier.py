"""Pacing and the courier on the screen (issue 10), with real journal events through the
inbox, the board's injected clock and real taps: a scheduled order sits in UPCOMING and
joins the board at its start-by with the chime; courier 85 on an unfinished order turns its
header COURIER WAITING (colour and word) and sounds the alert once; a ready order with 85
does not shout; the bar says when the kitchen is falling behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kds_device.domain.events import Event, EventType
from kds_device.domain.timestamps import format_timestamp
from kds_device.runtime.messages import EventsArrived
from kds_device.ui.theme import Palette, hex_rgba
from tests.fixtures.board_app import BoardDriver
from tests.fixtures.pacing import courier, next_seq, received, reset_seq

pytestmark = [pytest.mark.ui, pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _fresh_journal() -> None:
    reset_seq()  # each test's app reads its journal from seq 1


def send(board_app: BoardDriver, *events: Event) -> None:
    board_app.post(EventsArrived(tuple(events), "mqtt", None))
    last = events[-1].seq
    board_app.wait_for(lambda: board_app.app.core.last_seq >= last, what=f"seq {last}")
    board_app.frames(2)


def promised(board_app: BoardDriver, minutes: float, asap: bool) -> dict[str, Any]:
    moment = format_timestamp(board_app.clock.now.wall + timedelta(minutes=minutes))
    return {
        "pickupTime": moment,
        "estimatedPickupTime": "",
        "deliveryTime": "",
        "deliveryIsAsap": asap,
    }


def header_rgb(board_app: BoardDriver, order_id: str) -> tuple[int, int, int]:
    tile = board_app.tile(order_id)
    x, y = tile.to_window(tile.x + tile.width * 0.5, tile.top - tile.row1_px - tile.row2_px - 2)
    return board_app.pixel(x, y)


def close(actual: tuple[int, int, int], hex_colour: str, slack: int = 6) -> bool:
    r, g, b, _ = hex_rgba(hex_colour)
    expected = (round(r * 255), round(g * 255), round(b * 255))
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


def test_a_scheduled_order_waits_upcoming_and_fires_at_start_by(board_app: BoardDriver) -> None:
    app = board_app.app
    asap = board_app.orders.order(**promised(board_app, 20, asap=True))
    later = board_app.orders.order(**promised(board_app, 50, asap=False))
    send(board_app, received(asap), received(later, {"grill": 12}))
    bar = app.screen.status_bar
    assert app.screen.tile_for(later["orderId"]) is None, "not a tile before its start-by"
    assert app.screen.tile_for(asap["orderId"]) is not None
    assert bar.upcoming_text == "1 upcoming"

    # the bar's button opens the panel: when it starts (promise 50 min - prep 12 min)
    board_app.tap_widget(bar.ids.upcoming)
    panel = app.screen.upcoming
    assert app.screen.upcoming_open and panel is not None and panel.parent is not None
    starts = (board_app.clock.now.wall + timedelta(minutes=38)).astimezone(None)
    assert f"starts {starts:%H:%M}" in panel.text, panel.text
    assert later["orderId"][:4] not in "".join(t.order_id for t in app.board.open_tickets())

    chimes = app.sounds.played["chime"]
    board_app.advance(37 * 60)
    assert app.screen.tile_for(later["orderId"]) is None
    assert app.sounds.played["chime"] == chimes
    board_app.advance(61)  # its start-by: on the board, with the new-order chime
    board_app.wait_for(lambda: app.screen.tile_for(later["orderId"]) is not None, what="tile")
    assert app.sounds.played["chime"] == chimes + 1
    assert bar.upcoming_text == "" and "no scheduled orders" in panel.text
    board_app.advance(1)
    assert app.sounds.played["chime"] == chimes + 1, "once"
    # the panel closes with a tap, and the board takes the room back
    board_app.tap_widget(panel)
    assert not app.screen.upcoming_open and panel.parent is None


def test_courier_waiting_is_loud_once_on_an_unfinished_order(board_app: BoardDriver) -> None:
    app = board_app.app
    order = board_app.orders.order(orderType=2, **promised(board_app, 15, asap=True))
    order_id = order["orderId"]
    send(board_app, received(order), courier(order_id, 83, etaMin=2))
    tile = board_app.tile(order_id)
    assert "COURIER 2 MIN" in tile.who_text, tile.who_text  # row 2, bold, at body size
    board_app.advance(61)
    assert "COURIER 1 MIN" in board_app.tile(order_id).who_text
    alerts = app.sounds.played["alert"]

    send(board_app, courier(order_id, 85, courier={"name": "Sam"}))
    tile = board_app.tile(order_id)
    words = tile.clock_text + " " + tile.who_text + " " + tile.due_text
    assert "COURIER WAITING" in words, words
    assert close(header_rgb(board_app, order_id), Palette.COURIER_WAITING[0])
    assert app.sounds.played["alert"] == alerts + 1
    send(board_app, courier(order_id, 85))  # told again: the same arrival
    board_app.advance(1)
    assert app.sounds.played["alert"] == alerts + 1, "once per arrival"

    # the expo sends it (70 from another screen): ready, quiet; off this ALL screen
    status = Event(next_seq(), "loc", EventType.STATUS_CHANGED, order_id, {"status": 70})
    send(board_app, status)
    assert app.screen.tile_for(order_id) is None
    assert not app.board.pace.courier_waiting(app.board.ticket(order_id))


def test_a_ready_order_with_the_courier_does_not_shout(board_app: BoardDriver) -> None:
    app = board_app.app
    order = board_app.orders.order(orderType=2, **promised(board_app, 15, asap=True))
    other = board_app.orders.order(orderType=2, **promised(board_app, 25, asap=True))
    send(board_app, received(order), received(other))
    if app.board.selected_id != order["orderId"]:
        board_app.tap_widget(board_app.tile(order["orderId"]))  # select
    board_app.tap_widget(board_app.tile(order["orderId"]))  # bump: 70, ready
    assert app.board.ticket(order["orderId"]).status == 70
    alerts = app.sounds.played["alert"]
    send(board_app, courier(order["orderId"], 85), courier(other["orderId"], 115))
    assert app.sounds.played["alert"] == alerts
    tile = board_app.tile(other["orderId"])
    assert "DELIVERY CANCELLED" in tile.who_text and "WAITING" not in tile.who_text


def test_the_bar_says_when_the_kitchen_falls_behind(board_app: BoardDriver) -> None:
    bar = board_app.app.screen.status_bar
    # one grill cook, 10 min a ticket, promises 14, 24 and 28 min out: finish-by 12, 22, 26;
    # they end at 10, 20 and 30: the third 4 min behind
    events = [
        received(board_app.orders.order(**promised(board_app, m, asap=True)), {"grill": 10})
        for m in (14, 24, 28)
    ]
    send(board_app, *events[:2])
    assert "behind" not in bar.late_text
    send(board_app, events[2])
    board_app.advance(1)
    assert "falling behind: +4 min" in bar.late_text, bar.late_text


def test_at_800x480_the_count_sits_beside_the_station_and_a_tap_opens_the_panel(
    board_app: BoardDriver,
) -> None:
    from kivy.core.window import Window

    Window.size = (800, 480)
    board_app.wait_for(lambda: board_app.app.screen.metrics.width == 800, what="the resize")
    later = board_app.orders.order(**promised(board_app, 90, asap=False))
    send(board_app, received(later))
    bar = board_app.app.screen.status_bar
    board_app.advance(1)
    assert bar.upcoming_text == "" and bar.ids.upcoming.width == 0  # no room for a button
    assert "1 upcoming" in bar.info_text.split("\n")[0], bar.info_text
    board_app.tap_widget(bar.ids.info, fx=0.2)
    assert board_app.app.screen.upcoming_open


def test_expo_and_a_station_show_the_courier(board_app: BoardDriver) -> None:
    from kds_device.domain.roles import Role

    board_app.data_dir = board_app.data_dir.parent / "expo"  # (a screen keeps its saved role)
    board_app.start(board__role=Role.from_text("expo"))
    app = board_app.app
    order = board_app.orders.order(orderType=2, **promised(board_app, 15, asap=True))
    order["items"] = order["items"][:1] * 2  # one item at the grill, one at the fryer
    order_id = order["orderId"]
    arrived = received(order, {"grill": 8, "fryer": 6})
    done = [
        Event(next_seq(), "loc", EventType.ORDER_PART, order_id, {"station": s, "done": True})
        for s in ("fryer", "grill")
    ]
    send(board_app, arrived, *done)
    tile = board_app.tile(order_id)
    assert "ALL READY" in tile.clock_text + tile.due_text  # (the word, in row 1 or 2)
    alerts = app.sounds.played["alert"]
    send(board_app, courier(order_id, 85))
    tile = board_app.tile(order_id)
    assert "COURIER WAITING" in tile.who_text  # all parts done, not sent: still waiting
    assert close(header_rgb(board_app, order_id), Palette.COURIER_WAITING[0])
    assert app.sounds.played["alert"] == alerts + 1

    reset_seq()
    board_app.data_dir = board_app.data_dir.parent / "grill"
    board_app.start(board__role=Role.from_text("stations:grill"))
    order2 = board_app.orders.order(orderType=2, **promised(board_app, 25, asap=True))
    order2["items"] = order2["items"][:1] * 2
    send(board_app, received(order2, {"grill": 8, "fryer": 6}), courier(order2["orderId"], 83))
    assert "COURIER EN ROUTE" in board_app.tile(order2["orderId"]).who_text
