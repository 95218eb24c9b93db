"""One text drawn into a widget's canvas without a Label widget of its own.

A Kivy ``Label`` widget is about 60 KB of Python per instance (some 40 font properties, each
bound, plus its canvas and kv rules); a tile used six of them. A :class:`TextSprite` is what
such a label really draws: Kivy's core markup label (the text engine the widget wraps) and one
``Rectangle`` with its texture, in the owner's canvas, about 3 KB. It draws exactly what a
``Label`` widget drew: the same core label options as the widget's defaults, the colour as
the widget puts it (a ``[color]`` markup run), the texture centred in its box on whole pixels
and sampled nearest (drawn 1:1, so linear filtering could not change a pixel and costs
llvmpipe a fifth of a frame).

The texture is only as big as the text: rendered at the text's natural size, and only when
that is wider than ``room`` (px) again at ``text_size = (room, None)``, where Kivy shortens
(``shorten``) or wraps it. Setting ``text``, ``font_size``, ``color``, ``room`` or
``max_lines`` to a new value marks the sprite dirty and calls the owner's ``request`` (a
Clock trigger): the owner renders every dirty sprite once, whatever changed, then places it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kivy.core.text import DEFAULT_FONT
from kivy.core.text.markup import MarkupLabel
from kivy.graphics import Rectangle
from kivy.graphics.instructions import Canvas
from kivy.utils import get_hex_from_color

#: What a Kivy ``Label`` widget gives its core label by default where that differs from the
#: core label's own default (kivy.uix.label): text drawn by a sprite is the widget's text.
LABEL_DEFAULTS: dict[str, Any] = {
    "font_name": DEFAULT_FONT,
    "halign": "auto",
    "valign": "bottom",
    "shorten": False,
    "shorten_from": "center",
    "split_str": "",
    "font_script_name": "Latn",
    "font_features": "",
    "padding": [0, 0, 0, 0],
    "color": [1.0, 1.0, 1.0, 1.0],
}

RGBA = tuple[float, float, float, float]
WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)


class TextSprite:
    """A text in ``canvas`` at (``x``, ``y``), ``texture_size`` big, centred vertically in
    ``height`` (a header row) or as tall as its text (``height=None`` in :meth:`place`).
    ``room``: the widest the text may be drawn (None: its natural width, always)."""

    __slots__ = (
        "_color",
        "_dirty",
        "_font_size",
        "_label",
        "_max_lines",
        "_rect",
        "_request",
        "_room",
        "_text",
        "_texture_size",
        "height",
        "renders",
        "x",
        "y",
    )

    def __init__(
        self,
        canvas: Canvas,
        request: Callable[[], Any],
        room: float | None = None,
        **options: Any,
    ) -> None:
        self._label = MarkupLabel(**{**LABEL_DEFAULTS, **options})
        self._label.options["max_lines"] = 0
        self._rect = Rectangle(size=(0, 0))
        canvas.add(self._rect)
        self._request = request
        self._text = ""
        self._font_size = float(self._label.options["font_size"])
        self._color: RGBA = WHITE
        self._room = room
        self._max_lines = 0
        self._dirty = False
        self._texture_size = [0, 0]
        self.x = 0.0
        self.y = 0.0
        self.height = 0.0
        self.renders = 0  # textures made (for tests: what did not change is not re-rendered)

    # ---- what is drawn: a new value marks the sprite dirty ------------------------------

    def _changed(self) -> None:
        if not self._dirty:
            self._dirty = True
            self._request()

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        if value != self._text:
            self._text = value
            self._changed()

    @property
    def font_size(self) -> float:
        return self._font_size

    @font_size.setter
    def font_size(self, value: float) -> None:
        if float(value) != self._font_size:
            self._font_size = float(value)
            self._changed()

    @property
    def color(self) -> RGBA:
        return self._color

    @color.setter
    def color(self, value: Sequence[float]) -> None:
        rgba = (float(value[0]), float(value[1]), float(value[2]), float(value[3]))
        if rgba != self._color:
            self._color = rgba
            self._changed()

    @property
    def room(self) -> float | None:
        return self._room

    @room.setter
    def room(self, value: float | None) -> None:
        if value != self._room:
            self._room = value
            self._changed()

    @property
    def max_lines(self) -> int:
        return self._max_lines

    @max_lines.setter
    def max_lines(self, value: int) -> None:
        if int(value) != self._max_lines:
            self._max_lines = int(value)
            self._changed()

    # ---- what was drawn -----------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def texture(self) -> Any:
        """The drawn texture, None while there is no text (as a Label widget's)."""
        return self._rect.texture if self._text else None

    @property
    def texture_size(self) -> list[int]:
        return self._texture_size

    @property
    def width(self) -> float:
        """As wide as the texture (the sprite's box is its text)."""
        return float(self._texture_size[0])

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def line_heights(self) -> list[float]:
        """The heights of the drawn text's lines, top first (a line in a taller script's
        font is taller)."""
        if not self._text or self._dirty:
            return []
        return [float(line.h) for line in self._label._cached_lines]

    def render(self) -> bool:
        """Make the texture if anything changed since the last one; True if it did."""
        if not self._dirty:
            return False
        self._dirty = False
        self.renders += 1
        label = self._label
        if not self._text:
            self._rect.texture = None
            self._texture_size = [0, 0]
            return True
        options = label.options
        options["font_size"] = self._font_size
        options["max_lines"] = self._max_lines
        options["color"] = list(self._color)
        label.text = f"[color={get_hex_from_color(list(self._color))}]{self._text}[/color]"
        label.text_size = (None, None)
        texture = _refresh(label)
        if self._room is not None and texture.width > self._room:
            label.text_size = (self._room, None)  # Kivy shortens / wraps to the room
            texture = _refresh(label)
        self._rect.texture = texture
        self._texture_size = [texture.width, texture.height]
        return True

    def place(self, x: float, y: float, height: float | None = None) -> None:
        """The sprite's box at (``x``, ``y``), ``height`` tall (None: the texture's height);
        the texture is drawn centred in it on whole pixels, as a Label widget draws it."""
        width, tex_h = self._texture_size
        self.x, self.y = x, y
        self.height = float(tex_h) if height is None else height
        self._rect.size = (width, tex_h)
        self._rect.pos = (int(x), int(y + self.height / 2.0 - tex_h / 2.0))


def _refresh(label: MarkupLabel) -> Any:
    """Render ``label`` now (its texture is filled at once, not at its first draw) and
    sample it nearest."""
    label.refresh()
    texture = label.texture
    texture.bind()
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture
