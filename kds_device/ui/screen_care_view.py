"""The screen's care on screen: a layer over the whole window (above the board and any other
screen) that draws the dim veil, black when the panel is off, and the cleaning lock's
countdown; eats the touches the care says no to; shifts the board against burn-in; and
drives the panel's power (:mod:`kds_device.adapters.display_power`).

The decisions are :class:`~kds_device.domain.screen_care.ScreenCare`'s. The app hooks in
with a few lines: the layer's :meth:`CareLayer.gate` is the core's ``input_gate`` (every
action from keys, the GPIO bar and the bar's buttons, and every tile press, asks it),
:meth:`CareLayer.order_came` hears the chime and the alert, :meth:`CareLayer.update` runs
with the app's once-a-second tick.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kds_device.adapters.display_power import DisplayPower, NoPower
from kds_device.domain.actions import Action
from kds_device.domain.clock import Instant
from kds_device.domain.screen_care import CareSettings, CareState, Look, ScreenCare, Verdict

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: A long press on the status bar that wanders further than this is a drag, not a lock.
PRESS_SLOP_PX = 24.0


class CareLayer(FloatLayout):
    """The window-wide layer. ``now`` is the app's clock; ``open_tickets`` counts what the
    board has open; ``attention`` is true while something must be seen (the offline banner),
    which keeps the screen lit like an open ticket; ``status_bar`` is the widget a long press
    locks on (or None); ``shift_target`` is moved against burn-in (the app's root)."""

    veil_rgba = ListProperty([0.0, 0.0, 0.0, 0.0])
    lock_on = BooleanProperty(False)
    count_text = StringProperty("")
    news_text = StringProperty("")
    big_px = NumericProperty(200.0)
    font_px = NumericProperty(28.0)

    def __init__(
        self,
        settings: CareSettings,
        now: Callable[[], Instant],
        open_tickets: Callable[[], int],
        power: DisplayPower | None = None,
        tz: tzinfo | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.now = now
        self.open_tickets = open_tickets
        self.power: DisplayPower = power or NoPower()
        self.tz = tz
        self.care = ScreenCare(settings, now().mono)
        self.state = CareState(Look.AWAKE, (0, 0), 0.0, True)
        self.status_bar: Any = None
        self.attention: Callable[[], bool] = lambda: False
        self.shift_target: Any = None  # the widget moved against burn-in (the app's root)
        self.new_while_locked = 0
        self._eaten: set[int] = set()  # touches swallowed at touch-down, and their moves/ups
        self._press: tuple[int, float, float, float] | None = None  # uid, x, y, since
        self._press_check: Any = None
        self._hw_dim = False
        self.bind(size=self._resized)

    # ---- what the app calls -----------------------------------------------------------

    def gate(self, action: Action | None) -> bool:
        """The core's input gate: may this press act? (None: a touch on the board.) The
        lock key starts the lock and does nothing else."""
        mono = self.now().mono
        verdict = self.care.input(mono)
        if verdict is Verdict.ACT and action is Action.CLEAN_LOCK:
            self.care.lock(mono)
            self.new_while_locked = 0
        self.update()
        return verdict is Verdict.ACT and action is not Action.CLEAN_LOCK

    def on_key_down(self, *_args: Any) -> bool:
        """The window's key down, asked before the app's (bound after it): any key, bound or
        not, wakes a dimmed screen and does nothing else; under the lock none does anything.
        True swallows the key."""
        verdict = self.care.input(self.now().mono)
        self.update()
        return verdict is not Verdict.ACT

    def order_came(self) -> None:
        """A new order (or an alert): the screen wakes, the lock keeps going."""
        mono = self.now().mono
        if self.care.lock_left(mono) > 0:
            self.new_while_locked += 1
        self.care.activity(mono)
        self.update()

    def update(self, *_args: Any) -> CareState:
        """Ask the care what to show, and show it (every tick, after every input)."""
        now = self.now()
        local = now.wall.astimezone(self.tz) if self.tz else now.wall.astimezone()
        finger_down = any(touch.is_touch for touch in EventLoop.touches)
        busy = self.open_tickets() + int(self.attention())
        before, state = self.state, self.care.update(now.mono, local, busy, finger_down)
        self.state = state
        if state.look is not before.look:
            self._apply_look(before.look, state.look)
        self._show(state)
        if self.shift_target is not None and tuple(self.shift_target.pos) != state.shift:
            self.shift_target.pos = state.shift
        return state

    def close(self) -> None:
        """The app stops: light the panel as it was found."""
        self._cancel_press()
        if self.state.look is Look.OFF:
            self.power.set_on(True)
        elif self.state.look is Look.DIM and self._hw_dim:
            self.power.set_level(1.0)

    # ---- drawing and power --------------------------------------------------------------

    def _apply_look(self, old: Look, new: Look) -> None:
        if old is Look.OFF:
            self.power.set_on(True)
        if old is Look.DIM and self._hw_dim:
            self.power.set_level(1.0)
        self._hw_dim = False
        if new is Look.OFF:
            self.power.set_on(False)
        elif new is Look.DIM:
            self._hw_dim = self.power.set_level(self.settings.dim_level)

    def _show(self, state: CareState) -> None:
        self.lock_on = state.locked
        if state.look is Look.OFF:
            self.veil_rgba = [0.0, 0.0, 0.0, 1.0]
        elif state.look is Look.DIM and not self._hw_dim:
            self.veil_rgba = [0.0, 0.0, 0.0, 1.0 - self.settings.dim_level]
        elif state.locked:
            self.veil_rgba = [0.0, 0.0, 0.0, 0.45]
        else:
            self.veil_rgba = [0.0, 0.0, 0.0, 0.0]
        if state.locked:
            self.count_text = str(math.ceil(state.lock_left_s))
            count = self.new_while_locked
            self.news_text = f"{count} new order{'s' * (count != 1)}" if count else ""
        else:
            self.count_text = self.news_text = ""

    def _resized(self, *_args: Any) -> None:
        self.big_px = max(48.0, min(self.height * 0.42, self.width * 0.3))
        self.font_px = max(18.0, min(self.height * 0.065, self.width * 0.04))

    # ---- touches ------------------------------------------------------------------------

    def on_touch_down(self, touch: Any) -> bool:
        mono = self.now().mono
        verdict = self.care.input(mono)
        if verdict is not Verdict.ACT:  # locked, or this touch woke the screen: nothing else
            self._eaten.add(touch.uid)
            self.update()
            return True
        if self._on_status_bar(touch.pos):
            self._press = (touch.uid, touch.x, touch.y, mono)
            self._cancel_check()
            self._press_check = Clock.schedule_interval(self._each_frame, 0)
        return False

    def on_touch_move(self, touch: Any) -> bool:
        if touch.uid in self._eaten:
            return True
        press = self._press
        moved = press is not None and math.hypot(touch.x - press[1], touch.y - press[2])
        if press and press[0] == touch.uid and moved > PRESS_SLOP_PX:
            self._cancel_press()
        return False

    def on_touch_up(self, touch: Any) -> bool:
        if touch.uid in self._eaten:
            self._eaten.discard(touch.uid)
            self.update()
            return True
        press = self._press
        if press and press[0] == touch.uid:
            locked = self._check_press()
            self._cancel_press()
            if locked:
                return True  # the button under the finger asks the gate, which says no
        self.update()
        return False

    def _on_status_bar(self, pos: tuple[float, float]) -> bool:
        bar = self.status_bar
        if bar is None or bar.get_root_window() is None:
            return False
        return bool(bar.collide_point(*bar.to_widget(*pos)))

    def _each_frame(self, _dt: float) -> None:
        self._check_press()  # (a callback returning False would unschedule itself)

    def _check_press(self) -> bool:
        """The status bar held long enough: lock (True)."""
        press = self._press
        if press is None:
            return False
        mono = self.now().mono
        if mono - press[3] < self.settings.lock_press_s:
            return False
        self._cancel_press()
        if self.care.lock(mono):
            self.new_while_locked = 0
        self.update()
        return True

    def _cancel_press(self) -> None:
        self._press = None
        self._cancel_check()

    def _cancel_check(self) -> None:
        if self._press_check is not None:
            self._press_check.cancel()
            self._press_check = None
