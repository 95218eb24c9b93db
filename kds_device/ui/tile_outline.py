"""The selected tile's outline, drawn only while the tile is selected.

A Kivy ``Line`` wider than 1 px drawn in a colour with alpha < 1 (even fully transparent)
goes through the stencil buffer: a stencil clear and two extra draws each frame. Keeping a
transparent outline on every tile cost about half a frame on software GL, so unselected
tiles carry no outline instructions at all and the selected one draws an opaque line.
"""

from __future__ import annotations

from kivy.graphics import Color, InstructionGroup, Line
from kivy.graphics.instructions import Canvas

from kds_device.ui.theme import RGBA


class SelectionOutline:
    """A frame ``width`` px (Kivy's half stroke) around a rectangle, on or off."""

    def __init__(self, canvas: Canvas, rgba: RGBA) -> None:
        self._canvas = canvas
        self._line = Line(width=2.0)
        self._group = InstructionGroup()
        self._group.add(Color(*rgba))
        self._group.add(self._line)
        self.shown = False

    def place(self, x: float, y: float, width: float, height: float, line_px: float) -> None:
        """Where the frame goes (centred on the rectangle's edge)."""
        self._line.width = line_px
        self._line.rectangle = (x, y, width, max(0.0, height))

    def show(self, on: bool) -> None:
        if on == self.shown:
            return
        self.shown = on
        if on:
            self._canvas.add(self._group)
        else:
            self._canvas.remove(self._group)
