"""One ticket segment on the board: a coloured header (id, timer, age in words, type, due
time, badges and channel) over a body of item lines. Widgets are pooled and reused by the
board screen; ``show`` and ``show_clock`` only set the properties whose value changed, and
once before the next frame the tile re-renders only the texts that really changed (each
once, however many of its properties changed). The six texts are
:class:`~kds_device.ui.text_sprite.TextSprite` objects in the tile's canvas (``ids.title``,
``clock``, ``who``, ``due``, ``source``, ``body``), not Label widgets: a label widget cost
some 60 KB, a sprite 3 KB. How the header's parts share its rows (the id is never cut) is
:func:`kds_device.ui.header_fit.plan_head`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.widget import Widget

from kds_device.ui.header_fit import HeadSizes, HeadText, plan_head_tabular
from kds_device.ui.measure import text_width
from kds_device.ui.text_sprite import TextSprite
from kds_device.ui.theme import LINE_HEIGHT, Metrics, Palette
from kds_device.ui.tile_outline import SelectionOutline
from kds_device.ui.tile_view import ClockView, TileView

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: The tile's properties its texts are drawn from: a change re-draws them before the next frame.
_DRAWN_FROM = (
    "pos",
    "size",
    "continued",
    "title_text",
    "clock_text",
    "who_text",
    "due_text",
    "source_text",
    "body_text",
    "header_fg_rgba",
    "row1_px",
    "row2_px",
    "row3_px",
    "head_px",
    "pad_px",
    "title_px",
    "clock_px",
    "row2_font_px",
    "source_px",
    "body_font_px",
)


@dataclass(frozen=True, slots=True)
class _Texts:
    """The tile's six texts (also its ``ids``, by these names, as its labels were)."""

    title: TextSprite
    clock: TextSprite
    who: TextSprite
    due: TextSprite
    source: TextSprite
    body: TextSprite


#: Header texts left in their row: shortened from the right past their room.
_HEAD_LEFT = {"shorten": True, "shorten_from": "right", "valign": "middle", "halign": "left"}


class OrderTile(Widget):
    """A tile; dispatches ``on_press_down(touch)`` when a finger goes down on it and
    ``on_press_up(touch)`` when that finger lifts over it (the board screen decides what a
    press does). ``hold_progress`` (0..1) fills the header while a cancel is held."""

    order_id = StringProperty("")
    continued = BooleanProperty(False)
    voided = BooleanProperty(False)
    selected = BooleanProperty(False)
    started = BooleanProperty(False)  # PREPARING (or later): a green bar down the body's edge

    title_text = StringProperty("")
    clock_text = StringProperty("")
    who_text = StringProperty("")
    due_text = StringProperty("")
    source_text = StringProperty("")
    body_text = StringProperty("")

    bg_rgba = ListProperty(Palette.rgba(Palette.TILE))
    header_rgba = ListProperty(Palette.rgba(Palette.HEADER[next(iter(Palette.HEADER))][0]))
    header_fg_rgba = ListProperty([1.0, 1.0, 1.0, 1.0])
    outline_rgba = ListProperty([0.0, 0.0, 0.0, 0.0])

    row_px = NumericProperty(24.0)
    row1_px = NumericProperty(31.0)
    row2_px = NumericProperty(22.0)
    row3_px = NumericProperty(14.0)
    head_px = NumericProperty(72.0)
    pad_px = NumericProperty(6.0)
    gap_px = NumericProperty(4.0)
    body_px = NumericProperty(20.0)
    id_px = NumericProperty(25.0)
    timer_px = NumericProperty(22.0)
    small_px = NumericProperty(16.0)
    tiny_px = NumericProperty(12.0)
    word_px = NumericProperty(15.0)
    title_px = NumericProperty(25.0)  # id_px, smaller only when a long id does not fit
    clock_px = NumericProperty(22.0)
    row2_font_px = NumericProperty(16.0)
    source_px = NumericProperty(12.0)
    outline_px = NumericProperty(3.0)
    body_rows = NumericProperty(1)  # the rows the paginator gave this segment's lines
    body_font_px = NumericProperty(20.0)  # body_px, smaller only if the estimate fell short
    hold_progress = NumericProperty(0.0)  # a cancelled tile held to clear: 0..1
    #: When (core clock, monotonic s) this tile last changed ticket or place.
    placed_mono = NumericProperty(0.0)

    __events__ = ("on_press_down", "on_press_up")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._view: TileView | None = None
        self._clock: ClockView | None = None
        self._outline = SelectionOutline(self.canvas.after, Palette.rgba(Palette.SELECTED))
        self._draw_trigger = Clock.create_trigger(self._draw_texts, -1)
        self._rooms: dict[str, float] = {}  # the room each text was last given
        self.canvas.add(Color(1.0, 1.0, 1.0, 1.0))  # the colour is in the texts' markup
        request = self._draw_trigger
        self._texts = _Texts(
            title=TextSprite(self.canvas, request, room=10.0, **_HEAD_LEFT),
            clock=TextSprite(self.canvas, request),  # as wide as its text, never cut
            who=TextSprite(self.canvas, request, room=10.0, **_HEAD_LEFT),
            due=TextSprite(self.canvas, request),
            source=TextSprite(self.canvas, request, room=10.0, **_HEAD_LEFT),
            body=TextSprite(self.canvas, request, room=10.0, halign="left", valign="top"),
        )
        self.ids = {f.name: getattr(self._texts, f.name) for f in fields(_Texts)}
        for name in _DRAWN_FROM:
            self.fbind(name, request)
        self.fbind("pos", self._place_outline)
        self.fbind("size", self._place_outline)
        self.fbind("gap_px", self._place_outline)
        self.fbind("outline_px", self._place_outline)

    def apply_metrics(self, metrics: Metrics) -> None:
        self.row_px = metrics.row_px
        self.row1_px = metrics.row1_px
        self.row2_px = metrics.row2_px
        self.row3_px = metrics.row3_px
        self.pad_px = metrics.pad_px
        self.gap_px = metrics.gap_px
        self.body_px = metrics.body_px
        self.id_px = metrics.header_id_px
        self.timer_px = round(metrics.body_px * 1.1)
        self.small_px = metrics.body_px  # row 2: the order type and the name
        self.tiny_px = metrics.header_tiny_px
        # what a cook acts on is at least body size: the age word, the order type, the name
        self.word_px = metrics.body_px
        # Kivy's Line width is half the stroke: 2 -> a 4 px frame, thicker on big screens
        self.outline_px = max(2.0, round(metrics.row_px * 0.1))
        self._update_head()
        self._reset_body()
        self._fit_head()

    def show(self, view: TileView, clock: ClockView | None, selected: bool) -> None:
        """Set the ticket's content (only changed properties trigger a redraw)."""
        self.order_id = view.order_id
        self.continued = view.continued
        self.voided = view.voided
        self.started = view.started
        self._view = view
        self._reset_body()
        self.body_text = view.body
        self.bg_rgba = Palette.rgba(Palette.TILE_VOID if view.voided else Palette.TILE)
        self._update_head()
        self.set_selected(selected)
        if clock is not None:
            self.show_clock(clock)
        else:
            self._fit_head()

    def show_clock(self, clock: ClockView) -> None:
        """The timer, the due time and the header colour (the once-a-second update)."""
        if self.continued:
            clock = ClockView(
                "", "", "", clock.header_bg, clock.header_fg, clock.age, clock.courier
            )
        self._clock = clock
        self._fit_head()
        header = Palette.rgba(clock.header_bg)
        if list(self.header_rgba) != list(header):
            self.header_rgba = header
            self.header_fg_rgba = Palette.rgba(clock.header_fg)

    def _fit_head(self) -> None:
        """Rows 1 and 2 for this width (cheap: widths are cached; unchanged text is not
        re-rendered)."""
        view, clock = self._view, self._clock
        if view is None:
            return
        # the courier ("COURIER 2 MIN", "COURIER WAITING") takes the order type's place in
        # row 2 (bold, body size, whole): a courier says "delivery" already
        courier = clock.courier if clock is not None and not view.voided else ""
        text = HeadText(
            display_id=view.display_id,
            marks=view.marks,
            word=clock.word if clock else "",
            timer=clock.timer if clock else "",
            kind="" if view.continued else courier.upper() or view.kind,
            name="" if view.continued else view.name,
            table="" if view.continued else view.table,
            due=clock.due if clock and not view.continued else "",
            source="" if view.continued else view.source,
            voided=view.voided,
        )
        sizes = HeadSizes(
            room=self.width - 2 * self.pad_px,
            gap=self.pad_px,
            id_px=self.id_px,
            timer_px=self.timer_px,
            word_px=self.word_px,
            small_px=self.small_px,
            tiny_px=self.tiny_px,
        )
        plan = plan_head_tabular(text, sizes, _measure)  # Roboto's digits are tabular
        self.title_px, self.clock_px, self.row2_font_px = plan.title_px, plan.clock_px, plan.row2_px
        self.source_px = plan.source_px
        self.source_text = "" if view.continued else plan.source
        self.title_text, self.clock_text = plan.title, plan.clock
        self.who_text = "" if view.continued else plan.who
        self.due_text = plan.due

    def item_at(self, y: float) -> int:
        """The top-level item of the body row at ``y`` (the tile's coordinates, as a touch
        on it has them), -1: none."""
        view = self._view
        body = self._texts.body
        if view is None or not view.row_items or not body.text or y > body.top:
            return -1
        depth = body.top - y  # rows are as tall as drawn: a CJK or Arabic one is taller
        for row, height in enumerate(body.line_heights()):
            depth -= height
            if depth < 0:
                return view.row_items[row] if row < len(view.row_items) else -1
        return -1

    def set_selected(self, selected: bool) -> None:
        self.selected = selected
        self.outline_rgba = Palette.rgba(Palette.SELECTED) if selected else [0.0, 0.0, 0.0, 0.0]
        if selected:
            self._place_outline()
        self._outline.show(selected)

    def _place_outline(self, *_args: Any) -> None:
        """Centred on the tile's edge: half in the gap, half over the tile's margin."""
        if self.selected:
            h = self.height - self.gap_px
            self._outline.place(self.x, self.y + self.gap_px, self.width, h, self.outline_px)

    def _reset_body(self) -> None:
        self.body_font_px = self.body_px
        self._texts.body.max_lines = 0

    def fit_body(self) -> None:
        """Never spill, never drop a line: if the text needs more rows than the paginator's
        estimate gave, shrink the body font a little (down to 75 %); only past that, clip."""
        body = self._texts.body
        room = self.height - self.gap_px - self.head_px
        if body.texture_size[1] <= room + 1 or not body.text:
            return
        if self.body_font_px > self.body_px * 0.76:
            self.body_font_px = max(self.body_px * 0.75, self.body_font_px * 0.92)
        else:
            body.max_lines = max(1, int(room // (self.body_font_px * LINE_HEIGHT)))

    # ---- the texts ----------------------------------------------------------------------

    def _draw_texts(self, *_args: Any) -> None:
        """Render the texts whose text, size, colour or room changed (each once), then place
        all six as the rows lay them out: row 1 the id (left) and the timer (right), row 2 the
        type and name (left) and the due time (right), row 3 the channel; the body under the
        header, as tall as its text. The header's texts are centred in their rows."""
        texts = self._texts
        fg = self.header_fg_rgba
        pad = self.pad_px
        clock, due = texts.clock, texts.due
        for sprite, text, px in (
            (clock, self.clock_text, self.clock_px),
            (due, self.due_text, self.row2_font_px),
        ):
            sprite.text, sprite.font_size, sprite.color = text, px, fg
            sprite.render()
        # the left texts get what the right ones leave (their widths are known now)
        self._give_room(
            "title", max(10, self.width - 2 * pad - (clock.width + pad if clock.text else 0))
        )
        self._give_room("who", max(10, self.width - 2 * pad - (due.width + pad if due.text else 0)))
        self._give_room("source", max(10, self.width - 2 * pad))
        self._give_room("body", max(10, self.width - 2 * pad))
        for name, text, px in (
            ("title", self.title_text, self.title_px),
            ("who", self.who_text, self.row2_font_px),
            ("source", self.source_text, self.source_px),
        ):
            sprite = getattr(texts, name)
            sprite.text, sprite.font_size, sprite.color = text, px, fg
            sprite.render()
        body = texts.body
        body.text, body.font_size = self.body_text, self.body_font_px
        while body.render():  # fit_body shrinks the font or limits the lines: render again
            self.fit_body()
            body.font_size = self.body_font_px
        self._draw_trigger.cancel()  # everything that asked for it is drawn
        top, left, right = self.top, self.x + pad, self.right
        row1 = self.head_px if self.continued else self.row1_px
        texts.title.place(left, top - row1, row1)
        texts.clock.place(right - pad - clock.width, top - self.row1_px, self.row1_px)
        texts.who.place(left, top - self.row1_px - self.row2_px, self.row2_px)
        texts.due.place(right - pad - due.width, top - self.row1_px - self.row2_px, self.row2_px)
        row3 = self.row3_px
        texts.source.place(left, top - self.row1_px - self.row2_px - row3, row3)
        body.place(left, top - self.head_px - body.texture_size[1])

    def _give_room(self, name: str, room: float) -> None:
        """A text's room, set when the tile's layout gives it a new one (a room set on the
        text itself holds until then, as a kv binding's would)."""
        if self._rooms.get(name) != room:
            self._rooms[name] = room
            getattr(self._texts, name).room = room

    def _update_head(self) -> None:
        if self.continued:
            self.head_px = self.row_px - self.gap_px
        else:
            self.head_px = self.row1_px + self.row2_px + self.row3_px

    # ---- touch --------------------------------------------------------------------------

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos) and touch.y >= self.y + self.gap_px:
            touch.grab(self)
            self.dispatch("on_press_down", touch)
            return True
        return False

    def on_touch_move(self, touch: Any) -> bool:
        return touch.grab_current is self

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        self.dispatch("on_press_up", touch)
        return True

    def on_press_down(self, touch: Any) -> None:
        """Default handler (the board screen binds its own)."""

    def on_press_up(self, touch: Any) -> None:
        """Default handler (the board screen binds its own)."""


def _measure(text: str, font_px: float) -> float:
    """A width with room to spare: Kivy's markup labels draw a few px wider than measured."""
    return text_width(text, font_px) * 1.03 + 2.0
