"""A screen that cares for itself, on the real board under Xvfb: real touches and key
presses, GPIO buttons on gpiozero's MockFactory, a fake sysfs backlight of real files."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from kds_device.domain.actions import Action
from kds_device.domain.screen_care import CareSettings, Look, parse_hours
from tests.device.test_display_power import backlight, read
from tests.fixtures.board_app import BoardDriver, _motion_event_class
from tests.fixtures.bumpbar import FakeMono, Keys

BACKGROUND = (13, 16, 20)  # Palette.BACKGROUND


def keys_for(app: Any) -> Keys:
    app.keys.clock = FakeMono()
    return Keys(app.keys.clock)


def gate_spy(app: Any) -> list[Action | None]:
    """Records what asked the core's input gate (and still asks the real one)."""
    seen: list[Action | None] = []
    real = app.core.input_gate

    def gate(action: Action | None) -> bool:
        seen.append(action)
        return bool(real(action))

    app.core.input_gate = gate
    return seen


def bump_the_only_ticket(board_app: BoardDriver) -> str:
    [payload] = board_app.add_orders(1)
    order_id = str(payload["orderId"])
    board_app.tap_widget(board_app.tile(order_id))  # the only ticket is selected: bumps
    board_app.wait_for(lambda: board_app.app.board.ticket(order_id).bumped, what="bump")
    return order_id


def test_the_touch_or_key_that_wakes_a_dimmed_screen_does_nothing_else(
    board_app: BoardDriver, tmp_path: Path
) -> None:
    device = backlight(tmp_path / "sys")
    app = board_app.start(
        display__care=CareSettings(dim_after_s=4, dim_level=0.3),
        display__backlight=f"sysfs:{device}",
        board__undo_window_s=60.0,
    )
    keys = keys_for(app)
    order_id = bump_the_only_ticket(board_app)
    assert len(board_app.sink.changes) == 1
    board_app.advance(4.5)  # quiet, nothing open: dim (the undo bar still offers UNDO)
    assert app.care.state.look is Look.DIM
    assert read(device, "brightness") == "60"  # the backlight dims; no veil needed
    assert app.screen.undo_bar.text

    board_app.tap_widget(app.screen.undo_bar.ids.undo)  # wakes, and does not undo
    assert app.care.state.look is Look.AWAKE and read(device, "brightness") == "200"
    assert app.board.ticket(order_id).bumped and not app.screen.recall_open

    board_app.advance(4.5)
    assert app.care.state.look is Look.DIM
    keys.tap("u")  # UNDO on the keyboard: wakes only
    keys.tap("numpad2")  # UNDO on the keypad: wakes only (awake now, so ...)
    assert not app.board.ticket(order_id).bumped  # ... this one acts
    assert len(board_app.sink.changes) == 1  # and an undo sends nothing

    board_app.advance(4.5)  # open again: stays awake
    assert app.care.state.look is Look.AWAKE


def test_an_order_wakes_the_dimmed_screen_and_the_next_tap_acts(board_app: BoardDriver) -> None:
    app = board_app.start(display__care=CareSettings(dim_after_s=60, dim_level=0.3))
    board_app.advance(61)
    assert app.care.state.look is Look.DIM
    keys_for(app).tap("f12")  # any key wakes it, even one the key map does not know
    assert app.care.state.look is Look.AWAKE
    board_app.advance(61)
    assert app.care.state.look is Look.DIM
    assert app.care.veil_rgba[3] == 0.7  # no backlight here: a veil over the board
    [payload] = board_app.add_orders(1)
    assert app.care.state.look is Look.AWAKE and app.care.veil_rgba[3] == 0
    tile = board_app.tile(str(payload["orderId"]))
    board_app.tap_widget(tile)
    assert app.board.ticket(str(payload["orderId"])).bumped


def test_the_offline_banner_lights_a_dimmed_screen(board_app: BoardDriver) -> None:
    from kds_device.runtime.messages import Link, LinkChanged

    app = board_app.start(display__care=CareSettings(dim_after_s=60))
    board_app.advance(61)
    assert app.care.state.look is Look.DIM
    board_app.post(LinkChanged(Link.OFFLINE, board_app.clock.now.mono, "no route"))
    board_app.advance(10)  # past the banner's grace time
    assert "OFFLINE" in app.screen.banner_text
    board_app.advance(1)
    assert app.care.state.look is Look.AWAKE  # a silent outage is never shown dimmed
    board_app.advance(120)
    assert app.care.state.look is Look.AWAKE


def test_cleaning_lock_ignores_keys_touches_and_gpio_while_orders_arrive(
    board_app: BoardDriver,
) -> None:
    app = board_app.start(
        display__care=CareSettings(lock_s=20),
        bumpbar__pins={13: "bump"},
        bumpbar__pin_factory="mock",
        bumpbar__guard_s=0.0,
    )
    assert app.gpio is not None
    factory = app.gpio.buttons[0].pin_factory
    keys = keys_for(app)
    board_app.add_orders(3)
    app.perform(Action.FIRST)
    selected = app.board.selected_id
    chimes = app.sounds.played["chime"]
    seen = gate_spy(app)

    keys.tap("l")
    care = app.care
    assert care.state.locked and care.count_text == "20"
    assert care.ids.lock.y > 0 and care.ids.count.text == "20"  # the countdown is on screen
    for key in ("enter", "numpadenter", "numpad5", "right", "a", "r"):
        keys.tap(key)
    board_app.tap_widget(board_app.tile(selected))  # the selected tile: would bump
    board_app.tap_widget(app.screen.status_bar.ids.recall)

    def press_gpio() -> None:
        factory.pin(13).drive_low()
        factory.pin(13).drive_high()

    worker = threading.Thread(target=press_gpio, name="edge")
    worker.start()
    worker.join()
    # keys stop before the key map; the GPIO press reaches the core's gate, which says no
    board_app.wait_for(lambda: Action.BUMP in seen, what="the GPIO press at the gate")

    [late] = board_app.add_orders(1)  # an order still arrives, shows and chimes
    assert app.board.ticket(str(late["orderId"])) is not None
    assert app.sounds.played["chime"] == chimes + 1
    assert care.news_text == "1 new order"
    assert board_app.sink.changes == []  # nothing bumped: nothing reached the outbox
    assert not any(t.bumped for t in app.board.open_tickets())
    assert app.board.selected_id == selected and not app.screen.recall_open
    assert not app.screen.all_day_open

    board_app.advance(5)
    left = int(care.count_text)
    assert 0 < left < 20 and care.state.locked
    board_app.advance(left + 0.5)  # it ends by itself
    assert not care.state.locked and care.count_text == "" and care.ids.lock.top < 0
    keys.tap("enter")
    board_app.wait_for(lambda: len(board_app.sink.changes) == 1, what="a bump after the lock")


def test_the_keypad_locks_with_a_hold_of_its_corner_key(board_app: BoardDriver) -> None:
    from kivy.base import EventLoop

    app = board_app.start(display__care=CareSettings(lock_s=30), bumpbar__hold_time_s=1.0)
    board_app.add_orders(2)
    keys = keys_for(app)
    keys.tap("numpaddecimal")  # a short press: its own action, no lock
    assert not app.care.state.locked
    keys.down("numpaddecimal")
    keys.advance(1.2)
    for _ in range(20):  # the app polls held keys a few times a second
        EventLoop.idle()
        if app.care.state.locked:
            break
    keys.up("numpaddecimal")
    assert app.care.state.locked
    keys.tap("enter")
    assert board_app.sink.changes == []


def test_a_long_press_on_the_status_bar_locks_a_short_one_does_not(
    board_app: BoardDriver,
) -> None:
    app = board_app.start(display__care=CareSettings(lock_s=30, lock_press_s=2.0))
    board_app.add_orders(2)
    bar = app.screen.status_bar
    board_app.tap_widget(bar.ids.info, hold_s=1.5)
    assert not app.care.state.locked
    board_app.tap_widget(bar.ids.recall, hold_s=2.2)  # held on a button: it locks instead
    assert app.care.state.locked
    assert app.core.recall is None and not app.screen.recall_open
    board_app.advance(30.5)
    assert not app.care.state.locked
    board_app.tap_widget(bar.ids.recall)
    assert app.screen.recall_open


def test_the_board_shifts_within_its_bound_and_never_under_a_finger(
    board_app: BoardDriver,
) -> None:
    from kivy.base import EventLoop

    app = board_app.start(display__care=CareSettings(shift_px=4, shift_every_s=60))
    [payload] = board_app.add_orders(1)  # an open ticket: awake all along
    order_id = str(payload["orderId"])
    assert tuple(app.root.pos) == (0, 0)
    seen = set()
    for _ in range(161):  # once round the loop
        board_app.advance(61)
        x, y = app.root.pos
        assert abs(x) <= 4 and abs(y) <= 4
        seen.add((x, y))
    assert len(seen) == 81  # the whole 9 x 9 square
    tile = board_app.tile(order_id)
    assert tile.to_window(*tile.pos) == (tile.x + app.root.x, tile.y + app.root.y)

    finger = _motion_event_class()(*tile.to_window(*tile.center))
    EventLoop.post_dispatch_input("begin", finger)
    board_app.frames()
    held_at = tuple(app.root.pos)
    for _ in range(5):
        board_app.advance(61)  # shifts are due, the finger is down: the board stays put
        assert tuple(app.root.pos) == held_at
    EventLoop.post_dispatch_input("end", finger)  # selected and still: this tap bumps
    board_app.frames(2)
    assert app.board.ticket(order_id).bumped
    board_app.advance(1)
    assert tuple(app.root.pos) != held_at  # the finger gone, the shift goes on


def test_screen_off_outside_hours_and_on_inside(board_app: BoardDriver, tmp_path: Path) -> None:
    device = backlight(tmp_path / "sys")
    local = board_app.clock.now.wall.astimezone()  # the app's zone (no tz given: the system's)
    opens = local + timedelta(hours=1)
    hours, problems = parse_hours(f"{opens:%H:%M}-{opens + timedelta(hours=8):%H:%M}")
    assert problems == []
    app = board_app.start(
        display__care=CareSettings(hours=hours, off_after_s=60),
        display__backlight=f"sysfs:{device}",
    )
    width, height = app.root.size
    board_app.advance(30)
    assert app.care.state.look is Look.AWAKE and read(device, "bl_power") == "0"
    assert board_app.pixel(width / 2, height / 3) == BACKGROUND
    board_app.advance(31)
    assert app.care.state.look is Look.OFF and not app.care.state.open_hours
    assert read(device, "bl_power") == "4"
    assert board_app.pixel(width / 2, height / 3) == (0, 0, 0)  # and drawn black

    [payload] = board_app.add_orders(1)  # a late order outside hours: lit and shown
    assert read(device, "bl_power") == "0" and read(device, "brightness") == "200"
    board_app.tap_widget(board_app.tile(str(payload["orderId"])))
    assert app.board.ticket(str(payload["orderId"])).bumped
    board_app.advance(61)
    assert read(device, "bl_power") == "4"

    board_app.advance(3600 - 122)  # opening time: on by itself
    assert app.care.state.open_hours and app.care.state.look is Look.AWAKE
    assert (read(device, "bl_power"), read(device, "brightness")) == ("0", "200")
    assert board_app.pixel(width / 2, height / 3) == BACKGROUND
