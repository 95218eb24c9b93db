"""Issue 9, points 6, 8 and 19 on the screen: the tile and the bar agree on LATE; promises far
off show their clock time, never absurd minutes; the bar says when the clock is wrong; tiles
name Deliverect's channels without any configuration."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import format_datetime

import pytest

from kds_device.adapters.clock_sync import ClockCheck
from kds_device.config import DisplayConfig
from kds_device.domain.board import AgeClass
from kds_device.domain.timestamps import format_timestamp
from kds_device.ui.theme import Palette
from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(90)]


def promise(board_app: BoardDriver, minutes: float) -> dict[str, str]:
    moment = format_timestamp(board_app.clock.now.wall + timedelta(minutes=minutes))
    return {"pickupTime": moment, "estimatedPickupTime": moment, "deliveryTime": ""}


def words(board_app: BoardDriver, order_id: str) -> str:
    tile = board_app.tile(order_id)
    # the due time is in row 2, or in row 3 when the customer's name needed the room
    return tile.clock_text + " " + tile.due_text + " " + tile.source_text


def test_tile_and_bar_agree_on_late(board_app: BoardDriver) -> None:
    (ahead,) = board_app.add_orders(1, orderType=1, **promise(board_app, 21))
    (soon,) = board_app.add_orders(1, orderType=1, **promise(board_app, 6))
    board_app.advance(8 * 60 + 1)  # both past the kitchen's 8 min; one promise still 13 min off
    bar = board_app.app.screen.status_bar
    board = board_app.app.board

    text = words(board_app, ahead["orderId"])
    assert "LATE" not in text and "HURRY" in text and "due 12 min" in text, text
    late_text = words(board_app, soon["orderId"])
    assert "LATE" in late_text and "min over" in late_text, late_text
    assert "1 LATE" in bar.late_text, bar.late_text
    # the colour says the same as the word
    late_colour = list(Palette.rgba(Palette.HEADER[AgeClass.LATE][0]))
    hurry_colour = list(Palette.rgba(Palette.HEADER[AgeClass.CAUTION][0]))
    assert list(board_app.tile(soon["orderId"]).header_rgba) == late_colour
    assert list(board_app.tile(ahead["orderId"]).header_rgba) == hurry_colour
    # the late ticket comes first, the bar counts exactly the tiles that say LATE
    assert board.open_tickets()[0].order_id == soon["orderId"]
    said_late = sum("LATE" in words(board_app, t.order_id) for t in board.open_tickets())
    assert f"{said_late} LATE" in bar.late_text


def test_a_long_past_promise_shows_its_clock_time(board_app: BoardDriver) -> None:
    (old,) = board_app.add_orders(1, orderType=1, **promise(board_app, -10736))
    text = words(board_app, old["orderId"])
    assert "LATE" in text and "10736" not in text and "due " in text, text
    assert "1 LATE" in board_app.app.screen.status_bar.late_text


def test_the_bar_says_when_this_screens_clock_is_wrong(board_app: BoardDriver) -> None:
    check = ClockCheck(timesync=lambda: True)
    board_app.app.clock_note = check.note
    board_app.advance(1)
    bar = board_app.app.screen.status_bar
    assert "CLOCK" not in bar.link_text
    now = board_app.clock.now
    gateway_date = format_datetime(now.wall + timedelta(hours=11), usegmt=True)
    check.note_date(gateway_date, now.wall, now.mono)  # the gateway is 11 h ahead of us
    board_app.advance(1)
    assert "CLOCK 11 h SLOW" in bar.link_text, bar.link_text


def test_tiles_name_deliverect_channels_without_configuration(board_app: BoardDriver) -> None:
    board_app.start(display__channels=DisplayConfig().channels)
    (order,) = board_app.add_orders(1, channel=39)
    source = board_app.tile(order["orderId"]).source_text
    assert "iFood" in source and "channel 39" not in source, source


@pytest.mark.parametrize("step_h", [3, -3])
def test_a_clock_step_and_a_restart_leave_the_timer_alone(
    board_app: BoardDriver, step_h: int
) -> None:
    (order,) = board_app.add_orders(1, orderType=1, **promise(board_app, 25))
    board_app.advance(120)
    board_app.clock.step_wall(step_h * 3600)  # NTP steps the clock...
    board_app.restart()  # ...and the app restarts (a crash, an update)
    board_app.advance(1)
    tile = board_app.tile(order["orderId"])
    assert re.search(r"(?<![\d:])02:01", tile.clock_text), (
        "2 min, not 3 h 2 min: " + tile.clock_text
    )
    bar = board_app.app.screen.status_bar
    said_late = "LATE" in words(board_app, order["orderId"])
    assert said_late == ("1 LATE" in bar.late_text), (
        words(board_app, order["orderId"]),
        bar.late_text,
    )
