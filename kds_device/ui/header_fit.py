"""How a tile's header shares its rows. Pure: widths come from a measure function, so the
priorities are tested without a window.

Highest priority first: the display id is never cut; the age word stays beside the timer
while the id's font (down to body size), then the timer's, can make room, else it moves to
row 2; past that the timer shrinks, and only then the id's font. Row 2 is at body size: the
order type in full, then the customer's name or the table (pickups need it; a name shows
when at least four letters of it fit), then the due time, which moves to row 3 (small) when
the name needs the room; continuation marks shorten, then go; row 3 (badges, the due
time, channel and brand) gets a little smaller before it shortens from the right. A
cancelled ticket shows its id and CANCELLED in row 1 at one size.

Fitted sizes are steps of :mod:`kds_device.ui.font_ladder` (or the tile's own id, timer, body
and small sizes), never any whole size: each size drawn keeps a font open.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from kds_device.ui import font_ladder
from kds_device.ui.scripts import display_markup
from kds_device.ui.theme import MIN_BODY_PX

#: ``(plain text, font px) -> width in px`` of bold text.
Measure = Callable[[str, float], float]
SLACK = 4.0  # px kept free so rounding never makes Kivy shorten a label that "fits"
NAME_CHARS = 4  # fewer characters of a name than this say nothing: the name is hidden
_TAG = re.compile(r"\[/?[a-z]+(?:=[^\]]*)?\]")
_DIGIT = re.compile(r"\d")


def plain(markup: str) -> str:
    """The characters a markup string draws."""
    text = _TAG.sub("", markup)
    return text.replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")


@dataclass(frozen=True)
class HeadSizes:
    room: float  # across the tile, inside its padding
    gap: float  # between the left and the right part of a row
    id_px: float
    timer_px: float
    word_px: float
    small_px: float
    tiny_px: float

    @property
    def kept(self) -> tuple[float, ...]:
        """The tile's own sizes: a fitted size may also be one of these (fonts open anyway)."""
        return (self.id_px, self.timer_px, self.word_px, self.small_px, self.tiny_px)


@dataclass(frozen=True)
class HeadText:
    """What the header says: ``display_id`` and ``name`` are plain order text, ``due`` is
    markup (no order text in it)."""

    display_id: str
    marks: tuple[str, ...] = ()  # a continuation mark, longest wording first
    word: str = ""  # HURRY / LATE
    timer: str = ""
    kind: str = ""  # DELIVERY, EAT-IN ...
    name: str = ""  # customer name or "Table 4"
    table: str = ""  # eat-in: the table number, shown whole ("Table 4", "T4") or not at all
    due: str = ""
    source: str = ""  # row 3, markup
    voided: bool = False


@dataclass(frozen=True)
class HeadPlan:
    title: str
    title_px: float
    clock: str
    clock_px: float
    who: str
    due: str
    row2_px: float
    source_px: float = 12.0
    source: str = ""  # row 3 markup: the due time when row 2 had no room for it, then badges


def plan_head(text: HeadText, size: HeadSizes, measure: Measure) -> HeadPlan:
    """Markup and font sizes for the three rows that fit ``size.room``."""
    if text.voided:
        return _voided(text, size, measure)
    room, gap = size.room - SLACK, size.gap
    id_w = measure(text.display_id, size.id_px)
    timer_w = measure(text.timer, size.timer_px) if text.timer else 0.0
    word_w = measure(f"{text.word} ", size.word_px) if text.word and text.timer else 0.0
    word_up = bool(word_w) and id_w + gap + word_w + timer_w <= room
    timer_px, id_px = size.timer_px, size.id_px
    if word_w and not word_up:
        # the word beside the timer: the id's font gives way first (down to body size),
        # then the timer's
        # never below the smallest body size (18 px, the 7" panel's)
        least = max(MIN_BODY_PX, size.small_px * 0.8)
        for t_px in (size.timer_px, size.small_px, least):
            t_w = measure(text.timer, t_px)
            left = room - gap - word_w - t_w
            i_px = fit_px(size.id_px, least, left, lambda p: measure(text.display_id, p), size.kept)
            if measure(text.display_id, i_px) <= left:
                word_up, timer_px, id_px, timer_w = True, t_px, i_px, t_w
                id_w = measure(text.display_id, i_px)
                break
    if word_up:
        right = word_w + timer_w
        clock = f"[b][size={int(size.word_px)}]{text.word}[/size] {text.timer}[/b]"
        if timer_px < size.word_px:  # the word is never larger than the timer beside it
            clock = f"[b]{text.word} {text.timer}[/b]"
    else:
        right = timer_w
        if right and id_w + gap + right > room:
            timer_px = size.small_px
            right = measure(text.timer, timer_px)
        used = gap + right if right else 0.0
        id_px = fit_px(
            size.id_px, size.tiny_px, room - used, lambda p: measure(text.display_id, p), size.kept
        )
        id_w = measure(text.display_id, id_px)
        clock = f"[b]{text.timer}[/b]" if text.timer else ""
    title = f"[b]{display_markup(text.display_id)}[/b]"
    left = room - (gap + right if right else 0.0) - id_w
    marked = False
    for mark in text.marks:
        if measure(f" {mark}", size.small_px) <= left:
            title += f" [size={int(size.small_px)}]{mark}[/size]"
            marked = True
            break
    who, row2_right, row3_first, row2_px = _row2(text, word_up, size, measure)
    parts = [p for p in text.source.split(" · ") if p]
    badges = next((i for i, p in enumerate(parts) if not p.startswith("[b]")), len(parts))
    # after the badges (never cut), before channel and brand: what row 2 had no room for
    if row3_first:
        parts.insert(badges, row3_first)
    if text.name and "  " not in who:  # the name, small, rather than not at all
        parts.insert(badges, f"[b]{display_markup(text.name)}[/b]")
    if text.marks and not marked:  # row 1 had no room: "goes on in the next column" here
        parts.insert(0, f"[b]{text.marks[0]}[/b]")
    source = " · ".join(parts)
    row3_px = _row3(source, size, measure)
    return HeadPlan(title, id_px, clock, timer_px, who, row2_right, row2_px, row3_px, source)


def plan_head_tabular(text: HeadText, size: HeadSizes, measure: Measure) -> HeadPlan:
    """:func:`plan_head` for a ``measure`` in which all digits are equally wide (Roboto's
    are): the plan is cached per timer *shape* (``12:34`` -> ``00:00``), so the
    once-a-second tick of a running timer only puts the new digits into the cached plan."""
    shape = _DIGIT.sub("0", text.timer)
    plan = _plan_cached(replace(text, timer=shape) if shape != text.timer else text, size, measure)
    if shape == text.timer:
        return plan
    # a timer always has a ":", which no tag, word or size in the clock markup has
    return replace(plan, clock=plan.clock.replace(shape, text.timer, 1))


@lru_cache(maxsize=256)  # a page of tiles needs one plan each; due texts change every minute
def _plan_cached(text: HeadText, size: HeadSizes, measure: Measure) -> HeadPlan:
    return plan_head(text, size, measure)


def _row3(source: str, size: HeadSizes, measure: Measure) -> float:
    """Row 3's font: smaller (to 80 %) for a long reason or brand; past that it shortens."""
    text = plain(source)
    room = size.room - SLACK
    return fit_px(size.tiny_px, size.tiny_px * 0.8, room, lambda p: measure(text, p), size.kept)


def _row2(
    text: HeadText, word_up: bool, size: HeadSizes, measure: Measure
) -> tuple[str, str, str, float]:
    """Row 2 at body size: the order type in full, then the customer's name or the table
    (pickups need it); on the right the age word when row 1 had no room for it, else the due
    time when it fits beside the name. Whatever does not fit goes to row 3 (small)."""
    room, gap, kind = size.room - SLACK, size.gap, text.kind
    px = fit_px(size.small_px, size.tiny_px, room, lambda p: measure(kind, p), size.kept)
    word = f"[b]{text.word}[/b]" if text.word and not word_up else ""
    right = word or text.due

    def fits(shown: str, right: str) -> bool:
        extra = measure(f"  {shown}", px) if shown else 0.0
        return measure(kind, px) + extra + _right(right, gap, px, measure) <= room

    if text.table:
        candidates = [f"Table {text.table}", f"T{text.table}"]
    elif text.name:
        name = text.name
        candidates = [name if len(name) <= NAME_CHARS else name[:NAME_CHARS] + "..."]
    else:
        candidates = []
    if candidates and not word and not any(fits(c, right) for c in candidates):
        right = ""  # the name or table before the due time: the due time goes to row 3
    if right and not fits("", right):
        right = word
    shown = next((c for c in candidates if fits(c, right)), "")
    if shown and text.name and not text.table:
        shown = text.name  # Kivy shortens the rest of a long name from the right, but
        if _right_to_left(shown):  # a right-to-left name begins there: cut it here
            shown = _name_that_fits(shown, lambda name: fits(name, right))
    who = f"[b]{kind}[/b]" + (f"  {display_markup(shown)}" if shown else "")
    row3 = text.due if right != text.due else ""
    return who, right, row3, px


def _name_that_fits(name: str, fits: Callable[[str], bool]) -> str:
    """The whole name, else its longest beginning that fits, with "..." after it: cut in
    reading order, so a right-to-left name keeps its first word. Kivy would shorten the
    displayed text, already in visual order, from the right, where an Arabic or Hebrew name
    begins. (Widths here are measured with room to spare, so a left-to-right name is left to
    Kivy, which cuts it as late as its pixels allow.) The caller has checked that
    ``NAME_CHARS`` characters fit."""
    if fits(name):
        return name
    low, high = NAME_CHARS, len(name) - 1  # low always fits
    while low < high:
        mid = (low + high + 1) // 2
        if fits(_cut(name, mid)):
            low = mid
        else:
            high = mid - 1
    return _cut(name, low)


def _right_to_left(text: str) -> bool:
    """Whether any letter of ``text`` is written right to left (Hebrew, Arabic ...)."""
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def _cut(name: str, length: int) -> str:
    """The first ``length`` characters and "...", never splitting a letter from its marks."""
    while 0 < length < len(name) and unicodedata.combining(name[length]):
        length -= 1
    return name[:length].rstrip() + "..."


def _right(due: str, gap: float, px: float, measure: Measure) -> float:
    """The room row 2's due text takes, with its gap."""
    return gap + measure(plain(due), px) if due else 0.0


def fit_px(
    px: float,
    floor: float,
    room: float,
    width_at: Callable[[float], float],
    keep: tuple[float, ...] = (),
) -> float:
    """``px``, or the largest ladder step (or size in ``keep``) down to ``floor`` whose width
    fits ``room``: see :func:`kds_device.ui.font_ladder.fit_px`."""
    return font_ladder.fit_px(px, floor, room, width_at, keep)


def _voided(text: HeadText, size: HeadSizes, measure: Measure) -> HeadPlan:
    """The id and CANCELLED at one size (as big as the id's, smaller only to fit)."""
    room = size.room - SLACK - size.gap
    px = fit_px(
        size.id_px,
        size.tiny_px,
        room,
        lambda p: measure(text.display_id, p) + measure("CANCELLED", p),
        size.kept,
    )
    title = f"[b]{display_markup(text.display_id)}[/b]"
    row3_px = _row3(text.source, size, measure)
    return HeadPlan(
        title,
        px,
        "[b]CANCELLED[/b]",
        px,
        "[b]HOLD TO CLEAR[/b]",
        "",
        size.small_px,
        row3_px,
        text.source,
    )
