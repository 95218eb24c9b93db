"""Which statuses a kitchen of stations owes Deliverect, from its part and item events.

Defaults (gateway config ``[stations]``): the first start, item done or part bump at any
station makes 50; every routed station's part done makes 60; the expo bump is 70 (sent by the
expo screen itself through ``/status``). Each status exactly once and never backwards: a status
is due only while the order's status is below it, and the caller journals it in the same
transaction that moves the order's status, so a second event finds nothing due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kds_device.domain.events import Event, EventType
from kds_device.domain.routing import Routing


@dataclass(frozen=True)
class StatusPolicy:
    """The statuses derived from parts (0 turns one off)."""

    first_part_status: int = 50
    all_parts_status: int = 60
    expo_status: int = 70

    def due(self, current: int, progress: OrderProgress, routing: Routing) -> tuple[int, ...]:
        """The statuses to send now, ascending, each above ``current`` (empty: none)."""
        wanted: list[int] = []
        if progress.started and self.first_part_status:
            wanted.append(self.first_part_status)
        if self.all_parts_status and progress.all_done(routing.stations):
            wanted.append(self.all_parts_status)
        return tuple(sorted({s for s in wanted if s > current}))


@dataclass
class OrderProgress:
    """One order's parts and items as its journal events tell them (latest event wins)."""

    parts: dict[str, bool] = field(default_factory=dict)  # station -> done
    items: dict[tuple[str, int], bool] = field(default_factory=dict)  # (station, index) -> done
    #: Anything happened at a station: a start (status 50 from a screen), an item or a part
    #: done. A recall does not un-start an order.
    started: bool = False

    def apply(self, kind: str, data: Mapping[str, Any]) -> None:
        if kind == EventType.ORDER_PART:
            station, done = data.get("station"), data.get("done")
            if isinstance(station, str) and isinstance(done, bool):
                self.parts[station] = done
                self.started = self.started or done
        elif kind == EventType.ORDER_ITEM:
            station, item, done = data.get("station"), data.get("item"), data.get("done")
            if isinstance(station, str) and isinstance(item, int) and isinstance(done, bool):
                self.items[(station, item)] = done
                self.started = self.started or done
        elif kind == EventType.STATUS_CHANGED:
            status = data.get("status")
            if isinstance(status, int) and status >= 50 and data.get("source") == "device":
                self.started = True

    def all_done(self, stations: Iterable[str]) -> bool:
        wanted = list(stations)
        return bool(wanted) and all(self.parts.get(s, False) for s in wanted)

    @classmethod
    def of(cls, events: Iterable[Event]) -> OrderProgress:
        progress = cls()
        for event in events:
            progress.apply(event.type, event.data)
        return progress
