"""The always-visible bar: station, clock, open and late counts, the link state and the unsent
bumps (never hidden, never cut), time since the last order, the page indicator, and the
buttons for recall, all-day and paging (back, and onwards with how many tickets are on the
pages after this one: "16 more >"). When the bar is narrow the information goes on two
smaller lines, the station's name is abbreviated and the clock goes; the open count, "last
order", the late count and the link stay."""

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
MIN_INFO_PX = 14.0
BUTTON_PAD = 12.0
NARROW_PX = 1000  # below this the bar stacks: two-line information and link
UPCOMING = 5  # the info item of the upcoming count (narrow bar): beside the station, kept
TOP = (3, 4, UPCOMING)  # the info items of the first row when the information takes two


class StatusBar(BoxLayout):
    """Dispatches ``on_button(name)`` for "recall", "all_day", "page" (onwards, from the last
    page back to the first), "page_previous", "late" and "cancelled" (the counts of those
    on other pages), "upcoming" (the scheduled orders' panel) and "today" (the speed of
    service view)."""

    info_text = StringProperty("")
    info_px = NumericProperty(18.0)  # smaller, on two lines, when one line has no room
    link_text = StringProperty("")
    link_rgba = ListProperty(Palette.rgba(Palette.GOOD))
    late_text = StringProperty("")
    page_text = StringProperty("")  # "2/3"
    next_text = StringProperty("")  # "16 more >", or "page 1 >" on the last page
    page_px = NumericProperty(80.0)  # the page buttons' widths: fixed, so the info's room
    next_px = NumericProperty(120.0)  # does not change as the page figures grow
    late_away_text = StringProperty("")  # "2 late," : a button, jumps to the first
    cancelled_away_text = StringProperty("")  # "1 cancelled on other pages": a button
    upcoming_text = StringProperty("")  # "3 upcoming": a button, opens the UPCOMING panel
    upcoming_on = BooleanProperty(False)
    font_px = NumericProperty(18.0)
    button_px = NumericProperty(64.0)
    today_px = NumericProperty(64.0)
    all_day_on = BooleanProperty(False)
    recall_on = BooleanProperty(False)
    paged = BooleanProperty(False)
    first_page = BooleanProperty(True)

    __events__ = ("on_button",)

    def __init__(self, **kwargs: Any) -> None:
        self._info: list[tuple[int, str, str]] = []
        self._station = ""
        super().__init__(**kwargs)

    def apply_metrics(self, metrics: Metrics) -> None:
        self.height = metrics.bar_px
        self.font_px = metrics.bar_font_px
        self.button_px = max(
            metrics.touch_px * 0.9, text_width("ALL DAY", metrics.bar_font_px) + 2 * BUTTON_PAD
        )
        self.today_px = max(metrics.touch_px, text_width("TODAY", self.font_px) + 2 * BUTTON_PAD)
        self.page_px = max(metrics.touch_px, text_width("< 88/88", self.font_px) + 2 * BUTTON_PAD)
        if metrics.width < NARROW_PX:  # "<" alone: the page number is left out
            self.page_px = metrics.touch_px
        self.next_px = max(
            metrics.touch_px, text_width("888 more >", self.font_px) + 2 * BUTTON_PAD
        )

    def show(self, view: StatusView) -> None:
        self._station = view.station
        # (priority, markup, plain): the lowest priority is dropped first when short of room
        self._info = [
            (3, f"[b]{_escape(view.station)}[/b]", view.station),
            (4, view.clock, view.clock),
            (1, f"[b]{view.open_count}[/b] open", f"{view.open_count} open"),
            (2, view.last_order, view.last_order),
        ]
        self.late_text = (
            f"[color={Palette.BAD}][b]{view.late_count} LATE[/b][/color]"
            if view.late_count
            else "0 late"
        )
        if view.behind:  # never shortened: the manager's hint to turn on busy mode
            narrow = self.width < NARROW_PX  # "behind +12 min" under the late count
            behind = view.behind.replace("falling behind: ", "behind ") if narrow else view.behind
            sep = "\n" if narrow else "  "
            self.late_text += f"{sep}[color={Palette.WARN}][b]{behind}[/b][/color]"
        # a button; on a narrow bar (no room for one) beside the station, where the clock was:
        # a tap on the information opens the panel then
        count = f"{view.upcoming} upcoming" if view.upcoming else ""
        self.upcoming_text = count if self.width >= NARROW_PX else ""
        if count and self.width < NARROW_PX:
            self._info.append((UPCOMING, f"[b]{count}[/b]", count))
        link = view.link
        if view.pending:
            unsent = f"{view.pending} unsent"
            # on a narrow bar the unsent count goes under the link state (whole, never cut)
            sep = "\n" if self.width < NARROW_PX else " · "
            link += (
                f"{sep}{unsent}"
                if not view.link_ok
                else f"{sep}[color={Palette.WARN}]{unsent}[/color]"
            )
        if view.clock_note:  # a wrong clock moves every promise: said where the link is
            link += f" · [color={Palette.WARN}]{view.clock_note}[/color]"
        self.link_text = link
        self.link_rgba = Palette.rgba(Palette.GOOD if view.link_ok else Palette.BAD)
        number, _, count = view.page.partition("/")
        self.paged = count not in ("", "1")
        self.first_page = number == "1"
        self.page_text = view.page
        if view.more:
            self.next_text = f"{view.more} more >"
        else:
            self.next_text = "page 1 >" if self.paged else ""
        self.late_away_text, self.cancelled_away_text = elsewhere_texts(
            view.late_elsewhere, view.cancelled_elsewhere, short=self.width < 1100
        )
        self.fit_info()

    def fit_info(self) -> None:
        """The info items in the room left by the link, the counts and the buttons: on one
        line; else smaller on two (station and clock over the counts); else the station
        abbreviated and the clock dropped; only then items dropped, least useful first."""
        parts = [p for p in self._info if p[2]]
        room = self.ids.info.width - 4
        big, small = self.font_px, max(MIN_INFO_PX, round(self.font_px * 0.8))
        if text_width(SEPARATOR.join(p[2] for p in parts), big) <= room:
            self.info_px, self.info_text = big, SEPARATOR.join(p[1] for p in parts)
            return
        beside = [SEPARATOR + p[2] for p in parts if p[0] == UPCOMING]  # kept with the station
        station = _short(self._station, small, room - sum(text_width(b, small) for b in beside))
        two = [[(p if p[0] != 3 else (3, f"[b]{_escape(station)}[/b]", station)) for p in parts]]
        two.append([p for p in two[0] if p[0] != 4])  # without the clock
        for kept in two:
            top = [p for p in kept if p[0] in TOP]
            bottom = [p for p in kept if p[0] not in TOP]
            while bottom and text_width(SEPARATOR.join(p[2] for p in bottom), small) > room:
                bottom.remove(max(bottom, key=lambda p: p[0]))
            if text_width(SEPARATOR.join(p[2] for p in top), small) <= room:
                lines = [SEPARATOR.join(p[1] for p in line) for line in (top, bottom) if line]
                self.info_px, self.info_text = small, "\n".join(lines)
                if len(bottom) == len([p for p in kept if p[0] not in TOP]):
                    return
        self.info_px = small

    def on_button(self, name: str) -> None:
        """Default handler (the app binds its own)."""

    def on_touch_down(self, touch: Any) -> bool:
        """On a narrow bar the upcoming count is in the information: a tap there opens the
        UPCOMING panel (a wide bar has a button for it)."""
        info = self.ids.info
        if info.collide_point(*touch.pos) and any(p[0] == UPCOMING for p in self._info):
            self.dispatch("on_button", "upcoming")
            return True
        return bool(super().on_touch_down(touch))


def _short(station: str, px: float, room: float) -> str:
    """The station's name, cut with an ellipsis to fit ``room`` (at least 4 letters)."""
    if text_width(station, px) <= room:
        return station
    for length in range(len(station) - 1, 3, -1):
        short = station[:length].rstrip() + "…"
        if text_width(short, px) <= room:
            return short
    return station[:4] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")
