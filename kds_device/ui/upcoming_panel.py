"""The UPCOMING panel: scheduled orders waiting for their start-by, soonest first, each as
"starts 19:05" over its id, order type and item count. Shown at the right of the board in
0.6 of a column (where the all-day panel goes; one at a time), opened by the status bar's
"N upcoming" button; a tap closes it. What does not fit ends in "N more", never cut off."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kds_device.ui.measure import text_width
from kds_device.ui.scripts import display_markup
from kds_device.ui.status_view import UpcomingEntry
from kds_device.ui.theme import LINE_HEIGHT

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

PAD = 10


class UpcomingPanel(Widget):
    """Dispatches ``on_close()`` when tapped."""

    text = StringProperty("")
    title = StringProperty("UPCOMING")
    font_px = NumericProperty(20.0)
    title_px = NumericProperty(40.0)
    hidden = NumericProperty(0)  # entries not shown for want of room

    __events__ = ("on_close",)

    def show(self, entries: Sequence[UpcomingEntry]) -> None:
        self.title = f"UPCOMING {len(entries)}" if entries else "UPCOMING"
        if not entries:
            self.text, self.hidden = "[color=#aab4c0]no scheduled orders[/color]", 0
            return
        rows_free = max(2, int((self.height - self.title_px - 12) // (self.font_px * LINE_HEIGHT)))
        shown: list[str] = []
        for index, entry in enumerate(entries):
            left = len(entries) - index - 1
            if len(shown) + 2 > rows_free - (1 if left else 0):
                more = len(entries) - index
                shown.append(f"[color=#7fdcff][b]{more} more[/b][/color]")
                self.text, self.hidden = "\n".join(shown), more
                return
            # the start time in the note colour: each entry's first row stands out
            shown += [f"[color=#7fdcff][b]starts {entry.starts}[/b][/color]", self._what(entry)]
        self.text, self.hidden = "\n".join(shown), 0

    def _what(self, entry: UpcomingEntry) -> str:
        """The entry's second row in the panel's width: id, type and items; then without
        the type; then the id alone (Kivy shortens an id too long even for that)."""
        room = self.width - 2 * PAD - 4
        count = f"{entry.items} item{'s' if entry.items != 1 else ''}"
        name = display_markup(entry.display_id)
        for plain, markup in (
            (f"{entry.display_id} {entry.kind} {count}", f"[b]{name}[/b] {entry.kind} · {count}"),
            (f"{entry.display_id} {count}", f"[b]{name}[/b] · {count}"),
        ):
            if text_width(plain, self.font_px) * 1.05 <= room:
                return markup
        return f"[b]{name}[/b]"

    def on_touch_down(self, touch: object) -> bool:
        if self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            self.dispatch("on_close")
            return True
        return False

    def on_close(self) -> None:
        """Default handler."""
