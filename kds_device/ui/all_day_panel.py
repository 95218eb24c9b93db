"""The all-day panel: how many of each product are open right now, most first. Shown at the
right of the board in place of one column; toggled by the ALL DAY button or key."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kds_device.ui.tile_text import clean, escape

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class AllDayPanel(Widget):
    """Dispatches ``on_close()`` when tapped."""

    text = StringProperty("")
    font_px = NumericProperty(20.0)
    title_px = NumericProperty(40.0)

    __events__ = ("on_close",)

    def show(self, counts: Sequence[tuple[str, int]]) -> None:
        if not counts:
            self.text = "[color=#aab4c0]nothing open[/color]"
            return
        self.text = "\n".join(
            f"[b][color=#ffd54a]{count:>3}[/color][/b]  {escape(clean(name, 60))}"
            for name, count in counts[:60]
        )

    def on_touch_down(self, touch: object) -> bool:
        if self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            self.dispatch("on_close")
            return True
        return False

    def on_close(self) -> None:
        """Default handler."""
