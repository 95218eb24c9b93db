"""The undo bar: for a few seconds after each bump, a wide button that brings the ticket
back (a bump by mistake is one tap to undo)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class UndoBar(BoxLayout):
    """Dispatches ``on_undo()``."""

    text = StringProperty("")
    font_px = NumericProperty(20.0)

    __events__ = ("on_undo",)

    def on_undo(self) -> None:
        """Default handler."""
