"""The board: the status bar over columns of ticket tiles, plus the undo bar, the offline
banner and the recall / all-day panels.

Only the current page has widgets. Tiles are pooled and keyed by segment (order id, first
line); a pass updates the tiles whose ticket changed and moves the others, a clock tick
updates timer labels only. Nothing rebuilds the whole board.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kds_device.domain.board import PAGE_CHANGED, Board
from kds_device.domain.clock import Instant
from kds_device.domain.layout import Segment
from kds_device.domain.lines import TicketLine, allergy_pattern
from kds_device.runtime.cook_input import PressStart
from kds_device.ui import tile_text
from kds_device.ui.all_day_panel import AllDayPanel
from kds_device.ui.fonts import register_fonts
from kds_device.ui.measure import RowCounter
from kds_device.ui.offline_banner import OfflineBanner  # noqa: F401  (used in the .kv)
from kds_device.ui.order_tile import OrderTile
from kds_device.ui.recall_panel import RecallPanel
from kds_device.ui.status_bar import StatusBar
from kds_device.ui.status_view import RecallEntry, recall_entries, upcoming_entries
from kds_device.ui.theme import Metrics
from kds_device.ui.tile_view import clock_view, tile_view
from kds_device.ui.undo_bar import UndoBar
from kds_device.ui.upcoming_panel import UpcomingPanel

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

Key = tuple[str, int]  # (order id, first line): one segment of one ticket
ESCAPE = 27


@dataclass(frozen=True)
class _Placed:
    segment: Segment
    geometry: tuple[float, float, float, float]
    body_rows: int


class BoardScreen(FloatLayout):
    """The board's widgets. The app owns the :class:`Board`; this class only draws it."""

    banner_text = StringProperty("")
    empty_text = StringProperty("")
    body_px = NumericProperty(20.0)
    bar_px = NumericProperty(48.0)
    gap_px = NumericProperty(4.0)

    def __init__(
        self,
        board: Board,
        now: Callable[[], Instant],
        channels: dict[int, str],
        tz: tzinfo | None = None,
        **kw: Any,
    ) -> None:
        register_fonts()  # before any label (the status bar's too) opens a font
        super().__init__(**kw)
        self.board = board
        self._now = now
        self.channels = channels
        self.tz = tz
        self.allergy = allergy_pattern(board.settings.allergy_words)
        self.metrics = Metrics.for_window(800, 480)
        #: A finger lifted from a tile: (what was under it at the start, order id, place,
        #: the item line under it).
        self.on_tile_press: Callable[[PressStart, str, tuple[float, ...], int], None] = (
            lambda start, order_id, place, item: None
        )
        #: A cancelled tile held for ``clear_hold_s``.
        self.on_tile_clear: Callable[[str], None] = lambda order_id: None
        self.on_all_day_close: Callable[[], None] = lambda: self.open_all_day(False)
        self.clear_hold_s = 1.0
        self._hold: tuple[OrderTile, str, float, Any] | None = None
        self.tiles: dict[Key, OrderTile] = {}
        self._placed: dict[Key, _Placed] = {}
        self._pool: list[OrderTile] = []
        self._counter: RowCounter | None = None
        self._selected: str | None = None
        self.all_day_open = False
        self.all_day: AllDayPanel | None = None
        #: Scheduled orders waiting for their start-by (in the all-day panel's place).
        self.upcoming_open = False
        self.upcoming: UpcomingPanel | None = None
        self.on_upcoming_close: Callable[[], None] = lambda: self.open_upcoming(False)
        self.recall: RecallPanel | None = None
        self._laid_foot = 0.0

    @property
    def status_bar(self) -> StatusBar:
        return self.ids.status

    @property
    def undo_bar(self) -> UndoBar:
        return self.ids.undo

    # ---- geometry ---------------------------------------------------------------------

    def set_window_size(self, width: int, height: int) -> None:
        """Recompute sizes for the window and lay the board out again (a resize, or the
        all-day panel taking one column)."""
        self.metrics = Metrics.for_window(
            width, height, 1 if self.all_day_open or self.upcoming_open else 0, self._foot_px()
        )
        m = self.metrics
        self.body_px = m.body_px
        self.bar_px = m.bar_px
        self.gap_px = m.gap_px
        self.status_bar.apply_metrics(m)
        self.undo_bar.font_px = m.body_px
        self._counter = RowCounter(m.body_px, m.text_px, self.allergy)
        self.board.set_layout(m.layout, self._counter)
        for tile in [*self.tiles.values(), *self._pool]:
            tile.apply_metrics(m)
        self._place_panels()
        self.render(set(), everything=True)

    def _foot_px(self) -> float:
        """Room kept free under the tiles for the offline banner while it shows."""
        banner = self.ids.banner
        return banner.height + self.gap_px if banner.text and banner.height > 0 else 0.0

    def banner_resized(self) -> None:
        """The banner came, went or changed height: the tiles make room for it."""
        if abs(self._foot_px() - self._laid_foot) > 1 and self.metrics is not None:
            self._laid_foot = self._foot_px()
            self.set_window_size(self.metrics.width, self.metrics.height)

    def _place_panels(self) -> None:
        m = self.metrics
        self._laid_foot = self._foot_px()
        if self.all_day is not None:
            self.all_day.font_px = max(16.0, m.body_px * 0.85)
            self.all_day.title_px = m.row_px * 1.5
            bottom = m.gap_px + self._laid_foot
            self.all_day.size = (m.panel_px, m.height - m.bar_px - m.gap_px - bottom)
            self.all_day.pos = (m.width - m.panel_px - m.gap_px, bottom)
        if self.upcoming is not None:  # the same place as the all-day panel (one at a time)
            self.upcoming.font_px = max(16.0, m.body_px * 0.85)
            self.upcoming.title_px = m.row_px * 1.5
            bottom = m.gap_px + self._laid_foot
            self.upcoming.size = (m.panel_px, m.height - m.bar_px - m.gap_px - bottom)
            self.upcoming.pos = (m.width - m.panel_px - m.gap_px, bottom)
        if self.recall is not None:
            self.recall.font_px = m.body_px
            self.recall.button_px = max(m.touch_px, m.row_px * 2.6)
            self.recall.size = (m.width, m.height - m.bar_px)
            self.recall.pos = (0, 0)

    def _body_rows(self, line: TicketLine, voided: bool) -> list[str]:
        counter = self._counter
        return counter.rows(line, voided) if counter else [tile_text.escape(line.text)]

    def _layout_page(self) -> dict[Key, _Placed]:
        m = self.metrics
        spec = self.board.layout_spec
        top = m.height - m.bar_px - m.gap_px
        wanted: dict[Key, _Placed] = {}
        for index, column in enumerate(self.board.current_page()):
            x = m.gap_px + index * (m.column_px + m.gap_px)
            used = 0.0
            for segment in column:
                ticket = self.board.ticket(segment.order_id)
                if ticket is None:
                    continue
                rows = segment.rows(spec, self.board.line_rows(ticket))
                height = rows * m.row_px
                y = top - used - height
                head = spec.continued_header_rows if segment.continued else spec.header_rows
                wanted[(segment.order_id, segment.first)] = _Placed(
                    segment, (x, y, m.column_px, height), rows - head
                )
                used += height
        return wanted

    # ---- drawing ----------------------------------------------------------------------

    def render(self, changed: Iterable[str], everything: bool = False) -> None:
        """Bring the tiles of the current page in line with the board: ``changed`` names the
        tickets whose content changed; other tiles are only moved, added or pooled."""
        changed = set(changed) - {PAGE_CHANGED}
        # a ticket whose lines changed (an item done, a part's progress): the board forgets
        # its row counts itself (board_parts.view_lines); the layout reads the board's
        now = self._now()
        wanted = self._layout_page()
        for key in [k for k in self.tiles if k not in wanted]:
            gone = self.tiles.pop(key)
            self._placed.pop(key, None)
            self.ids.area.remove_widget(gone)
            self._pool.append(gone)
        selected = self.board.selected_on_page()
        selection_moved = selected != self._selected
        for key, placed in wanted.items():
            existing = self.tiles.get(key)
            fresh = existing is None
            if existing is None:
                tile = self._take_tile()
                self.tiles[key] = tile
                self.ids.area.add_widget(tile)
            else:
                tile = existing
            before = self._placed.get(key)
            if fresh or before is None or before.geometry != placed.geometry:
                x, y, w, h = placed.geometry
                tile.pos = (x, y)
                tile.size = (w, h)
                tile.body_rows = placed.body_rows
                tile.placed_mono = now.mono  # the board moved under this place
            ticket = self.board.ticket(placed.segment.order_id)
            if ticket is None:
                continue
            if (
                fresh
                or everything
                or ticket.order_id in changed
                or before is None
                or before.segment != placed.segment
            ):
                view = tile_view(
                    ticket, placed.segment, self.allergy, self.channels, self._body_rows
                )
                clock = clock_view(self.board, ticket, now, self.tz)
                tile.show(view, clock, ticket.order_id == selected)
            elif selection_moved and ticket.order_id in (selected, self._selected):
                tile.set_selected(ticket.order_id == selected)
            self._placed[key] = placed
        self._selected = selected
        self.empty_text = "" if self.tiles else "No open orders - new orders appear here"
        if self.all_day_open and self.all_day is not None:
            self.all_day.show(self.board.all_day())
        if self.upcoming_open and self.upcoming is not None:
            self.upcoming.show(upcoming_entries(self.board, self.tz))

    def tick(self, now: Instant) -> None:
        """The once-a-second update: timers, due times and header colours only."""
        views: dict[str, Any] = {}
        for (order_id, _first), tile in self.tiles.items():
            view = views.get(order_id)
            if view is None:
                ticket = self.board.ticket(order_id)
                if ticket is None or ticket.order is None:
                    continue
                view = views[order_id] = clock_view(self.board, ticket, now, self.tz)
            tile.show_clock(view)
        if self.recall_open and self.recall is not None:  # "bumped 3 min ago" keeps ageing
            self.recall.refresh(recall_entries(self.board, now, self.tz))

    def _take_tile(self) -> OrderTile:
        if self._pool:
            return self._pool.pop()
        tile = OrderTile()
        tile.apply_metrics(self.metrics)
        tile.bind(on_press_down=self._press_down, on_press_up=self._press_up)
        return tile

    # ---- presses ------------------------------------------------------------------------

    def _press_down(self, tile: OrderTile, touch: Any) -> None:
        """Remember what is under the finger now: the core decides when it lifts."""
        still = self._now().mono - tile.placed_mono
        selected = self.board.selected_on_page() == tile.order_id
        item = tile.item_at(touch.y)
        touch.ud["kds_press"] = PressStart(tile.order_id, selected, _place(tile), still, item)
        if tile.voided and not tile.continued:
            self._end_hold()
            event = Clock.schedule_interval(lambda _dt: self._hold_tick(), 0)
            self._hold = (tile, tile.order_id, self._now().mono, event)

    def _press_up(self, tile: OrderTile, touch: Any) -> None:
        self._end_hold()  # a cancel let go early stays (a tap only selects it)
        start = touch.ud.get("kds_press")
        if isinstance(start, PressStart) and tile.collide_point(*touch.pos):
            self.on_tile_press(start, tile.order_id, _place(tile), tile.item_at(touch.y))

    def _hold_tick(self) -> None:
        """A cancelled tile held down: fill its header; clear it once the hold is long enough."""
        if self._hold is None:
            return
        tile, order_id, since, _event = self._hold
        if tile.order_id != order_id or tile.parent is None:
            self._end_hold()
            return
        progress = (self._now().mono - since) / max(self.clear_hold_s, 0.01)
        tile.hold_progress = min(1.0, max(0.001, progress))
        if progress >= 1.0:
            self._end_hold()
            self.on_tile_clear(order_id)

    def _end_hold(self) -> None:
        if self._hold is not None:
            tile, _order_id, _since, event = self._hold
            event.cancel()
            tile.hold_progress = 0.0
            self._hold = None

    def tile_for(self, order_id: str) -> OrderTile | None:
        """The first tile of a ticket on the current page (tests and the bench use it)."""
        for (tile_order, _first), tile in sorted(self.tiles.items(), key=lambda kv: kv[0][1]):
            if tile_order == order_id:
                return tile
        return None

    # ---- panels -----------------------------------------------------------------------

    def open_all_day(self, on: bool) -> None:
        if on == self.all_day_open:
            return
        self.all_day_open = on
        self.status_bar.all_day_on = on
        if on:
            if self.all_day is None:
                self.all_day = AllDayPanel()
                self.all_day.bind(on_close=lambda _panel: self.on_all_day_close())
            self._add_panel(self.all_day)
        elif self.all_day is not None:
            self.remove_widget(self.all_day)
        self.set_window_size(self.metrics.width, self.metrics.height)

    def open_upcoming(self, on: bool) -> None:
        """Show (or hide) the UPCOMING panel at the right of the board."""
        if on == self.upcoming_open:
            return
        self.upcoming_open = on
        self.status_bar.upcoming_on = on
        if on:
            if self.upcoming is None:
                self.upcoming = UpcomingPanel()
                self.upcoming.bind(on_close=lambda _panel: self.on_upcoming_close())
            self._add_panel(self.upcoming)
        elif self.upcoming is not None:
            self.remove_widget(self.upcoming)
        self.set_window_size(self.metrics.width, self.metrics.height)

    def open_recall(self, entries: list[RecallEntry]) -> RecallPanel:
        if self.recall is None:
            self.recall = RecallPanel()
        if self.recall.parent is None:
            self._add_panel(self.recall)
        self._place_panels()
        self.recall.show(entries, 3 if self.metrics.width >= 1200 else 2)
        self.status_bar.recall_on = True
        Window.unbind(on_key_down=self._recall_key)
        Window.bind(on_key_down=self._recall_key)  # bound last, called first
        return self.recall

    def close_recall(self) -> None:
        Window.unbind(on_key_down=self._recall_key)
        if self.recall is not None and self.recall.parent is not None:
            self.remove_widget(self.recall)
        self.status_bar.recall_on = False

    def _recall_key(self, _window: Any, keycode: int, *_args: Any) -> bool:
        """Esc closes the recall list (and goes no further)."""
        if keycode == ESCAPE and self.recall_open and self.recall is not None:
            self.recall.dispatch("on_close")  # as its CLOSE button: the app closes it
            return True
        return False

    def _add_panel(self, panel: Any) -> None:
        """Panels go over the tiles but under the status bar, the offline banner and the
        undo bar, which must stay visible whatever is open."""
        self.add_widget(panel, index=self.children.index(self.ids.status) + 1)

    @property
    def recall_open(self) -> bool:
        return self.recall is not None and self.recall.parent is not None


def _place(tile: OrderTile) -> tuple[float, float, float, float]:
    return (tile.x, tile.y, tile.width, tile.height)
