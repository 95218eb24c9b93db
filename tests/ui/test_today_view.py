"""The "Today" view on the real board under Xvfb: opened and closed by real key events (T,
keypad ".", Esc) and real touches (the bar's TODAY button, the late count, BACK), its tabs by
touch and by the arrow keys, its figures the core's, readable at 800x480, and the board
still taking orders (and nothing bumped) while it is open."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest

from kds_device.domain.events import Event, EventType
from kds_device.domain.timestamps import format_timestamp
from kds_device.runtime.messages import EventsArrived
from kds_device.ui.today_screen import SCREEN_NAME, TodayView
from tests.fixtures.board_app import BoardDriver

pytestmark = pytest.mark.timeout(60)


class Journal:
    """Events of one location at the fake clock's times (as the gateway stamps them)."""

    def __init__(self, driver: BoardDriver) -> None:
        self.driver = driver
        self.seq = 0

    def send(self, kind: EventType, order_id: str, minutes_ago: float, **data: Any) -> None:
        self.seq += 1
        at = self.driver.clock.now.wall - timedelta(minutes=minutes_ago)
        event = Event(self.seq, "loc", kind, order_id, data, format_timestamp(at))
        self.driver.post(EventsArrived((event,), "http"))
        self.driver.wait_for(lambda: self.driver.app.core.last_seq >= self.seq, what="event")

    def served(self, channel: int, took_min: float, ago_min: float = 1.0) -> str:
        payload = self.driver.orders.order(note="", deliveryIsAsap=True, channel=channel)
        payload["pickupTime"] = format_timestamp(self.driver.clock.now.wall + timedelta(hours=2))
        order_id = str(payload["orderId"])
        self.send(EventType.ORDER_RECEIVED, order_id, ago_min + took_min, payload=payload)
        self.send(EventType.STATUS_CHANGED, order_id, ago_min, status=70, source="device")
        return order_id


def key(name: str) -> None:
    from kivy.core.window import Keyboard, Window

    code = Keyboard.keycodes[name]
    Window.dispatch("on_key_down", code, 0, name if len(name) == 1 else None, [])
    Window.dispatch("on_key_up", code, 0)


def view_of(driver: BoardDriver) -> TodayView:
    screen = driver.app.root.get_screen(SCREEN_NAME)
    found: TodayView = screen.children[0]
    return found


def is_open(driver: BoardDriver) -> bool:
    driver.frames(2)
    return bool(driver.app.root.current == SCREEN_NAME)


def texts(view: TodayView) -> list[str]:
    return [str(label.text) for label in reversed(view.ids.table.children)]


def test_keys_open_switch_and_close_the_view(board_app: BoardDriver) -> None:
    journal = Journal(board_app)
    journal.served(7, took_min=6)
    journal.served(7, took_min=10)
    journal.served(8, took_min=4)
    board_app.add_orders(2)
    board = board_app.app.board
    selected = board.selected_id
    assert selected is not None

    key("t")
    assert is_open(board_app)
    view = view_of(board_app)
    assert view.summary_text.startswith("3 tickets · median 6:00")
    assert view.by == "hour"
    key("right")  # NEXT: the next tab
    board_app.frames(2)
    assert view.by == "channel"
    shown = texts(view)
    assert shown[shown.index("Uber Eats") : shown.index("Uber Eats") + 5] == [
        "Uber Eats",
        "2",
        "8:00",  # the median of 6 and 10 minutes
        "10:00",
        "0%",
    ]
    assert "Deliveroo" in shown
    key("enter")  # BUMP: the board is out of sight, nothing is bumped
    board_app.frames(2)
    assert not board.ticket(selected).bumped
    key("numpaddecimal")  # the keypad's TODAY closes it
    assert not is_open(board_app)
    key("numpaddecimal")
    assert is_open(board_app)
    assert view_of(board_app).by == "channel", "the tab is kept"
    key("escape")
    assert not is_open(board_app)
    assert board_app.app.root.current == "board"
    key("enter")  # the board has its keys back
    board_app.frames(2)
    assert board.ticket(selected).bumped


def test_touch_opens_from_the_bar_switches_tabs_and_back_closes(board_app: BoardDriver) -> None:
    journal = Journal(board_app)
    journal.served(11, took_min=12)
    bar = board_app.app.screen.status_bar
    board_app.tap_widget(bar.ids.today)
    assert is_open(board_app)
    view = view_of(board_app)
    board_app.tap_widget(view.ids.tab_station)
    assert view.by == "station" and board_app.app.core.today_by == "station"
    assert "all" in texts(view)  # an order without routing: one part, "all"
    board_app.tap_widget(view.ids.back)
    assert not is_open(board_app)
    board_app.tap_widget(bar.ids.late)  # the late count is a way in too
    assert is_open(board_app)


def test_orders_keep_arriving_and_figures_follow_while_open(board_app: BoardDriver) -> None:
    journal = Journal(board_app)
    key("t")
    assert is_open(board_app)
    view = view_of(board_app)
    assert view.summary_text == "no tickets finished yet today"
    assert texts(view) == ["nothing finished yet today"]
    journal.served(7, took_min=5)  # arrives and is bumped elsewhere while the view is open
    board_app.add_orders(1)
    board_app.advance(1)  # the once-a-second refresh
    assert view.summary_text.startswith("1 ticket · median 5:00")
    assert is_open(board_app), "new orders do not close the view"


def test_readable_at_800x480_with_a_long_day(board_app: BoardDriver) -> None:
    from kivy.core.window import Window

    Window.size = (800, 480)
    board_app.wait_for(lambda: board_app.app.screen.metrics.width == 800, what="resize")
    board_app.app.tz = UTC  # the fake clock's 18:00 UTC: twelve hours back is still today
    journal = Journal(board_app)
    hours_ago = [11.5 - h for h in range(12)]  # twelve hours of tickets: 06:00 to 17:00
    for ago in hours_ago:
        journal.served(7, took_min=7, ago_min=ago * 60)
    key("t")
    assert is_open(board_app)
    view = view_of(board_app)
    board_app.frames(3)
    labels = list(view.ids.table.children)
    assert view.font_px >= 18, "row text stays readable from the line"
    assert all(label.font_size >= 15 for label in labels)
    for label in labels:  # everything inside the window, nothing cut by another row
        x, y = label.to_window(label.x, label.y)
        assert x >= 0 and y >= 0 and x + label.width <= 800 + 1 and y + label.height <= 480 + 1
        assert label.texture_size[0] <= label.width + 1
    shown_hours = [t for t in texts(view) if t.endswith(":00") and len(t) == 5]
    assert shown_hours == sorted(set(shown_hours)) and shown_hours[-1] == "17:00"
    assert len(shown_hours) >= 9, "most of a day on one screen"
    assert len(shown_hours) + view.hidden == 12, "the earliest left out, and said so"
    if view.hidden:
        assert f"{view.hidden} earlier not shown" in view.foot_text
