"""Keyboards, keypads and USB bump bars: Kivy key events -> key names -> actions, through the
bump-bar key map (``kds_device.adapters.keymap``) with its hold-to-confirm rules. Everything
ends in ``perform(action)`` on the main thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kds_device.adapters.keymap import (
    DEFAULT_KEY_HOLDS,
    KEYMAP_FILE,
    Gesture,
    KeyPressTracker,
    effective_keymap,
    key_name,
)
from kds_device.config import BumpBarConfig
from kds_device.domain.actions import Action

log = logging.getLogger(__name__)


class KeyInput:
    """Feeds key downs/ups to a :class:`KeyPressTracker` and hands what fires to ``perform``;
    the learn chord asks ``open_learn`` for the learn screen. The composition root builds
    it and hands it to the app, which feeds it the window's key events."""

    def __init__(
        self,
        config: BumpBarConfig,
        data_dir: Path | None,
        perform: Callable[[Action], object],
        open_learn: Callable[[], object] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        learned = (data_dir / KEYMAP_FILE) if data_dir else Path("/nonexistent") / KEYMAP_FILE
        keymap, origin = effective_keymap(config.keys, learned)
        log.info("key map: %s (%d keys)", origin, len(keymap))
        holds = DEFAULT_KEY_HOLDS if origin == "default" else {}  # the keypad's hold keys
        self.tracker = KeyPressTracker(
            keymap, hold_time_s=config.hold_time_s, chord_s=config.learn_chord_s, holds=holds
        )
        self.perform = perform
        self.open_learn = open_learn
        self.clock = clock
        self.enabled = True

    def key_down(self, keycode: int, codepoint: str | None) -> bool:
        if not self.enabled:
            return False
        return self._fire(self.tracker.key_down(key_name(keycode, codepoint), self.clock()))

    def key_up(self, keycode: int) -> bool:
        if not self.enabled:
            return False
        return self._fire(self.tracker.key_up(key_name(keycode, None), self.clock()))

    def poll(self, *_args: Any) -> None:
        if self.enabled and self.tracker.held_keys():
            self._fire(self.tracker.poll(self.clock()))

    def reset(self) -> None:
        self.tracker.reset()

    def _fire(self, fired: list[Any]) -> bool:
        for item in fired:
            if item is Gesture.LEARN:
                self.open_learn()
            elif isinstance(item, Action):
                self.perform(item)
        return bool(fired)
