"""A label whose texture is only as big as its text.

Kivy renders a label's texture at its ``text_size``: a label given its whole row (the header
rows, the body) carries a texture as wide as the tile however short the text, and software GL
blends every one of those pixels each frame. This label renders at the text's natural size
and only falls back to ``text_size = (room, None)`` when the text is wider than ``room``
(then Kivy shortens or wraps it exactly as before). Lay it out with ``width:
self.texture_size[0]``; vertical centring is Kivy's (the texture is centred in the widget).
"""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty

from kds_device.ui.crisp import CrispLabel


class FitLabel(CrispLabel):
    """``room``: the widest the text may be drawn (px)."""

    room = NumericProperty(10.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("text", "font_size", "room", "max_lines"):
            self.fbind(name, self._natural)
        self._natural()

    def _natural(self, *_args: Any) -> None:
        self.text_size = (None, None)
        self._trigger_texture()  # also when text_size was already natural (a new room)

    def texture_update(self, *largs: Any) -> None:
        super().texture_update(*largs)
        if self.text_size[0] is None and self.texture_size[0] > self.room:
            self.text_size = (self.room, None)  # Kivy shortens / wraps to the room
            super().texture_update()
            self._trigger_texture.cancel()
