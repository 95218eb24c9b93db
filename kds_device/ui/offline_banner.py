"""The offline banner: a red box over the top of the board, its text wrapped inside it and
its font made smaller when needed so that it never covers more than ``max_height``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.label import Label

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class OfflineBanner(Label):
    """Set ``message`` (first line shouted, the rest smaller; "" hides the banner)."""

    message = StringProperty("")
    base_px = NumericProperty(30.0)  # the first line's size when there is room
    fit_px = NumericProperty(30.0)
    pad_px = NumericProperty(10.0)
    max_height = NumericProperty(200.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(message=self._compose, fit_px=self._compose, base_px=self._reset)
        self.bind(width=self._reset, max_height=self._reset)

    def _reset(self, *_args: Any) -> None:
        self.fit_px = self.base_px
        self._compose()

    def _compose(self, *_args: Any) -> None:
        first, _, rest = self.message.partition("\n")
        text = f"[b]{_escape(first)}[/b]"
        if rest:
            text += f"\n[size={int(self.fit_px * 0.75)}]{_escape(rest)}[/size]"
        self.text = text if first else ""

    def fit(self) -> None:
        """Shrink the font while the wrapped text is taller than the room (down to 40 %)."""
        if not self.text or self.texture_size[1] + 2 * self.pad_px <= self.max_height:
            return
        if self.fit_px > self.base_px * 0.4:
            self.fit_px = max(self.base_px * 0.4, self.fit_px * 0.9)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")
