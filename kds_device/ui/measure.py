"""How many text rows a ticket line takes in a tile: the domain paginates by rows, the screen
knows the font. Words are measured with Kivy's text provider (bold, the wider face, so the
estimate errs towards room to spare) and wrapped greedily, as Kivy's label does."""

from __future__ import annotations

import math
import re

from kivy.core.text import Label as CoreLabel

from kds_device.domain.lines import TicketLine
from kds_device.ui.tile_text import plain_line

SLACK = 0.93  # markup (capitals for allergy words, quantity colour) may draw a little wider


class RowCounter:
    """Callable ``line -> rows`` for one font size and text width; word widths are cached."""

    def __init__(
        self, font_px: float, width_px: float, allergy: re.Pattern[str] | None = None
    ) -> None:
        self.font_px = font_px
        self.allergy = allergy
        self.width_px = max(40.0, width_px * SLACK)
        self._label = CoreLabel(font_size=font_px, bold=True)
        self._space = self._measure(" ")
        self._cache: dict[str, float] = {}

    def _measure(self, text: str) -> float:
        return float(self._label.get_extents(text)[0])

    def width(self, word: str) -> float:
        known = self._cache.get(word)
        if known is None:
            known = self._measure(word)
            if len(self._cache) < 20000:
                self._cache[word] = known
        return known

    def rows_for_text(self, text: str) -> int:
        rows, used = 1, 0.0
        for word in text.split(" "):
            if not word:
                used += self._space
                continue
            wide = self.width(word)
            need = wide if used == 0 else used + self._space + wide
            if need <= self.width_px:
                used = need
                continue
            if used > 0:
                rows += 1
            if wide > self.width_px:  # Kivy breaks an over-long word across rows
                extra = math.ceil(wide / self.width_px)
                rows += extra - 1
                used = wide - (extra - 1) * self.width_px
            else:
                used = wide
        return rows

    def __call__(self, line: TicketLine) -> int:
        text = plain_line(line)
        if line.allergy and self.allergy is not None:  # drawn in capitals
            text = self.allergy.sub(lambda m: m.group(0).upper(), text)
        return self.rows_for_text(text)


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
