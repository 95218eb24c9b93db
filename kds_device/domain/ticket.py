"""A ticket's record and the board's settings and results: the plain data the board works on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from kds_device.domain.lines import DEFAULT_ALLERGY_WORDS, TicketLine
from kds_device.domain.order import Order, OrderType
from kds_device.domain.parts import OrderRouting, Parts
from kds_device.domain.roles import Role
from kds_device.domain.status import KDS_SENDABLE, OrderStatus

#: Marker in ``Outcome.changed`` when the page shown changed.
PAGE_CHANGED = "<page>"


class AgeClass(Enum):
    ON_TIME = "on time"
    CAUTION = "caution"
    LATE = "late"
    UPCOMING = "upcoming"  # scheduled, not due to start yet


class Alert(Enum):
    NEW_ORDER = "new_order"
    ORDER_VOIDED = "order_voided"
    ORDER_DUE = "order_due"  # a scheduled order's start-by came: it joins the board
    COURIER_WAITING = "courier_waiting"  # the courier arrived and the order is not ready


@dataclass(frozen=True)
class AgeThresholds:
    caution_s: float = 300.0
    late_s: float = 480.0


@dataclass
class BoardSettings:
    bump_status: int = int(OrderStatus.READY_FOR_PICKUP)
    thresholds: dict[OrderType, AgeThresholds] = field(default_factory=dict)
    default_thresholds: AgeThresholds = AgeThresholds()
    recall_limit: int = 30
    undo_window_s: float = 10.0
    scheduled_lead_s: float = (
        20 * 60.0
    )  # a scheduled order's timer starts this long before it is due
    keep_finished_s: float = (
        6 * 3600.0
    )  # bumped or acknowledged tickets kept for recall, then pruned
    #: A promised order must be finished this long before its pickup time (packing, handover):
    #: it is LATE from then on (see kds_device.domain.urgency).
    finish_margin_s: float = 120.0
    #: HURRY this long before the finish-by moment of a promised order.
    hurry_s: float = 300.0
    allergy_words: tuple[str, ...] = DEFAULT_ALLERGY_WORDS
    #: What this screen is for: the whole kitchen (ALL), expo, or its stations.
    role: Role = field(default_factory=Role)
    #: This screen's device id (a ``device.role`` event for it changes ``role``).
    device_id: str = ""

    def __post_init__(self) -> None:
        if self.bump_status not in KDS_SENDABLE:
            raise ValueError(f"bump status must be one of {sorted(KDS_SENDABLE)}")

    def thresholds_for(self, kind: OrderType) -> AgeThresholds:
        return self.thresholds.get(kind, self.default_thresholds)


@dataclass(frozen=True)
class StatusChange:
    """A status this board decided; to be sent to Deliverect (through the gateway) once."""

    order_id: str
    status: int
    key: str


@dataclass(frozen=True)
class PartChange:
    """A station's part of an order bumped (``done``) or reopened, decided on this screen."""

    order_id: str
    station: str
    done: bool
    key: str


@dataclass(frozen=True)
class ItemChange:
    """One item of an order marked done (or not) at a station, decided on this screen."""

    order_id: str
    station: str
    item: int
    done: bool
    key: str


#: Everything a screen asks the gateway for (through the device outbox).
Request = StatusChange | PartChange | ItemChange


@dataclass
class Outcome:
    """What one board operation changed: for the screen, the store, the speaker and the outbox."""

    changed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    alerts: list[Alert] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    #: Part and item changes for the gateway, in the order they were decided.
    requests: list[PartChange | ItemChange] = field(default_factory=list)

    def merge(self, other: Outcome) -> Outcome:
        self.changed |= other.changed
        self.removed |= other.removed
        self.changed -= self.removed
        self.alerts += other.alerts
        self.status_changes += other.status_changes
        self.requests += other.requests
        return self

    def __bool__(self) -> bool:
        return bool(
            self.changed or self.removed or self.alerts or self.status_changes or self.requests
        )


@dataclass(slots=True)
class Ticket:
    """One order's life on this board. ``order`` is None for a tombstone (cancel came first)."""

    order_id: str
    arrival: int
    arrived_wall: datetime
    arrived_mono: float
    #: The order's body as received, as compact ASCII JSON text (other characters as \u
    #: escapes): what the store saves and a restart parses again. Text, not the decoded dict:
    #: a fifth of the memory per open ticket; ASCII, so Python keeps it one byte a character
    #: (one non-ASCII letter made the whole text 2 or 4 bytes a character) and SQLite binds it
    #: without a UTF-8 copy kept with the string.
    payload_json: str | None = None
    order: Order | None = None
    status: int = int(OrderStatus.PARSED)
    bumped: bool = False
    finished_wall: datetime | None = None
    finished_mono: float | None = None
    recalled: bool = False
    voided: bool = False
    void_reason: str = ""
    void_acknowledged: bool = False
    own_keys: list[str] = field(default_factory=list)
    #: Every line of the order (items, modifiers, remarks, note).
    base_lines: list[TicketLine] = field(default_factory=list)
    #: The lines this screen shows (only its items on a station screen; progress on expo).
    lines: list[TicketLine] = field(default_factory=list)
    #: The order's station parts and their progress (one part "all" without routing).
    parts: Parts = field(default_factory=lambda: Parts(OrderRouting.unrouted(0)))
    #: Something of this order is made on this screen (False: never shown here).
    here: bool = True
    #: ``parts.to_json()`` as a store loaded it (read again by ``Board.restore``).
    saved_parts: Any = None

    @property
    def payload(self) -> Mapping[str, Any] | None:
        """The order's body (decoded again on each call)."""
        return None if self.payload_json is None else json.loads(self.payload_json)

    @staticmethod
    def encode_payload(payload: Mapping[str, Any]) -> str:
        return json.dumps(payload, separators=(",", ":"))

    @property
    def visible(self) -> bool:
        return (
            self.order is not None
            and self.here
            and not self.bumped
            and not (self.voided and self.void_acknowledged)
        )

    @property
    def workable(self) -> bool:
        """On screen and still to be cooked (not voided)."""
        return self.visible and not self.voided
