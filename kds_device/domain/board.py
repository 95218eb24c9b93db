"""The kitchen board: open tickets, their order, selection, pages, ageing, all-day counts,
recall and undo. Pure: no I/O, time passed in as an :class:`Instant`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from kds_device.domain.board_pace import Pace
from kds_device.domain.board_parts import ITEM_EVENT, PART_EVENT, ROLE_EVENT, PartsMixin
from kds_device.domain.clock import Instant
from kds_device.domain.events import Event, EventType
from kds_device.domain.layout import LayoutSpec, Page, paginate
from kds_device.domain.lines import TicketLine, allergy_pattern, glued, ticket_lines
from kds_device.domain.order import Cancel, parse_order
from kds_device.domain.parts import OrderRouting, Parts
from kds_device.domain.status import FINISHED_FROM, VOIDING, OrderStatus
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
from kds_device.domain.timestamps import parse_timestamp
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


class Board(PartsMixin):
    """All tickets of this screen. Methods return an :class:`Outcome`; nothing here blocks.
    Station work (roles, parts, items) is :class:`PartsMixin`'s."""

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

    # ---- layout, pages, selection -------------------------------------------------------

    def set_layout(self, spec: LayoutSpec, row_counter: Callable[[TicketLine], int]) -> None:
        self._spec = spec
        self._row_counter = row_counter
        self._row_cache = {}
        self._pages = None

    @property
    def layout_spec(self) -> LayoutSpec:
        return self._spec

    def _rows_of(self, ticket: Ticket) -> list[int]:
        rows = self._row_cache.get(ticket.order_id)
        if rows is None:
            rows = [self._row_counter(line) for line in ticket.lines]
            self._row_cache[ticket.order_id] = rows
        return rows

    def line_rows(self, ticket: Ticket) -> list[int]:
        """The text rows each of the ticket's lines takes (kept while the ticket is open)."""
        return self._rows_of(ticket)

    def pages(self) -> list[Page]:
        if self._pages is None:
            open_tickets = self.open_tickets()
            self._pages = paginate(
                [(t.order_id, self._rows_of(t), glued(t.lines)) for t in open_tickets],
                self._spec,
            )
            self.page_index = min(self.page_index, len(self._pages) - 1)
            if len(self._row_cache) > len(open_tickets):  # tickets left: forget their rows
                self._row_cache = {t.order_id: self._rows_of(t) for t in open_tickets}
        return self._pages

    def current_page(self) -> Page:
        return self.pages()[self.page_index]

    def page_of(self, order_id: str) -> int | None:
        for index, page in enumerate(self.pages()):
            for column in page:
                for segment in column:
                    if segment.order_id == order_id and not segment.continued:
                        return index
        return None

    def ids_on_page(self, index: int | None = None) -> list[str]:
        """The tickets with a segment on page ``index`` (default: the current page), in
        order, each once."""
        pages = self.pages()
        page = pages[self.page_index if index is None else index]
        ids: list[str] = []
        for column in page:
            for segment in column:
                if segment.order_id not in ids:
                    ids.append(segment.order_id)
        return ids

    def on_current_page(self, order_id: str | None) -> bool:
        """True when the cook can see ``order_id`` now: a segment of it is on this page."""
        return order_id is not None and order_id in self.ids_on_page()

    def selected_on_page(self) -> str | None:
        """The selection, if it is on the current page (the only one an action may use)."""
        return self.selected_id if self.on_current_page(self.selected_id) else None

    def jump_to(self, order_id: str) -> Outcome:
        """Show the page ``order_id`` starts on and select it."""
        before = self.page_index
        outcome = self.select(order_id)
        if self.page_index != before:
            outcome.changed.add(PAGE_CHANGED)
        return outcome

    def tickets_after_page(self) -> int:
        """How many open tickets start on pages after the current one."""
        return sum(
            1
            for page in self.pages()[self.page_index + 1 :]
            for column in page
            for segment in column
            if not segment.continued
        )

    def page_next(self) -> Outcome:
        return self._go_to_page(self.page_index + 1)

    def page_previous(self) -> Outcome:
        return self._go_to_page(self.page_index - 1)

    def _go_to_page(self, index: int) -> Outcome:
        pages = self.pages()
        index = max(0, min(index, len(pages) - 1))
        if index == self.page_index:
            return Outcome()
        self.page_index = index
        first = next((s.order_id for col in pages[index] for s in col if not s.continued), None)
        if first is not None:
            self.selected_id = first
        return Outcome(changed={PAGE_CHANGED})

    def select(self, order_id: str | None) -> Outcome:
        if order_id is not None:
            ticket = self._tickets.get(order_id)
            if ticket is None or not ticket.visible or self.pace.holds(order_id):
                return Outcome()
        previous, self.selected_id = self.selected_id, order_id
        if order_id is not None:
            page = self.page_of(order_id)
            if page is not None:
                self.page_index = page
        return Outcome(changed={i for i in (previous, order_id) if i})

    def select_next(self) -> Outcome:
        return self._step(+1)

    def select_previous(self) -> Outcome:
        return self._step(-1)

    def select_first(self) -> Outcome:
        tickets = self.open_tickets()
        return self.select(tickets[0].order_id if tickets else None)

    def _step(self, delta: int) -> Outcome:
        tickets = self.open_tickets()
        if not tickets:
            return self.select(None)
        ids = [t.order_id for t in tickets]
        selected = self.selected_on_page()
        if selected is None:
            here = self.ids_on_page()  # nothing selected here: start on this page
            return self.select(here[0] if here else ids[0])
        index = ids.index(selected) + delta
        return self.select(ids[max(0, min(index, len(ids) - 1))])

    def _neighbours(self, order_id: str) -> list[str]:
        """Who takes the selection when ``order_id`` leaves: the tickets after it on this
        page, then those before it (nearest first)."""
        here = self.ids_on_page()
        if order_id not in here:
            return []
        at = here.index(order_id)
        return here[at + 1 :] + here[:at][::-1]

    def _reselect(self, candidates: list[str]) -> None:
        """After a ticket left: a neighbour on the same page, or nothing (never a ticket on
        another page: the next press must act on what the cook sees)."""
        self._touched()
        for order_id in candidates:
            ticket = self._tickets.get(order_id)
            if ticket is not None and ticket.visible and self.on_current_page(order_id):
                self.selected_id = order_id
                return
        self.selected_id = None

    def _ensure_selection(self) -> None:
        """Keep the cursor on a visible ticket of the current page (or on nothing)."""
        if self.selected_id is not None:
            ticket = self._tickets.get(self.selected_id)
            if ticket is not None and ticket.visible:
                return
        here = self.ids_on_page() if self.open_tickets() else []
        self.selected_id = here[0] if here else None

    # ---- changes from outside -----------------------------------------------------------

    def receive_order(
        self,
        payload: Mapping[str, Any],
        now: Instant,
        placed_at: datetime | None = None,
        routing: object = None,
    ) -> Outcome:
        """A new order (raises OrderPayloadError if the payload cannot be one).

        Its clock starts at the earliest of the order's own ``_created`` time and
        ``placed_at`` (when the gateway journaled it), so an order that waited out an outage
        shows its real age; a skewed clock can move that start by at most ``MAX_BACKDATE_S``.
        ``routing``: the stations the gateway routed its items to (none: one part "all").
        """
        order = parse_order(payload)
        ticket = self._tickets.get(order.order_id)
        if ticket is not None and ticket.order is not None:
            return Outcome()  # a duplicate delivery: one ticket
        if ticket is None:
            ticket = self._new_ticket(order.order_id, now)
        waited = _waited_s([order.created, placed_at], now)
        ticket.arrived_wall = now.wall - timedelta(seconds=waited)
        ticket.arrived_mono = now.mono - waited
        ticket.payload_json = Ticket.encode_payload(payload)
        ticket.order = order
        ticket.base_lines = ticket_lines(order, self._allergy)
        ticket.parts = Parts(OrderRouting.read(routing, len(order.items), order.order_id))
        self.view_lines(ticket)
        outcome = Outcome(changed={order.order_id})
        if ticket.here:  # an order with nothing made here never shows (nor chimes)
            outcome.alerts.append(Alert.ORDER_VOIDED if ticket.voided else Alert.NEW_ORDER)
        outcome.merge(self.pace.arrived(self, ticket, now))  # UPCOMING? a courier waiting?
        self._touched()
        if self.selected_id is None:
            self._ensure_selection()
        return outcome

    def receive_cancel(self, cancel: Cancel, now: Instant) -> Outcome:
        ticket = self._tickets.get(cancel.order_id)
        if ticket is None:
            ticket = self._new_ticket(cancel.order_id, now)  # a tombstone
        return self._void(ticket, cancel.reason, now)

    def apply_status(self, order_id: str, status: int, now: Instant, key: str = "") -> Outcome:
        """A status decided elsewhere (another screen, Deliverect). Never moves backwards."""
        ticket = self._tickets.get(order_id)
        if ticket is None:
            return Outcome()
        if key and key in ticket.own_keys:
            return Outcome()  # the echo of our own change
        if status in VOIDING:
            return self._void(ticket, "", now)
        if status <= ticket.status or ticket.voided:
            return Outcome()
        ticket.status = status
        done = status >= self.settings.bump_status or status >= FINISHED_FROM
        neighbours = self._neighbours(order_id) if done and not ticket.bumped else []
        if done and not ticket.bumped:
            self._finish(ticket, now)
            if self.selected_id == order_id:  # bumped on another screen: not left on it
                self._reselect(neighbours)
        self._touched()
        return Outcome(changed={order_id})

    def apply_event(self, event: Event, now: Instant) -> Outcome:
        """Apply one journal event (the caller has already ordered and de-duplicated by seq)."""
        data = event.data
        if event.type == EventType.ORDER_RECEIVED:
            payload = data.get("payload")
            if not isinstance(payload, Mapping):
                raise ValueError(f"event {event.seq}: order.received without a payload")
            return self.receive_order(
                payload, now, _timestamp_or_none(event.at), data.get("routing")
            )
        if event.type == EventType.ORDER_VOIDED and event.order_id:
            reason = data.get("reason")
            return self.receive_cancel(
                Cancel(order_id=event.order_id, reason=reason if isinstance(reason, str) else ""),
                now,
            )
        if event.type == EventType.ORDER_COURIER:
            return self.pace.courier_event(self, event, now)
        if event.type == EventType.STATUS_CHANGED and event.order_id:
            status = data.get("status")
            if isinstance(status, int) and not isinstance(status, bool):
                key = data.get("key")
                return self.apply_status(
                    event.order_id, status, now, key if isinstance(key, str) else ""
                )
        if event.type in (PART_EVENT, ITEM_EVENT, ROLE_EVENT):
            return self.apply_station_event(event, now)
        return Outcome()

    # ---- the cook's actions -------------------------------------------------------------

    def bump(self, now: Instant, order_id: str | None = None) -> Outcome:
        """Move a ticket off the board with the configured bump status; a voided one is
        acknowledged instead (nothing is ever sent for a voided order)."""
        ticket = self._target(order_id)
        if ticket is None:
            return Outcome()
        if ticket.voided:
            return self.acknowledge(ticket.order_id)
        neighbours = self._neighbours(ticket.order_id)
        if self.is_station:  # a station bumps its part; the gateway derives the statuses
            outcome = self.bump_part(ticket, now)
        else:
            outcome = self._send(ticket, self.settings.bump_status)
        self._finish(ticket, now)
        self.last_item = None
        self.last_bump = (ticket.order_id, now.mono)
        if self.selected_id == ticket.order_id:
            self._reselect(neighbours)
        self._touched()
        outcome.changed.add(ticket.order_id)
        return outcome

    def start(self, now: Instant, order_id: str | None = None) -> Outcome:
        """Mark a ticket as being prepared (status 50)."""
        ticket = self._target(order_id)
        if ticket is None or ticket.voided:
            return Outcome()
        outcome = self._send(ticket, int(OrderStatus.PREPARING))
        if outcome:
            outcome.changed.add(ticket.order_id)
        return outcome

    def recall(self, order_id: str, now: Instant) -> Outcome:
        """Put a bumped ticket back on the board (sends no status: Deliverect never goes
        back; a station screen reopens its parts, which shows on expo)."""
        ticket = self._tickets.get(order_id)
        if ticket is None or ticket.order is None or not ticket.bumped:
            return Outcome()
        outcome = self.reopen_parts(ticket) if self.is_station else Outcome()
        ticket.bumped = False
        ticket.recalled = True
        ticket.finished_wall = ticket.finished_mono = None
        if self.last_bump and self.last_bump[0] == order_id:
            self.last_bump = None
        self._touched()
        self.select(order_id)
        return outcome.merge(Outcome(changed={order_id}))

    def undo(self, now: Instant) -> Outcome:
        """Undo the last bump, or the last item marked done, inside the undo window."""
        if self.last_item is not None and self.last_item_open(now):
            item_order, item, _when = self.last_item
            self.last_item = None
            return self.toggle_item(item, now, item_order)
        order_id = self.undo_available(now)
        return self.recall(order_id, now) if order_id else Outcome()

    def last_item_open(self, now: Instant) -> bool:
        """The last item marked done can still be undone (its ticket is on this page)."""
        if self.last_item is None:
            return False
        order_id, _item, when = self.last_item
        if now.mono - when > self.settings.undo_window_s:
            return False
        return self._target(order_id) is not None

    def acknowledge(self, order_id: str | None = None) -> Outcome:
        """Take a voided ticket off the board once someone has seen it."""
        ticket = self._target(order_id)
        if ticket is None or not ticket.voided or ticket.void_acknowledged:
            return Outcome()
        neighbours = self._neighbours(ticket.order_id)
        ticket.void_acknowledged = True
        if self.selected_id == ticket.order_id:
            self._reselect(neighbours)
        self._touched()
        return Outcome(changed={ticket.order_id})

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

    def _target(self, order_id: str | None) -> Ticket | None:
        """The ticket an action applies to: only one the cook can see on this page."""
        order_id = order_id or self.selected_id
        ticket = self._tickets.get(order_id) if order_id else None
        if ticket is None or not ticket.visible or not self.on_current_page(order_id):
            return None
        return ticket

    def _send(self, ticket: Ticket, status: int) -> Outcome:
        if ticket.voided or status <= ticket.status:
            return Outcome()
        ticket.status = status
        key = self._key()
        ticket.own_keys.append(key)
        del ticket.own_keys[:-20]
        return Outcome(status_changes=[StatusChange(ticket.order_id, status, key)])

    def _finish(self, ticket: Ticket, now: Instant) -> None:
        ticket.bumped = True
        ticket.recalled = False
        ticket.finished_wall, ticket.finished_mono = now.wall, now.mono

    def _void(self, ticket: Ticket, reason: str, now: Instant) -> Outcome:
        if ticket.voided:
            return Outcome()
        ticket.voided = True
        ticket.void_reason = reason
        self.pace.release(ticket.order_id)  # a cancelled UPCOMING order shows on the board
        if ticket.bumped:  # a cancel after the bump: back on screen so nobody misses it
            ticket.bumped = False
        ticket.finished_wall, ticket.finished_mono = now.wall, now.mono
        self._touched()
        outcome = Outcome(changed={ticket.order_id})
        if ticket.order is not None and ticket.here:
            outcome.alerts.append(Alert.ORDER_VOIDED)
        return outcome

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


#: The furthest back an order's own timestamps may start its clock (a wrong clock on either
#: side must not make every ticket hours late).
MAX_BACKDATE_S = 3 * 3600.0


def _waited_s(times: Sequence[datetime | None], now: Instant) -> float:
    known = [t for t in times if t is not None]
    if not known:
        return 0.0
    waited = (now.wall - min(known)).total_seconds()
    return min(max(0.0, waited), MAX_BACKDATE_S)


def _timestamp_or_none(value: str) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
