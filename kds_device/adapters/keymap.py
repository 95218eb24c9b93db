"""Key names to actions, for USB bump bars, keypads and keyboards (they all present themselves
as keyboards).

Pure Python, no Kivy import at module level: the UI translates a Kivy key event with
:func:`key_name` and feeds names to a :class:`KeyPressTracker`. The effective map is, first
found wins: the learned file (``data_dir()/keymap.toml``, written by the learn screen), the
config's ``[bumpbar.keys]``, :data:`DEFAULT_KEYMAP`.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from kds_device.domain.actions import DESTRUCTIVE, Action

log = logging.getLogger(__name__)

KEYMAP_FILE = "keymap.toml"

#: Keys that only change other keys: never bound, never a learn gesture.
MODIFIER_KEYS = frozenset(
    {
        "shift",
        "rshift",
        "lctrl",
        "rctrl",
        "alt",
        "alt-gr",
        "super",
        "compose",
        "capslock",
        "numlock",
        "screenlock",
    }
)

_kivy_names: dict[int, str] | None = None


def key_name(keycode: int, codepoint: str | None, names: Mapping[int, str] | None = None) -> str:
    """A stable name for a key event: Kivy's name for the keycode ("numpad5", "enter", "a",
    "f1"), else the character the keycode stands for (SDL's keycodes for printable keys are
    their code points: 252 is "ü"), else ``key<code>``, so an odd bump bar can still be learned.

    The name depends on the keycode only, so a key up (which has no codepoint) gets the same
    name as its key down; ``codepoint`` is used only for Kivy's virtual keyboard (keycode -1).
    ``names`` maps keycodes to names; without it Kivy's table is imported lazily, so call it
    that way only from the running app (importing ``kivy.core.window`` opens the window).
    """
    if keycode < 0 and codepoint:
        return codepoint.lower()
    table = names if names is not None else _kivy_key_names()
    name = table.get(keycode)
    if name:
        return name
    if 32 < keycode < 0x110000 and chr(keycode).isprintable() and not chr(keycode).isspace():
        return chr(keycode).lower()
    return f"key{keycode}"


def _kivy_key_names() -> dict[int, str]:
    global _kivy_names
    if _kivy_names is None:
        from kivy.core.window import Keyboard

        _kivy_names = reverse_key_table(Keyboard.keycodes)
    return _kivy_names


def reverse_key_table(keycodes: Mapping[str, int]) -> dict[int, str]:
    """Code -> name from Kivy's name -> code table; the first name wins (as in Kivy's own
    ``keycode_to_string``: 47 is "/", not "?")."""
    table: dict[int, str] = {}
    for name, code in keycodes.items():
        table.setdefault(code, name)
    return table


class KeyMapError(ValueError):
    """A key map file that cannot be read as one."""


@dataclass(frozen=True)
class KeyMap:
    """Which key does what. Immutable: learning builds a new one."""

    _bindings: Mapping[str, Action] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_bindings", dict(self._bindings))

    @classmethod
    def parse(cls, raw: Mapping[str, str], where: str = "key map") -> KeyMap:
        """Key name -> action name; unknown actions are logged and left out."""
        bindings: dict[str, Action] = {}
        for key, action in raw.items():
            try:
                bindings[str(key)] = Action.parse(str(action))
            except ValueError as error:
                log.warning("%s: %s = %r ignored: %s", where, key, action, error)
        return cls(bindings)

    def action_for(self, key_name: str) -> Action | None:
        return self._bindings.get(key_name)

    def bindings(self) -> dict[str, Action]:
        return dict(self._bindings)

    def keys_for(self, action: Action) -> list[str]:
        return [key for key, bound in self._bindings.items() if bound is action]

    def with_binding(self, key_name: str, action: Action) -> KeyMap:
        """This map with ``key_name`` doing ``action`` (whatever it did before)."""
        return KeyMap({**self._bindings, key_name: action})

    def without_keys(self, keys: Iterable[str]) -> KeyMap:
        drop = set(keys)
        return KeyMap({k: a for k, a in self._bindings.items() if k not in drop})

    def missing(self, actions: Iterable[Action] = Action) -> list[Action]:
        """Actions no key reaches (the learn screen and the docs warn about these)."""
        bound = set(self._bindings.values())
        return [action for action in actions if action not in bound]

    def __len__(self) -> int:
        return len(self._bindings)


#: A 17-key numeric keypad (the cheapest "bump bar"), then keyboard fallbacks. Every action is
#: reachable; acknowledge and clear-all sit in corners and must be held (hold-to-confirm).
DEFAULT_KEYMAP = KeyMap(
    {
        # keypad, Num Lock on
        "numpad4": Action.PREVIOUS,
        "numpad6": Action.NEXT,
        "numpad7": Action.FIRST,
        "numpad5": Action.BUMP,
        "numpadenter": Action.BUMP,
        "numpad8": Action.START,
        "numpaddivide": Action.NEXT_URGENT,
        "numpad1": Action.RECALL,
        "numpad0": Action.ITEM_DONE,  # a station screen's item done (the big key)
        "numpad2": Action.UNDO,
        "numpaddecimal": Action.TODAY,  # UNDO stays on numpad2
        "numpadadd": Action.PAGE_NEXT,
        "numpadsubstract": Action.PAGE_PREVIOUS,  # sic: Kivy's spelling
        "numpadmul": Action.ALL_DAY,
        "numpad9": Action.ACKNOWLEDGE,
        "numpad3": Action.CLEAR_ALL,
        # keyboard
        "left": Action.PREVIOUS,
        "right": Action.NEXT,
        "home": Action.FIRST,
        "enter": Action.BUMP,
        "spacebar": Action.BUMP,
        "s": Action.START,
        "r": Action.RECALL,
        "backspace": Action.UNDO,
        "u": Action.UNDO,
        "pagedown": Action.PAGE_NEXT,
        "down": Action.PAGE_NEXT,
        "pageup": Action.PAGE_PREVIOUS,
        "up": Action.PAGE_PREVIOUS,
        "a": Action.ALL_DAY,
        "c": Action.ACKNOWLEDGE,
        "x": Action.CLEAR_ALL,
        "n": Action.NEXT_URGENT,
        "l": Action.CLEAN_LOCK,
        "d": Action.ITEM_DONE,  # a station screen: the selected ticket's next item is done
        "t": Action.TODAY,
    }
)


#: Keys of the default map that do something else when held ``hold_time_s``: their own
#: action then fires when they are released early (as a GPIO pin with a hold action does).
#: The keypad is full, so the cleaning lock is a hold of its corner key.
DEFAULT_KEY_HOLDS: dict[str, Action] = {"numpaddecimal": Action.CLEAN_LOCK}


def load_keymap(path: Path) -> KeyMap:
    """Read a key map file (``[keys]`` table of ``"key name" = "action"``).

    Raises ``FileNotFoundError`` when absent and :class:`KeyMapError` when unreadable."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise KeyMapError(f"{path}: {error}") from error
    keys = raw.get("keys")
    if not isinstance(keys, Mapping) or not all(isinstance(v, str) for v in keys.values()):
        raise KeyMapError(f'{path}: expected a [keys] table of "key" = "action"')
    return KeyMap.parse(keys, where=str(path))


def save_keymap(keymap: KeyMap, path: Path) -> None:
    """Write ``keymap`` atomically (temp file, fsync, rename): a power cut on an SD card
    leaves the old map or the new one, never half a file."""
    lines = [
        "# Written by kds-device's learn screen. Delete this file to go back to the",
        "# config's [bumpbar.keys] or the default keypad map.",
        "[keys]",
    ]
    lines += [f"{_toml_string(k)} = {_toml_string(a.value)}" for k, a in keymap.bindings().items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    with temp.open("w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, path)


def _toml_string(text: str) -> str:
    # A JSON string without ASCII escaping is a valid TOML basic string: the escapes JSON
    # emits (\" \\ \n \t \uXXXX for control characters ...) are TOML's too.
    return json.dumps(text, ensure_ascii=False)


def effective_keymap(config_keys: Mapping[str, str], learned: Path) -> tuple[KeyMap, str]:
    """The map in force and where it came from ("learned", "config" or "default")."""
    try:
        return load_keymap(learned), "learned"
    except FileNotFoundError:
        pass
    except KeyMapError as error:
        log.warning("ignoring the learned key map: %s", error)
    if config_keys:
        return KeyMap.parse(config_keys, where="[bumpbar.keys]"), "config"
    return DEFAULT_KEYMAP, "default"


class Gesture(StrEnum):
    """What a key can do besides an action."""

    LEARN = "learn"  # the learn chord held for ``chord_s``: open the learn screen


Fired = Action | Gesture

#: The learn chord: the keys of both these actions held together (on the default keypad
#: "-" and "+", on a keyboard Page Up and Page Down). A deliberate two-handed act no plate
#: resting on the keypad makes; each key alone still pages first.
LEARN_CHORD: frozenset[Action] = frozenset({Action.PAGE_PREVIOUS, Action.PAGE_NEXT})


@dataclass
class _Down:
    since: float
    action: Action | None
    fired_hold: bool = False


class KeyPressTracker:
    """Turns key downs and ups into actions, with hold-to-confirm; time is passed in.

    * A non-destructive action fires on key down; the keyboard's auto-repeat (more downs
      without an up) is ignored.
    * A destructive action (:data:`DESTRUCTIVE`) fires only once its key has been held for
      ``hold_time_s`` (noticed by :meth:`poll`, a repeat, or the key up), so a bumped elbow
      does nothing harmful.
    * A key in ``holds`` fires its hold action once held ``hold_time_s``, and its own action
      only when released before that (:data:`DEFAULT_KEY_HOLDS`).
    * Keys for every action of :data:`LEARN_CHORD` held together for ``chord_s`` give
      :attr:`Gesture.LEARN`, once per chord. Nothing else opens the learn screen from keys:
      not an unknown key, not a key resting down for minutes.
    """

    def __init__(
        self,
        keymap: KeyMap,
        hold_time_s: float = 1.0,
        chord_s: float | None = 3.0,
        destructive: frozenset[Action] = DESTRUCTIVE,
        holds: Mapping[str, Action] | None = None,
    ) -> None:
        self.keymap = keymap
        self.holds = dict(holds or {})
        self.hold_time_s = hold_time_s
        self.chord_s = chord_s
        self._destructive = destructive
        self._down: dict[str, _Down] = {}
        self._chord_fired = False

    def key_down(self, name: str, t: float) -> list[Fired]:
        held = self._down.get(name)
        if held is not None:  # auto-repeat
            return self._due(name, held, t) + self._chord(t)
        action = self.keymap.action_for(name)
        self._down[name] = _Down(t, action)
        if action is not None and action not in self._destructive and name not in self.holds:
            return [action]
        return []

    def key_up(self, name: str, t: float) -> list[Fired]:
        held = self._down.get(name)
        if held is None:
            return []  # pressed before we were listening
        fired = self._due(name, held, t) + self._chord(t)
        released_early = name in self.holds and not held.fired_hold
        if released_early and held.action is not None and held.action not in self._destructive:
            fired.append(held.action)
        del self._down[name]
        if not self._chord_keys():
            self._chord_fired = False
        return fired

    def poll(self, t: float) -> list[Fired]:
        """Holds that have come due; call a few times a second while keys are down."""
        return [fired for _, fired in self.poll_keys(t)]

    def poll_keys(self, t: float) -> list[tuple[str, Fired]]:
        """As :meth:`poll`, with the name of the key each came from ("" for the chord)."""
        due = [
            (name, fired)
            for name, held in list(self._down.items())
            for fired in self._due(name, held, t)
        ]
        return due + [("", fired) for fired in self._chord(t)]

    def held_keys(self) -> set[str]:
        return set(self._down)

    def hold_progress(self, t: float) -> dict[Action, float]:
        """Destructive actions being held and how far (0..1): for a "keep holding" hint."""
        return {
            held.action: min(1.0, (t - held.since) / self.hold_time_s)
            for held in self._down.values()
            if held.action in self._destructive and not held.fired_hold
        }

    def reset(self) -> None:
        """Forget keys that are down (e.g. when another screen takes the keyboard)."""
        self._down.clear()
        self._chord_fired = False

    def _due(self, name: str, held: _Down, t: float) -> list[Fired]:
        """A destructive action, or a key's hold action, whose hold has come due (once per
        hold)."""
        hold = self.holds.get(name)
        if hold is not None:
            if held.fired_hold or t - held.since < self.hold_time_s:
                return []
            held.fired_hold = True
            return [hold]
        due = held.action in self._destructive and not held.fired_hold
        if due and held.action is not None and t - held.since >= self.hold_time_s:
            held.fired_hold = True
            return [held.action]
        return []

    def _chord_keys(self) -> dict[Action, float]:
        """For each chord action with a key down: since when (the earliest such key)."""
        since: dict[Action, float] = {}
        for held in self._down.values():
            if held.action in LEARN_CHORD:
                since[held.action] = min(since.get(held.action, held.since), held.since)
        return since

    def _chord(self, t: float) -> list[Fired]:
        if self.chord_s is None or self._chord_fired:
            return []
        since = self._chord_keys()
        if len(since) < len(LEARN_CHORD) or t - max(since.values()) < self.chord_s:
            return []
        self._chord_fired = True
        return [Gesture.LEARN]
