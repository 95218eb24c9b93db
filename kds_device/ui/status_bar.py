"""The always-visible bar: station, clock, open and late counts, the link state and the unsent
bumps (never hidden, never cut), time since the last order, the page indicator, and the
buttons for recall, all-day and paging. When the bar is narrow the station name goes first,
then "last order", then the clock; the open count, the late count and the link stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kds_device.ui.measure import text_width
from kds_device.ui.status_view import StatusView, elsewhere_texts
from kds_device.ui.theme import Metrics, Palette

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SEPARATOR = "   "


class StatusBar(BoxLayout):
    """Dispatches ``on_button(name)`` for "recall", "all_day", "page", and "late" and
    "cancelled" (the counts of those on other pages)."""

    info_text = StringProperty("")
    link_text = StringProperty("")
    link_rgba = ListProperty(Palette.rgba(Palette.GOOD))
    late_text = StringProperty("")
    page_text = StringProperty("")
    late_away_text = StringProperty("")  # "2 late," : a button, jumps to the first
    cancelled_away_text = StringProperty("")  # "1 cancelled on other pages": a button
    font_px = NumericProperty(18.0)
    button_px = NumericProperty(64.0)
    all_day_on = BooleanProperty(False)
    recall_on = BooleanProperty(False)
    paged = BooleanProperty(False)

    __events__ = ("on_button",)

    def __init__(self, **kwargs: Any) -> None:
        self._info: list[tuple[int, str, str]] = []
        super().__init__(**kwargs)

    def apply_metrics(self, metrics: Metrics) -> None:
        self.height = metrics.bar_px
        self.font_px = metrics.bar_font_px
        self.button_px = max(metrics.touch_px, metrics.bar_font_px * 5.2)

    def show(self, view: StatusView) -> None:
        # (priority, markup, plain): the lowest priority is dropped first when short of room
        self._info = [
            (4, f"[b]{_escape(view.station)}[/b]", view.station),
            (2, view.clock, view.clock),
            (1, f"[b]{view.open_count}[/b] open", f"{view.open_count} open"),
            (3, view.last_order, view.last_order),
        ]
        self.late_text = (
            f"[color={Palette.BAD}][b]{view.late_count} LATE[/b][/color]"
            if view.late_count
            else "0 late"
        )
        link = view.link
        if view.pending:
            unsent = f"{view.pending} unsent"
            link += (
                f" · {unsent}" if not view.link_ok else f" · [color={Palette.WARN}]{unsent}[/color]"
            )
        if view.clock_note:  # a wrong clock moves every promise: said where the link is
            link += f" · [color={Palette.WARN}]{view.clock_note}[/color]"
        self.link_text = link
        self.link_rgba = Palette.rgba(Palette.GOOD if view.link_ok else Palette.BAD)
        self.page_text = view.page
        self.late_away_text, self.cancelled_away_text = elsewhere_texts(
            view.late_elsewhere, view.cancelled_elsewhere, short=self.width < 1100
        )
        self.paged = view.page.split(" ")[0] != "1/1"
        self.fit_info()

    def fit_info(self) -> None:
        """The info items that fit the room left by the link, the counts and the buttons."""
        parts = [p for p in self._info if p[2]]
        room = self.ids.info.width - 4
        while len(parts) > 1:
            plain = SEPARATOR.join(p[2] for p in parts)
            if text_width(plain, self.font_px) <= room:
                break
            parts.remove(max(parts, key=lambda p: p[0]))
        self.info_text = SEPARATOR.join(p[1] for p in parts)

    def on_button(self, name: str) -> None:
        """Default handler (the app binds its own)."""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")
