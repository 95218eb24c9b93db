"""Trust every press (issue 9, points 1-5 and 7), on the real board under Xvfb with real
touches (MotionEvents through Kivy's input dispatch) and real key events on the window.

1. no action applies to a ticket that is not on the screen; the selection stays on the page;
2. a tap bumps only a ticket selected and in place before the finger went down, settled;
3. a status a screen sends shows on the tile (PREPARING), also when another screen sent it;
4. a cancel is cleared by a hold with visible progress, and the tile says so;
5. learn mode opens only by the chord, closes by touch and after 30 s idle, counts orders;
7. late and cancelled tickets on other pages are counted in the bar, and jumped to.
"""

from __future__ import annotations

from typing import Any

import pytest

from kds_device.config import DeviceConfig, config_from_mapping
from kds_device.domain.actions import Action
from kds_device.domain.board import AgeClass
from kds_device.domain.events import Event, EventType
from kds_device.domain.status import OrderStatus
from kds_device.runtime.messages import EventsArrived, OrderArrived
from kds_device.ui.learn_screen import SCREEN_NAME, LearnScreen
from kds_device.ui.theme import Palette, hex_rgba
from tests.fixtures.board_app import BoardDriver, _motion_event_class
from tests.fixtures.bumpbar import FakeMono, Keys, pump_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(90)]


def with_keys(board_app: BoardDriver) -> Keys:
    """Real key events on the window; the key input (and learn screen) on a fake clock."""
    app = board_app.app
    assert app.keys is not None
    app.keys.clock = FakeMono()
    return Keys(app.keys.clock)


def on_screen(board_app: BoardDriver) -> set[str]:
    return {order_id for order_id, _first in board_app.app.screen.tiles}


def sent(board_app: BoardDriver) -> list[tuple[str, int]]:
    return [(c.order_id, c.status) for c in board_app.sink.changes]


class Finger:
    """A finger put down on a widget and lifted later (other things may happen between)."""

    def __init__(self, board_app: BoardDriver, widget: Any) -> None:
        from kivy.base import EventLoop

        self.board_app = board_app
        x, y = widget.to_window(widget.center_x, widget.center_y)
        self.touch = _motion_event_class()(x, y)
        EventLoop.post_dispatch_input("begin", self.touch)
        board_app.frames()

    def lift(self) -> None:
        from kivy.base import EventLoop

        EventLoop.post_dispatch_input("end", self.touch)
        self.board_app.frames(2)


def drawn(label: Any) -> str:
    """The characters Kivy rendered in ``label`` (after any shortening)."""
    lines = label._label._cached_lines
    return "\n".join("".join(word.text for word in line.words) for line in lines)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    r, g, b, _ = hex_rgba(hex_colour)
    return round(r * 255), round(g * 255), round(b * 255)


def near(actual: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 8) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


# ---- 1. never on an unseen ticket ----------------------------------------------------------


def test_bump_and_start_on_page_two_never_reach_a_ticket_off_screen(
    board_app: BoardDriver,
) -> None:
    board_app.add_orders(40)
    keys = with_keys(board_app)
    board = board_app.app.board
    assert len(board.pages()) >= 2
    keys.tap("numpadadd")  # PAGE NEXT
    board_app.frames(2)
    assert board.page_index == 1
    for key in ("numpad5", "numpad5", "numpad8", "numpad5"):  # BUMP, BUMP, START, BUMP
        visible = on_screen(board_app)
        before = len(board_app.sink.changes)
        keys.tap(key)
        board_app.frames(2)
        for order_id, _status in sent(board_app)[before:]:
            assert order_id in visible, f"{key} acted on {order_id}, which was not on screen"
        selected = board.selected_id
        assert selected is None or selected in on_screen(board_app), "selection off the page"
        assert board.page_index == 1
    assert len(board_app.sink.changes) >= 3


def test_bumping_the_last_ticket_of_a_page_selects_nothing_elsewhere(
    board_app: BoardDriver,
) -> None:
    board_app.add_orders(40)
    keys = with_keys(board_app)
    board = board_app.app.board
    last = len(board.pages()) - 1
    keys.tap("numpadsubstract")  # PAGE BACK from the first page: stays
    for _ in range(last):
        keys.tap("numpadadd")
    board_app.frames(2)
    assert board.page_index == last
    while board.page_index == last and on_screen(board_app):
        before, count = on_screen(board_app), len(board_app.sink.changes)
        keys.tap("numpad5")
        board_app.frames(2)
        assert all(order_id in before for order_id, _ in sent(board_app)[count:])
    # the page emptied: whatever is shown now, nothing off-screen is selected or bumped
    selected = board.selected_id
    assert selected is None or selected in on_screen(board_app)
    count = len(board_app.sink.changes)
    shown = on_screen(board_app)
    keys.tap("numpad5")
    board_app.frames(2)
    assert all(order_id in shown for order_id, _ in sent(board_app)[count:])


# ---- 2. the third tap -----------------------------------------------------------------------


def test_the_third_tap_does_not_bump_the_ticket_that_slid_in(board_app: BoardDriver) -> None:
    board_app.add_orders(3)
    board = board_app.app.board
    first = board.open_tickets()[0].order_id
    tile = board_app.tile(first)
    spot = tile.to_window(tile.center_x, tile.top - tile.head_px / 2)  # on its header

    board_app.tap(*spot)  # selects (it already is: the first ticket)
    board_app.tap(*spot)  # bumps it
    assert sent(board_app) == [(first, int(OrderStatus.READY_FOR_PICKUP))]
    slid_in = board.selected_id
    assert slid_in is not None and board_app.tile(slid_in).collide_point(*spot)

    board_app.tap(*spot, gap_s=0.2)  # the third tap, at once: the board just moved
    assert len(board_app.sink.changes) == 1, "bumped an order the cook never chose"
    assert not board.ticket(slid_in).bumped
    board_app.tap(*spot)  # a deliberate tap once the board has settled
    assert board.ticket(slid_in).bumped
    assert DeviceConfig().display.tap_settle_s == pytest.approx(0.6)  # the default, ...
    assert config_from_mapping({"display": {"tap_settle_s": 1.2}}).display.tap_settle_s == 1.2


def test_a_tile_that_became_selected_under_the_finger_is_not_bumped(
    board_app: BoardDriver,
) -> None:
    board_app.add_orders(3)
    keys = with_keys(board_app)
    board = board_app.app.board
    ids = [t.order_id for t in board.open_tickets()]
    keys.tap("numpad7")  # FIRST
    assert board.selected_id == ids[0]
    board_app.clock.advance(2)
    finger = Finger(board_app, board_app.tile(ids[1]))
    keys.tap("numpad6")  # NEXT: the ticket under the finger becomes selected meanwhile
    assert board.selected_id == ids[1]
    finger.lift()
    assert not board.ticket(ids[1]).bumped and board_app.sink.changes == []


# ---- 3. a status sent is a status shown -----------------------------------------------------


def test_start_shows_preparing_here_and_on_the_other_screens(board_app: BoardDriver) -> None:
    mine, theirs = (p["orderId"] for p in board_app.add_orders(2))
    keys = with_keys(board_app)
    if board_app.app.board.selected_id != mine:
        board_app.tap_widget(board_app.tile(mine))
    assert board_app.app.board.selected_id == mine
    keys.tap("numpad8")  # START
    board_app.frames(2)
    assert sent(board_app) == [(mine, int(OrderStatus.PREPARING))]
    tile = board_app.tile(mine)
    assert tile.source_text.startswith("[b]PREPARING[/b]")
    assert "PREPARING" not in board_app.tile(theirs).source_text

    # another screen of the location started the other one: the gateway's event says so
    event = Event(1, "loc", EventType.STATUS_CHANGED, theirs, {"status": 50, "key": "other-screen"})
    board_app.post(EventsArrived((event,), "mqtt"))
    board_app.wait_for(
        lambda: board_app.tile(theirs).source_text.startswith("[b]PREPARING[/b]"),
        what="PREPARING",
    )
    other = board_app.tile(theirs)  # not selected: no outline over its edge
    edge = other.to_window(other.x + 2, other.y + other.gap_px + 4)
    assert near(board_app.pixel(*edge), rgb(Palette.GOOD)), "a green bar marks it at a glance"
    label = other.ids.source
    board_app.frames(2)
    assert drawn(label).startswith("PREPARING"), "the mark is drawn, first and whole"
    assert label.font_size >= 12


# ---- 4. clearing a cancel is deliberate -----------------------------------------------------


def test_a_cancel_needs_a_hold_with_visible_progress(board_app: BoardDriver) -> None:
    payload, other = board_app.add_orders(2)
    order_id = payload["orderId"]
    board_app.post(OrderArrived(board_app.orders.cancel(payload, reason="Store too busy")))
    board_app.wait_for(lambda: board_app.app.board.ticket(order_id).voided, what="the cancel")
    tile = board_app.tile(order_id)
    assert "HOLD TO CLEAR" in tile.who_text

    board_app.tap_widget(tile)  # a plain tap: selects at most
    assert not board_app.app.board.ticket(order_id).void_acknowledged
    board_app.tap_widget(tile, hold_s=0.4)  # let go too early
    assert not board_app.app.board.ticket(order_id).void_acknowledged
    assert tile.hold_progress == 0

    board_app.clock.advance(1)
    finger = Finger(board_app, tile)
    board_app.clock.advance(0.5)
    board_app.frames(3)
    assert 0.4 < tile.hold_progress < 0.7, "the hold shows how far it is"
    x, y = tile.to_window(tile.x + 3, tile.top - tile.head_px + 2)
    assert not near(board_app.pixel(x, y), rgb(Palette.HEADER_VOID[0])), "progress drawn"
    board_app.clock.advance(0.6)
    board_app.frames(3)
    assert board_app.app.board.ticket(order_id).void_acknowledged, "cleared once held"
    finger.lift()
    assert board_app.app.screen.tile_for(order_id) is None
    assert board_app.app.screen.tile_for(other["orderId"]) is not None
    assert board_app.sink.changes == []


# ---- 5. learn mode only on purpose ----------------------------------------------------------


def learn_open(board_app: BoardDriver) -> bool:
    return bool(board_app.app.root.current == SCREEN_NAME)


def learn_widget(board_app: BoardDriver) -> LearnScreen:
    (screen,) = board_app.app.root.get_screen(SCREEN_NAME).children
    assert isinstance(screen, LearnScreen)
    return screen


def test_learn_mode_opens_only_by_the_chord_and_closes_by_touch_and_idle(
    board_app: BoardDriver,
) -> None:
    board_app.add_orders(2)
    keys = with_keys(board_app)
    keys.tap("escape")  # first start, no map learned or configured
    keys.tap("f13")
    board_app.frames(3)
    assert not learn_open(board_app), "Esc / an unknown key opened the learn screen"
    keys.down("numpad6")  # a plate resting on the keypad
    keys.advance(10)
    board_app.frames(6)
    keys.up("numpad6")
    assert not learn_open(board_app), "a resting key opened the learn screen"

    keys.down("numpadsubstract")  # the documented chord: "-" and "+" held 3 s
    keys.down("numpadadd")
    keys.advance(3.1)
    pump_until(lambda: learn_open(board_app), what="the learn screen")
    keys.up("numpadadd")
    keys.up("numpadsubstract")
    screen = learn_widget(board_app)
    chimes = board_app.app.sounds.played["chime"]
    board_app.add_orders(2)  # orders keep coming while it is open
    assert board_app.app.sounds.played["chime"] > chimes
    board_app.wait_for(lambda: "2 new orders waiting" in screen.ids.orders.text, what="count")

    board_app.tap_widget(screen.ids.close)
    assert not learn_open(board_app) and not screen.is_open

    keys.down("pageup")  # the keyboard's chord opens it again ...
    keys.down("pagedown")
    keys.advance(3.1)
    pump_until(lambda: learn_open(board_app), what="the learn screen again")
    keys.up("pageup")
    keys.up("pagedown")
    again = learn_widget(board_app)
    keys.advance(20)
    keys.tap("f1")  # an input: the 30 s start again
    keys.advance(20)
    board_app.frames(3)
    again.tick()
    assert again.is_open
    keys.advance(10.5)
    pump_until(lambda: not learn_open(board_app), what="the idle close")
    assert not again.is_open


# ---- 7. nothing buried on other pages -------------------------------------------------------


def test_late_and_cancelled_on_other_pages_are_counted_and_jumped_to(
    board_app: BoardDriver,
) -> None:
    # no promised times: the kitchen's late threshold makes them all late at once
    payloads = board_app.add_orders(40, pickupTime="", estimatedPickupTime="", deliveryTime="")
    board = board_app.app.board
    keys = with_keys(board_app)
    ids = [t.order_id for t in board.open_tickets()]
    victim = ids[-1]  # on the last page
    board_app.post(OrderArrived(board_app.orders.cancel(board.ticket(victim).payload)))
    board_app.wait_for(lambda: board.ticket(victim).voided, what="the cancel")
    board_app.advance(board.settings.default_thresholds.late_s + 60)
    assert board.page_index == 0
    here = on_screen(board_app)
    now = board_app.clock()
    late_away = [
        i
        for i in ids
        if i not in here and i != victim and board.age_class(board.ticket(i), now) is AgeClass.LATE
    ]
    assert late_away, "the test needs late tickets on other pages"
    bar = board_app.app.screen.status_bar
    board_app.frames(2)
    late_button, cancelled_button = bar.ids.late_away, bar.ids.cancelled_away
    assert late_button.text == f"{len(late_away)} late,"
    assert cancelled_button.text == "1 cancelled on other pages"
    assert late_button.width > 0 and cancelled_button.width > 0

    board_app.tap_widget(cancelled_button)
    assert victim in on_screen(board_app) and board.selected_id == victim
    assert board.page_index == board.page_of(victim)

    board_app.tap_widget(bar.ids.late_away)
    first_late = board.selected_id
    assert first_late in on_screen(board_app)

    keys.tap("numpaddivide")  # NEXT LATE: onwards to the next page with one
    board_app.frames(2)
    assert board.selected_id in on_screen(board_app)
    assert board.selected_id != first_late
    assert len(payloads) == 40 and board_app.sink.changes == []
    assert board_app.app.board.settings  # the board is intact
    assert Action.NEXT_URGENT.value == "next_urgent"
