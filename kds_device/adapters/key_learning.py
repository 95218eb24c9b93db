"""The learn walk behind the learn screen ("press the key for BUMP", then the next action),
kept free of Kivy so the rules are tested on their own; time is passed in.

Rules, chosen so a bump bar alone can finish the walk:

* the first fresh press of a key not yet taught binds it to the action asked for;
* pressing a key already taught in this walk skips the action asked for, as does waiting
  ``step_timeout_s``; a skipped action keeps the key(s) it had in the current map;
* auto-repeat and keys already down when the walk began are ignored until released;
* the result is exactly what was taught plus the kept keys of skipped actions, so an old
  key that now means nothing cannot fire by surprise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

from kds_device.adapters.keymap import MODIFIER_KEYS, KeyMap
from kds_device.domain.actions import Action

#: Keys the walk never binds: the keyboard's way out of the learn screen, and modifiers.
RESERVED_KEYS = frozenset({"escape"}) | MODIFIER_KEYS


class Step(Enum):
    """What a key did to the walk."""

    LEARNED = "learned"
    SKIPPED = "skipped"
    IGNORED = "ignored"  # repeat, reserved key, or the walk is over


class KeyLearner:
    def __init__(
        self,
        actions: Sequence[Action],
        current: KeyMap,
        t: float,
        step_timeout_s: float = 15.0,
        held: Iterable[str] = (),
    ) -> None:
        if not actions:
            raise ValueError("nothing to learn")
        self.actions = list(actions)
        self.current = current
        self.step_timeout_s = step_timeout_s
        self.taught: dict[str, Action] = {}
        self.skipped: list[Action] = []
        self._index = 0
        self._step_since = t
        self._down: set[str] = set(held)
        self.last: tuple[Step, Action, str] | None = None  # for the screen: what just happened

    @property
    def prompt(self) -> Action | None:
        """The action whose key is wanted now; None once the walk is over."""
        return self.actions[self._index] if self._index < len(self.actions) else None

    @property
    def finished(self) -> bool:
        return self._index >= len(self.actions)

    @property
    def progress(self) -> tuple[int, int]:
        """(step number shown to the cook, steps in all): "3/12"."""
        return min(self._index + 1, len(self.actions)), len(self.actions)

    def seconds_left(self, t: float) -> float:
        return max(0.0, self.step_timeout_s - (t - self._step_since))

    def key_down(self, name: str, t: float) -> Step:
        if name in self._down or name in RESERVED_KEYS or self.finished:
            self._down.add(name)
            return Step.IGNORED
        self._down.add(name)
        action = self.actions[self._index]
        if name in self.taught:
            self._advance(Step.SKIPPED, action, name, t)
            return Step.SKIPPED
        self.taught[name] = action
        self._advance(Step.LEARNED, action, name, t)
        return Step.LEARNED

    def key_up(self, name: str) -> None:
        self._down.discard(name)

    def tick(self, t: float) -> bool:
        """Skip the current action if nobody pressed anything in time; True if it did."""
        if self.finished or t - self._step_since < self.step_timeout_s:
            return False
        self._advance(Step.SKIPPED, self.actions[self._index], "", t)
        return True

    def result(self) -> KeyMap:
        keymap = KeyMap(self.taught)
        for action in self.skipped:
            for key in self.current.keys_for(action):
                if keymap.action_for(key) is None:
                    keymap = keymap.with_binding(key, action)
        return keymap

    def _advance(self, step: Step, action: Action, key: str, t: float) -> None:
        if step is Step.SKIPPED:
            self.skipped.append(action)
        self.last = (step, action, key)
        self._index += 1
        self._step_since = t
