"""A station's part of an order, and one item of it, marked done (or reopened) by a screen;
the statuses to Deliverect that the status policy derives from them.

Like a status (:func:`~kds_device.gateway.outbox.record_device_status`), a part or item change
is journaled, its derived statuses (``order.status``, ``source: "policy"``) journaled and
queued in the outbox, and its answer remembered under the device's idempotency key, all in ONE
transaction: a retried request gets the same answer and changes nothing, and two screens
racing for the last part make 60 once (the second finds the order's status already there).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kds_device.domain.events import Event, EventType
from kds_device.domain.routing import ALL_STATION, Routing
from kds_device.domain.status_policy import OrderProgress, StatusPolicy
from kds_device.gateway.devices import Device
from kds_device.gateway.journal import order_row
from kds_device.gateway.outbox import StatusAnswer, queue_status
from kds_device.gateway.storage import FOR_UPDATE

if TYPE_CHECKING:
    from kds_device.gateway.ports import EventJournal

#: The reason sent to Deliverect with a derived status.
POLICY_REASONS = {50: "started at a station", 60: "every station's part done"}


@dataclass(frozen=True)
class PartChange:
    """What a screen asks: ``station``'s part (``item`` None) or one item of it, done or not."""

    station: str
    done: bool
    key: str
    item: int | None = None

    @property
    def kind(self) -> EventType:
        return EventType.ORDER_PART if self.item is None else EventType.ORDER_ITEM

    @property
    def scoped_key(self) -> str:
        # Keys live beside /status keys in status_requests: a part's never answers a status.
        return f"{'part' if self.item is None else 'item'}:{self.key}"


def record_part(
    journal: EventJournal, device: Device, order_id: str, change: PartChange, policy: StatusPolicy
) -> StatusAnswer:
    """Apply a screen's part or item change; the answer says whether it changed anything,
    its seq, and which statuses the policy queued for Deliverect."""
    now = time.time()
    location = device.location_id
    queued: list[int] = []
    with journal.db.write() as conn:
        previous = conn.execute(
            "SELECT response FROM status_requests WHERE device_id = ? AND order_id = ? AND key = ?",
            (device.id, order_id, change.scoped_key),
        ).fetchone()
        if previous is not None:
            return StatusAnswer(200, json.loads(previous[0]))
        # Locked: two screens' changes to one order take turns (on PostgreSQL each statement
        # reads what was committed before it; without the lock both could miss the other's
        # part and neither would make 60).
        row = order_row(conn, location, order_id, FOR_UPDATE[journal.db.engine])
        if row is None or not row["received"]:
            return StatusAnswer(404, {"error": "unknown_order", "detail": "no such order here"})
        if row["voided"]:
            return StatusAnswer(409, {"error": "voided", "detail": "the order was cancelled"})
        events = _order_events(conn, location, order_id)
        routing, item_count = _routing_of(events)
        refusal = _check(change, routing, item_count)
        if refusal is not None:
            return refusal
        progress = OrderProgress.of(events)
        body: dict[str, Any] = {
            "orderId": order_id,
            "station": change.station,
            "done": change.done,
            "key": change.key,
        }
        if change.item is not None:
            body["item"] = change.item
        if _already(progress, change):
            body.update(accepted=False, seq=None, statuses=[])
        else:
            data: dict[str, Any] = {"station": change.station}
            if change.item is not None:
                data["item"] = change.item
            data.update(done=change.done, device=device.id, key=change.key)
            seq = journal.append(conn, location, change.kind, order_id, data, now)
            progress.apply(change.kind, data)
            for status in policy.due(int(row["status"]), progress, routing):
                seq = _derive(journal, conn, location, order_id, status, device, change, now)
                queued.append(status)
            body.update(accepted=True, seq=seq, statuses=queued)
        conn.execute(
            "INSERT INTO status_requests (device_id, order_id, key, response, created)"
            " VALUES (?, ?, ?, ?, ?)",
            (device.id, order_id, change.scoped_key, json.dumps(body), now),
        )
    if body["accepted"]:
        journal.notifier.notify()
    return StatusAnswer(200, body)


def _order_events(conn: Any, location: str, order_id: str) -> list[Event]:
    rows = conn.execute(
        "SELECT seq, type, data FROM events WHERE location_id = ? AND order_id = ? ORDER BY seq",
        (location, order_id),
    ).fetchall()
    return [Event(int(r[0]), location, str(r[1]), order_id, json.loads(r[2])) for r in rows]


def _routing_of(events: list[Event]) -> tuple[Routing, int]:
    """The routing stamped on the order when it arrived, and its count of top-level items."""
    for event in events:
        if event.type == EventType.ORDER_RECEIVED:
            payload = event.data.get("payload")
            items = payload.get("items") if isinstance(payload, Mapping) else None
            count = len(items) if isinstance(items, list) else 0
            return Routing.from_json(event.data.get("routing")), count
    return Routing(), 0


def _check(change: PartChange, routing: Routing, item_count: int) -> StatusAnswer | None:
    if change.station not in routing.stations:
        where = ", ".join(routing.stations)
        return StatusAnswer(
            404,
            {
                "error": "unknown_station",
                "detail": f"this order has no part at {change.station!r} (its parts: {where})",
            },
        )
    if change.item is None:
        return None
    if routing.single or change.station == ALL_STATION:
        known = 0 <= change.item < item_count
    else:
        known = change.item in routing.items_at(change.station)
    if not known:
        return StatusAnswer(
            404,
            {
                "error": "unknown_item",
                "detail": f"item {change.item} is not in this order's part at {change.station}",
            },
        )
    return None


def _already(progress: OrderProgress, change: PartChange) -> bool:
    """The change would change nothing (a repeat with a new key): not journaled again."""
    if change.item is None:
        return progress.parts.get(change.station, False) == change.done
    return progress.items.get((change.station, change.item), False) == change.done


def _derive(
    journal: EventJournal,
    conn: Any,
    location: str,
    order_id: str,
    status: int,
    device: Device,
    change: PartChange,
    now: float,
) -> int:
    """Journal a status the policy derived, move the order to it and queue it for Deliverect."""
    data = {"status": status, "source": "policy", "device": device.id, "key": change.key}
    reason = POLICY_REASONS.get(status, "kitchen progress")
    return queue_status(journal, conn, location, order_id, data, reason, now)
