"""Changes to the board from outside: a new order, a cancel, a status decided elsewhere
(another screen, Deliverect), and the journal events that carry them.

A mixin of :class:`kds_device.domain.board.Board` (kept apart so each file stays small); the
caller has already put the events in ``seq`` order. Other screens' station work is
:class:`~kds_device.domain.board_parts.PartsMixin`'s, couriers are ``board.pace``'s. Pure: no
I/O, time passed in as an :class:`Instant`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from re import Pattern
from typing import TYPE_CHECKING, Any, cast

from kds_device.domain.board_pace import Pace
from kds_device.domain.board_parts import ITEM_EVENT, PART_EVENT, ROLE_EVENT
from kds_device.domain.clock import Instant
from kds_device.domain.events import Event, EventType
from kds_device.domain.lines import ticket_lines
from kds_device.domain.order import Cancel, parse_order
from kds_device.domain.parts import OrderRouting, Parts
from kds_device.domain.status import FINISHED_FROM, VOIDING
from kds_device.domain.ticket import Alert, BoardSettings, Outcome, Ticket
from kds_device.domain.timestamps import parse_timestamp

if TYPE_CHECKING:
    from kds_device.domain.board import Board


class EventsMixin:
    """What arrives at the board (see the module doc)."""

    settings: BoardSettings
    selected_id: str | None
    pace: Pace
    _allergy: Pattern[str] | None
    _tickets: dict[str, Ticket]

    if TYPE_CHECKING:  # provided by the board and its other mixins

        def view_lines(self, ticket: Ticket) -> None: ...
        def apply_station_event(self, event: Event, now: Instant) -> Outcome: ...
        def _new_ticket(self, order_id: str, now: Instant) -> Ticket: ...
        def _finish(self, ticket: Ticket, now: Instant) -> None: ...
        def _neighbours(self, order_id: str) -> list[str]: ...
        def _reselect(self, candidates: list[str]) -> None: ...
        def _ensure_selection(self) -> None: ...
        def _touched(self) -> None: ...

    def _board(self) -> Board:
        """The board this is part of (``board.pace`` is handed the whole board)."""
        return cast("Board", self)

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
        outcome.merge(self.pace.arrived(self._board(), ticket, now))  # UPCOMING? a courier waiting?
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
            return self.pace.courier_event(self._board(), event, now)
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
