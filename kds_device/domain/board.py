"""The kitchen board: open tickets, their order, ageing, all-day counts, the recall list and
old tickets pruned. What arrives is in :mod:`~kds_device.domain.board_events`, the cook's
actions in :mod:`~kds_device.domain.board_actions`, pages and selection in
:mod:`~kds_device.domain.board_pages`, station work in :mod:`~kds_device.domain.board_parts`,
UPCOMING tickets and couriers in :mod:`~kds_device.domain.board_pace`. Pure: no I/O, time
passed in as an :class:`Instant`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from kds_device.domain.board_actions import ActionsMixin
from kds_device.domain.board_events import EventsMixin
from kds_device.domain.board_pace import Pace
from kds_device.domain.board_pages import PagesMixin
from kds_device.domain.board_parts import PartsMixin
from kds_device.domain.clock import Instant
from kds_device.domain.layout import LayoutSpec, Page
from kds_device.domain.lines import TicketLine, allergy_pattern, ticket_lines
from kds_device.domain.order import parse_order
from kds_device.domain.parts import Parts
from kds_device.domain.ticket import (
    PAGE_CHANGED,
    AgeClass,
    AgeThresholds,
    Alert,
    BoardSettings,
    Outcome,
    StatusChange,
    Ticket,
)
from kds_device.domain.urgency import Urgency, UrgencyRules, assess, late_at, timer_start_mono

# The board's vocabulary, importable from here as before.
__all__ = [
    "PAGE_CHANGED",
    "AgeClass",
    "AgeThresholds",
    "Alert",
    "Board",
    "BoardSettings",
    "Outcome",
    "StatusChange",
    "Ticket",
]


class Board(ActionsMixin, EventsMixin, PagesMixin, PartsMixin):
    """All tickets of this screen. Methods return an :class:`Outcome`; nothing here blocks.
    What arrives is :class:`EventsMixin`'s, the cook's actions :class:`ActionsMixin`'s, pages
    and selection :class:`PagesMixin`'s, station work (roles, parts, items)
    :class:`PartsMixin`'s."""

    def __init__(
        self,
        settings: BoardSettings | None = None,
        key_factory: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.settings = settings or BoardSettings()
        self._allergy = allergy_pattern(self.settings.allergy_words)
        self._key = key_factory
        self._tickets: dict[str, Ticket] = {}
        self._arrivals = 0
        self.selected_id: str | None = None
        self.page_index = 0
        self._spec = LayoutSpec()
        self._row_counter: Callable[[TicketLine], int] = lambda line: 1
        self._row_cache: dict[str, list[int]] = {}
        self._pages: list[Page] | None = None
        self._open_cache: list[Ticket] | None = None
        self.last_bump: tuple[str, float] | None = None  # (order id, mono) for undo
        #: Scheduled tickets held UPCOMING, prep times, couriers (kds_device.domain.board_pace).
        self.pace = Pace()
        self.changes = 0  # counts changes to the tickets

    # ---- reading ------------------------------------------------------------------------

    def ticket(self, order_id: str) -> Ticket | None:
        return self._tickets.get(order_id)

    def tickets(self) -> list[Ticket]:
        return list(self._tickets.values())

    def open_tickets(self) -> list[Ticket]:
        """Visible tickets, by promised time, then arrival (not those held UPCOMING)."""
        if self._open_cache is None:
            held = self.pace.holds
            visible = [t for t in self._tickets.values() if t.visible and not held(t.order_id)]
            visible.sort(key=self._sort_key)
            self._open_cache = visible
        return self._open_cache

    def _sort_key(self, ticket: Ticket) -> tuple[datetime, int]:
        """By the moment each ticket becomes LATE (see :mod:`kds_device.domain.urgency`)."""
        assert ticket.order is not None
        rules = self.rules_for(ticket)
        return (late_at(ticket.order, ticket.arrived_wall, rules), ticket.arrival)

    def rules_for(self, ticket: Ticket) -> UrgencyRules:
        settings = self.settings
        assert ticket.order is not None
        return UrgencyRules(
            settings.thresholds_for(ticket.order.order_type),
            settings.finish_margin_s,
            settings.hurry_s,
            self.pace.lead_s(ticket, settings),  # its prep time, else the fixed lead
        )

    def timer_start_mono(self, ticket: Ticket) -> float:
        """When the ticket's clock starts: arrival, or for a scheduled order its start time."""
        if ticket.order is None:
            return ticket.arrived_mono
        return timer_start_mono(
            ticket.order,
            ticket.arrived_wall,
            ticket.arrived_mono,
            self.pace.lead_s(ticket, self.settings),
        )

    def urgency(self, ticket: Ticket, now: Instant) -> Urgency:
        """The one answer to "how urgent is it": colour, word, late count and due text."""
        assert ticket.order is not None
        return assess(ticket.order, self.timer_start_mono(ticket), now, self.rules_for(ticket))

    def elapsed_s(self, ticket: Ticket, now: Instant) -> float:
        """Seconds on the clock (negative while a scheduled order is upcoming)."""
        if ticket.order is None:
            return now.mono - ticket.arrived_mono
        return self.urgency(ticket, now).elapsed_s

    def seconds_to_promise(self, ticket: Ticket, now: Instant) -> float | None:
        if ticket.order is None or ticket.order.promised_time is None:
            return None
        return (ticket.order.promised_time - now.wall).total_seconds()

    def age_class(self, ticket: Ticket, now: Instant) -> AgeClass:
        return self.urgency(ticket, now).level

    def late_count(self, now: Instant) -> int:
        return sum(
            1 for t in self.open_tickets() if t.workable and self.age_class(t, now) is AgeClass.LATE
        )

    def all_day(self) -> list[tuple[str, int]]:
        """Open quantity of each product across workable tickets, most first."""
        totals: dict[str, int] = {}
        for ticket in self.open_tickets():
            if ticket.workable and ticket.order is not None:
                for name, count in self.station_totals(ticket).items():
                    totals[name] = totals.get(name, 0) + count
        return sorted(totals.items(), key=lambda pair: (-pair[1], pair[0].lower()))

    def recall_list(self) -> list[Ticket]:
        """Recently bumped tickets, newest first."""
        done = [t for t in self._tickets.values() if t.order is not None and t.bumped and t.here]
        done.sort(key=lambda t: t.finished_mono or 0.0, reverse=True)
        return done[: self.settings.recall_limit]

    def undo_available(self, now: Instant) -> str | None:
        """The order id the undo action would restore, while the undo window is open."""
        if self.last_item is not None and self.last_item_open(now):
            return self.last_item[0]
        if self.last_bump is None:
            return None
        order_id, when = self.last_bump
        ticket = self._tickets.get(order_id)
        if ticket is None or not ticket.bumped:
            return None
        if now.mono - when > self.settings.undo_window_s:
            return None
        return order_id

    # ---- old tickets --------------------------------------------------------------------

    def prune(self, now: Instant) -> Outcome:
        """Forget tickets finished longer ago than ``keep_finished_s`` (bounded memory and disk)."""
        horizon = now.mono - self.settings.keep_finished_s
        gone = {
            t.order_id
            for t in self._tickets.values()
            if t.finished_mono is not None and t.finished_mono < horizon and not t.visible
        }
        for order_id in gone:
            del self._tickets[order_id]
        self.pace.forget(gone)
        if gone:
            self._touched()
        return Outcome(removed=gone)

    # ---- persistence --------------------------------------------------------------------

    def restore(self, tickets: Iterable[Ticket]) -> None:
        """Load tickets saved by a store (their ``payload`` is parsed again)."""
        for ticket in tickets:
            payload = ticket.payload
            if payload is not None:
                ticket.order = parse_order(payload)
                ticket.base_lines = ticket_lines(ticket.order, self._allergy)
                ticket.parts = Parts.from_json(
                    ticket.saved_parts, len(ticket.order.items), ticket.order_id
                )
                self.view_lines(ticket)
            self._tickets[ticket.order_id] = ticket
            self._arrivals = max(self._arrivals, ticket.arrival)
        self._touched()
        self._ensure_selection()

    # ---- internals ----------------------------------------------------------------------

    def _new_ticket(self, order_id: str, now: Instant) -> Ticket:
        self._arrivals += 1
        ticket = Ticket(order_id, self._arrivals, now.wall, now.mono)
        self._tickets[order_id] = ticket
        return ticket

    # ---- UPCOMING -----------------------------------------------------------------------

    def release_due(self, now: Instant) -> Outcome:
        """Scheduled tickets whose start-by has come join the board (the core calls this
        every second)."""
        outcome = self.pace.release_due(self, now)
        if outcome:
            self._touched()
            if self.selected_id is None:
                self._ensure_selection()
        return outcome

    def upcoming(self) -> list[Ticket]:
        """Tickets held UPCOMING, soonest start-by first."""
        held = [t for t in (self._tickets.get(i) for i in self.pace.held()) if t is not None]
        return sorted(
            held,
            key=lambda t: (self.pace.start_by(t, self.settings) or t.arrived_wall, t.arrival),
        )

    def _touched(self) -> None:
        self.changes += 1  # (what was worked out from the tickets is stale)
        self._open_cache = None
        self._pages = None
