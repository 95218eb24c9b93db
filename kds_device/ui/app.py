"""The kitchen board app: a Kivy view of :class:`~kds_device.runtime.board_core.BoardCore`.

The core holds the board and every rule (event order, saving before acknowledging, bumps into
the outbox, what a press may do); this app draws it, plays its sounds, feeds it the window's
touches and keys and runs its clock. The key input and the GPIO bump bar are built by the
composition root (:func:`kds_device.board_setup.build_board_app`) and handed in.

Threading rule: other threads only ``inbox.post()``; one ``Clock.create_trigger`` wakes the
main loop, which has the core drain everything posted so far in one pass.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kds_device.adapters.display_power import display_power
from kds_device.adapters.gpio_buttons import GpioBumpBar
from kds_device.adapters.systemd_notify import notify
from kds_device.domain.actions import Action
from kds_device.domain.clock import Instant
from kds_device.runtime.board_core import BoardCore
from kds_device.ui.board_screen import BoardScreen
from kds_device.ui.crisp import crisp_default_texture
from kds_device.ui.heap import TRIM_EVERY_S, trim_heap
from kds_device.ui.keys import KeyInput
from kds_device.ui.screen_care_view import CareLayer
from kds_device.ui.screens import Screens
from kds_device.ui.sound import Sounds
from kds_device.ui.status_view import (
    LinkAlarm,
    recall_entries,
    station_label,
    status_view,
    undo_text,
)
from kds_device.ui.theme import Palette
from kds_device.ui.today_screen import sync_today

log = logging.getLogger(__name__)

ESCAPE = 27  # Kivy's keycode for Esc (and Android's back)


class BoardApp(App):
    """The board on screen. ``perform(action)`` is the one way in for every action."""

    title = "Kitchen display"

    def __init__(
        self,
        core: BoardCore,
        keys: KeyInput | None = None,
        gpio: GpioBumpBar | None = None,
        data_dir: Path | None = None,
        tz: tzinfo | None = None,
        sounds: Sounds | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.core = core
        core.view = self
        core.board.tz = tz  # expo's "done 12:04" in this screen's zone
        self.keys = keys  # owned from here on: fed the window's keys
        self.gpio = gpio  # owned from here on: closed when the app stops
        self.data_dir = data_dir
        self.tz = tz
        self.device = core.config
        self.sounds = sounds or Sounds(core.config.display.sound)
        connection = core.config.connection
        self.alarm = LinkAlarm(connection.offline_banner_s, connection.offline_alarm_s)
        self.screen: BoardScreen
        self.learn: Any = None  # the learn screen while it is open
        self.care: CareLayer | None = None  # shift, dim, off, cleaning lock (on_start)
        self.first_frame_at: float | None = None
        self._events: list[Any] = []
        #: Orders to put on a fresh board at start, each with its age in seconds (the demo).
        self.preload: list[tuple[Mapping[str, Any], float]] = []
        #: What the bar says about this screen's clock ("" when right): ClockCheck.note.
        self.clock_note: Callable[[Instant], str] = lambda _now: ""

    # the core's state, read by tests, the bench and the learn screen
    board = property(lambda self: self.core.board)
    inbox = property(lambda self: self.core.inbox)
    link = property(lambda self: self.core.link)
    outbox_pending = property(lambda self: self.core.outbox_pending)

    def perform(self, action: Action) -> None:
        self.core.perform(action)

    # ---- lifecycle ----------------------------------------------------------------------

    def build(self) -> ScreenManager:
        Window.clearcolor = Palette.rgba(Palette.BACKGROUND)
        crisp_default_texture()
        config, core = self.core.config, self.core
        self.screen = BoardScreen(self.board, core.now, config.display.channels, self.tz)
        self.screen.clear_hold_s = config.display.clear_hold_s
        self.screen.on_tile_press = core.press
        self.screen.on_tile_clear = core.clear
        self.screen.on_all_day_close = lambda: core.close_panels(recall=False, all_day=True)
        self.screen.status_bar.bind(on_button=lambda _bar, name: self._button(name))
        self.screen.undo_bar.bind(on_undo=lambda _bar: self.perform(Action.UNDO))
        manager = Screens(transition=NoTransition())
        board_screen = Screen(name="board")
        board_screen.add_widget(self.screen)
        manager.add_widget(board_screen)
        return manager

    def on_start(self) -> None:
        self.core.open_store(self.data_dir)
        self.screen.set_window_size(*Window.size)
        self.core.preload(self.preload)
        self.preload = []
        self._refresh_chrome()
        Window.bind(on_resize=self._on_resize, on_key_down=self._on_key_down)
        Window.bind(on_key_up=self._on_key_up, on_flip=self._on_first_flip)
        # A free trigger (with the app's "free_all" clock, see window_config) wakes the main
        # loop at once instead of at the next frame; other clocks only have the plain one.
        make_trigger = getattr(Clock, "create_trigger_free", Clock.create_trigger)
        trigger = make_trigger(lambda _dt: self.core.drain(), 0)
        self._events = [
            trigger,
            Clock.schedule_interval(self.tick, 1.0),
            Clock.schedule_interval(self._poll_keys, 0.1),
            Clock.schedule_interval(lambda _dt: trim_heap(), TRIM_EVERY_S),
        ]
        self.inbox.set_wake(trigger)
        self._start_care()  # after the key bindings: its own is asked first
        try:
            from kds_device.adapters.watchdog import start_watchdog

            start_watchdog(Clock)
        except ImportError:
            log.warning("watchdog module missing; systemd watchdog not fed")

    def _start_care(self) -> None:
        """The screen's care: a layer over the whole window, the gate of every input."""
        display = self.device.display
        care = CareLayer(
            display.care,
            self.core.now,
            lambda: len(self.board.open_tickets()),
            display_power(display.backlight),
            self.tz,
        )
        care.status_bar, care.shift_target = self.screen.status_bar, self.root
        care.attention = lambda: bool(self.screen.banner_text)  # offline: never dark
        self.core.input_gate = care.gate
        Window.add_widget(care)
        Window.bind(on_key_down=care.on_key_down)
        self.care = care

    def on_stop(self) -> None:
        if self.care is not None:
            self.care.close()
            Window.unbind(on_key_down=self.care.on_key_down)
            Window.remove_widget(self.care)
            self.core.input_gate = lambda _action: True
            self.care = None
        if self.gpio is not None:
            self.gpio.close()
            self.gpio = None
        for event in self._events:
            event.cancel()
        self.inbox.set_wake(lambda: None)
        Window.unbind(on_resize=self._on_resize, on_key_down=self._on_key_down)
        Window.unbind(on_key_up=self._on_key_up, on_flip=self._on_first_flip)
        self.core.close()
        gc.unfreeze()

    def _on_first_flip(self, *_args: Any) -> None:
        Window.unbind(on_flip=self._on_first_flip)
        self.first_frame_at = time.monotonic()
        notify("READY=1")
        # Everything made so far (Kivy, the widgets, the loaded board) lives as long as the
        # app: move it out of the garbage collector's reach, so a full collection scans only
        # what came later (one took 50 ms on this board, and delayed the frame it fell in).
        # on_stop gives it back (tests start many apps in one process).
        gc.collect()
        gc.freeze()

    def _on_resize(self, _window: Any, width: int, height: int) -> None:
        self.screen.set_window_size(width, height)

    # ---- the core's view ----------------------------------------------------------------

    def show(self, changed: set[str]) -> None:
        """After every pass: the changed tiles, the panels, the bars."""
        screen, core = self.screen, self.core
        if changed:
            screen.render(changed)
        if screen.all_day_open != core.all_day_open:
            if core.all_day_open:
                screen.open_upcoming(False)  # one side panel at a time
            screen.open_all_day(core.all_day_open)
        if core.recall is None and screen.recall_open:
            screen.close_recall()
        elif core.recall is not None:
            if not screen.recall_open:
                panel = screen.open_recall(recall_entries(self.board, core.now(), self.tz))
                panel.unbind(on_pick=self._recall_picked, on_close=self._recall_closed)
                panel.bind(on_pick=self._recall_picked, on_close=self._recall_closed)
            assert screen.recall is not None
            screen.recall.set_cursor(core.recall.cursor)
        if self.learn is not None:
            self.learn.new_orders = core.new_while_learning
        sync_today(self)
        self._refresh_chrome()

    def _recall_picked(self, _panel: Any, order_id: str) -> None:
        self.core.pick_recall(order_id)

    def _recall_closed(self, _panel: Any) -> None:
        self.core.close_panels()

    def play(self, sound: str) -> None:
        self.sounds.play(sound)
        if self.care is not None:  # a new order or an alert wakes the screen
            self.care.order_came()

    def after_frame(self, callback: Callable[[], object]) -> None:
        """At the start of the next turn of the loop, once this turn's frame has flipped: a
        free event (the "free_all" clock) runs then without waiting for the next frame."""
        schedule = getattr(Clock, "schedule_once_free", Clock.schedule_once)
        schedule(lambda _dt: callback(), 0)

    def open_learn(self) -> None:
        """Open the bump bar's learn screen (the learn chord, or a caller such as a test)."""
        from kds_device.ui.learn_screen import open_learn_screen

        self.learn = open_learn_screen(self, idle_s=self.core.config.bumpbar.learn_idle_s)

    def open_screen(self, screen: Screen) -> None:
        """Show ``screen`` instead of the board; keys stop driving the board meanwhile."""
        manager = self.root
        if screen.name in manager.screen_names:
            manager.remove_widget(manager.get_screen(screen.name))
        manager.add_widget(screen)
        manager.current = screen.name
        self.core.learn_opened(True)
        if self.keys is not None:
            self.keys.reset()
            self.keys.enabled = False

    def close_screen(self) -> None:
        """Back to the board (call from the other screen when it is done)."""
        self.root.current = "board"
        self.learn = None
        self.core.learn_opened(False)
        if self.keys is not None:
            self.keys.reset()
            self.keys.enabled = True

    # ---- input --------------------------------------------------------------------------

    def _button(self, name: str) -> None:
        if not self.core.input_gate(None):  # the cleaning lock, or the press that woke it
            return
        if name == "page":
            self.core.page_button()
        elif name in ("late", "cancelled"):
            self.core.jump(name)
        elif name == "upcoming":
            self.toggle_upcoming()
        else:
            self.perform(Action(name))

    def toggle_upcoming(self) -> None:
        """The bar's "N upcoming" button: the UPCOMING panel, in the all-day panel's place."""
        opening = not self.screen.upcoming_open
        if opening and self.core.all_day_open:
            self.core.close_panels(recall=False, all_day=True)
        self.screen.open_upcoming(opening)
        self.screen.render(set())

    def _on_key_down(
        self, _window: Any, keycode: int, _scan: int, text: str | None, *_a: Any
    ) -> bool:
        if keycode == ESCAPE and self.core.today_open:  # Esc (or a remote's back) leaves it
            self.perform(Action.TODAY)
            return True
        return self.keys.key_down(keycode, text) if self.keys else False

    def _on_key_up(self, _window: Any, keycode: int, *_args: Any) -> bool:
        return self.keys.key_up(keycode) if self.keys else False

    def _poll_keys(self, *_args: Any) -> None:
        if self.keys is not None:
            self.keys.poll()

    # ---- the clock ----------------------------------------------------------------------

    def tick(self, *_args: Any) -> None:
        """The once-a-second update (timers, status, banner); tests and the bench call it
        after moving their clock."""
        if self.care is not None:
            self.care.update()
        self.screen.tick(self.core.now())
        self.core.tick()
        sync_today(self)
        self._refresh_chrome()

    def _refresh_chrome(self) -> None:
        """Status bar, undo bar, offline banner and alarm (cheap; every tick and pass)."""
        core, now = self.core, self.core.now()
        self.screen.status_bar.show(
            status_view(
                self.board,
                now,
                station_label(self.board, self.device.display.station),
                core.link,
                core.outbox_pending,
                core.last_order_wall,
                self.tz,
                clock_note=self.clock_note(now),
                cooks=self.device.pacing.cooks,
            )
        )
        self.screen.undo_bar.text = undo_text(self.board, now)
        self.screen.banner_text = self.alarm.banner(core.link, now.mono)
        if self.alarm.due(core.link, now.mono):
            self.sounds.alert()
