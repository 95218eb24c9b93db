"""How many text rows a ticket line takes in a tile, and the rows themselves: the domain
paginates by rows, the screen knows the font. Text is measured with Kivy's text provider
(bold, the wider face, so the estimate errs towards room to spare), each script in the font
that draws it, and wrapped by :mod:`kds_device.ui.body_rows`: the row count the paginator
gets is the height of the rows drawn, in body rows."""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from unicodedata import east_asian_width

from kivy.core.text import Label as CoreLabel
from PIL import ImageFont

from kds_device.domain.lines import TicketLine
from kds_device.ui import fonts
from kds_device.ui.body_rows import line_rows
from kds_device.ui.fonts import register_fonts
from kds_device.ui.scripts import font_runs
from kds_device.ui.theme import body_row_px

SLACK = 0.95  # Kivy's markup may draw a hair wider than the sum of its runs
CJK_FONT = "KdsCJK"  # ui.scripts' fallback for CJK (Noto Sans CJK)
ROWS_KEPT = 1024  # lines (drawn, or drawn struck through) whose rows a RowCounter keeps
_FONT_TAG = re.compile(r"\[font=([^\]]+)\]")
_LINE_BOX: dict[tuple[str, int], int] = {}


def line_box_px(font: str, font_px: float) -> int:
    """How tall Kivy draws a row of text in the fallback ``font`` at ``font_px``: the font's
    ascent plus descent at the whole size, as SDL_ttf gives it (0 for a font not found).

    Read with Pillow's FreeType, which closes the font at once: measured with Kivy, SDL_ttf
    would keep the font open at that size (2.6 MB for Noto CJK) for a ticket that may never
    be drawn."""
    key = (font, int(font_px))
    known = _LINE_BOX.get(key)
    if known is None:
        path = fonts.FILES.get(font)
        known = 0
        if path is not None:
            ascent, descent = ImageFont.truetype(path, key[1]).getmetrics()
            known = ascent + descent
        _LINE_BOX[key] = known
    return known


def _full_width(char: str) -> bool:
    """One em wide in Noto CJK (Hangul's syllables are narrower, so they are measured)."""
    return east_asian_width(char) in ("W", "F") and not (
        0x1100 <= ord(char) <= 0x11FF
        or 0x3130 <= ord(char) <= 0x318F
        or 0xAC00 <= ord(char) <= 0xD7AF
    )


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
            label = self._labels[font] = CoreLabel(font_size=self.font_px, bold=self.bold, **extra)
        return label

    def _run_px(self, font: str | None, run: str) -> float:
        if font == CJK_FONT:
            known = self._full_width_px(run)
            if known is not None:
                return known
        return float(self._label(font).get_extents(run)[0])

    def _full_width_px(self, run: str) -> float | None:
        """A run of full-width CJK characters (and spaces) without opening the CJK font.

        Noto CJK draws every full-width character (ideographs, kana, CJK punctuation and
        full-width forms) one em wide in every weight, and SDL_ttf draws at the whole pixel
        size, so such a run is that many times ``int(font_px)`` wide; a space is counted as
        wide as Roboto's (wider than the CJK font's). Measured against the font this is exact
        or 1 px wide. The font (2.5 MB per size) is then opened only where CJK is drawn, not
        for every ticket measured. None for anything else (Hangul, half-width forms)."""
        em = float(int(self.font_px))
        total = 0.0
        for char in run:
            if char == " ":
                total += float(self._label(None).get_extents(" ")[0])
            elif _full_width(char):
                total += em
            else:
                return None
        return total

    def __call__(self, text: str) -> float:
        known = self._cache.get(text)
        if known is None:
            known = sum(self._run_px(font, run) for font, run in font_runs(text))
            if len(self._cache) < 20000:
                self._cache[text] = known
        return known


class RowCounter:
    """Callable ``line -> rows`` for one font size and text width; ``rows(line)`` gives the
    markup of each row.

    The count is in body rows of the tile (:func:`~kds_device.ui.theme.body_row_px`, Roboto's
    line with room to spare): a row drawn in a taller font (Noto CJK is 1.45 em, Arabic 2.1,
    Thai 1.55, Symbola's emoji 1.27) is as tall as Kivy draws it, so a line with one may take
    more body rows than it has text rows. Counted short, the tile's body would not fit and
    would shrink its text a step (each step a new size for every font it draws)."""

    def __init__(
        self, font_px: float, width_px: float, allergy: re.Pattern[str] | None = None
    ) -> None:
        self.font_px = font_px
        self.row_px = body_row_px(font_px)
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
        return max(self._body_rows(self.rows(line)), self._body_rows(self.rows(line, True)))

    def _body_rows(self, rows: list[str]) -> int:
        """Body rows that ``rows`` (markup) fill: one each, more where fonts taller than a
        row make them taller."""
        if not any("[font=" in row for row in rows):
            return len(rows)
        px = self.font_px
        tall = sum(
            max([self.row_px, *(line_box_px(font, px) for font in _FONT_TAG.findall(row))])
            for row in rows
        )
        return math.ceil(tall / self.row_px)


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
