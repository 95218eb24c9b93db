"""What the device's core asks of a screen (:class:`CoreView`, which the Kivy app implements),
and a core without one (:class:`NoView`: the core's tests, tools)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class CoreView(Protocol):
    """What the core asks of a screen."""

    def show(self, changed: set[str]) -> None:
        """Redraw the tickets in ``changed`` (all of them after a page change), then the
        status bar, the undo bar and the panels from the core's state."""

    def play(self, sound: str) -> None:
        """Play "chime" (a new order) or "alert" (a cancel, a link down too long)."""

    def open_learn(self) -> None:
        """Show the key-learning screen."""

    def after_frame(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once what was just shown is on screen (the next frame flipped):
        the core saves the board and acknowledges messages then, so drawing never waits for
        the disk."""


class NoView:
    """A core without a screen (tests of the rules, tools): remembers what it was asked."""

    def __init__(self) -> None:
        self.shown: list[set[str]] = []
        self.played: list[str] = []
        self.learn_opened = 0

    def show(self, changed: set[str]) -> None:
        self.shown.append(set(changed))

    def play(self, sound: str) -> None:
        self.played.append(sound)

    def open_learn(self) -> None:
        self.learn_opened += 1

    def after_frame(self, callback: Callable[[], object]) -> None:
        callback()  # no frames here: at once
