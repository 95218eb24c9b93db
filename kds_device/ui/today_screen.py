"""The "Today" view: speed of service on the screen itself. Per hour, channel or station the
tickets finished today, their median and 90th-percentile time, the share late and a bar
(median solid, p90 light; amber from 10 % late, red from 25 %).

Opened and closed by the TODAY action (the status bar's TODAY button, keyboard T, keypad
".", GPIO hold PAGE BACK) or BACK / Esc; the core keeps the state (``today_open``,
``today_by``: NEXT / PREVIOUS change the tab) and the figures (``core.speed``). The board
keeps taking orders underneath (they chime). :func:`sync_today` shows what the core says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from kds_device.domain.actions import Action
from kds_device.domain.speed import SpeedRow
from kds_device.ui.theme import Palette
from kds_device.ui.today_view import RowText, row_texts, scale_text, summary

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SCREEN_NAME = "today"
#: Columns of the table as fractions of its width: name, tickets, median, p90, late; the bar
#: takes the rest.
COLUMNS = (0.0, 0.2, 0.3, 0.42, 0.54, 0.64)
BAR_END = 0.985
HEADINGS = ("", "tickets", "median", "9 in 10", "late")  # 9 in 10: the 90th percentile
LEVEL_COLOURS = {"good": Palette.GOOD, "warn": Palette.WARN, "bad": Palette.BAD}


class TodayView(BoxLayout):
    """Dispatches ``on_close()`` (BACK) and ``on_group(by)`` (a tab)."""

    by = StringProperty("hour")
    summary_text = StringProperty("")
    foot_text = StringProperty("")
    font_px = NumericProperty(20.0)
    title_px = NumericProperty(26.0)
    small_px = NumericProperty(16.0)
    bar_px = NumericProperty(56.0)
    tab_px = NumericProperty(52.0)
    foot_px = NumericProperty(28.0)
    button_px = NumericProperty(120.0)

    __events__ = ("on_close", "on_group")

    def __init__(self, **kwargs: Any) -> None:
        self._rows: list[RowText] = []
        self._shown: tuple[object, ...] = ()
        self._scale = ""
        self.hidden = 0  # rows left out for want of room (the earliest hours)
        super().__init__(**kwargs)

    def apply_size(self, width: float, height: float) -> None:
        """Sizes from the window: readable from the line at 800x480, not huge at 1080p."""
        unit = max(16.0, min(30.0, min(height / 21.0, width / 36.0)))
        self.font_px = unit
        self.title_px = unit * 1.25
        self.small_px = max(15.0, unit * 0.75)
        self.bar_px = max(48.0, unit * 2.4)
        self.tab_px = max(48.0, unit * 2.3)
        self.foot_px = self.small_px * 1.8
        self.button_px = max(96.0, unit * 5.5)

    def show(self, rows: list[SpeedRow], total: SpeedRow, by: str) -> None:
        """The figures; redrawn only when they changed (the view is refreshed every tick)."""
        shown = (tuple(rows), total, by, self.size)
        if shown == self._shown:
            return
        self._shown = shown
        self.by = by
        self.summary_text = summary(total)
        self._rows = row_texts(rows)
        self._scale = scale_text(rows)
        self.layout_rows()

    def layout_rows(self) -> None:
        """Lay the table out in its widget: a heading row, then as many rows as fit (the
        latest when they do not all fit: the hours going on now matter most)."""
        table = self.ids.table
        table.clear_widgets()
        table.canvas.after.clear()
        if not self._rows:
            self.hidden, self.foot_text = 0, ""
            table.add_widget(
                self._cell("nothing finished yet today", 0.0, 1.0, table.top, dim=True)
            )
            return
        head_h = self.small_px * 1.5
        room = table.height - head_h
        row_h = max(self.font_px * 1.3, min(self.font_px * 2.2, room / len(self._rows)))
        fits = max(1, int(room / row_h + 1e-6))  # 10 rows of room / 10 is 10, not 9.999
        rows = self._rows[-fits:]
        self.hidden = len(self._rows) - len(rows)
        more = f"{self.hidden} earlier not shown · " if self.hidden else ""
        self.foot_text = (
            f"{more}bar: median, light: 9 in 10 within · full bar {self._scale}"
            "  ·  < > tabs · T closes"
        )
        top = table.top
        headings = (self.by, *HEADINGS[1:])
        for index, heading in enumerate(headings):
            table.add_widget(
                self._cell(heading, COLUMNS[index], COLUMNS[index + 1], top, head_h, dim=True)
            )
        for number, row in enumerate(rows):
            y_top = top - head_h - number * row_h
            cells = (row.key, row.tickets, row.median, row.p90, row.late)
            for index, text in enumerate(cells):
                colour = LEVEL_COLOURS[row.level] if index == 4 else None
                table.add_widget(
                    self._cell(text, COLUMNS[index], COLUMNS[index + 1], y_top, row_h, colour)
                )
            self._bar(row, y_top, row_h)

    def _cell(
        self,
        text: str,
        start: float,
        end: float,
        top: float,
        height: float | None = None,
        colour: str | None = None,
        dim: bool = False,
    ) -> Label:
        table = self.ids.table
        height = height or self.font_px * 2
        first = start == 0.0
        label = Label(
            text=text,
            font_size=self.small_px if dim else self.font_px,
            bold=not dim,
            color=Palette.rgba(colour or (Palette.TEXT_DIM if dim else Palette.TEXT)),
            size_hint=(None, None),
            size=(table.width * (end - start) - 8, height),
            pos=(table.x + table.width * start + 8, top - height),
            halign="left" if first else "right",
            valign="middle",
            shorten=True,
            shorten_from="right",
        )
        label.text_size = label.size
        return label

    def _bar(self, row: RowText, top: float, height: float) -> None:
        table = self.ids.table
        left = table.x + table.width * COLUMNS[-1] + 16
        room = table.x + table.width * BAR_END - left
        y, h = top - height * 0.8, height * 0.6
        with table.canvas.after:
            Color(*Palette.rgba(LEVEL_COLOURS[row.level], 0.35))
            Rectangle(pos=(left, y), size=(max(2.0, room * row.p90_part), h))
            Color(*Palette.rgba(LEVEL_COLOURS[row.level]))
            Rectangle(pos=(left, y), size=(max(2.0, room * row.median_part), h))

    def on_close(self) -> None:
        """Default handler (the app binds its own)."""

    def on_group(self, by: str) -> None:
        """Default handler (the app binds its own)."""


def sync_today(app: Any) -> None:
    """Show the view while the core says it is open (refreshing its figures), the board when
    it is not. Called after every pass of the core and every tick."""
    core, manager = app.core, app.root
    if manager is None or core.learning:  # the learn screen has the window meanwhile
        return
    if not core.today_open:
        if manager.current == SCREEN_NAME:
            manager.current = "board"
        return
    if SCREEN_NAME not in manager.screen_names:
        manager.add_widget(_build(app))
    screen = manager.get_screen(SCREEN_NAME)
    view: TodayView = screen.children[0]
    if manager.current != SCREEN_NAME:
        view.apply_size(*Window.size)
        manager.current = SCREEN_NAME
    channels = app.device.display.channels
    rows, total = core.speed.today(core.today_by, core.now().wall, app.tz, channels)
    view.show(rows, total, core.today_by)


def _build(app: Any) -> Screen:
    view = TodayView()
    view.apply_size(*Window.size)
    view.bind(on_close=lambda _view: app.perform(Action.TODAY))

    def group(_view: Any, by: str) -> None:
        app.core.today_by = by
        sync_today(app)

    view.bind(on_group=group)
    screen = Screen(name=SCREEN_NAME)
    screen.add_widget(view)
    return screen
