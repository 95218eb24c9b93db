"""The board's station work: the role of the screen, parts bumped and reopened, items marked
done, and the ``order.part`` / ``order.item`` / ``device.role`` events of other screens.

A mixin of :class:`kds_device.domain.board.Board` (kept apart so each file stays small); it
uses the board's tickets, selection and key factory. On a station screen a ticket is "bumped"
when every part of it this screen makes is done; a recall reopens those parts. Expo and ALL
bump the order with a status as before. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from kds_device.domain.clock import Instant
from kds_device.domain.events import Event, EventType
from kds_device.domain.lines import item_totals
from kds_device.domain.parts import screen_lines, shown_here
from kds_device.domain.roles import Role, RoleKind
from kds_device.domain.ticket import BoardSettings, ItemChange, Outcome, PartChange, Ticket
from kds_device.domain.timestamps import parse_timestamp

#: The journal events of other screens' station work.
PART_EVENT = EventType.ORDER_PART
ITEM_EVENT = EventType.ORDER_ITEM
ROLE_EVENT = EventType.DEVICE_ROLE


class PartsMixin:
    """Station behaviour of the board (see the module doc)."""

    settings: BoardSettings
    selected_id: str | None
    last_bump: tuple[str, float] | None
    _tickets: dict[str, Ticket]
    _key: Callable[[], str]
    _row_cache: dict[str, list[int]]
    #: The last item marked (order id, item index, monotonic time): what undo reverts.
    last_item: tuple[str, int, float] | None = None
    #: The zone the progress rows' "done 12:04" is written in (None: the system's).
    tz: tzinfo | None = None

    if TYPE_CHECKING:  # provided by the board

        def _touched(self) -> None: ...
        def _finish(self, ticket: Ticket, now: Instant) -> None: ...
        def _neighbours(self, order_id: str) -> list[str]: ...
        def _reselect(self, candidates: list[str]) -> None: ...
        def _ensure_selection(self) -> None: ...
        def _target(self, order_id: str | None) -> Ticket | None: ...

    # ---- reading ------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        return self.settings.role

    @property
    def is_station(self) -> bool:
        return self.settings.role.kind is RoleKind.STATIONS

    def my_stations(self, ticket: Ticket) -> list[str]:
        return ticket.parts.stations_for(self.settings.role)

    def all_ready(self, ticket: Ticket) -> bool:
        """Expo: every station's part of a routed order is done."""
        return (
            self.settings.role.kind is RoleKind.EXPO
            and ticket.parts.routing.routed
            and ticket.parts.all_done()
            and not ticket.voided
        )

    def station_totals(self, ticket: Ticket) -> dict[str, int]:
        """All-day counts of one ticket on this screen: a station counts its open items."""
        assert ticket.order is not None
        if not self.is_station:
            return item_totals(ticket.order)
        return item_totals(ticket.order, ticket.parts.open_items(self.my_stations(ticket)))

    def view_lines(self, ticket: Ticket) -> None:
        """Recompute what this screen shows of ``ticket`` (after routing, progress or the
        role changed)."""
        if ticket.order is None:
            return
        ticket.lines = screen_lines(ticket.base_lines, ticket.parts, self.settings.role, self.tz)
        ticket.here = shown_here(ticket.order, ticket.parts, self.settings.role)
        self._row_cache.pop(ticket.order_id, None)

    # ---- the role -----------------------------------------------------------------------

    def set_role(self, role: Role) -> Outcome:
        """Become a screen of ``role``: every ticket is shown (or hidden) anew. A station
        screen shows an order as bumped when its parts here are done; expo and ALL when the
        order's status says so."""
        if role == self.settings.role:
            return Outcome()
        self.settings.role = role
        changed = set()
        for ticket in self._tickets.values():
            if ticket.order is None:
                continue
            changed.add(ticket.order_id)
            was = ticket.bumped
            sent = ticket.status >= self.settings.bump_status or ticket.status >= 90
            if self.is_station:  # its parts done here, or the order sent out by expo
                mine = self.my_stations(ticket)
                parts_done = bool(mine) and all(ticket.parts.part(s).done for s in mine)
                ticket.bumped = sent or parts_done
            else:
                ticket.bumped = sent
            if ticket.voided:
                ticket.bumped = False
            if ticket.bumped and not was and ticket.finished_mono is None:
                ticket.finished_mono = 0.0  # long ago: pruned first
            self.view_lines(ticket)
        self.last_bump = self.last_item = None
        self._touched()
        self.selected_id = None
        self._ensure_selection()
        return Outcome(changed=changed)

    # ---- the cook's actions -------------------------------------------------------------

    def bump_part(self, ticket: Ticket, now: Instant) -> Outcome:
        """A station screen's bump: every part of the order made here is done."""
        outcome = Outcome(changed={ticket.order_id})
        for station in self.my_stations(ticket):
            part = ticket.parts.part(station)
            if not part.done:
                part.done, part.done_wall = True, now.wall
                outcome.requests.append(
                    PartChange(ticket.order_id, station, True, self._own(ticket))
                )
        self.view_lines(ticket)
        return outcome

    def reopen_parts(self, ticket: Ticket) -> Outcome:
        """A station screen's recall: its parts of the order are open again (and on expo)."""
        outcome = Outcome(changed={ticket.order_id})
        for station in self.my_stations(ticket):
            part = ticket.parts.part(station)
            if part.done:
                part.done, part.done_wall = False, None
                outcome.requests.append(
                    PartChange(ticket.order_id, station, False, self._own(ticket))
                )
        self.view_lines(ticket)
        return outcome

    def toggle_item(self, item: int, now: Instant, order_id: str | None = None) -> Outcome:
        """Mark an item of a ticket on screen done here (or not done again): struck through,
        still visible; sends ``order.item`` for each of this screen's stations making it."""
        ticket = self._target(order_id)
        if ticket is None or ticket.voided or ticket.order is None or not self.is_station:
            return Outcome()
        stations = [
            s for s in self.my_stations(ticket) if s in ticket.parts.routing.stations_of(item)
        ]
        if not stations or item >= len(ticket.order.items):
            return Outcome()
        done = not ticket.parts.item_done(item, stations)
        outcome = Outcome(changed={ticket.order_id})
        for station in stations:
            items = ticket.parts.part(station).items_done
            if (item in items) != done:
                items.symmetric_difference_update({item})
                outcome.requests.append(
                    ItemChange(ticket.order_id, station, item, done, self._own(ticket))
                )
        self.last_item = (ticket.order_id, item, now.mono) if done else None
        self.view_lines(ticket)
        self._touched()
        return outcome

    def next_open_item(self, order_id: str | None = None) -> int | None:
        """The first item of the selected ticket not yet done here (the bump bar's key)."""
        ticket = self._target(order_id)
        if ticket is None or not self.is_station:
            return None
        open_items = ticket.parts.open_items(self.my_stations(ticket))
        return min(open_items) if open_items else None

    def _own(self, ticket: Ticket) -> str:
        key = self._key()
        ticket.own_keys.append(key)
        del ticket.own_keys[:-20]
        return key

    # ---- other screens ------------------------------------------------------------------

    def apply_station_event(self, event: Event, now: Instant) -> Outcome:
        data = event.data
        if event.type == ROLE_EVENT:
            return self._role_event(data)
        ticket = self._tickets.get(event.order_id or "")
        station = data.get("station")
        if ticket is None or ticket.order is None or not isinstance(station, str):
            return Outcome()
        key = data.get("key")
        if isinstance(key, str) and key and key in ticket.own_keys:
            return Outcome()  # the echo of this screen's own change
        done = data.get("done") is True
        if event.type == ITEM_EVENT:
            item = data.get("item")
            if not isinstance(item, int) or isinstance(item, bool) or item < 0:
                return Outcome()
            items = ticket.parts.part(station).items_done
            if (item in items) == done:
                return Outcome()
            items.symmetric_difference_update({item})
            self.view_lines(ticket)
            self._touched()
            return Outcome(changed={ticket.order_id})
        if event.type == PART_EVENT:
            return self._part_event(ticket, station, done, _when(event.at) or now.wall, now)
        return Outcome()

    def _part_event(
        self, ticket: Ticket, station: str, done: bool, at: datetime, now: Instant
    ) -> Outcome:
        part = ticket.parts.part(station)
        if part.done == done:
            return Outcome()
        part.done, part.done_wall = done, (at if done else None)
        self.view_lines(ticket)
        mine = self.my_stations(ticket)
        if done and self.is_station and mine and all(ticket.parts.part(s).done for s in mine):
            if not ticket.bumped and not ticket.voided:  # bumped on another screen here
                neighbours = self._neighbours(ticket.order_id)
                self._finish(ticket, now)
                if self.selected_id == ticket.order_id:
                    self._reselect(neighbours)
        elif not done and ticket.bumped and not ticket.voided and station in mine:
            ticket.bumped, ticket.recalled = False, True  # reopened: back on this screen
            ticket.finished_wall = ticket.finished_mono = None
        self._touched()
        return Outcome(changed={ticket.order_id})

    def _role_event(self, data: Mapping[str, Any]) -> Outcome:
        device = data.get("device")
        if not self.settings.device_id or device != self.settings.device_id:
            return Outcome()
        try:
            role = Role.from_json(data.get("role"))
        except ValueError:
            return Outcome()
        return self.set_role(role)


def _when(value: str) -> datetime | None:
    try:
        return parse_timestamp(value) if value else None
    except ValueError:
        return None
