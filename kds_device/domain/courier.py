"""The courier on the ticket: Deliverect's courier statuses (81-89, 115), journaled by the
gateway as ``order.courier`` events, kept per order on each screen.

* The latest state counts, but a courier never goes backwards within one delivery: a late
  "en route" (83) after "arrived" (85) is stale and ignored. "Delivery cancelled" (115)
  always applies, and after it any status starts a new delivery.
* Events for an order this screen does not know yet are kept (events come in any order across
  Deliverect's webhooks); the board shows them once the order arrives. Orphans are bounded:
  past ``limit`` the oldest are forgotten.
* COURIER WAITING: the courier arrived at pickup (85) and the order is not ready. Each
  arrival is decided once (``decided``): it shouts (colour, word, alert sound) at most once,
  and an order ready when the courier arrives never shouts.
* Unknown statuses and junk are ignored (Deliverect: unknown statuses must not break the flow).

Pure: no I/O, times passed in.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from kds_device.domain.timestamps import parse_timestamp

log = logging.getLogger(__name__)


class CourierStatus(IntEnum):
    CREATED = 81
    EN_ROUTE_TO_PICKUP = 83
    ALMOST_AT_PICKUP = 84
    AT_PICKUP = 85
    EN_ROUTE_TO_DROPOFF = 87
    AT_DROPOFF = 89
    CANCELLED = 115


COURIER_STATUSES = frozenset(int(s) for s in CourierStatus)


@dataclass(frozen=True)
class CourierState:
    """What this screen knows of one order's courier."""

    status: CourierStatus
    seq: int = 0  # the journal event it came from
    eta: datetime | None = None  # when the courier is expected at pickup (wall clock)
    name: str = ""
    decided: bool = False  # this arrival at pickup has had its one chance to shout

    @property
    def at_pickup(self) -> bool:
        return self.status is CourierStatus.AT_PICKUP

    def to_json(self) -> dict[str, Any]:
        return {
            "status": int(self.status),
            "seq": self.seq,
            "eta": self.eta.isoformat() if self.eta else None,
            "name": self.name,
            "decided": self.decided,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CourierState:
        eta = raw.get("eta")
        return cls(
            CourierStatus(int(raw["status"])),
            int(raw.get("seq") or 0),
            datetime.fromisoformat(eta) if isinstance(eta, str) else None,
            str(raw.get("name") or ""),
            bool(raw.get("decided")),
        )


def courier_text(state: CourierState, now: datetime, ready: bool) -> str:
    """What a tile says: ``courier en route``, ``courier 2 min``, ``courier here`` (or
    ``COURIER WAITING`` while the order is not ready), ``delivery cancelled`` ..."""
    status = state.status
    if status is CourierStatus.AT_PICKUP:
        who = f" ({state.name})" if state.name else ""
        return f"courier here{who}" if ready else "COURIER WAITING"
    if status in (CourierStatus.EN_ROUTE_TO_PICKUP, CourierStatus.ALMOST_AT_PICKUP):
        if state.eta is not None:
            minutes = max(0, math.ceil((state.eta - now).total_seconds() / 60.0))
            return f"courier {minutes} min" if minutes else "courier due now"
        return "courier en route" if status is CourierStatus.EN_ROUTE_TO_PICKUP else "courier close"
    return {
        CourierStatus.CREATED: "courier booked",
        CourierStatus.EN_ROUTE_TO_DROPOFF: "courier left",
        CourierStatus.AT_DROPOFF: "delivered",
        CourierStatus.CANCELLED: "delivery cancelled",
    }[status]


def read_courier(data: Mapping[str, Any], seq: int, now: datetime) -> CourierState | None:
    """An ``order.courier`` event's data as a state; None (logged) when it is not one."""
    status = data.get("status")
    if isinstance(status, str) and status.strip().isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or status not in COURIER_STATUSES:
        log.info("courier event %s: status %r ignored", seq, status)
        return None
    eta = _eta(data, now)
    courier = data.get("courier")
    name = courier.get("name") if isinstance(courier, Mapping) else None
    name = " ".join(name.split())[:40] if isinstance(name, str) else ""
    return CourierState(CourierStatus(status), seq, eta, name)


def _eta(data: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the courier is due at pickup: the gateway's ``etaAt`` (right even when the event
    is applied late, after an outage), else ``etaMin`` from now; None when neither is sane."""
    at = data.get("etaAt")
    if isinstance(at, str):
        try:
            moment = parse_timestamp(at)
        except ValueError:
            moment = None
        if moment is not None and abs((moment - now).total_seconds()) < 86400:
            return moment
    minutes = data.get("etaMin")
    if isinstance(minutes, int | float) and not isinstance(minutes, bool) and 0 <= minutes < 600:
        return now + timedelta(minutes=float(minutes))
    return None


class CourierBook:
    """The courier state of each order (known to the board or not yet)."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self._states: dict[str, CourierState] = {}
        self.dirty = False  # changed since the store last saved it

    def get(self, order_id: str) -> CourierState | None:
        return self._states.get(order_id)

    def __len__(self) -> int:
        return len(self._states)

    def apply(self, order_id: str, state: CourierState, known: set[str] | None = None) -> bool:
        """Take ``state`` for ``order_id``; False when it is stale (an earlier step of the
        same delivery, or an event already seen). ``known``: the orders the board has, the
        others' states being the first forgotten past ``limit``."""
        current = self._states.get(order_id)
        if current is not None:
            if state.seq and state.seq <= current.seq:
                return False  # seen already (a replay)
            same_delivery = current.status is not CourierStatus.CANCELLED
            if (
                same_delivery
                and state.status is not CourierStatus.CANCELLED
                and state.status < current.status
            ):
                return False  # a late, earlier step: the courier never goes back
            if state.status is current.status:
                state = replace(state, decided=current.decided)  # the same arrival
        self._states.pop(order_id, None)
        self._states[order_id] = state  # newest last: the oldest orphans go first
        self.dirty = True
        self._bound(known or set())
        return True

    def decide(self, order_id: str) -> None:
        """This arrival at pickup has had its chance to shout."""
        state = self._states.get(order_id)
        if state is not None and not state.decided:
            self._states[order_id] = replace(state, decided=True)
            self.dirty = True

    def forget(self, order_ids: Iterable[str]) -> None:
        for order_id in order_ids:
            if self._states.pop(order_id, None) is not None:
                self.dirty = True

    def _bound(self, known: set[str]) -> None:
        excess = len(self._states) - self.limit
        if excess <= 0:
            return
        orphans = [i for i in self._states if i not in known]
        for order_id in orphans[:excess]:
            del self._states[order_id]

    def to_json(self) -> dict[str, Any]:
        return {order_id: state.to_json() for order_id, state in self._states.items()}

    def load(self, raw: object) -> None:
        """States saved by :meth:`to_json`; unreadable entries are skipped (logged)."""
        self._states.clear()
        if not isinstance(raw, Mapping):
            return
        for order_id, entry in raw.items():
            try:
                self._states[str(order_id)] = CourierState.from_json(entry)
            except (KeyError, TypeError, ValueError):
                log.warning("saved courier state of %s unreadable; skipped", order_id)
        self.dirty = False
