"""An order split into station parts, as one screen sees it: the routing the gateway stamped
on the order (which top-level item goes to which station), each part's progress (items done,
part done and when), and the lines a screen of a given role shows.

The routing is read leniently: an order without routing, or with routing that is not what the
contract says, is one part at station ``"all"`` (today's one-screen kitchen), logged, never a
crash. Pure: no I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from kds_device.domain.lines import LineKind, TicketLine
from kds_device.domain.order import Order
from kds_device.domain.roles import Role, RoleKind, station_title
from kds_device.domain.routing import ALL_STATION, Routing
from kds_device.domain.timestamps import parse_timestamp

log = logging.getLogger(__name__)

__all__ = ["ALL_STATION", "OrderRouting", "PartState", "Parts", "screen_lines", "shown_here"]


@dataclass(frozen=True, slots=True)
class OrderRouting:
    """Which stations each top-level item (by index) goes to, and the stations' names."""

    items: Mapping[int, tuple[str, ...]]
    stations: tuple[str, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    prep_min: Mapping[str, int] = field(default_factory=dict)
    raw: Mapping[str, Any] | None = None  # as received (saved with the ticket)

    @classmethod
    def unrouted(cls, item_count: int) -> OrderRouting:
        """Every item at the one part "all": one shared, read-only routing per item count
        (most orders are unrouted; a dict per ticket was a tenth of its memory)."""
        return _unrouted(item_count)

    @property
    def routed(self) -> bool:
        return self.stations != (ALL_STATION,)

    @classmethod
    def read(cls, raw: object, item_count: int, order_id: str = "") -> OrderRouting:
        """The routing of an ``order.received`` event, read with :meth:`Routing.from_json`
        (leniently: none, or unreadable, is one part "all", the latter logged). An item the
        routing does not list is made at every station of the order (never lost)."""
        routing = Routing.from_json(raw)
        if routing.problem:
            log.warning("order %s: %s", order_id, routing.problem)
        if routing.single:
            return cls.unrouted(item_count)
        return cls(
            items={i: routing.stations_of(i) for i in range(item_count)},
            stations=tuple(sorted(routing.stations)),
            names=dict(routing.names),
            prep_min=dict(routing.prep_min),
            raw=routing.to_json(),
        )

    def name(self, station: str) -> str:
        return self.names.get(station) or station_title(station)

    def stations_of(self, item: int) -> tuple[str, ...]:
        return self.items.get(item, (ALL_STATION,))

    def items_at(self, station: str) -> list[int]:
        return [i for i, stations in self.items.items() if station in stations]


@lru_cache(maxsize=128)
def _unrouted(item_count: int) -> OrderRouting:
    items = MappingProxyType({i: (ALL_STATION,) for i in range(item_count)})
    return OrderRouting(items, (ALL_STATION,), MappingProxyType({}), MappingProxyType({}))


@dataclass(slots=True)
class PartState:
    """One station's part of one order."""

    done: bool = False
    done_wall: datetime | None = None
    items_done: set[int] = field(default_factory=set)


@dataclass(slots=True)
class Parts:
    """An order's parts: its routing and the progress of each station."""

    routing: OrderRouting
    state: dict[str, PartState] = field(default_factory=dict)

    def part(self, station: str) -> PartState:
        known = self.state.get(station)
        if known is None:
            known = self.state[station] = PartState()
        return known

    def stations_for(self, role: Role) -> list[str]:
        """The stations of this order a screen of ``role`` works on (an unrouted order's
        one part is everyone's)."""
        return [s for s in self.routing.stations if s == ALL_STATION or role.shows_station(s)]

    def all_done(self) -> bool:
        return all(self.part(s).done for s in self.routing.stations)

    def item_done(self, item: int, stations: Sequence[str]) -> bool:
        """Done at every one of ``stations`` that makes it."""
        at = [s for s in stations if s in self.routing.stations_of(item)]
        return bool(at) and all(item in self.part(s).items_done for s in at)

    def open_items(self, stations: Sequence[str]) -> set[int]:
        return {
            i
            for s in stations
            if not self.part(s).done
            for i in self.routing.items_at(s)
            if i not in self.part(s).items_done
        }

    # ---- persistence --------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "routing": dict(self.routing.raw) if self.routing.raw is not None else None,
            "state": {
                station: {
                    "done": part.done,
                    "at": part.done_wall.isoformat() if part.done_wall else None,
                    "items": sorted(part.items_done),
                }
                for station, part in self.state.items()
            },
        }

    @classmethod
    def from_json(cls, raw: object, item_count: int, order_id: str = "") -> Parts:
        if not isinstance(raw, Mapping):
            return cls(OrderRouting.unrouted(item_count))
        parts = cls(OrderRouting.read(raw.get("routing"), item_count, order_id))
        state = raw.get("state")
        for station, saved in state.items() if isinstance(state, Mapping) else ():
            if not isinstance(saved, Mapping):
                continue
            part = parts.part(str(station))
            part.done = bool(saved.get("done"))
            part.done_wall = _when(saved.get("at"))
            items = saved.get("items")
            part.items_done = (
                {i for i in items if isinstance(i, int)} if isinstance(items, list) else set()
            )
        return parts


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


# ---- what a screen shows ----------------------------------------------------------------


def shown_here(order: Order | None, parts: Parts, role: Role) -> bool:
    """A station screen shows an order only when something of it is made there."""
    if order is None or role.kind is not RoleKind.STATIONS:
        return True
    return bool(parts.stations_for(role))


def screen_lines(
    base: Sequence[TicketLine], parts: Parts, role: Role, tz: tzinfo | None = None
) -> list[TicketLine]:
    """The body lines of a ticket on a screen of ``role``: everything on ALL (today's
    ticket); on expo each station's progress first, then the whole order with done items
    struck through; on a station screen only its items (with their modifiers and remarks),
    done ones struck through, and a hint of the rest ("+3 at Fryer"). On ALL that is
    ``base`` itself when it is a list (lines are never changed in place: no copy per ticket)."""
    if role.kind is RoleKind.ALL:
        return base if isinstance(base, list) else list(base)
    if role.kind is RoleKind.EXPO:
        every = list(parts.routing.stations)
        return _progress(parts, tz) + _marked(base, parts, every)
    mine = parts.stations_for(role)
    lines = [
        line
        for line in _marked(base, parts, mine)
        if line.item < 0 or set(parts.routing.stations_of(line.item)) & set(mine)
    ]
    hint = elsewhere_hint(base, parts, mine)
    if hint:
        notes = [i for i, line in enumerate(lines) if line.kind is LineKind.NOTE]
        at = notes[0] if notes else len(lines)
        lines.insert(at, TicketLine(LineKind.HINT, hint, 0, 0, 0))
    return lines


def elsewhere_hint(base: Sequence[TicketLine], parts: Parts, mine: Sequence[str]) -> str:
    """ "+3 at Fryer · +1 at Cold": items of this order made only at other stations."""
    counts: dict[str, int] = {}
    for line in base:
        if line.kind is not LineKind.ITEM or line.item < 0:
            continue
        stations = parts.routing.stations_of(line.item)
        if set(stations) & set(mine):
            continue
        for station in stations:
            counts[station] = counts.get(station, 0) + max(line.quantity, 1)
    return " · ".join(
        f"+{count} at {parts.routing.name(station)}" for station, count in sorted(counts.items())
    )


def _marked(base: Sequence[TicketLine], parts: Parts, stations: Sequence[str]) -> list[TicketLine]:
    out = []
    for line in base:
        if line.item >= 0 and parts.item_done(line.item, stations):
            line = _with_done(line)
        out.append(line)
    return out


def _with_done(line: TicketLine) -> TicketLine:
    return TicketLine(
        line.kind,
        line.text,
        line.depth,
        line.quantity,
        line.total,
        line.allergy,
        line.flag,
        line.item,
        True,
    )


def _progress(parts: Parts, tz: tzinfo | None) -> list[TicketLine]:
    """Expo's rows: ``Grill  done 12:04`` or ``Fryer  2/3`` (items done of the part)."""
    if not parts.routing.routed:
        return []
    rows = []
    for station in parts.routing.stations:
        part = parts.part(station)
        name = parts.routing.name(station)
        if part.done:
            at = part.done_wall.astimezone(tz).strftime("%H:%M") if part.done_wall else ""
            text = f"{name}  done {at}".rstrip()
        else:
            items = parts.routing.items_at(station)
            done = sum(1 for i in items if i in part.items_done)
            text = f"{name}  {done}/{len(items)}"
        rows.append(TicketLine(LineKind.PART, text, 0, 0, 0, done=part.done))
    return rows
