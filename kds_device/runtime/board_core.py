"""The device's core, without Kivy: the board, its file and its journal position, what the
cook's presses do (:mod:`~kds_device.runtime.cook_input`), and what a screen must show. The
Kivy app (``kds_device.ui.app``) is a view of it: it hands the core the inbox's messages and
the cook's presses and draws what the core reports through
:class:`~kds_device.runtime.core_view.CoreView`.

Rules kept here (and tested with Kivy blocked):

* messages are applied on one thread; events strictly in ``seq`` order (:class:`EventOrder`);
* status changes go to the sink (the device outbox) before the board is saved
  (:mod:`~kds_device.runtime.board_file`), and MQTT messages are acknowledged only once the
  board is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kds_device.adapters.store import BoardStore
from kds_device.config import DeviceConfig
from kds_device.domain.board import PAGE_CHANGED, Alert, Board, Outcome
from kds_device.domain.clock import Instant
from kds_device.domain.events import EventType
from kds_device.domain.order import Cancel, parse_webhook
from kds_device.runtime.board_file import BoardFile
from kds_device.runtime.cook_input import CookInput
from kds_device.runtime.core_view import CoreView, NoView
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

PRUNE_EVERY_S = 600.0


class BoardCore(CookInput):
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
        super().__init__()
        self.config = config
        self.sink = sink
        self.now = now
        self.inbox: Inbox[Message] = inbox if inbox is not None else Inbox()
        self.link = link or LinkChanged(Link.OFFLINE, now().mono, "starting")
        self.view: CoreView = view or NoView()
        self.board = Board(config.board)
        self.file = BoardFile(self.board, now)
        self.order = EventOrder()
        self.outbox_pending = 0
        self.last_order_wall: datetime | None = None
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

    # ---- state --------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self.order.last_seq

    @property
    def pending_events(self) -> dict[int, Any]:
        return self.order.pending

    @property
    def store(self) -> BoardStore | None:
        """The board file's store (None: running without persistence)."""
        return self.file.store

    def open_store(self, data_dir: Path | None) -> None:
        """Load the board saved in ``data_dir`` (none: run without persistence)."""
        if data_dir is None:
            return
        self.file.open(data_dir / "board.db")
        self.order.last_seq = self.file.saved_seq
        self.last_order_wall = self.file.opened_last_order
        self.speed.open(data_dir / "board.db", self.now().wall.timestamp())

    def close(self) -> None:
        self.persist()  # what was shown and not yet saved
        self.file.close()
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
        if not self.file.save(unsaved, self.last_seq, self.last_order_wall):
            self._unsaved.merge(unsaved)
            return False
        self.speed.save()
        for ack in acks:
            try:
                ack()
            except Exception:
                log.exception("event ack failed")
        return True

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
            self.file.save_clock_frame(now)
