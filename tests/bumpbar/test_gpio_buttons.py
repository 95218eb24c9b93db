"""GPIO bump-bar buttons on gpiozero's MockFactory: presses, holds, the guard, closing."""

from __future__ import annotations

import logging
import threading

import pytest

from kds_device.adapters.gpio_buttons import (
    DEFAULT_HOLDS,
    DEFAULT_PINS,
    GpioBumpBar,
    PinBinding,
    bindings_from_config,
    start_gpio_bumpbar,
)
from kds_device.config import BumpBarConfig, config_from_mapping
from kds_device.domain.actions import DESTRUCTIVE, Action, apply_action
from kds_device.domain.board import Board
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import ActionRequested
from tests.fixtures.bumpbar import Presses, wait_until

pytestmark = pytest.mark.timeout(30)

SHORT = [a for a in Action if a not in DESTRUCTIVE]


def tap(factory, pin: int) -> None:
    factory.pin(pin).drive_low()  # pressed: the button shorts the pulled-up pin to GND
    factory.pin(pin).drive_high()


def test_each_short_action_from_its_own_pin(bar_config, mock_factory, presses: Presses) -> None:
    pins = {5 + i: action.value for i, action in enumerate(SHORT)}
    bar_config.pins = pins
    bar_config.guard_s = 0.0
    with GpioBumpBar(bar_config, presses, pin_factory=mock_factory):
        for pin in pins:
            tap(mock_factory, pin)
        wait_until(lambda: len(presses.actions()) == len(SHORT), what="every press")
    assert presses.actions() == SHORT
    assert presses.sources() == [f"gpio:{pin}" for pin in pins]


def test_buttons_are_pulled_up_and_fire_on_the_falling_edge(
    bar_config, mock_factory, presses: Presses
) -> None:
    bar_config.pins = {17: "bump"}
    with GpioBumpBar(bar_config, presses, pin_factory=mock_factory) as bar:
        (button,) = bar.buttons
        assert button.pull_up is True
        assert mock_factory.pin(17).state == 1  # idle: pulled high
        mock_factory.pin(17).drive_low()
        wait_until(lambda: presses.actions() == [Action.BUMP], what="bump on press")
        mock_factory.pin(17).drive_high()
    assert presses.actions() == [Action.BUMP]  # nothing more on release


def test_hold_bump_recalls_and_does_not_bump(bar_config, mock_factory, presses: Presses) -> None:
    bar_config.pins = {13: "bump"}
    bar_config.hold = {13: "recall"}
    with GpioBumpBar(bar_config, presses, pin_factory=mock_factory):
        mock_factory.pin(13).drive_low()
        wait_until(lambda: presses.actions() == [Action.RECALL], what="the hold action")
        mock_factory.pin(13).drive_high()
    assert presses.actions() == [Action.RECALL]


def test_short_press_of_a_hold_pin_fires_on_release(
    bar_config, mock_factory, presses: Presses
) -> None:
    bar_config.pins = {13: "bump"}
    bar_config.hold = {13: "recall"}
    bar_config.hold_time_s = 5.0  # a tap never reaches it
    with GpioBumpBar(bar_config, presses, pin_factory=mock_factory):
        mock_factory.pin(13).drive_low()
        assert presses.actions() == []  # not yet: it might become a hold
        mock_factory.pin(13).drive_high()
        wait_until(lambda: presses.actions() == [Action.BUMP], what="bump on release")


def test_destructive_press_needs_a_hold(bar_config, mock_factory, presses: Presses) -> None:
    bar_config.pins = {22: "acknowledge", 27: "clear_all"}
    bar_config.hold_time_s = 0.2
    bar_config.guard_s = 0.0
    with GpioBumpBar(bar_config, presses, pin_factory=mock_factory) as bar:
        assert {b.pin: (b.press, b.hold) for b in bar.bindings} == {
            22: (None, Action.ACKNOWLEDGE),
            27: (None, Action.CLEAR_ALL),
        }
        tap(mock_factory, 22)  # a bumped elbow
        tap(mock_factory, 27)
        mock_factory.pin(22).drive_low()
        wait_until(lambda: presses.actions() == [Action.ACKNOWLEDGE], what="held acknowledge")
        mock_factory.pin(22).drive_high()
        mock_factory.pin(27).drive_low()
        wait_until(lambda: len(presses.actions()) == 2, what="held clear-all")
        mock_factory.pin(27).drive_high()
    assert presses.actions() == [Action.ACKNOWLEDGE, Action.CLEAR_ALL]


def test_a_double_press_inside_the_guard_window_counts_once(
    bar_config, mock_factory, presses: Presses
) -> None:
    now = [100.0]
    bar_config.pins = {17: "bump", 18: "next"}
    bar_config.guard_s = 0.25
    with GpioBumpBar(bar_config, presses, pin_factory=mock_factory, clock=lambda: now[0]):
        tap(mock_factory, 17)
        now[0] += 0.1
        tap(mock_factory, 17)  # contact chatter, or a twitch: ignored
        tap(mock_factory, 18)  # another pin has its own window
        now[0] += 0.2  # 0.3 s after the first accepted press
        tap(mock_factory, 17)
        wait_until(lambda: len(presses.actions()) == 3, what="three counted presses")
    assert presses.seen[0][:2] == (Action.BUMP, "gpio:17")
    assert presses.actions() == [Action.BUMP, Action.NEXT, Action.BUMP]


def test_guard_also_swallows_the_hold_pins_release_action(
    bar_config, mock_factory, presses: Presses
) -> None:
    now = [0.0]
    bar_config.pins = {13: "bump"}
    bar_config.hold = {13: "recall"}
    bar_config.hold_time_s = 5.0
    with GpioBumpBar(bar_config, presses, pin_factory=mock_factory, clock=lambda: now[0]):
        tap(mock_factory, 13)
        now[0] += 0.05
        tap(mock_factory, 13)
        wait_until(lambda: presses.actions() == [Action.BUMP], what="the first bump")
    assert presses.actions() == [Action.BUMP]


def test_buttons_closed_cleanly(bar_config, mock_factory, presses: Presses) -> None:
    from gpiozero import Button

    bar_config.pins = {5: "next", 6: "previous"}
    bar_config.hold = {6: "first"}
    bar = GpioBumpBar(bar_config, presses, pin_factory=mock_factory)
    buttons = bar.buttons
    assert len(buttons) == 2 and not any(b.closed for b in buttons)
    bar.close()
    bar.close()  # idempotent
    assert all(b.closed for b in buttons)
    assert bar.buttons == []
    tap(mock_factory, 5)
    assert presses.actions() == []
    for pin in (5, 6):  # released: the pins can be claimed again
        Button(pin, pin_factory=mock_factory).close()


def test_a_pin_in_use_fails_the_whole_bar_and_releases_the_rest(
    bar_config, mock_factory, presses: Presses
) -> None:
    from gpiozero import Button
    from gpiozero.exc import GPIOPinInUse

    bar_config.pins = {5: "next", 6: "previous"}
    squatter = Button(6, pin_factory=mock_factory)
    with pytest.raises(GPIOPinInUse):
        GpioBumpBar(bar_config, presses, pin_factory=mock_factory)
    squatter.close()
    Button(5, pin_factory=mock_factory).close()  # pin 5 was given back


def test_a_failing_consumer_does_not_kill_gpiozeros_thread(
    bar_config, mock_factory, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[Action] = []

    def flaky(action: Action, source: str) -> None:
        calls.append(action)
        if len(calls) == 1:
            raise RuntimeError("inbox full")

    bar_config.pins = {5: "next"}
    bar_config.guard_s = 0.0
    with caplog.at_level(logging.ERROR), GpioBumpBar(bar_config, flaky, pin_factory=mock_factory):
        tap(mock_factory, 5)
        tap(mock_factory, 5)
        wait_until(lambda: len(calls) == 2, what="the second press")
    assert "handing on next" in caplog.text


def test_press_on_a_background_thread_changes_the_board_on_the_draining_thread(
    bar_config, mock_factory, busy_board: Board, clock
) -> None:
    """The threading rule: gpiozero's threads only post; the main loop applies."""
    inbox: Inbox[ActionRequested] = Inbox()
    posted_on: list[int] = []

    def post(action: Action, source: str) -> None:
        posted_on.append(threading.get_ident())
        inbox.post(ActionRequested(action, source))

    main = threading.get_ident()
    first = busy_board.selected_id
    bar_config.pins = {13: "next"}
    bar_config.hold = {13: "bump"}
    bar_config.guard_s = 0.0  # the second press follows at once
    bar_config.hold_time_s = 0.5  # the tap is far shorter
    with GpioBumpBar(bar_config, post, pin_factory=mock_factory):
        # A tap driven from a worker thread, as the pin library's edge thread would.
        worker = threading.Thread(target=tap, args=(mock_factory, 13), name="edge")
        worker.start()
        worker.join()
        wait_until(lambda: len(inbox) == 1, what="the tap in the inbox")
        assert busy_board.selected_id == first  # nothing touched the board yet
        applied_on = []
        for message in inbox.drain():
            applied_on.append(threading.get_ident())
            apply_action(busy_board, message.action, clock())
        assert busy_board.selected_id != first
        second = busy_board.selected_id

        # A hold fires on gpiozero's own hold thread.
        mock_factory.pin(13).drive_low()
        wait_until(lambda: len(inbox) == 1, what="the hold in the inbox")
        mock_factory.pin(13).drive_high()
        assert busy_board.ticket(second).bumped is False
        (message,) = inbox.drain()
        assert message == ActionRequested(Action.BUMP, "gpio:13")
        applied_on.append(threading.get_ident())
        apply_action(busy_board, message.action, clock())
    assert busy_board.ticket(second).bumped is True
    assert len(posted_on) == 2 and main not in posted_on
    assert applied_on == [main, main]


def test_bindings_report_problems() -> None:
    bindings, problems = bindings_from_config(
        {5: "bump", 6: "fly", 7: "acknowledge"}, {7: "clear_all", 8: "recall"}
    )
    assert bindings == [
        PinBinding(5, Action.BUMP, None),
        PinBinding(7, None, Action.CLEAR_ALL),
        PinBinding(8, None, Action.RECALL),
    ]
    assert any("bumpbar.pins.6" in p and "unknown action 'fly'" in p for p in problems)
    assert any("bumpbar.pins.7" in p for p in problems)


def test_config_section_builds_a_bar(mock_factory, presses: Presses) -> None:
    config = config_from_mapping(
        {
            "bumpbar": {
                "pins": {"5": "next", "13": "bump"},
                "hold": {"13": "recall"},
                "hold_time_s": 0.1,
                "guard_s": 0,
            }
        }
    )
    with GpioBumpBar(config.bumpbar, presses, pin_factory=mock_factory) as bar:
        assert [(b.pin, b.press, b.hold) for b in bar.bindings] == [
            (5, Action.NEXT, None),
            (13, Action.BUMP, Action.RECALL),
        ]
        tap(mock_factory, 5)
        wait_until(lambda: presses.actions() == [Action.NEXT], what="next")


def test_default_pins_reach_every_action_and_avoid_bus_pins() -> None:
    reachable = set(DEFAULT_PINS.values()) | set(DEFAULT_HOLDS.values())
    assert reachable == set(Action)
    bus_pins = {0, 1, 2, 3, 7, 8, 9, 10, 11, 14, 15}  # ID EEPROM, I2C, SPI0, UART
    assert not (set(DEFAULT_PINS) | set(DEFAULT_HOLDS)) & bus_pins
    assert set(DEFAULT_HOLDS) <= set(DEFAULT_PINS)
    _, problems = bindings_from_config(DEFAULT_PINS, DEFAULT_HOLDS)
    assert problems == []


def test_start_with_nothing_configured_builds_nothing(presses: Presses) -> None:
    assert start_gpio_bumpbar(BumpBarConfig(), presses) is None


def test_start_with_default_pins_on_a_named_factory(presses: Presses) -> None:
    config = config_from_mapping(
        {"bumpbar": {"default_pins": True, "pin_factory": "mock", "hold_time_s": 0.5}}
    ).bumpbar
    config.guard_s = 0.0
    bar = start_gpio_bumpbar(config, presses)
    assert bar is not None
    try:
        factory = bar.buttons[0].pin_factory
        assert type(factory).__name__ == "MockFactory"
        tap(factory, 13)  # BUMP: fires on release because it also holds RECALL
        factory.pin(12).drive_low()  # hold FIRST: clear all
        wait_until(lambda: len(presses.actions()) == 2, what="bump and clear-all")
        factory.pin(12).drive_high()
        assert presses.actions() == [Action.BUMP, Action.CLEAR_ALL]
    finally:
        bar.close()
        factory.close()


def test_start_with_an_unknown_factory_logs_and_carries_on(
    presses: Presses, caplog: pytest.LogCaptureFixture
) -> None:
    config = BumpBarConfig(pins={5: "next"}, pin_factory="carrier-pigeon")
    with caplog.at_level(logging.WARNING):
        assert start_gpio_bumpbar(config, presses) is None
    assert "carrier-pigeon" in caplog.text
