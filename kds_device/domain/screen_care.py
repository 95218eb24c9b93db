"""A screen that cares for itself: when the board shifts, dims, goes dark and locks for
cleaning. Pure decisions; the caller passes the monotonic time (and the local wall time for
opening hours) and draws what :meth:`ScreenCare.update` answers.

* **Shift** (burn-in): every ``shift_every_s`` the board moves one pixel along a path that
  covers the square ``[-shift_px, shift_px]`` in both axes (never further), and never while a
  finger is on the screen: a target does not move under a press.
* **Dim**: after ``dim_after_s`` with no input and no open ticket. An order, a touch or a key
  wakes it; the waking input does nothing else.
* **Off**: outside the opening hours, once quiet for ``off_after_s`` with no open ticket.
  An order or an input lights it again (for the quiet spell); the opening time lights it.
* **Cleaning lock**: touch and keys do nothing for ``lock_s``; it ends by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SHIFT_PX = 4
MINUTES_A_DAY = 24 * 60


class Look(StrEnum):
    """How the screen looks."""

    AWAKE = "awake"
    DIM = "dim"
    OFF = "off"


class Verdict(StrEnum):
    """What an input (touch, key, bump-bar press) may do."""

    ACT = "act"  # do what it asks
    WAKE = "wake"  # it woke the screen, and does nothing else
    LOCKED = "locked"  # the cleaning lock is on: ignored


@dataclass(frozen=True)
class Span:
    """Open from ``start`` to ``end``, minutes after midnight; ``end <= start`` runs past
    midnight into the next day."""

    start: int
    end: int

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class OpeningHours:
    """The spans open on each weekday (Monday first)."""

    days: tuple[tuple[Span, ...], ...]

    def is_open(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        for span in self.days[weekday]:
            if span.start <= minute < (MINUTES_A_DAY if span.overnight else span.end):
                return True
        # yesterday's spans that run past midnight
        return any(s.overnight and minute < s.end for s in self.days[(weekday - 1) % 7])


def parse_hours(raw: object) -> tuple[OpeningHours | None, list[str]]:
    """``[display] hours``: ``"10:00-23:00"`` every day, or a table of weekdays
    (``mon`` .. ``sun``, and ``default`` for the days not named), each value one or more
    spans (``"11:30-14:30, 18:00-01:00"``; past midnight runs into the next day) or
    ``"closed"``. ``""`` or nothing: always open (no screen off). Returns the hours (None:
    always open) and the problems found; a day that cannot be read stays open."""
    problems: list[str] = []
    if raw is None or raw == "":
        return None, problems
    if isinstance(raw, str):
        spans = _spans(raw, "display.hours", problems)
        if spans is None:
            return None, problems
        return OpeningHours(tuple(spans for _ in DAYS)), problems
    if not isinstance(raw, Mapping):
        return None, ['display.hours must be "HH:MM-HH:MM" or a table of weekdays']
    unknown = [str(k)[:20] for k in raw if str(k).lower() not in (*DAYS, "default")]
    if unknown:
        problems.append(f"display.hours: unknown days {', '.join(unknown)} (use mon..sun)")
    always = (Span(0, MINUTES_A_DAY),)
    fallback: tuple[Span, ...] = always
    if "default" in raw:
        fallback = _spans(raw["default"], "display.hours.default", problems) or always
    lowered = {str(k).lower(): v for k, v in raw.items()}
    days = []
    for day in DAYS:
        if day in lowered:
            spans = _spans(lowered[day], f"display.hours.{day}", problems)
            days.append(always if spans is None else spans)
        else:
            days.append(fallback)
    return OpeningHours(tuple(days)), problems


def _spans(value: object, where: str, problems: list[str]) -> tuple[Span, ...] | None:
    """``"10:00-23:00, 23:30-01:00"`` -> spans; ``"closed"`` -> (); None when unreadable."""
    if not isinstance(value, str) or len(value) > 200:
        problems.append(f'{where} must be text like "10:00-23:00" or "closed"')
        return None
    text = value.strip().lower()
    if text in ("closed", "off", "none"):
        return ()
    spans = []
    for part in text.split(","):
        start, sep, end = part.strip().partition("-")
        first, last = _minute(start), _minute(end)
        if not sep or first is None or last is None or first == last:
            problems.append(f'{where}: cannot read {part.strip()[:20]!r} (want "HH:MM-HH:MM")')
            return None
        spans.append(Span(first, 0 if last == MINUTES_A_DAY and first == 0 else last))
    if any(s == Span(0, 0) for s in spans):  # "00:00-24:00": the whole day
        return (Span(0, MINUTES_A_DAY),)
    return tuple(spans)


def _minute(text: str) -> int | None:
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and hours.isascii() and minutes.isascii()):
        return None
    if not (hours.isdigit() and minutes.isdigit() and len(hours) <= 2 and len(minutes) == 2):
        return None
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_A_DAY:
        return None
    return value


@dataclass(frozen=True)
class CareSettings:
    """The ``[display]`` keys of screen care (see docs/screen-care.md)."""

    shift_px: int = MAX_SHIFT_PX
    shift_every_s: float = 180.0
    dim_after_s: float = 600.0  # 0: never dim
    dim_level: float = 0.3  # the brightness while dimmed, 0..1
    off_after_s: float = 60.0  # outside opening hours
    lock_s: float = 30.0
    lock_press_s: float = 2.0  # a press this long on the status bar locks
    hours: OpeningHours | None = None  # None: always open

    def __post_init__(self) -> None:
        object.__setattr__(self, "shift_px", max(0, min(MAX_SHIFT_PX, int(self.shift_px))))
        object.__setattr__(self, "dim_level", max(0.05, min(1.0, self.dim_level)))


def shift_path(bound: int) -> list[tuple[int, int]]:
    """A closed loop of one-pixel steps through every point of the square ``[-bound,
    bound]`` in both axes, from (0, 0): down the rows in a serpentine, then back up it."""
    if bound <= 0:
        return [(0, 0)]
    span = list(range(-bound, bound + 1))
    down = [(x, y) for i, y in enumerate(span) for x in (span if i % 2 == 0 else span[::-1])]
    loop = down + down[-2:0:-1]
    middle = loop.index((0, 0))
    return loop[middle:] + loop[:middle]


@dataclass(frozen=True)
class CareState:
    """What to draw: the look, the board's offset in pixels, the lock's seconds left (0:
    unlocked), whether the site is open."""

    look: Look
    shift: tuple[int, int]
    lock_left_s: float
    open_hours: bool

    @property
    def locked(self) -> bool:
        return self.lock_left_s > 0


@dataclass
class ScreenCare:
    """The screen's state over time; every method takes the monotonic time."""

    settings: CareSettings
    started: float
    _quiet_since: float = field(init=False)
    _look: Look = field(init=False, default=Look.AWAKE)
    _lock_until: float | None = field(init=False, default=None)
    _path: list[tuple[int, int]] = field(init=False)
    _step: int = field(init=False, default=0)
    _next_shift: float = field(init=False)
    _was_open: bool | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._quiet_since = self.started
        self._path = shift_path(self.settings.shift_px)
        self._next_shift = self.started + self.settings.shift_every_s

    @property
    def look(self) -> Look:
        return self._look

    @property
    def shift(self) -> tuple[int, int]:
        return self._path[self._step % len(self._path)]

    def lock_left(self, mono: float) -> float:
        if self._lock_until is None or mono >= self._lock_until:
            return 0.0
        return self._lock_until - mono

    def activity(self, mono: float) -> None:
        """An order (or anything worth seeing) came: awake, and the quiet spell starts over."""
        self._quiet_since = max(self._quiet_since, mono)
        self._look = Look.AWAKE

    def input(self, mono: float) -> Verdict:
        """A touch, key or bump-bar press: what it may do (and it counts as activity)."""
        if self.lock_left(mono) > 0:
            return Verdict.LOCKED
        asleep = self._look is not Look.AWAKE
        self.activity(mono)
        return Verdict.WAKE if asleep else Verdict.ACT

    def lock(self, mono: float) -> bool:
        """Start the cleaning lock (False when it is on already: it is not lengthened)."""
        if self.lock_left(mono) > 0:
            return False
        self.activity(mono)
        self._lock_until = mono + self.settings.lock_s
        return True

    def update(
        self, mono: float, local: datetime | None, open_tickets: int, finger_down: bool
    ) -> CareState:
        """The state at ``mono``: call once a second (and after any input)."""
        settings = self.settings
        if self._lock_until is not None and mono >= self._lock_until:
            self._lock_until = None
            self.activity(mono)  # the lock's end is no quiet spell
        is_open = settings.hours.is_open(local) if settings.hours and local else True
        if is_open and self._was_open is False:
            self.activity(mono)  # opening time lights the screen
        self._was_open = is_open
        if open_tickets > 0:
            self.activity(mono)
        quiet = mono - self._quiet_since
        if self._lock_until is not None or open_tickets > 0:
            self._look = Look.AWAKE
        elif not is_open and quiet >= settings.off_after_s:
            self._look = Look.OFF
        elif settings.dim_after_s > 0 and quiet >= settings.dim_after_s:
            self._look = Look.DIM
        if not finger_down and mono >= self._next_shift:
            self._step += 1
            self._next_shift = mono + settings.shift_every_s
        return CareState(self._look, self.shift, self.lock_left(mono), is_open)
