"""The learn screen: "press the key for BUMP", then the next action, until every action has a
key; then the key map is saved and handed back. Works from a bump bar alone: a taught key
pressed again skips, silence skips, Esc (when there is a keyboard) cancels. A touch on CLOSE
cancels too, and so does ``idle_s`` (30 s) without a key or a touch. The board keeps running
underneath: new orders chime and the header counts them.

The rules live in :class:`~kds_device.adapters.key_learning.KeyLearner`; this widget shows
them and runs the timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kds_device.adapters.key_learning import KeyLearner, Step
from kds_device.adapters.keymap import DEFAULT_KEYMAP, KEYMAP_FILE, KeyMap, key_name, save_keymap
from kds_device.domain.actions import DESTRUCTIVE, Action

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

log = logging.getLogger(__name__)

#: What each action is called on the screen, and what it does.
ACTION_TEXT: dict[Action, tuple[str, str]] = {
    Action.NEXT: ("NEXT", "select the next ticket"),
    Action.PREVIOUS: ("PREVIOUS", "select the previous ticket"),
    Action.FIRST: ("FIRST", "select the oldest ticket"),
    Action.BUMP: ("BUMP", "send the selected ticket away"),
    Action.START: ("START", "mark the selected ticket as being prepared"),
    Action.ITEM_DONE: ("ITEM DONE", "a station: mark the selected ticket's next item done"),
    Action.RECALL: ("RECALL", "open the list of bumped tickets"),
    Action.UNDO: ("UNDO", "bring back the last bumped ticket"),
    Action.PAGE_NEXT: ("PAGE NEXT", "show the next page"),
    Action.PAGE_PREVIOUS: ("PAGE BACK", "show the previous page"),
    Action.CLEAN_LOCK: ("CLEANING LOCK", "touch and keys off for a while, to wipe the screen"),
    Action.ALL_DAY: ("ALL DAY", "show or hide the all-day counts"),
    Action.ACKNOWLEDGE: ("ACKNOWLEDGE CANCEL", "take a cancelled ticket away"),
    Action.CLEAR_ALL: ("CLEAR ALL CANCELS", "take every cancelled ticket away"),
    Action.NEXT_URGENT: ("NEXT LATE", "show the next late or cancelled ticket on another page"),
    Action.TODAY: ("TODAY", "show or hide today's speed of service"),
}


def describe(action: Action) -> tuple[str, str]:
    return ACTION_TEXT.get(action, (action.value.upper(), ""))


class LearnScreen(FloatLayout):
    """A full-window overlay that walks through ``actions``.

    Feed it keys with :meth:`handle_key` (the bump-bar key router does). At the end it saves
    the map to ``path`` (if given) and calls ``on_done(keymap)``; Esc, or a walk in which
    nothing was taught, calls ``on_cancel()`` and saves nothing.
    """

    font_px = NumericProperty(24.0)
    progress_text = StringProperty("")
    prompt_text = StringProperty("")
    action_text = StringProperty("")
    detail_text = StringProperty("")
    feedback_text = StringProperty("")
    hint_text = StringProperty("")
    new_orders = NumericProperty(0)  # orders that arrived on the board meanwhile

    def __init__(
        self,
        actions: Sequence[Action],
        on_done: Callable[[KeyMap], None],
        on_cancel: Callable[[], None],
        current: KeyMap = DEFAULT_KEYMAP,
        path: Path | None = None,
        step_timeout_s: float = 15.0,
        held: Iterable[str] = (),
        hold_time_s: float = 1.0,
        now: Callable[[], float] = time.monotonic,
        idle_s: float = 30.0,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self._now = now
        self.idle_s = idle_s
        self._last_input = now()
        self.learner = KeyLearner(actions, current, now(), step_timeout_s, held)
        self.result: KeyMap | None = None
        self._on_done = on_done
        self._on_cancel = on_cancel
        self._path = path
        self._hold_time_s = hold_time_s
        self._closed = False
        self._ticker = Clock.schedule_interval(lambda dt: self.tick(), 0.25)
        self.font_px = max(18.0, min(Window.width, Window.height) / 20.0)
        self._refresh()

    # ---- showing it -------------------------------------------------------------------

    def open(self, parent: Widget | None = None) -> LearnScreen:
        """Put the overlay on top of ``parent`` (default: the window)."""
        (parent if parent is not None else Window).add_widget(self)
        return self

    @property
    def is_open(self) -> bool:
        return not self._closed

    # ---- input --------------------------------------------------------------------------

    def handle_key(self, name: str, down: bool, t: float | None = None) -> bool:
        """A key event by name; True (always, while open): the screen owns the keyboard."""
        if self._closed:
            return False
        self._last_input = self._now()
        t = self._last_input if t is None else t
        if not down:
            self.learner.key_up(name)
            return True
        if name == "escape":
            self.cancel()
            return True
        if self.learner.key_down(name, t) is not Step.IGNORED:
            self._after_step()
        return True

    def tick(self, t: float | None = None) -> None:
        """Skip the current action when its time is up; update the countdown."""
        if self._closed:
            return
        t = self._now() if t is None else t
        if self._now() - self._last_input >= self.idle_s:
            log.info("learn: %.0f s without input; closed", self.idle_s)
            self.cancel()
            return
        if self.learner.tick(t):
            self._after_step()
        else:
            self._refresh()

    def cancel(self) -> None:
        if self._closed:
            return
        self._close()
        self._on_cancel()

    def on_touch_down(self, touch: Any) -> bool:
        """The screen is modal: touches never reach the board under it (CLOSE takes them)."""
        self._last_input = self._now()
        super().on_touch_down(touch)
        return True

    # ---- inside --------------------------------------------------------------------------

    def _after_step(self) -> None:
        self._refresh()
        if not self.learner.finished:
            return
        if not self.learner.taught:
            self.cancel()
            return
        keymap = self.learner.result()
        if self._path is not None:
            try:
                save_keymap(keymap, self._path)
            except OSError:
                log.exception("learn: could not save the key map to %s", self._path)
        self.result = keymap
        self._close()
        self._on_done(keymap)

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ticker.cancel()
        if self.parent is not None:
            self.parent.remove_widget(self)

    def _refresh(self) -> None:
        learner = self.learner
        step, total = learner.progress
        self.progress_text = f"{step}/{total}"
        action = learner.prompt
        if action is not None:
            name, what = describe(action)
            self.prompt_text = "Press the key for"
            self.action_text = name
            held = (
                f"  (used by holding it {self._hold_time_s:g} s)" if action in DESTRUCTIVE else ""
            )
            self.detail_text = what + held
            left = learner.seconds_left(self._now())
            self.hint_text = (
                f"Skip: press a key you already taught, or wait {left:.0f} s."
                "   Esc or CLOSE: cancel"
            )
        if learner.last is not None:
            result, last_action, key = learner.last
            name = describe(last_action)[0]
            if result is Step.LEARNED:
                self.feedback_text = f"{name} = {key}"
            else:
                keys = learner.current.keys_for(last_action)
                kept = ", ".join(k for k in keys if k not in learner.taught) or "no key"
                self.feedback_text = f"{name} skipped (keeps {kept})"


SCREEN_NAME = "learn"


def open_learn_screen(
    app: Any, actions: Sequence[Action] | None = None, idle_s: float = 30.0
) -> LearnScreen:
    """Show the learn screen in the running board app (its ``open_learn`` calls this: the
    learn chord).

    Uses the app's ``open_screen``/``close_screen`` and its key input (``app.keys``, whose
    tracker gets the new map); keys reach the screen through its own window binding while
    it is open, because the app's key input is switched off meanwhile.
    """
    manager = app.root
    if manager.current == SCREEN_NAME and manager.has_screen(SCREEN_NAME):
        existing = manager.get_screen(SCREEN_NAME).children
        if existing and isinstance(existing[0], LearnScreen) and existing[0].is_open:
            return existing[0]
    keys = getattr(app, "keys", None)
    tracker = keys.tracker if keys is not None else None
    names: dict[int, str] = {}  # keycode -> name given at key down

    def on_key_down(_window: Any, keycode: int, _scan: int, text: Any, *_rest: Any) -> bool:
        names[keycode] = key_name(keycode, text if isinstance(text, str) else None)
        return screen.handle_key(names[keycode], True)

    def on_key_up(_window: Any, keycode: int, *_rest: Any) -> bool:
        return screen.handle_key(names.pop(keycode, "") or key_name(keycode, None), False)

    def unbind(*_args: Any) -> None:
        Window.unbind(on_key_down=on_key_down, on_key_up=on_key_up)
        app.unbind(on_stop=stopped)

    def stopped(*_args: Any) -> None:  # the app stops while the screen is open
        unbind()
        screen._close()

    def leave() -> None:
        unbind()
        app.close_screen()

    def done(keymap: KeyMap) -> None:
        if tracker is not None:
            tracker.keymap = keymap
        leave()

    data_dir = getattr(app, "data_dir", None)
    screen = LearnScreen(
        list(actions) if actions is not None else list(Action),
        on_done=done,
        on_cancel=leave,
        current=tracker.keymap if tracker is not None else DEFAULT_KEYMAP,
        path=Path(data_dir) / KEYMAP_FILE if data_dir is not None else None,
        held=tracker.held_keys() if tracker is not None else (),
        hold_time_s=tracker.hold_time_s if tracker is not None else 1.0,
        now=keys.clock if keys is not None else time.monotonic,  # the keys' clock
        idle_s=idle_s,
    )
    host = Screen(name=SCREEN_NAME)
    host.add_widget(screen)
    app.open_screen(host)
    Window.bind(on_key_down=on_key_down, on_key_up=on_key_up)
    app.bind(on_stop=stopped)
    return screen
