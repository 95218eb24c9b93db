"""Colours and sizes of the board: one dark, high-contrast palette and font sizes computed
from the window, so the same code reads at 800x480 (the 7" panel) and at 1920x1080.

Pure Python (no Kivy import): the geometry is unit-testable and the benchmark can reuse it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kds_device.domain.board import AgeClass
from kds_device.domain.layout import LayoutSpec

RGBA = tuple[float, float, float, float]


def hex_rgba(value: str, alpha: float = 1.0) -> RGBA:
    """``"#101418"`` -> (r, g, b, a) in 0..1, as Kivy's canvas wants it."""
    value = value.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


class Palette:
    """Every colour the board uses, as hex (markup) and RGBA (canvas)."""

    BACKGROUND = "#0d1014"
    TILE = "#1b2129"
    TILE_VOID = "#a3161a"  # a cancelled ticket is red all over; its text is white
    TEXT = "#f4f6f8"
    TEXT_DIM = "#aab4c0"
    MODIFIER = "#d3dbe4"
    REMARK = "#ffd54a"
    NOTE = "#7fdcff"
    ALLERGY = "#ff6ad5"
    QUANTITY = "#ffd54a"
    SELECTED = "#26e0ff"
    BAR = "#1f262f"
    BAR_TEXT = "#e6ebf0"
    GOOD = "#4cd07d"
    WARN = "#ffb020"
    BAD = "#ff4a4a"
    BUTTON = "#2f3a47"
    BUTTON_ACTIVE = "#2a6f86"
    BANNER = "#c81e1e"
    VOID = "#e53935"
    DONE = "#7d8896"  # an item done at its station: struck through, dimmed, still readable
    READY = "#1f9d55"  # expo: every part of the order is done (ALL READY)
    #: Header (background, text) while the courier waits and the order is not ready: a
    #: colour no other state uses, with the words COURIER WAITING.
    COURIER_WAITING = ("#8e24aa", "#ffffff")

    #: Tile header background and text per age class: never colour alone, the header also
    #: says the class in words.
    HEADER: dict[AgeClass, tuple[str, str]] = {
        AgeClass.ON_TIME: ("#34495e", "#ffffff"),
        AgeClass.CAUTION: ("#f2a900", "#111111"),
        AgeClass.LATE: ("#d7262e", "#ffffff"),
        AgeClass.UPCOMING: ("#2a2f36", "#c9d1da"),
    }
    HEADER_VOID = ("#e53935", "#ffffff")

    @staticmethod
    def rgba(value: str, alpha: float = 1.0) -> RGBA:
        return hex_rgba(value, alpha)


#: The word each age class shows in the header next to the timer.
AGE_WORD: dict[AgeClass, str] = {
    AgeClass.ON_TIME: "",
    AgeClass.CAUTION: "HURRY",
    AgeClass.LATE: "LATE",
    AgeClass.UPCOMING: "",
}

MIN_BODY_PX = 18.0  # the floor: still readable from the line at 800x480
LINE_HEIGHT = 1.2  # Roboto's line box is about 1.2 em (measured with Kivy's SDL2 text)


def body_row_px(font_px: float) -> int:
    """One body row's height for text at ``font_px``: Roboto's line box, whole pixels."""
    return math.ceil(font_px * LINE_HEIGHT)


@dataclass(frozen=True)
class Metrics:
    """Sizes for one window size. ``row_px`` is one body text row; tiles are whole rows so
    the domain's paginator (which counts rows) and the pixels agree."""

    width: int
    height: int
    body_px: float
    row_px: float
    header_id_px: float
    header_tiny_px: float
    row1_px: float
    row2_px: float
    row3_px: float
    bar_px: float
    bar_font_px: float
    gap_px: float
    pad_px: float
    columns: int
    rows: int
    column_px: float
    panel_px: float = 0.0  # the all-day panel's width, when it is open

    @classmethod
    def for_window(
        cls, width: int, height: int, panel_columns: int = 0, foot_px: float = 0.0
    ) -> Metrics:
        """Sizes for a ``width`` x ``height`` window. With ``panel_columns`` a side panel (the
        all-day counts) takes 0.6 of a column at the right and the tickets share the rest;
        ``foot_px`` at the bottom is kept free for the offline banner (nothing covers a
        ticket line)."""
        width, height = max(320, int(width)), max(240, int(height))
        body = max(MIN_BODY_PX, height / 28.0)
        row = body_row_px(body)
        bar = max(44.0, round(height * 0.085))  # status bar: also a touch target row
        # a tile is whole rows: its 3 header rows hold the big id/timer row (1.25), the type
        # and name row (1, body size), the due/channel row and the gap to the next tile
        gap = max(3.0, math.floor(row * 0.2))
        pad = max(4.0, round(body * 0.35))
        least = max(260.0, body * 9.5)
        columns = max(2, min(8, int(width / least)))
        panel_px = 0.0
        if panel_columns:
            panel_px = float(round((width - gap * (columns + 1)) / columns * 0.6))
        board_width = width - panel_px - (gap if panel_px else 0.0)
        # the panel costs the tickets width, not a column, while columns stay 80 % wide
        board_cols = max(1, min(columns, int(board_width / (least * 0.8))))
        column_px = (board_width - gap * (board_cols + 1)) / board_cols
        usable = height - bar - gap * 2 - foot_px
        rows = max(6, int(usable // row))
        return cls(
            width=width,
            height=height,
            body_px=body,
            row_px=float(row),
            header_id_px=round(body * 1.25),
            header_tiny_px=max(12.0, round(body * 0.6)),
            row1_px=round(row * 1.25),
            row2_px=row,  # body size: the order type and the customer's name
            # the remainder, so the header plus the gap is exactly three rows
            row3_px=3 * row - gap - round(row * 1.25) - row,
            bar_px=float(bar),
            bar_font_px=max(16.0, round(bar * 0.4)),
            gap_px=float(gap),
            pad_px=float(pad),
            columns=board_cols,
            rows=rows,
            column_px=column_px,
            panel_px=panel_px,
        )

    @property
    def layout(self) -> LayoutSpec:
        """What the domain's paginator needs: columns of whole rows."""
        return LayoutSpec(columns=self.columns, rows=self.rows, header_rows=3)

    @property
    def text_px(self) -> float:
        """Room for text across a tile."""
        return self.column_px - 2 * self.pad_px

    @property
    def touch_px(self) -> float:
        """Smallest touch target: about 10 mm on the 7" panel, more on big screens."""
        return max(56.0, self.height * 0.1)
