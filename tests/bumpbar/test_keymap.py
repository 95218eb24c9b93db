"""Key maps: naming keys, the default keypad map, files, hold-to-confirm, the learn walk."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kds_device.adapters.key_learning import KeyLearner, Step
from kds_device.adapters.keymap import (
    DEFAULT_KEY_HOLDS,
    DEFAULT_KEYMAP,
    Gesture,
    KeyMap,
    KeyMapError,
    KeyPressTracker,
    effective_keymap,
    key_name,
    load_keymap,
    reverse_key_table,
    save_keymap,
)
from kds_device.domain.actions import DESTRUCTIVE, Action

# A slice of Kivy's name -> code table, as the UI would hand it over.
NAMES = reverse_key_table({"enter": 13, "numpad5": 261, "a": 97, "/": 47, "?": 47, "f1": 282})


def test_key_names_follow_kivys_table_then_the_keys_character_then_the_code() -> None:
    assert key_name(261, "5", NAMES) == "numpad5"
    assert key_name(13, None, NAMES) == "enter"
    assert key_name(97, "A", NAMES) == "a"  # shift does not make another key
    assert key_name(47, "?", NAMES) == "/"  # Kivy's own choice for a shared code
    assert key_name(252, "ü", NAMES) == "ü"  # SDL: a printable key's code is its character
    assert key_name(252, None, NAMES) == "ü"  # ... so its key up (no text) has the same name
    assert key_name(1073741935, None, NAMES) == "key1073741935"  # F14 and friends
    assert key_name(160, None, NAMES) == "key160"  # no-break space: not a name
    assert key_name(-1, "Q", NAMES) == "q"  # Kivy's virtual keyboard


def test_default_map_reaches_every_action_from_the_keypad_alone() -> None:
    keypad = KeyMap({k: a for k, a in DEFAULT_KEYMAP.bindings().items() if k.startswith("numpad")})
    held = {a for k, a in DEFAULT_KEY_HOLDS.items() if k.startswith("numpad")}
    assert set(keypad.missing()) <= held  # the keypad is full: the rest are holds
    assert DEFAULT_KEY_HOLDS == {"numpaddecimal": Action.CLEAN_LOCK}
    assert DEFAULT_KEYMAP.missing() == []
    assert DEFAULT_KEYMAP.action_for("numpad5") is Action.BUMP
    assert DEFAULT_KEYMAP.action_for("numpadenter") is Action.BUMP
    assert DEFAULT_KEYMAP.action_for("escape") is None  # the way out of the learn screen
    assert DEFAULT_KEYMAP.action_for("nope") is None
    # Every key of a 17-key keypad but Num Lock does something.
    keys = [f"numpad{d}" for d in range(10)]
    keys += ["numpaddecimal", "numpaddivide", "numpadmul", "numpadsubstract", "numpadadd"]
    assert all(DEFAULT_KEYMAP.action_for(k) is not None for k in [*keys, "numpadenter"])


def test_keymap_is_immutable_and_learning_builds_a_new_one() -> None:
    base = KeyMap({"a": Action.BUMP})
    changed = base.with_binding("a", Action.UNDO).with_binding("b", Action.BUMP)
    assert base.bindings() == {"a": Action.BUMP}
    assert changed.bindings() == {"a": Action.UNDO, "b": Action.BUMP}
    assert changed.keys_for(Action.BUMP) == ["b"]
    assert changed.without_keys(["a"]).bindings() == {"b": Action.BUMP}
    base.bindings()["z"] = Action.NEXT  # a copy
    assert base.action_for("z") is None


def test_parse_leaves_out_unknown_actions(caplog: pytest.LogCaptureFixture) -> None:
    keymap = KeyMap.parse({"f1": "Bump", "f2": "page-next", "f3": "launch"})
    assert keymap.bindings() == {"f1": Action.BUMP, "f2": Action.PAGE_NEXT}
    assert "launch" in caplog.text


def test_save_and_load_round_trip_with_awkward_names(tmp_path: Path) -> None:
    keymap = KeyMap(
        {"numpad5": Action.BUMP, "/": Action.START, '"': Action.UNDO, "\\": Action.RECALL}
    ).with_binding("ü", Action.NEXT)
    path = tmp_path / "nested" / "keymap.toml"
    save_keymap(keymap, path)
    assert load_keymap(path) == keymap
    assert tomllib.loads(path.read_text(encoding="utf-8"))["keys"]["/"] == "start"
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize(
    "text", ["[keys]\nnumpad5 = ", 'keys = "bump"', "[keys]\nnumpad5 = 5", b"\xff\xfe"]
)
def test_load_rejects_files_that_are_not_key_maps(tmp_path: Path, text: str | bytes) -> None:
    path = tmp_path / "keymap.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(KeyMapError):
        load_keymap(path)


def test_precedence_learned_then_config_then_default(tmp_path: Path) -> None:
    learned = tmp_path / "keymap.toml"
    assert effective_keymap({}, learned) == (DEFAULT_KEYMAP, "default")
    from_config, origin = effective_keymap({"f5": "bump"}, learned)
    assert (from_config.bindings(), origin) == ({"f5": Action.BUMP}, "config")
    save_keymap(KeyMap({"f9": Action.BUMP}), learned)
    keymap, origin = effective_keymap({"f5": "bump"}, learned)
    assert (keymap.bindings(), origin) == ({"f9": Action.BUMP}, "learned")
    learned.write_text("not toml [", encoding="utf-8")
    assert effective_keymap({"f5": "bump"}, learned)[1] == "config"


# ---- hold-to-confirm ---------------------------------------------------------------------


def tracker(**kwargs: float) -> KeyPressTracker:
    return KeyPressTracker(DEFAULT_KEYMAP, hold_time_s=1.0, **kwargs)


def test_ordinary_actions_fire_on_key_down_and_ignore_auto_repeat() -> None:
    keys = tracker()
    assert keys.key_down("numpad5", 0.0) == [Action.BUMP]
    for t in (0.5, 0.55, 0.6, 3.0):  # the keyboard repeats a held key
        assert keys.key_down("numpad5", t) == []
    assert keys.key_up("numpad5", 3.1) == []
    assert keys.key_down("numpad5", 3.2) == [Action.BUMP]


def test_destructive_actions_fire_only_after_being_held() -> None:
    keys = tracker()
    for key in ("numpad9", "c"):
        assert DEFAULT_KEYMAP.action_for(key) in DESTRUCTIVE
    assert keys.key_down("numpad9", 10.0) == []
    assert keys.key_up("numpad9", 10.4) == []  # a bumped elbow: nothing
    assert keys.key_down("numpad9", 20.0) == []
    assert keys.hold_progress(20.5) == {Action.ACKNOWLEDGE: 0.5}
    assert keys.poll(20.9) == []
    assert keys.poll(21.0) == [Action.ACKNOWLEDGE]
    assert keys.poll(22.0) == []  # once per hold
    assert keys.key_up("numpad9", 23.0) == []
    assert keys.hold_progress(23.0) == {}


def test_a_hold_key_fires_its_own_action_on_a_short_press_and_its_hold_when_held() -> None:
    keys = KeyPressTracker(DEFAULT_KEYMAP, hold_time_s=1.0, holds=DEFAULT_KEY_HOLDS)
    own = DEFAULT_KEYMAP.action_for("numpaddecimal")
    assert own is not None and own is not Action.CLEAN_LOCK
    assert keys.key_down("numpaddecimal", 0.0) == []  # not yet: it may become a hold
    assert keys.key_up("numpaddecimal", 0.3) == [own]  # released early: its own action
    assert keys.key_down("numpaddecimal", 5.0) == []
    assert keys.key_down("numpaddecimal", 5.5) == []  # auto-repeat
    assert keys.poll(5.9) == []
    assert keys.poll(6.0) == [Action.CLEAN_LOCK]
    assert keys.poll(7.0) == []  # once per hold
    assert keys.key_up("numpaddecimal", 7.5) == []  # and not its own action too
    keys.key_down("numpaddecimal", 10.0)
    assert keys.key_up("numpaddecimal", 11.2) == [Action.CLEAN_LOCK]  # no poll in between
    assert keys.key_down("numpad5", 12.0) == [Action.BUMP]  # other keys as before
    plain = KeyPressTracker(DEFAULT_KEYMAP)  # no holds (a learned or configured map)
    assert plain.key_down("numpaddecimal", 0.0) == [own]


def test_a_hold_counts_without_polling_when_the_key_comes_up() -> None:
    keys = tracker()
    keys.key_down("numpad3", 0.0)
    assert keys.key_up("numpad3", 1.2) == [Action.CLEAR_ALL]
    keys.key_down("x", 5.0)
    assert keys.key_down("x", 6.1) == [Action.CLEAR_ALL]  # noticed on a repeat


def test_only_the_learn_chord_asks_for_the_learn_screen() -> None:
    keys = tracker(chord_s=3.0)
    assert keys.key_down("f12", 0.0) == []  # unmapped: nothing, however long
    assert keys.key_down("numpad4", 1.0) == [Action.PREVIOUS]
    assert keys.poll(60.0) == []  # a plate resting on the keypad opens nothing
    keys.key_up("numpad4", 60.0)
    assert keys.key_down("numpadsubstract", 61.0) == [Action.PAGE_PREVIOUS]
    assert keys.key_down("numpadadd", 61.5) == [Action.PAGE_NEXT]  # each alone still pages
    assert keys.poll(64.4) == []  # both held, not yet 3 s together
    assert keys.poll(64.5) == [Gesture.LEARN]
    assert keys.poll(70.0) == []  # once per chord
    keys.key_up("numpadadd", 70.0)
    keys.key_down("numpadadd", 71.0)
    assert keys.key_down("numpadadd", 74.1) == []  # one chord until both are let go
    keys.key_up("numpadadd", 75.0)
    keys.key_up("numpadsubstract", 75.0)
    keys.key_down("pageup", 76.0)  # the keyboard's chord
    keys.key_down("pagedown", 76.0)
    assert keys.key_down("pagedown", 79.1) == [Gesture.LEARN]  # noticed on a repeat too
    assert keys.held_keys() == {"f12", "pageup", "pagedown"}
    keys.reset()
    assert keys.held_keys() == set()
    assert keys.key_up("f12", 79.5) == []  # pressed before the reset: forgotten


def test_no_learn_chord_when_switched_off() -> None:
    keys = tracker(chord_s=None)  # type: ignore[arg-type]
    keys.key_down("pageup", 0.0)
    keys.key_down("pagedown", 0.0)
    assert keys.poll(60.0) == []


# ---- the learn walk ---------------------------------------------------------------------


def test_learning_binds_each_action_to_the_next_fresh_key() -> None:
    walk = KeyLearner([Action.BUMP, Action.NEXT, Action.UNDO], DEFAULT_KEYMAP, t=0.0)
    assert (walk.prompt, walk.progress) == (Action.BUMP, (1, 3))
    assert walk.key_down("f1", 1.0) is Step.LEARNED
    assert walk.key_down("f1", 1.1) is Step.IGNORED  # auto-repeat
    walk.key_up("f1")
    assert (walk.prompt, walk.progress) == (Action.NEXT, (2, 3))
    assert walk.key_down("escape", 1.5) is Step.IGNORED
    assert walk.key_down("f2", 2.0) is Step.LEARNED
    assert walk.key_down("f3", 2.1) is Step.LEARNED
    assert walk.finished and walk.prompt is None
    assert walk.key_down("f4", 3.0) is Step.IGNORED
    assert walk.result().bindings() == {"f1": Action.BUMP, "f2": Action.NEXT, "f3": Action.UNDO}


def test_a_taught_key_or_a_timeout_skips_and_keeps_the_old_keys() -> None:
    current = KeyMap({"numpad5": Action.BUMP, "numpad2": Action.UNDO, "f2": Action.ALL_DAY})
    walk = KeyLearner(
        [Action.NEXT, Action.UNDO, Action.BUMP, Action.ALL_DAY], current, t=0.0, step_timeout_s=10
    )
    walk.key_down("f2", 0.5)  # NEXT = f2 (it was all-day)
    walk.key_up("f2")
    assert walk.key_down("f2", 1.0) is Step.SKIPPED  # UNDO keeps numpad2
    assert walk.last == (Step.SKIPPED, Action.UNDO, "f2")
    assert walk.seconds_left(5.0) == 6.0
    assert walk.tick(10.9) is False
    assert walk.tick(11.0) is True  # BUMP keeps numpad5
    assert walk.prompt is Action.ALL_DAY
    assert walk.tick(30.0) is True  # ALL-DAY's old key f2 now means NEXT: not kept
    assert walk.skipped == [Action.UNDO, Action.BUMP, Action.ALL_DAY]
    assert walk.result().bindings() == {
        "f2": Action.NEXT,
        "numpad2": Action.UNDO,
        "numpad5": Action.BUMP,
    }


def test_keys_down_when_the_walk_begins_wait_for_their_release() -> None:
    walk = KeyLearner([Action.BUMP], DEFAULT_KEYMAP, t=0.0, held=["f12"])
    assert walk.key_down("f12", 0.5) is Step.IGNORED  # the learn-hold key, still repeating
    walk.key_up("f12")
    assert walk.key_down("f12", 1.0) is Step.LEARNED


def test_an_empty_walk_is_refused() -> None:
    with pytest.raises(ValueError):
        KeyLearner([], DEFAULT_KEYMAP, t=0.0)


def test_an_unknown_key_at_first_start_or_escape_opens_nothing() -> None:
    keys = KeyPressTracker(DEFAULT_KEYMAP)
    assert keys.key_down("f12", 0.0) == []
    assert keys.key_down("escape", 0.1) == []
    assert keys.poll(30.0) == []
    assert keys.key_down("numpad5", 0.3) == [Action.BUMP]


def test_modifiers_held_long_are_not_a_learn_gesture() -> None:
    keys = tracker()
    keys.key_down("shift", 0.0)
    keys.key_down("numlock", 0.0)
    assert keys.poll(30.0) == []
