"""GPIO bump-bar buttons: momentary switches between a BCM pin and GND, read with gpiozero.

gpiozero calls back on its own threads (the pin library's edge thread, a hold thread per
button), so every callback here only hands ``(action, source)`` to ``on_action``; the app
passes a function that posts :class:`~kds_device.runtime.messages.ActionRequested` to the
inbox and the board changes on the Kivy main thread. gpiozero is imported lazily, so the
board runs on a desktop without it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from kds_device.config import BumpBarConfig
from kds_device.domain.actions import DESTRUCTIVE, Action

log = logging.getLogger(__name__)

OnAction = Callable[[Action, str], None]

#: Used with ``[bumpbar] default_pins = true``; drawn in docs/bump-bar.md: the bottom six rows
#: of the header (pins 29-40, GND at 30, 34 and 39), clear of I2C, SPI0, UART and ID EEPROM.
DEFAULT_PINS: dict[int, Action] = {
    5: Action.PREVIOUS,  # header 29
    6: Action.NEXT,  # header 31
    13: Action.BUMP,  # header 33
    19: Action.START,  # header 35
    26: Action.UNDO,  # header 37
    16: Action.PAGE_PREVIOUS,  # header 36
    20: Action.PAGE_NEXT,  # header 38
    21: Action.ALL_DAY,  # header 40
    12: Action.FIRST,  # header 32
}
DEFAULT_HOLDS: dict[int, Action] = {
    13: Action.RECALL,  # hold BUMP
    26: Action.CLEAN_LOCK,  # hold UNDO: the cleaning lock
    21: Action.ACKNOWLEDGE,  # hold ALL-DAY
    12: Action.CLEAR_ALL,  # hold FIRST
    20: Action.NEXT_URGENT,  # hold PAGE NEXT: the next late or cancelled ticket
    19: Action.ITEM_DONE,  # hold START: a station screen's next item done
    16: Action.TODAY,  # hold PAGE BACK: the "Today" view (speed of service)
}


class GpioUnavailable(RuntimeError):
    """No gpiozero, or no pin library that can reach GPIO on this machine."""


@dataclass(frozen=True)
class PinBinding:
    """What one button does: ``press`` on a short press, ``hold`` once held ``hold_time_s``."""

    pin: int
    press: Action | None
    hold: Action | None


def bindings_from_config(
    pins: Mapping[int, str | Action], holds: Mapping[int, str | Action]
) -> tuple[list[PinBinding], list[str]]:
    """Parse the pin maps into bindings, with the problems found (unknown actions, a
    destructive action on a short press).

    A destructive press action becomes that pin's hold action (hold-to-confirm); if the pin
    already has a hold action, the destructive press is dropped."""
    problems: list[str] = []

    def parse(where: str, pin: int, name: str | Action) -> Action | None:
        try:
            return name if isinstance(name, Action) else Action.parse(name)
        except ValueError as error:
            problems.append(f"bumpbar.{where}.{pin}: {error}")
            return None

    result = []
    for pin in sorted(set(pins) | set(holds)):
        press = parse("pins", pin, pins[pin]) if pin in pins else None
        hold = parse("hold", pin, holds[pin]) if pin in holds else None
        if press in DESTRUCTIVE:
            if hold is None:
                press, hold = None, press
            else:
                problems.append(
                    f"bumpbar.pins.{pin}: {press} must be held and the pin already holds "
                    f"{hold}; short press ignored"
                )
                press = None
        if press is not None or hold is not None:
            result.append(PinBinding(pin, press, hold))
    return result, problems


class _PinState:
    """Per-pin press cycle, shared by gpiozero's edge thread and the button's hold thread."""

    def __init__(self, binding: PinBinding) -> None:
        self.binding = binding
        self.last_accepted = float("-inf")
        self.active = False  # the current press was accepted by the guard
        self.held = False  # ... and its hold action has fired


class GpioBumpBar:
    """gpiozero ``Button`` objects built from ``[bumpbar]``: pull-up, ``bounce_time``,
    ``hold_time``, and a guard window per pin (mock pins do not bounce, real ones do:
    a press within ``guard_s`` of the last accepted press on that pin is ignored).

    A pin with a hold action fires its press action on release, and only when the hold
    action did not fire: otherwise holding BUMP to recall would bump first.
    """

    def __init__(
        self,
        config: BumpBarConfig,
        on_action: OnAction,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
        pins: Mapping[int, str | Action] | None = None,
        holds: Mapping[int, str | Action] | None = None,
    ) -> None:
        self._on_action = on_action
        self._clock = clock
        self._guard_s = config.guard_s
        self._lock = threading.Lock()
        self._buttons: list[Any] = []
        self._states: dict[int, _PinState] = {}
        bindings, self.problems = bindings_from_config(
            config.pins if pins is None else pins, config.hold if holds is None else holds
        )
        for problem in self.problems:
            log.warning("gpio: %s", problem)
        if not bindings:
            return
        factory = pin_factory if pin_factory is not None else _named_factory(config.pin_factory)
        try:
            from gpiozero import Button
        except ImportError as error:
            raise GpioUnavailable("gpiozero is not installed") from error
        try:
            for binding in bindings:
                button = Button(
                    binding.pin,
                    pull_up=True,
                    bounce_time=config.bounce_time_s or None,
                    hold_time=config.hold_time_s,
                    pin_factory=factory,
                )
                self._buttons.append(button)
                self._wire(button, _PinState(binding))
        except Exception:
            self.close()
            raise

    @property
    def bindings(self) -> list[PinBinding]:
        return [state.binding for state in self._states.values()]

    @property
    def buttons(self) -> list[Any]:
        """The gpiozero buttons (for tests and diagnostics)."""
        return list(self._buttons)

    def close(self) -> None:
        """Close every button (releasing its pin); safe to call twice."""
        buttons, self._buttons = self._buttons, []
        for button in buttons:
            try:
                button.close()
            except Exception:  # a failing pin must not stop the others closing
                log.exception("gpio: closing %r", button)

    def __enter__(self) -> GpioBumpBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- gpiozero callbacks (background threads): decide, then hand on --------------------

    def _wire(self, button: Any, state: _PinState) -> None:
        pin = state.binding.pin
        self._states[pin] = state
        button.when_pressed = lambda: self._pressed(state)
        button.when_released = lambda: self._released(state)
        if state.binding.hold is not None:
            button.when_held = lambda: self._held(state)

    def _pressed(self, state: _PinState) -> None:
        now = self._clock()
        with self._lock:
            state.active = now - state.last_accepted >= self._guard_s
            state.held = False
            if not state.active:
                log.debug("gpio:%d press inside the guard window ignored", state.binding.pin)
                return
            state.last_accepted = now
            fire = state.binding.press if state.binding.hold is None else None
        self._fire(fire, state)

    def _held(self, state: _PinState) -> None:
        with self._lock:
            if not state.active or state.held:
                return
            state.held = True
            fire = state.binding.hold
        self._fire(fire, state)

    def _released(self, state: _PinState) -> None:
        with self._lock:
            fire = None
            if state.active and state.binding.hold is not None and not state.held:
                fire = state.binding.press
            state.active = False
        self._fire(fire, state)

    def _fire(self, action: Action | None, state: _PinState) -> None:
        if action is None:
            return
        try:
            self._on_action(action, f"gpio:{state.binding.pin}")
        except Exception:  # never let an exception kill gpiozero's thread
            log.exception("gpio: handing on %s", action)


def _named_factory(name: str) -> Any:
    """The pin factory named in the config (entry point names: "lgpio", "rpigpio",
    "pigpio", "native", "mock"), or None for gpiozero's own choice, which honours
    ``GPIOZERO_PIN_FACTORY``."""
    chosen = name.strip() or os.environ.get("GPIOZERO_PIN_FACTORY", "")
    if chosen.lower() in ("", "lgpio"):
        _lgpio_workdir()
    if not name.strip():
        return None
    for entry in entry_points(group="gpiozero_pin_factories"):
        if entry.name == name.strip().lower():
            try:
                return entry.load()()
            except Exception as error:
                raise GpioUnavailable(f"pin factory {name!r}: {error}") from error
    raise GpioUnavailable(f"no gpiozero pin factory called {name!r}")


def _lgpio_workdir() -> None:
    """lgpio makes its notification pipes in the working directory and fails when that is
    read-only (a systemd service started in /). Point it at the data dir via ``LG_WD``."""
    if "LG_WD" in os.environ or os.access(os.getcwd(), os.W_OK):
        return
    from kds_device.paths import data_dir

    os.environ["LG_WD"] = str(data_dir())
    log.info("gpio: working directory not writable; LG_WD=%s for lgpio", os.environ["LG_WD"])


def start_gpio_bumpbar(
    config: BumpBarConfig, on_action: OnAction, use_default_pins: bool = False
) -> GpioBumpBar | None:
    """The app's entry point: buttons from the config (or :data:`DEFAULT_PINS` when
    ``[bumpbar] default_pins = true`` or ``use_default_pins`` and none are configured), or
    None, logged, when there are none or this machine has no GPIO (a desktop, the demo)."""
    pins: Mapping[int, str | Action] = config.pins
    holds: Mapping[int, str | Action] = config.hold
    if not pins and not holds:
        if not (use_default_pins or config.default_pins):
            return None
        pins, holds = DEFAULT_PINS, DEFAULT_HOLDS
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # gpiozero's fallback notes: log them instead
            bar = GpioBumpBar(config, on_action, pins=pins, holds=holds)
        for warning in caught:
            log.info("gpio: %s", warning.message)
        return bar
    except Exception as error:  # BadPinFactory, permissions, pin in use ...
        log.warning("gpio: bump-bar buttons disabled: %s", error)
        return None
