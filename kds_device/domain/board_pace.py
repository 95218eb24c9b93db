"""The board's pacing and courier state: which scheduled tickets wait UPCOMING (not tiles
until their start-by), each ticket's lead (its prep time, else ``scheduled_lead_s``), the
courier of each order, and the falling-behind projection of this screen's open parts.

Held by :class:`kds_device.domain.board.Board` as ``board.pace``; the board calls it from a
few small hooks. Pure: no I/O, time passed in as an :class:`Instant`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from kds_device.domain.clock import Instant
from kds_device.domain.courier import CourierBook, CourierState, read_courier
from kds_device.domain.events import Event
from kds_device.domain.pacing import (
    OpenPart,
    Projection,
    Shows,
    lead_s,
    part_prep_s,
    project,
    start_by,
)
from kds_device.domain.roles import Role, RoleKind
from kds_device.domain.status import OrderStatus
from kds_device.domain.ticket import AgeClass, Alert, BoardSettings, Outcome, Ticket
from kds_device.domain.urgency import late_at

if TYPE_CHECKING:
    from kds_device.domain.board import Board

#: The falling-behind projection is worked out at most this often.
PROJECT_EVERY_S = 1.0

#: A ticket is ready (the courier may take it) from this status on.
READY = int(OrderStatus.READY_FOR_PICKUP)


class Pace:
    """UPCOMING tickets, prep times and couriers of one board."""

    def __init__(self) -> None:
        self.courier = CourierBook()
        self._held: set[str] = set()  # scheduled tickets waiting for their start-by
        self._projection: tuple[float, tuple[int, dict[str, int]], Projection] | None = None
        self._timings: dict[
            str, tuple[Role, tuple[datetime, datetime, tuple[tuple[str, int], ...]]]
        ]
        self._timings = {}

    # ---- prep and start-by ------------------------------------------------------------

    def prep_min(self, ticket: Ticket) -> Mapping[str, int]:
        """Prep minutes per station, from the routing stamped on the order (saved with the
        ticket's parts)."""
        return ticket.parts.routing.prep_min

    def lead_s(self, ticket: Ticket, settings: BoardSettings) -> float:
        """How long before its promise this ticket starts on this screen."""
        return lead_s(
            part_prep_s(self.prep_min(ticket), shows(settings)), settings.scheduled_lead_s
        )

    def start_by(self, ticket: Ticket, settings: BoardSettings) -> datetime | None:
        order = ticket.order
        if order is None:
            return None
        return start_by(order.promised_time, self.lead_s(ticket, settings))

    # ---- UPCOMING -----------------------------------------------------------------------

    def holds(self, order_id: str) -> bool:
        return order_id in self._held

    def held(self) -> set[str]:
        return set(self._held)

    def arrived(self, board: Board, ticket: Ticket, now: Instant) -> Outcome:
        """A new order on the board: held UPCOMING while its start-by is ahead; its courier
        (if events came first) decided."""
        if self._upcoming(board, ticket, now):
            self._held.add(ticket.order_id)
        return self._courier_arrival(board, ticket)

    def release(self, order_id: str) -> None:
        """Out of UPCOMING at once (a cancel: it must show on the board)."""
        self._held.discard(order_id)

    def release_due(self, board: Board, now: Instant) -> Outcome:
        """Tickets whose start-by has come join the board with the new-order chime
        (``Alert.ORDER_DUE``); scheduled ones not held yet (after a restore, a role change)
        are held, silently. The core calls this once a second."""
        held = {t.order_id for t in board.tickets() if self._upcoming(board, t, now)}
        outcome = Outcome(changed=held ^ self._held)
        for order_id in sorted(self._held - held):
            ticket = board.ticket(order_id)
            if ticket is not None and ticket.visible and not ticket.voided:
                outcome.alerts.append(Alert.ORDER_DUE)
        self._held = held
        return outcome

    def _upcoming(self, board: Board, ticket: Ticket, now: Instant) -> bool:
        order = ticket.order
        return (
            order is not None
            and not order.asap  # (only a scheduled order with a promise can wait)
            and order.promised_time is not None
            and ticket.visible  # shown on this screen (a station's own part), not bumped
            and not ticket.voided
            and board.age_class(ticket, now) is AgeClass.UPCOMING
        )

    # ---- courier ------------------------------------------------------------------------

    def courier_event(self, board: Board, event: Event, now: Instant) -> Outcome:
        """An ``order.courier`` event: the order's courier state; COURIER WAITING (with the
        alert) when the courier arrived and the order is not ready."""
        order_id = event.order_id
        if not order_id:
            return Outcome()
        state = read_courier(event.data, event.seq, now.wall)
        known = {t.order_id for t in board.tickets() if t.order is not None}
        if state is None or not self.courier.apply(order_id, state, known):
            return Outcome()
        ticket = board.ticket(order_id)
        if ticket is None or ticket.order is None:
            return Outcome()  # kept until the order arrives
        outcome = self._courier_arrival(board, ticket)
        outcome.changed.add(order_id)
        return outcome

    def courier_of(self, ticket: Ticket) -> CourierState | None:
        return self.courier.get(ticket.order_id)

    def courier_waiting(self, ticket: Ticket) -> bool:
        """The courier is at pickup and this order is not ready: loud."""
        state = self.courier.get(ticket.order_id)
        return (
            state is not None
            and state.at_pickup
            and not ticket.voided
            and ticket.order is not None
            and ticket.status < READY
        )

    def _courier_arrival(self, board: Board, ticket: Ticket) -> Outcome:
        state = self.courier.get(ticket.order_id)
        if state is None or not state.at_pickup or state.decided:
            return Outcome()
        self.courier.decide(ticket.order_id)  # each arrival has one chance to shout
        if self.courier_waiting(ticket) and ticket.visible:
            return Outcome(alerts=[Alert.COURIER_WAITING])
        return Outcome()

    def forget(self, order_ids: Iterable[str]) -> None:
        ids = list(order_ids)
        self.courier.forget(ids)
        for order_id in ids:
            self._held.discard(order_id)
            self._timings.pop(order_id, None)

    # ---- falling behind -----------------------------------------------------------------

    def open_parts(self, board: Board) -> list[OpenPart]:
        """This screen's open parts with a prep time (held UPCOMING ones too)."""
        parts = []
        for ticket in board.tickets():
            if ticket.order is None or not ticket.workable:
                continue
            begin, finish_by, stations = self._timing(board, ticket)
            for station, minutes in stations:
                left = _left(ticket, station)
                if left > 0:
                    work = 60.0 * minutes * left
                    parts.append(OpenPart(ticket.order_id, station, begin, finish_by, work))
        return parts

    def _timing(
        self, board: Board, ticket: Ticket
    ) -> tuple[datetime, datetime, tuple[tuple[str, int], ...]]:
        """A ticket's start-by, finish-by and this screen's (station, prep minutes): fixed
        for the ticket and the screen's role, so worked out once for both."""
        role = board.settings.role
        known = self._timings.get(ticket.order_id)
        if known is not None and known[0] == role:
            return known[1]
        order = ticket.order
        assert order is not None
        show = shows(board.settings)
        prep = self.prep_min(ticket)
        stations = tuple((s, m) for s, m in sorted(prep.items()) if show is None or show(s))
        finish_by = late_at(order, ticket.arrived_wall, board.rules_for(ticket))
        begin = self.start_by(ticket, board.settings) or ticket.arrived_wall
        timing = (begin, finish_by, stations)
        self._timings[ticket.order_id] = (role, timing)
        return timing

    def falling_behind(
        self, board: Board, now: Instant, cooks: Mapping[str, int] | None = None
    ) -> Projection:
        """The projection; the same one again within a second while the tickets did not
        change (the bar asks after every pass; with 150 open tickets one takes a few ms)."""
        key = (board.changes, dict(cooks or {}))
        last = self._projection
        if last is not None and last[1] == key and 0.0 <= now.mono - last[0] < PROJECT_EVERY_S:
            return last[2]
        projection = project(self.open_parts(board), now.wall, cooks)
        self._projection = (now.mono, key, projection)
        return projection


def _left(ticket: Ticket, station: str) -> float:
    """The share of a station's part still to do: 0 once bumped, else its open items."""
    parts = ticket.parts
    if station not in parts.routing.stations:
        return 0.0
    state = parts.state.get(station)  # (read only: part() would add an empty one)
    if state is None:
        return 1.0
    if state.done:
        return 0.0
    items = parts.routing.items_at(station)
    if not items:
        return 1.0
    return sum(1 for i in items if i not in state.items_done) / len(items)


def shows(settings: BoardSettings) -> Shows:
    """Which stations this screen's part covers: its stations on a station screen, None
    (every station) on expo and "all" screens."""
    role = settings.role
    return role.shows_station if role.kind is RoleKind.STATIONS else None
