"""The gateway's storage ports, named for their role: what the HTTP handlers and background
workers ask of the journal, the device registry, the status outbox and the leases.

Each port is implemented once over the engine-neutral
:class:`~kds_device.gateway.storage.Store` (SQLite or PostgreSQL): :class:`Journal`,
:class:`Devices`, :class:`Outbox` and :mod:`~kds_device.gateway.leases`. Callers hold these
Protocols, not the classes, so a store with its own implementation of a role (another engine,
a test double for a unit test) fits without touching them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from kds_device.domain.events import Event, EventType
from kds_device.domain.heartbeat import Heartbeat
from kds_device.domain.roles import Role
from kds_device.gateway.device_status import DeviceStatus
from kds_device.gateway.devices import Device, DeviceRecord, Enrolled
from kds_device.gateway.journal import Outcome
from kds_device.gateway.journal_feed import FeedPosition
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.outbox import OutboxItem
from kds_device.gateway.stations import RulesCache
from kds_device.gateway.storage import Store, Transaction


class EventJournal(Protocol):
    """Locations, orders and their events, each with a gap-free ``seq`` per location."""

    db: Store
    notifier: Notifier
    #: Parsed routing rules per location (``gateway/stations.py``).
    rules_cache: RulesCache

    def register(self, location_id: str, account_id: str, external_ref: str) -> bool: ...

    def location_exists(self, location_id: str) -> bool: ...

    def receive_order(
        self, location_id: str, order_id: str, payload: Mapping[str, Any]
    ) -> Outcome: ...

    def void_order(self, location_id: str, order_id: str, reason: str) -> Outcome: ...

    def deliverect_status(
        self, location_id: str, order_id: str, status: int, reason: str = ""
    ) -> Outcome: ...

    def sync_products(self, location_id: str, products: Sequence[Any]) -> Outcome: ...

    def products(self, location_id: str) -> list[Any] | None: ...

    def record_rejected(
        self, location_id: str | None, endpoint: str, reason: str, body: bytes
    ) -> None: ...

    def rejected(self, limit: int = 100) -> list[dict[str, Any]]: ...

    def record_flagged(
        self, location_id: str, order_id: str, problems: Sequence[str], body: bytes
    ) -> None: ...

    def flagged(self, limit: int = 100) -> list[dict[str, Any]]: ...

    def flagged_count(self) -> int: ...

    def kept_body(self, table: str, row_id: int) -> bytes | None: ...

    def events_after(self, location_id: str, after: int, limit: int = 500) -> list[Event]: ...

    def bounds(self, location_id: str) -> tuple[int, int]: ...

    def published_form_since(
        self, after: FeedPosition, limit: int = 500
    ) -> list[tuple[FeedPosition, str, str]]: ...

    def order_state(self, location_id: str, order_id: str) -> dict[str, Any] | None: ...

    def append(
        self,
        conn: Transaction,
        location_id: str,
        kind: EventType,
        order_id: str | None,
        data: Mapping[str, Any],
        now: float,
    ) -> int: ...


class DeviceRegistry(Protocol):
    """Enrollment codes, the screens' identities and their heartbeats."""

    def mint_code(self, location_id: str, ttl_s: float) -> str: ...

    def enroll(
        self, code: str, name: str, station: str, role: Role | None = None
    ) -> Enrolled | None: ...

    def authenticate(self, token: str) -> Device | None: ...

    def renew(self, device: Device) -> Enrolled: ...

    def rotate(self, device_id: str) -> bool: ...

    def revoke(self, device_id: str) -> bool: ...

    def all(self) -> list[DeviceRecord]: ...

    def record_heartbeat(self, device: Device, beat: Heartbeat) -> None: ...

    def heartbeats(self, location_id: str | None = None) -> list[DeviceStatus]:
        """Each screen (of one location, or all) with its latest heartbeat; revoked ones for
        a while after their revocation."""
        ...


class StatusOutbox(Protocol):
    """Statuses waiting for Deliverect: claimed by one holder, closed once."""

    db: Store
    holder: str

    def claim(self, limit: int = 20) -> list[OutboxItem]: ...

    def delivered(self, item: OutboxItem) -> None: ...

    def retry_later(self, item: OutboxItem, delay_s: float, error: str) -> None: ...

    def close(self, item: OutboxItem, state: str, error: str) -> None: ...

    def next_due(self) -> float | None: ...

    def counts(self) -> dict[str, int]: ...
