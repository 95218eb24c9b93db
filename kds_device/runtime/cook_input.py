"""What the cook's presses may do on the device's core: the one input gate, the panels over
the board (the recall list, all-day, the "Today" view), learn mode, and the rules that keep a
press on what the cook sees.

Rules kept here (and tested with Kivy blocked):

* an action only ever applies to a ticket the cook can see on the current page, never while
  the recall list covers the board; a tap bumps only a ticket that was selected and at that
  place before the finger went down, once the layout under it has settled;
* every press asks :attr:`CookInput.input_gate` first (the screen's care: the cleaning lock,
  the press that wakes a dimmed screen).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from kds_device.config import DeviceConfig
from kds_device.domain.actions import Action, apply_action
from kds_device.domain.attention import elsewhere
from kds_device.domain.board import Board, Outcome
from kds_device.domain.clock import Instant
from kds_device.runtime.core_view import CoreView
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import ActionRequested, Message

TODAY_GROUPS = ("hour", "channel", "station")


@dataclass(frozen=True)
class PressStart:
    """What was under the finger when it went down (the view records it)."""

    order_id: str
    selected: bool  # the ticket was the selection, on this page
    place: tuple[float, float, float, float]  # the tile's x, y, width, height
    still_s: float  # how long that tile had been in that place, showing that ticket
    item: int = -1  # the item line under the finger (a station screen marks it done); -1: none


@dataclass
class RecallState:
    """The recall list while it is open: which tickets, and the bump bar's cursor."""

    order_ids: list[str]
    cursor: int = 0

    def cursor_id(self) -> str:
        return self.order_ids[self.cursor] if self.order_ids else ""


class CookInput(ABC):
    """The cook's side of :class:`~kds_device.runtime.board_core.BoardCore`: its presses, the
    panels' state and learn mode. The core supplies the board, the clock, the view, the inbox
    and :meth:`commit`."""

    config: DeviceConfig
    board: Board
    now: Callable[[], Instant]
    inbox: Inbox[Message]
    view: CoreView

    def __init__(self) -> None:
        #: Asked before every cook's input (an action from any source, or a touch: None);
        #: False swallows it. The screen's care says no while the cleaning lock is on and
        #: to the press that wakes a dimmed screen (kds_device.ui.screen_care_view).
        self.input_gate: Callable[[Action | None], bool] = lambda _action: True
        self.recall: RecallState | None = None
        self._chosen: str | None = None  # the ticket the cook last chose, not the board's pick
        self.all_day_open = False
        #: New orders that came in while the learn screen covered the board.
        self.learning = False
        self.new_while_learning = 0
        self._main = threading.get_ident()  # the thread that may touch the board
        #: The "Today" view: open or not, and its grouping (one of ``TODAY_GROUPS``).
        self.today_open = False
        self.today_by = "hour"

    @abstractmethod
    def commit(self, outcome: Outcome) -> None:
        """Hand ``outcome``'s requests on, show it and have it saved (the core's)."""

    def perform(self, action: Action) -> None:
        """Do ``action`` now (main thread); from another thread it is posted to the inbox."""
        if threading.get_ident() != self._main:
            self.inbox.post(ActionRequested(action, "thread"))
            return
        self.commit(self._chose(self._apply(action)))

    def _chose(self, outcome: Outcome) -> Outcome:
        """Remember what the cook's press left selected (see :meth:`_keep_selection_on_page`)."""
        self._chosen = self.board.selected_id
        return outcome

    def _apply(self, action: Action) -> Outcome:
        now = self.now()
        if not self.input_gate(action):
            return Outcome()  # the cleaning lock, or the press that woke the screen
        if self.learning:
            return Outcome()  # the learn screen has the keys
        if action is Action.TODAY or self.today_open:
            return self._today_action(action)
        if self.recall is not None:
            return self._recall_action(action, now)
        if action is Action.RECALL:
            self.recall = RecallState([t.order_id for t in self.board.recall_list()])
            return Outcome()
        if action is Action.ALL_DAY:
            self.all_day_open = not self.all_day_open
            return Outcome()
        return apply_action(self.board, action, now)

    def _today_action(self, action: Action) -> Outcome:
        """TODAY opens and closes the "Today" view; while it is open, NEXT / PREVIOUS change
        its grouping and nothing else acts (the board is out of sight)."""
        if action is Action.TODAY:
            self.today_open = not self.today_open
            if self.today_open:
                self.recall, self.all_day_open = None, False
        elif action in (Action.NEXT, Action.PREVIOUS):
            step = 1 if action is Action.NEXT else -1
            self.today_by = TODAY_GROUPS[(TODAY_GROUPS.index(self.today_by) + step) % 3]
        return Outcome()

    def _recall_action(self, action: Action, now: Instant) -> Outcome:
        """With the recall list open, the bump bar moves in the list and restores."""
        recall = self.recall
        assert recall is not None
        if action in (Action.NEXT, Action.PREVIOUS) and recall.order_ids:
            step = 1 if action is Action.NEXT else -1
            recall.cursor = max(0, min(len(recall.order_ids) - 1, recall.cursor + step))
            return Outcome()
        self.recall = None
        if action is Action.BUMP and recall.cursor_id():  # RECALL again only closes the list
            return self.board.recall(recall.cursor_id(), now)
        return Outcome()

    def pick_recall(self, order_id: str) -> None:
        """A tap on an entry of the recall list."""
        if self.recall is None or not self.input_gate(None):
            return
        self.recall = None
        self.commit(self.board.recall(order_id, self.now()))

    def close_panels(self, recall: bool = True, all_day: bool = False) -> None:
        if recall:
            self.recall = None
        if all_day:
            self.all_day_open = False
        self.commit(Outcome())

    def press(
        self, start: PressStart, order_id: str, place: tuple[float, ...], item: int = -1
    ) -> None:
        """A finger lifted from the tile showing ``order_id`` at ``place``: bump it if it was
        the selection, in that place, settled, before the finger went down; else select it.
        On a station screen a tap on an item line (``item``, the same one the finger went
        down on) marks that item done instead, under the same rules. A cancelled ticket is
        never cleared by a tap (see :meth:`clear`)."""
        board = self.board
        ticket = board.ticket(order_id)
        if ticket is None or self.recall is not None or not board.on_current_page(order_id):
            return
        if not self.input_gate(None):
            return
        if ticket.voided:
            self.commit(self._chose(board.select(order_id)))
            return
        settled = start.still_s >= self.config.display.tap_settle_s
        same = start.order_id == order_id and tuple(start.place) == tuple(place)
        if same and start.selected and settled and board.selected_on_page() == order_id:
            if board.is_station and start.item >= 0:  # an item line: that item, or nothing
                if item == start.item:
                    self.commit(board.toggle_item(item, self.now(), order_id))
            else:
                self.commit(board.bump(self.now(), order_id))
        elif board.selected_id != order_id:
            self.commit(self._chose(board.select(order_id)))

    def clear(self, order_id: str) -> None:
        """A cancelled tile held for the clear time: take it off the board."""
        if self.recall is None and self.board.on_current_page(order_id) and self.input_gate(None):
            self.commit(self.board.acknowledge(order_id))

    def jump(self, kind: str) -> None:
        """The status bar's "late/cancelled on other pages" counts: show the first one."""
        late, cancelled = elsewhere(self.board, self.now())
        wanted = late if kind == "late" else cancelled
        if wanted and self.recall is None and self.input_gate(None):
            self.commit(self._chose(self.board.jump_to(wanted[0])))

    def page_button(self) -> None:
        """The bar's one page button: onwards, then round to the first."""
        last = self.board.page_index >= len(self.board.pages()) - 1
        self.perform(Action.FIRST if last else Action.PAGE_NEXT)

    def request_learn(self) -> None:
        """The learn chord was held (or settings asked): the view opens the screen."""
        if not self.learning and self.input_gate(None):
            self.view.open_learn()

    def learn_opened(self, on: bool) -> None:
        """The view reports the learn screen opening or closing."""
        self.learning = on
        self.new_while_learning = 0

    def _keep_selection_on_page(self, follow: bool) -> bool:
        """The selection always lies on the current page. When arriving orders (``follow``)
        pushed the ticket the cook chose onwards, the screen follows it to its page, so it
        stays in view (the tiles moved: taps wait for the settle time). When
        anything else moved it (another screen's bump, a cancel), nothing is selected until
        the cook chooses. True when the page changed."""
        board = self.board
        selected = board.selected_id
        if selected is None or board.selected_on_page() is not None:
            return False
        page = board.page_of(selected) if follow and selected == self._chosen else None
        if page is None:
            board.selected_id = None
            return False
        board.page_index = page
        return True
