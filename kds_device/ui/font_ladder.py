"""The sizes fitted text may take: a short ladder of whole pixel sizes.

SDL_ttf keeps one open font per file and whole pixel size (see :mod:`kds_device.ui.fonts`):
the first time a size is measured or drawn it opens Roboto (bold and regular, about 0.1 MB
each) and every fallback font a text at that size needs, and the process keeps them. Text
fitted to any whole size (a long id at 47, 46, 45 ... px) let a kitchen's board open a new
font for each new length of id, name or reason it met, a step in memory each time. Fitted
sizes snap down to this ladder instead (about 12 % apart, like a type scale), plus the sizes
the caller already uses (``keep``: the tile's id, timer and body sizes, whose fonts are open
anyway), so a board uses a bounded set of (font, size) pairs. Pure: no Kivy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

RATIO = 1.125
#: Whole pixel sizes from 8 to about 300, each about ``RATIO`` times the one before.
LADDER: tuple[int, ...] = tuple(sorted({round(8 * RATIO**k) for k in range(32)}))


def steps(px: float, floor: float, keep: Iterable[float] = ()) -> list[float]:
    """The sizes from ``px`` down to ``floor``, largest first: ``px`` itself, ``keep``'s whole
    sizes and the ladder's strictly between (but a step within half a step of ``px``, of a
    kept size or of ``floor``), then ``floor`` (when below ``px``)."""
    if px <= floor:
        return [px]
    top = int(px)  # a size is opened at its whole part: below that, or the same font
    kept = {float(int(k)) for k in keep if floor < int(k) < top}
    # a ladder step within half a step of ``px``, a kept size or ``floor`` would be a font
    # for nothing
    near = [px, *kept, floor]
    between = {
        float(s)
        for s in LADDER
        if floor < s < top and all(abs(s - a) >= a * (RATIO - 1) / 2 for a in near)
    }
    return [px, *sorted(between | kept, reverse=True), floor]


def step_down(px: float, floor: float, keep: Iterable[float] = ()) -> float:
    """The next size below ``px`` (never below ``floor``): for text that shrinks a step at a
    time until it fits (a tile's body)."""
    lower = steps(px, floor, keep)[1:]
    return lower[0] if lower else floor


def fit_px(
    px: float,
    floor: float,
    room: float,
    width_at: Callable[[float], float],
    keep: Iterable[float] = (),
) -> float:
    """``px``, or the largest size of :func:`steps` down to ``floor`` whose width fits
    ``room`` (``floor`` when none does). Widths are about proportional to the size, so the
    search starts at the step the proportion gives and measures few sizes (each measured
    size opens its font too)."""
    need = width_at(px)
    if need <= room:
        return px
    estimate = px * room / max(need, 1.0)
    below = [s for s in steps(px, floor, keep)[1:] if s <= estimate * 1.01 or s == floor]
    for size in below:
        if size == floor or width_at(size) <= room:
            return size
    return floor
