"""The all-day panel: how many of each product are open right now, most first. Shown at the
right of the board in 0.6 of a column; toggled by the ALL DAY button or key. A long name
wraps under itself (hanging indent); what does not fit ends in "N more", never cut off."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kds_device.ui.body_rows import count_rows
from kds_device.ui.measure import RunMeasure
from kds_device.ui.theme import LINE_HEIGHT

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

PAD = 10


class AllDayPanel(Widget):
    """Dispatches ``on_close()`` when tapped."""

    text = StringProperty("")
    font_px = NumericProperty(20.0)
    title_px = NumericProperty(40.0)
    hidden = NumericProperty(0)  # products not shown for want of room

    __events__ = ("on_close",)

    def show(self, counts: Sequence[tuple[str, int]]) -> None:
        if not counts:
            self.text, self.hidden = "[color=#aab4c0]nothing open[/color]", 0
            return
        measure = RunMeasure(self.font_px, bold=True)
        room = (self.width - 2 * PAD) * 0.95
        rows_free = max(1, int((self.height - self.title_px - 12) // (self.font_px * LINE_HEIGHT)))
        width = max(len(str(count)) for _name, count in counts)
        shown: list[str] = []
        for index, (name, count) in enumerate(counts):
            rows = count_rows(f"{count:>{width}}", name, room, measure)
            left = len(counts) - index - 1
            if len(shown) + len(rows) > rows_free - (1 if left else 0):
                more = len(counts) - index
                shown = shown[: rows_free - 1] if len(shown) >= rows_free else shown
                shown.append(f"[color=#7fdcff][b]{more} more[/b][/color]")
                self.text, self.hidden = "\n".join(shown), more
                return
            shown.extend(rows)
        self.text, self.hidden = "\n".join(shown), 0

    def on_touch_down(self, touch: object) -> bool:
        if self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            self.dispatch("on_close")
            return True
        return False

    def on_close(self) -> None:
        """Default handler."""
