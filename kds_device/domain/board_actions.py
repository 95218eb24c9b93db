"""The cook's actions on the board: bump, start, recall, undo, and acknowledging a voided
ticket; each returns an :class:`Outcome` with the status changes to send.

A mixin of :class:`kds_device.domain.board.Board` (kept apart so each file stays small). Every
action applies only to a ticket the cook can see on the current page; on a station screen a
bump and a recall work on this screen's parts (:mod:`~kds_device.domain.board_parts`). Recall
and undo send nothing (Deliverect never goes back). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kds_device.domain.clock import Instant
from kds_device.domain.status import OrderStatus
from kds_device.domain.ticket import BoardSettings, Outcome, StatusChange, Ticket


class ActionsMixin:
    """The cook's actions (see the module doc)."""

    settings: BoardSettings
    selected_id: str | None
    last_bump: tuple[str, float] | None
    last_item: tuple[str, int, float] | None
    _tickets: dict[str, Ticket]
    _key: Callable[[], str]

    if TYPE_CHECKING:  # provided by the board and its other mixins

        @property
        def is_station(self) -> bool: ...
        def bump_part(self, ticket: Ticket, now: Instant) -> Outcome: ...
        def reopen_parts(self, ticket: Ticket) -> Outcome: ...
        def toggle_item(self, item: int, now: Instant, order_id: str | None = None) -> Outcome: ...
        def undo_available(self, now: Instant) -> str | None: ...
        def select(self, order_id: str | None) -> Outcome: ...
        def _target(self, order_id: str | None) -> Ticket | None: ...
        def _neighbours(self, order_id: str) -> list[str]: ...
        def _reselect(self, candidates: list[str]) -> None: ...
        def _touched(self) -> None: ...

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
