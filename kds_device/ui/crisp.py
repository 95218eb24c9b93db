"""Nearest-texel sampling wherever it cannot change a pixel.

Software GL (llvmpipe) pays per pixel for linear filtering (four texels and a blend of
them). Two kinds of textures on the board never need it: Kivy's default texture, the plain
white one every untextured Rectangle (the tile and bar backgrounds) is drawn with, and a
label's texture, which Kivy draws at its own size on whole pixels. Sampling them "nearest"
gives the same pixels for about a fifth less of a frame at 1920x1080 under llvmpipe.
"""

from __future__ import annotations

from typing import Any

from kivy.graphics import Rectangle
from kivy.uix.label import Label


def crisp_default_texture() -> None:
    """Call once the window (the GL context) exists."""
    texture = Rectangle().texture  # the context's default texture: white, 64x64
    if texture is not None:
        texture.mag_filter = "nearest"
        texture.min_filter = "nearest"


class CrispLabel(Label):
    """A Label whose texture is sampled nearest (it is drawn 1:1 on whole pixels)."""

    def texture_update(self, *largs: Any) -> None:
        super().texture_update(*largs)
        texture = self.texture
        if texture is not None:
            texture.mag_filter = "nearest"
            texture.min_filter = "nearest"
