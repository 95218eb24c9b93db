"""How many text rows a ticket line takes in a tile, and the rows themselves: the domain
paginates by rows, the screen knows the font. Text is measured with Kivy's text provider
(bold, the wider face, so the estimate errs towards room to spare), each script in the font
that draws it, and wrapped by :mod:`kds_device.ui.body_rows`: the row count the paginator
gets is the number of rows drawn."""

from __future__ import annotations

import re
from collections import OrderedDict

from kivy.core.text import Label as CoreLabel

from kds_device.domain.lines import TicketLine
from kds_device.ui.body_rows import line_rows
from kds_device.ui.fonts import register_fonts
from kds_device.ui.scripts import font_runs

SLACK = 0.95  # Kivy's markup may draw a hair wider than the sum of its runs
#: Fallback fonts whose glyphs are as wide in bold as in regular (CJK: full-width, one em):
#: measured in the regular face, plus 1 px a run (a space can be 1 px wider in bold), so
#: the bold estimate does not open a second copy of a 2.5 MB font the board may never draw.
WEIGHTLESS = frozenset({"KdsCJK"})
ROWS_KEPT = 1024  # lines (drawn, or drawn struck through) whose rows a RowCounter keeps


class RunMeasure:
    """Callable ``plain text -> px`` at one size, each font run in its own font; cached."""

    def __init__(self, font_px: float, bold: bool = True) -> None:
        register_fonts()
        self.font_px = font_px
        self.bold = bold
        self._labels: dict[str | None, CoreLabel] = {}
        self._cache: dict[str, float] = {}

    def _label(self, font: str | None) -> CoreLabel:
        label = self._labels.get(font)
        if label is None:
            extra = {"font_name": font} if font else {}
            bold = self.bold and font not in WEIGHTLESS
            label = self._labels[font] = CoreLabel(font_size=self.font_px, bold=bold, **extra)
        return label

    def _run_px(self, font: str | None, run: str) -> float:
        width = float(self._label(font).get_extents(run)[0])
        return width + 1.0 if self.bold and font in WEIGHTLESS else width

    def __call__(self, text: str) -> float:
        known = self._cache.get(text)
        if known is None:
            known = sum(self._run_px(font, run) for font, run in font_runs(text))
            if len(self._cache) < 20000:
                self._cache[text] = known
        return known


class RowCounter:
    """Callable ``line -> rows`` for one font size and text width; ``rows(line)`` gives the
    markup of each row."""

    def __init__(
        self, font_px: float, width_px: float, allergy: re.Pattern[str] | None = None
    ) -> None:
        self.font_px = font_px
        self.allergy = allergy
        self.width_px = max(40.0, width_px * SLACK)
        self.measure = RunMeasure(font_px)
        #: The rows of recently drawn or counted lines, least recently used first. The board
        #: keeps each open ticket's row counts itself; this only spares re-wrapping the lines
        #: of tiles drawn again, so it holds a few pages' worth, not every line ever seen.
        self._rows: OrderedDict[tuple[TicketLine, bool], list[str]] = OrderedDict()

    def rows(self, line: TicketLine, voided: bool = False) -> list[str]:
        key = (line, voided)
        known = self._rows.get(key)
        if known is None:
            known = line_rows(line, self.allergy, self.width_px, self.measure, voided)
            self._rows[key] = known
            if len(self._rows) > ROWS_KEPT:
                self._rows.popitem(last=False)
        else:
            self._rows.move_to_end(key)
        return known

    def __len__(self) -> int:
        """Lines whose rows are kept."""
        return len(self._rows)

    def __call__(self, line: TicketLine) -> int:
        return max(len(self.rows(line)), len(self.rows(line, voided=True)))


_LABELS: dict[tuple[float, bool], CoreLabel] = {}
_WIDTHS: dict[tuple[str, float, bool], float] = {}
_DIGITS = re.compile(r"\d")


def text_width(text: str, font_px: float, bold: bool = True) -> float:
    """Width of one plain line of ``text`` in Roboto at ``font_px`` (no texture is drawn).
    Digits are measured as zeros (Roboto's digits are tabular), so a running timer hits the
    cache."""
    key = (_DIGITS.sub("0", text), round(font_px, 1), bold)
    known = _WIDTHS.get(key)
    if known is None:
        label = _LABELS.get(key[1:])
        if label is None:
            label = _LABELS[key[1:]] = CoreLabel(font_size=key[1], bold=bold)
        known = float(label.get_extents(key[0])[0]) if key[0] else 0.0
        if len(_WIDTHS) < 5000:
            _WIDTHS[key] = known
    return known
