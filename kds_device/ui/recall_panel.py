"""The recall list: recently bumped tickets, newest first, as big buttons. Tapping one puts
it back on the board; the list is built when the panel opens (at most the board's recall
limit, 30 by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kds_device.ui.status_view import RecallEntry
from kds_device.ui.theme import LINE_HEIGHT

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

NORMAL = (0.2, 0.26, 0.32, 1)
HIGHLIGHT = (0.1, 0.55, 0.68, 1)


class RecallPanel(FloatLayout):
    """Dispatches ``on_pick(order_id)`` and ``on_close()``."""

    font_px = NumericProperty(20.0)
    button_px = NumericProperty(72.0)
    title_text = StringProperty("Recently bumped - tap one to put it back")

    __events__ = ("on_pick", "on_close")

    cursor = NumericProperty(0)

    def on_touch_down(self, touch: Any) -> bool:
        """Modal: a touch anywhere on the panel never reaches the board underneath."""
        super().on_touch_down(touch)
        return bool(self.collide_point(*touch.pos))

    def show(self, entries: list[RecallEntry], columns: int) -> None:
        self.cursor = 0
        grid = self.ids.grid
        grid.clear_widgets()
        grid.cols = max(1, columns)
        for entry in entries:
            button = Factory.RecallButton(text=entry.text, font_size=self.font_px)
            # id and who, the items (up to two rows), "bumped 3 min ago"
            button.height = max(self.button_px, self.font_px * LINE_HEIGHT * 4 + 16)
            button.order_id = entry.order_id
            button.bind(on_release=self._picked)
            grid.add_widget(button)
        self._paint_cursor()
        self.ids.empty.opacity = 0 if entries else 1

    def refresh(self, entries: list[RecallEntry]) -> None:
        """New words for the entries on show (their ages); the list itself stays."""
        texts = {entry.order_id: entry.text for entry in entries}
        for button in self.buttons():
            text = texts.get(button.order_id)
            if text is not None and text != button.text:
                button.text = text

    def _picked(self, button: object) -> None:
        self.dispatch("on_pick", getattr(button, "order_id", ""))

    def buttons(self) -> list[Any]:
        """The entry buttons, first (newest) to last (tests tap them)."""
        return list(reversed(self.ids.grid.children))

    def move_cursor(self, step: int) -> None:
        """The bump bar's way through the list: the highlighted entry moves."""
        buttons = self.buttons()
        if buttons:
            self.cursor = max(0, min(len(buttons) - 1, self.cursor + step))
        self._paint_cursor()

    def set_cursor(self, index: int) -> None:
        """Highlight entry ``index`` (the core keeps the bump bar's cursor)."""
        if index != self.cursor:
            self.cursor = index
            self._paint_cursor()

    def cursor_order_id(self) -> str:
        buttons = self.buttons()
        return str(buttons[self.cursor].order_id) if buttons else ""

    def _paint_cursor(self) -> None:
        for index, button in enumerate(self.buttons()):
            button.background_color = HIGHLIGHT if index == self.cursor else NORMAL

    def on_pick(self, order_id: str) -> None:
        """Default handler."""

    def on_close(self) -> None:
        """Default handler."""
