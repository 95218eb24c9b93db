"""Under Xvfb, through the real board app: key events on Kivy's window drive the board, and the
learn screen writes a key map that then works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kds_device.adapters.keymap import KEYMAP_FILE, KeyMap, load_keymap
from kds_device.domain.actions import Action
from kds_device.runtime.messages import OrderArrived
from kds_device.sim.orders import OrderGenerator
from kds_device.ui.learn_screen import SCREEN_NAME, LearnScreen, describe
from tests.fixtures.bumpbar import Keys, pump_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(60)]

# One key per action (a new action takes the next letter).
WALK_KEYS = [f"f{n}" for n in range(1, 12)] + list("qweyiopzv")[: len(Action) - 11]
STEPS = len(WALK_KEYS)


def hold_learn_chord(app: Any, keys: Keys) -> None:
    """Keypad "-" and "+" held together for the chord time (then let go)."""
    keys.down("numpadsubstract")
    keys.down("numpadadd")
    keys.advance(app.device.bumpbar.learn_chord_s + 0.1)
    pump_until(lambda: app.root.current == SCREEN_NAME, what="the learn screen")
    keys.up("numpadadd")
    keys.up("numpadsubstract")


def learn_screen(app: Any) -> LearnScreen:
    assert app.root.current == SCREEN_NAME
    (screen,) = app.root.get_screen(SCREEN_NAME).children
    assert isinstance(screen, LearnScreen)
    return screen


def cancel_selected(app: Any, orders: OrderGenerator) -> str:
    victim = app.board.selected_id
    app.inbox.post(OrderArrived(orders.cancel(app.board.ticket(victim).payload)))
    pump_until(lambda: app.board.ticket(victim).voided, what="the cancel")
    return victim


def test_default_keypad_drives_the_board(bump_app: Any, keys: Keys) -> None:
    board = bump_app.board
    first = board.selected_id
    keys.tap("numpad6")
    assert board.selected_id != first
    keys.tap("numpad7")
    assert board.selected_id == first
    keys.tap("numpadenter")
    assert board.ticket(first).bumped
    keys.tap("numpad2")  # undo
    assert not board.ticket(first).bumped
    keys.tap("numpadmul")
    assert bump_app.screen.all_day_open
    keys.tap("numpadmul")
    assert not bump_app.screen.all_day_open


def test_auto_repeat_moves_once(bump_app: Any, keys: Keys) -> None:
    ids = [t.order_id for t in bump_app.board.open_tickets()]
    assert bump_app.board.selected_id == ids[0]
    keys.down("numpad6")
    for _ in range(5):
        keys.down("numpad6")  # the keyboard repeating a held key
    keys.up("numpad6")
    assert bump_app.board.selected_id == ids[1]


def test_acknowledge_needs_a_hold(bump_app: Any, keys: Keys, orders: OrderGenerator) -> None:
    victim = cancel_selected(bump_app, orders)
    keys.tap("numpad9")  # brushed past
    assert not bump_app.board.ticket(victim).void_acknowledged
    keys.down("numpad9")
    keys.advance(1.05)
    pump_until(lambda: bump_app.board.ticket(victim).void_acknowledged, what="held acknowledge")
    keys.up("numpad9")


def test_first_start_learn_walk_writes_a_map_that_then_works(
    bump_app: Any, keys: Keys, orders: OrderGenerator
) -> None:
    board = bump_app.board
    first = board.selected_id
    keys.tap("f12")  # a key the default map does not know opens nothing by itself
    assert bump_app.root.current == "board"
    hold_learn_chord(bump_app, keys)
    screen = learn_screen(bump_app)
    assert (screen.prompt_text, screen.action_text, screen.progress_text) == (
        "Press the key for",
        "NEXT",
        f"1/{STEPS}",
    )
    taught = dict(zip(Action, WALK_KEYS, strict=True))
    for number, action in enumerate(Action, start=1):
        assert screen.progress_text == f"{number}/{STEPS}"
        assert screen.action_text.startswith(action.value.upper().split("_")[0][:4])
        keys.tap(taught[action])
        pump_until(lambda: True)  # let the screen draw
    assert bump_app.root.current == "board" and not screen.is_open
    last = list(Action)[-1]
    assert screen.feedback_text == f"{describe(last)[0]} = {taught[last]}"
    saved = load_keymap(bump_app.data_dir / KEYMAP_FILE)
    assert saved.bindings() == {key: action for action, key in taught.items()}
    assert board.selected_id == first and not board.ticket(first).bumped  # teaching only

    keys.tap("numpad6")  # the old default means nothing now
    assert board.selected_id == first
    keys.tap(taught[Action.NEXT])
    second = board.selected_id
    assert second != first
    keys.tap(taught[Action.BUMP])
    assert board.ticket(second).bumped
    keys.tap(taught[Action.FIRST])
    victim = cancel_selected(bump_app, orders)
    keys.down(taught[Action.ACKNOWLEDGE])
    keys.advance(1.1)
    keys.up(taught[Action.ACKNOWLEDGE])
    assert board.ticket(victim).void_acknowledged
    keys.tap("f13")  # unknown again, but the bar has been taught: nothing opens
    assert bump_app.root.current == "board"


def test_skips_timeout_and_escape(bump_app: Any, keys: Keys) -> None:
    bump_app.open_learn()  # as settings does
    screen = learn_screen(bump_app)
    keys.tap("f1")  # NEXT = f1
    keys.tap("f1")  # PREVIOUS skipped: keeps its keys
    assert screen.feedback_text == "PREVIOUS skipped (keeps numpad4, left)"
    keys.advance(15.5)
    screen.tick()  # FIRST skipped by silence
    assert screen.progress_text == f"4/{STEPS}" and screen.action_text == "BUMP"
    keys.tap("escape")
    assert bump_app.root.current == "board" and not screen.is_open
    assert not (bump_app.data_dir / KEYMAP_FILE).exists()
    first = bump_app.board.selected_id
    keys.tap("f1")  # nothing was learned
    keys.tap("f12")  # and an unknown key does not bring it back
    assert bump_app.root.current == "board"
    keys.tap("numpad6")  # the board has its keys back
    assert bump_app.board.selected_id != first


def test_the_chord_opens_the_learn_screen_a_resting_key_does_not(bump_app: Any, keys: Keys) -> None:
    ids = [t.order_id for t in bump_app.board.open_tickets()]
    keys.down("numpad6")
    keys.advance(60)  # a plate on the keypad for a minute
    pump_until(lambda: True)
    assert bump_app.root.current == "board"
    assert bump_app.board.selected_id == ids[1]  # the press itself did its job, once
    keys.up("numpad6")
    hold_learn_chord(bump_app, keys)
    screen = learn_screen(bump_app)
    assert screen.progress_text == f"1/{STEPS}"
    keys.tap("numpad6")
    assert screen.progress_text == f"2/{STEPS}"
    assert screen.learner.taught == {"numpad6": Action.NEXT}
    keys.tap("escape")
    assert bump_app.root.current == "board"


def test_learn_screen_alone_reports_and_renders(tmp_path: Path) -> None:
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    done: list[KeyMap] = []
    cancelled: list[bool] = []
    screen = LearnScreen(
        [Action.BUMP, Action.ACKNOWLEDGE],
        on_done=done.append,
        on_cancel=lambda: cancelled.append(True),
        path=tmp_path / "k.toml",
        now=lambda: 1.0,  # the times below are this clock's (its ticker skips nothing)
    ).open()
    assert "holding" not in screen.detail_text
    assert screen.handle_key("numpad5", True, 1.0) is True
    assert "holding it 1 s" in screen.detail_text
    pump_until(lambda: screen.ids.action.texture_size[0] > 0, what="the prompt drawn")
    assert screen.handle_key("numpad5", False, 1.1) is True
    assert screen.handle_key("lctrl", True, 1.5) is True  # a modifier is never taught
    assert screen.handle_key("f9", True, 2.0) is True
    assert done == [KeyMap({"numpad5": Action.BUMP, "f9": Action.ACKNOWLEDGE})]
    assert load_keymap(tmp_path / "k.toml") == done[0]
    assert cancelled == [] and screen.parent is None
    assert screen.handle_key("f1", True, 3.0) is False  # closed: not ours any more


def test_app_stopping_mid_walk_lets_go_of_the_keyboard(board_app: Any) -> None:
    from kivy.core.window import Window

    app = board_app.app
    before = len(Window.get_property_observers("on_key_down") or [])
    app.open_learn()
    screen = learn_screen(app)
    assert len(Window.get_property_observers("on_key_down") or []) == before + 1
    board_app.stop()
    assert not screen.is_open
    # the app's own and its screen care's are gone too
    assert len(Window.get_property_observers("on_key_down") or []) == before - 2


def test_gpio_press_on_a_background_thread_changes_the_board_on_the_main_thread(
    board_app: Any,
) -> None:
    """Through the real app: a mock pin driven from another thread, gpiozero's callback posts
    to the inbox, the app's trigger drains it on the main thread."""
    import threading

    board_app.stop()
    app = board_app.start(
        bumpbar__pins={13: "next"},
        bumpbar__hold={13: "bump"},
        bumpbar__pin_factory="mock",
        bumpbar__hold_time_s=0.5,  # the tap is far shorter
        bumpbar__guard_s=0.0,
    )
    assert app.gpio is not None
    board_app.add_orders(3)
    app.perform(Action.FIRST)
    first = app.board.selected_id
    factory = app.gpio.buttons[0].pin_factory
    main = threading.get_ident()
    seen_on: list[int] = []
    real_select_next = app.board.select_next

    def select_next() -> Any:
        seen_on.append(threading.get_ident())
        return real_select_next()

    app.board.select_next = select_next

    def tap() -> None:
        factory.pin(13).drive_low()
        factory.pin(13).drive_high()  # short: NEXT fires on release

    worker = threading.Thread(target=tap, name="edge")
    worker.start()
    worker.join()
    board_app.wait_for(lambda: app.board.selected_id != first, what="NEXT from the pin")
    assert seen_on == [main]
    second = app.board.selected_id
    factory.pin(13).drive_low()  # held: BUMP, from gpiozero's hold thread
    board_app.wait_for(lambda: app.board.ticket(second).bumped, what="BUMP from the hold")
    factory.pin(13).drive_high()
    buttons = app.gpio.buttons
    board_app.stop()
    assert all(button.closed for button in buttons)
    factory.close()
