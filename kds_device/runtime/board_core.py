"""The device's core, without Kivy: the board, its store and its journal position, what the
cook's presses do, and what a screen must show. The Kivy app (``kds_device.ui.app``) is a view
of it: it hands the core the inbox's messages and the cook's presses and draws what the core
reports through :class:`CoreView`.

Rules kept here (and tested with Kivy blocked):

* messages are applied on one thread; events strictly in ``seq`` order (:class:`EventOrder`);
* status changes go to the sink (the device outbox) before the board is saved, and MQTT
  messages are acknowledged only once the board is saved;
* an action only ever applies to a ticket the cook can see on the current page, never while
  the recall list covers the board; a tap bumps only a ticket that was selected and at that
  place before the finger went down, once the layout under it has settled.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from kds_device.adapters.store import BoardStore
from kds_device.config import DeviceConfig
from kds_device.domain.actions import Action, apply_action
from kds_device.domain.attention import elsewhere
from kds_device.domain.board import PAGE_CHANGED, Alert, Board, Outcome
from kds_device.domain.clock import Instant
from kds_device.domain.events import EventType
from kds_device.domain.order import Cancel, parse_webhook
from kds_device.domain.roles import Role
from kds_device.runtime.event_order import EventOrder
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import (
    ActionRequested,
    EventsArrived,
    Link,
    LinkChanged,
    Message,
    OrderArrived,
    OutboxChanged,
    RoleChanged,
    StatusSink,
)
from kds_device.runtime.shown_delays import ShownDelays
from kds_device.runtime.speed_log import SpeedLog

log = logging.getLogger(__name__)

LAST_SEQ = "last_seq"
LAST_ORDER = "last_order_wall"
COURIERS = "couriers"  # the couriers of the orders (kds_device.domain.courier), as JSON
ROLE = "role"
PRUNE_EVERY_S = 600.0
TODAY_GROUPS = ("hour", "channel", "station")


class CoreView(Protocol):
    """What the core asks of a screen."""

    def show(self, changed: set[str]) -> None:
        """Redraw the tickets in ``changed`` (all of them after a page change), then the
        status bar, the undo bar and the panels from the core's state."""

    def play(self, sound: str) -> None:
        """Play "chime" (a new order) or "alert" (a cancel, a link down too long)."""

    def open_learn(self) -> None:
        """Show the key-learning screen."""

    def after_frame(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once what was just shown is on screen (the next frame flipped):
        the core saves the board and acknowledges messages then, so drawing never waits for
        the disk."""


class NoView:
    """A core without a screen (tests of the rules, tools): remembers what it was asked."""

    def __init__(self) -> None:
        self.shown: list[set[str]] = []
        self.played: list[str] = []
        self.learn_opened = 0

    def show(self, changed: set[str]) -> None:
        self.shown.append(set(changed))

    def play(self, sound: str) -> None:
        self.played.append(sound)

    def open_learn(self) -> None:
        self.learn_opened += 1

    def after_frame(self, callback: Callable[[], object]) -> None:
        callback()  # no frames here: at once


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


class BoardCore:
    """Everything the board does, driven by messages and presses; ``view`` draws it."""

    def __init__(
        self,
        config: DeviceConfig,
        sink: StatusSink,
        now: Callable[[], Instant],
        inbox: Inbox[Message] | None = None,
        link: LinkChanged | None = None,
        view: CoreView | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.now = now
        self.inbox: Inbox[Message] = inbox if inbox is not None else Inbox()
        self.link = link or LinkChanged(Link.OFFLINE, now().mono, "starting")
        self.view: CoreView = view or NoView()
        #: Asked before every cook's input (an action from any source, or a touch: None);
        #: False swallows it. The screen's care says no while the cleaning lock is on and
        #: to the press that wakes a dimmed screen (kds_device.ui.screen_care_view).
        self.input_gate: Callable[[Action | None], bool] = lambda _action: True
        self.board = Board(config.board)
        self.store: BoardStore | None = None
        self.order = EventOrder()
        self._saved_seq = 0
        self._saved_role = self.board.role.to_text()
        self.outbox_pending = 0
        self.last_order_wall: datetime | None = None
        self.recall: RecallState | None = None
        self._chosen: str | None = None  # the ticket the cook last chose, not the board's pick
        self.all_day_open = False
        #: New orders that came in while the learn screen covered the board.
        self.learning = False
        self.new_while_learning = 0
        self._main = threading.get_ident()
        self._last_prune = now().mono
        #: Shown but not saved yet (saved once the frame showing it has flipped), and the
        #: MQTT acknowledgements that wait for that save.
        self._unsaved = Outcome()
        self._acks: list[Callable[[], object]] = []
        self._save_pending = False
        #: Speed of service (the "Today" view): timelines kept as events apply.
        self.speed = SpeedLog()
        #: Order-to-screen delays for the heartbeat (each seq is applied once, in order).
        self.shown = ShownDelays()
        self.today_open = False
        self.today_by = "hour"

    # ---- state --------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self.order.last_seq

    @property
    def pending_events(self) -> dict[int, Any]:
        return self.order.pending

    def open_store(self, data_dir: Path | None) -> None:
        """Load the board saved in ``data_dir`` (none: run without persistence)."""
        if data_dir is None:
            return
        try:
            self.store = BoardStore(data_dir / "board.db")
            self.board.restore(self.store.load(self.now()))
            self.order.last_seq = self._saved_seq = int(self.store.get_meta(LAST_SEQ) or 0)
            self._restore_role(self.store.get_meta(ROLE))
            last = self.store.get_meta(LAST_ORDER)
            self.last_order_wall = datetime.fromisoformat(last) if last else None
            self.board.pace.courier.load(_json_or_none(self.store.get_meta(COURIERS)))
            self.board.release_due(self.now())  # scheduled tickets wait UPCOMING again
        except Exception:
            log.exception("board store unusable; running without persistence")
            self.store = None
        self.speed.open(data_dir / "board.db", self.now().wall.timestamp())

    def _restore_role(self, saved: str | None) -> None:
        """The role last heard from the gateway (a ``device.role`` event after enrollment)."""
        if not saved:
            return
        try:
            self.board.set_role(Role.from_text(saved))
        except ValueError:
            log.warning("saved role %r unreadable; keeping %s", saved, self.board.role)
        self._saved_role = self.board.role.to_text()

    def close(self) -> None:
        self.persist()  # what was shown and not yet saved
        if self.store is not None:
            self.store.close()
            self.store = None
        self.speed.close()

    def preload(self, orders: list[tuple[Mapping[str, Any], float]]) -> None:
        """Put orders (each with its age in seconds) on a board that has none (the demo)."""
        if not orders or self.board.open_tickets():
            return
        now, outcome = self.now(), Outcome()
        for payload, age_s in orders:
            try:
                outcome.merge(self.board.receive_order(payload, now.later(-age_s)))
            except Exception:
                log.exception("preloaded order skipped")
        self.commit(outcome)

    # ---- messages -----------------------------------------------------------------------

    def drain(self) -> None:
        """Apply everything in the inbox and show it; the board is saved and MQTT events are
        acknowledged once that frame is on screen (:meth:`persist`)."""
        outcome = Outcome()
        acks: list[Callable[[], object]] = []
        for message in self.inbox.drain():
            try:
                outcome.merge(self.handle(message))
            except Exception:
                log.exception("message %s skipped", type(message).__name__)
            if isinstance(message, EventsArrived) and callable(message.ack):
                acks.append(message.ack)
        self._acks.extend(acks)
        self.commit(outcome)

    def handle(self, message: Message) -> Outcome:
        now = self.now()
        if isinstance(message, OrderArrived):
            parsed = parse_webhook(message.payload)
            if isinstance(parsed, Cancel):
                return self.board.receive_cancel(parsed, now)
            return self.board.receive_order(message.payload, now)
        if isinstance(message, EventsArrived):
            outcome = Outcome()
            for event in self.order.ready(message.events, message.through):
                try:
                    outcome.merge(self.board.apply_event(event, now))
                    self.speed.event(event)
                    if event.type == EventType.ORDER_RECEIVED:
                        self.shown.note(event.seq, event.at, now.wall)
                except Exception:
                    log.exception("event %s (%s) cannot be applied; skipped", event.seq, event.type)
            return outcome
        if isinstance(message, RoleChanged):
            return self.board.set_role(message.role)
        if isinstance(message, LinkChanged):
            self.link = message
        elif isinstance(message, OutboxChanged):
            self.outbox_pending = message.pending
        elif isinstance(message, ActionRequested):
            return self._chose(self._apply(message.action))
        return Outcome()

    def commit(self, outcome: Outcome) -> None:
        """Hand status changes to the sink, show the outcome, and have the board saved once
        that frame is on screen. The sink stores a bump first (one small commit that also sets
        it on its way to the gateway), the board file says "bumped" only after: a crash in
        between leaves a bump that is sent and a board that catches up from its echo, never a
        bump shown as done that nobody sends."""
        now = self.now()
        new_orders = outcome.alerts.count(Alert.NEW_ORDER)
        due = Alert.ORDER_DUE in outcome.alerts  # scheduled orders joining the board
        if new_orders:
            self.last_order_wall = now.wall
            if self.learning:
                self.new_while_learning += new_orders
        for change in [*outcome.status_changes, *outcome.requests]:
            try:
                self.sink.submit(change)
            except Exception:
                log.exception("status sink refused %s", change)
        self._time(outcome, now)
        self._unsaved.merge(Outcome(changed=set(outcome.changed), removed=set(outcome.removed)))
        if self._keep_selection_on_page(follow=bool(new_orders) or due):
            outcome = outcome.merge(Outcome(changed={PAGE_CHANGED}))
        if Alert.ORDER_VOIDED in outcome.alerts or Alert.COURIER_WAITING in outcome.alerts:
            self.view.play("alert")
        elif new_orders or due:
            self.view.play("chime")
        self.view.show(outcome.changed | outcome.removed)
        if not self._save_pending:
            self._save_pending = True
            self.view.after_frame(self.persist)

    def _time(self, outcome: Outcome, now: Instant) -> None:
        """Speed of service: this screen's own requests, and (not on a station, whose
        recalls are part requests) its recalls and re-bumps, which send nothing."""
        at = now.wall.timestamp()
        self.speed.local([*outcome.status_changes, *outcome.requests], at)
        for order_id in () if self.board.is_station else outcome.changed:
            ticket = self.board.ticket(order_id)
            if ticket is not None:
                self.speed.observe(order_id, ticket.bumped, ticket.recalled, at)

    def persist(self) -> bool:
        """Save what was shown since the last save, then acknowledge the MQTT messages it
        came from. False when the board could not be saved: those messages stay
        unacknowledged (the broker delivers them again) and the changes are saved with the
        next ones."""
        self._save_pending = False
        unsaved, self._unsaved = self._unsaved, Outcome()
        acks, self._acks = self._acks, []
        if not self._save(unsaved):
            self._unsaved.merge(unsaved)
            return False
        self.speed.save()
        for ack in acks:
            try:
                ack()
            except Exception:
                log.exception("event ack failed")
        return True

    def _save(self, outcome: Outcome) -> bool:
        ids = outcome.changed - {PAGE_CHANGED}
        role = self.board.role.to_text()
        if self.store is None or not (
            ids or outcome.removed or self.last_seq != self._saved_seq or role != self._saved_role
        ):
            return True
        tickets = [t for t in (self.board.ticket(i) for i in ids) if t is not None]
        meta = {LAST_SEQ: str(self.last_seq), ROLE: role}
        if self.last_order_wall is not None:
            meta[LAST_ORDER] = self.last_order_wall.isoformat()
        couriers = self.board.pace.courier
        if couriers.dirty:
            meta[COURIERS] = json.dumps(couriers.to_json(), separators=(",", ":"))
        try:
            self.store.save(tickets, meta, self.now())  # with the clock frame: ages survive
            if outcome.removed:
                self.store.delete(outcome.removed)
            self._saved_seq, self._saved_role = self.last_seq, role
            couriers.dirty = False
        except Exception:
            log.exception("saving the board failed")
            return False
        return True

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

    # ---- the cook's actions -------------------------------------------------------------

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

    # ---- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Once a second: scheduled orders whose start-by came join the board (with the
        chime); old finished tickets are pruned now and then."""
        now = self.now()
        released = self.board.release_due(now)
        if released:
            self.commit(released)
        if now.mono - self._last_prune > PRUNE_EVERY_S:
            self._last_prune = now.mono
            self.commit(self.board.prune(now))
            self.speed.prune(now.wall.timestamp())
            try:  # a fresh (wall, mono) pair in the board file: ages after a reboot
                if self.store is not None:
                    self.store.save([], None, now)
            except Exception:
                log.exception("saving the clock frame failed")


def _json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        log.warning("saved courier states unreadable; starting without them")
        return None
