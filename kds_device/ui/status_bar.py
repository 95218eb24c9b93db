"""The always-visible bar: station, clock, open and late counts, the link state (never
hidden), bumps waiting to sync, time since the last order, the page indicator, and the
buttons for recall, all-day and paging."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kds_device.ui.status_view import StatusView
from kds_device.ui.theme import Metrics, Palette

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class StatusBar(BoxLayout):
    """Dispatches ``on_button(name)`` for "recall", "all_day" and "page"."""

    info_text = StringProperty("")
    link_text = StringProperty("")
    link_rgba = ListProperty(Palette.rgba(Palette.GOOD))
    late_text = StringProperty("")
    page_text = StringProperty("")
    font_px = NumericProperty(18.0)
    button_px = NumericProperty(64.0)
    all_day_on = BooleanProperty(False)
    recall_on = BooleanProperty(False)
    paged = BooleanProperty(False)

    __events__ = ("on_button",)

    def apply_metrics(self, metrics: Metrics) -> None:
        self.height = metrics.bar_px
        self.font_px = metrics.bar_font_px
        self.button_px = max(metrics.touch_px, metrics.bar_font_px * 5.2)

    def show(self, view: StatusView) -> None:
        station = f"[b]{_escape(view.station)}[/b]  {view.clock}"
        parts = [station, f"[b]{view.open_count}[/b] open"]
        self.info_text = "   ".join(parts)
        self.late_text = (
            f"[color={Palette.BAD}][b]{view.late_count} LATE[/b][/color]"
            if view.late_count
            else "0 late"
        )
        link = view.link
        if view.pending:
            link += f" · {view.pending} bump{'s' if view.pending != 1 else ''} waiting to sync"
        if view.last_order:
            link += f" · {view.last_order}"
        self.link_text = link
        self.link_rgba = Palette.rgba(Palette.GOOD if view.link_ok else Palette.BAD)
        self.page_text = view.page
        self.paged = view.page.split(" ")[0] != "1/1"

    def on_button(self, name: str) -> None:
        """Default handler (the app binds its own)."""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")
