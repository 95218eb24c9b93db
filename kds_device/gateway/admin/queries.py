"""What the admin page reads (and the one outbox change it makes), over either store.

Plain SQL against the gateway's tables, portable between SQLite and PostgreSQL like the
rest of the stores (``?`` placeholders, no engine functions). Every list is bounded.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from kds_device.domain.events import EventType
from kds_device.gateway.storage import Store

#: Journal events that a Deliverect webhook wrote (an ``order.status`` only when its source
#: is Deliverect): the "recent webhooks" list.
WEBHOOK_EVENTS = (
    EventType.ORDER_RECEIVED.value,
    EventType.ORDER_VOIDED.value,
    EventType.STATUS_CHANGED.value,
    EventType.PRODUCTS_SYNCED.value,
    EventType.ORDER_COURIER.value,
)
#: How much older than its order an order's row may be (see ``received_since``).
EARLY_ROW_S = 86_400.0
WAITING = ("pending",)
FAILED = ("rejected", "expired")


@dataclass(frozen=True)
class Location:
    id: str
    account_id: str
    external_ref: str
    registered_at: float
    last_seq: int
    open_orders: int
    screens: int


@dataclass(frozen=True)
class WebhookEvent:
    location_id: str
    seq: int
    type: str
    order_id: str | None
    created: float
    summary: str


def locations(db: Store) -> list[Location]:
    conn = db.read()
    rows = conn.execute(
        "SELECT l.id, l.account_id, l.external_ref, l.registered_at, l.last_seq,"
        " (SELECT COUNT(*) FROM orders o WHERE o.location_id = l.id AND o.received = 1"
        "  AND o.finished IS NULL) AS open_orders,"
        " (SELECT COUNT(*) FROM devices d WHERE d.location_id = l.id) AS screens"
        " FROM locations l ORDER BY l.id LIMIT 500"
    ).fetchall()
    return [
        Location(
            str(r["id"]),
            str(r["account_id"]),
            str(r["external_ref"]),
            float(r["registered_at"]),
            int(r["last_seq"]),
            int(r["open_orders"]),
            int(r["screens"]),
        )
        for r in rows
    ]


def recent_webhooks(db: Store, limit: int = 25) -> list[WebhookEvent]:
    """The newest journal events written by Deliverect's webhooks, newest first."""
    marks = ", ".join("?" for _ in WEBHOOK_EVENTS)
    rows = (
        db.read()
        .execute(
            "SELECT location_id, seq, type, order_id, data, created FROM events"
            f" WHERE type IN ({marks}) ORDER BY id DESC LIMIT ?",
            (*WEBHOOK_EVENTS, limit * 4),
        )
        .fetchall()
    )
    found = []
    for r in rows:
        data = json.loads(r["data"])
        if r["type"] == EventType.STATUS_CHANGED.value and data.get("source") != "deliverect":
            continue  # a screen's bump, not a webhook
        found.append(
            WebhookEvent(
                str(r["location_id"]),
                int(r["seq"]),
                str(r["type"]),
                r["order_id"],
                float(r["created"]),
                _summary(str(r["type"]), data),
            )
        )
        if len(found) == limit:
            break
    return found


def _summary(kind: str, data: dict[str, Any]) -> str:
    if kind == EventType.ORDER_RECEIVED.value:
        payload = data.get("payload") or {}
        items = payload.get("items") if isinstance(payload, dict) else None
        count = len(items) if isinstance(items, list) else 0
        channel = payload.get("channelOrderDisplayId") if isinstance(payload, dict) else None
        return f"{count} item(s)" + (f", {channel}" if channel else "")
    if kind == EventType.ORDER_VOIDED.value:
        return f"voided: {data.get('reason', '')}"
    if kind == EventType.STATUS_CHANGED.value:
        return f"status {data.get('status')}"
    if kind == EventType.PRODUCTS_SYNCED.value:
        return f"{data.get('count', 0)} product(s)"
    return str(data.get("label", ""))


def event_data(db: Store, location_id: str, seq: int) -> dict[str, Any] | None:
    """One journal event (type, order, time and its data as stored), or None."""
    row = (
        db.read()
        .execute(
            "SELECT type, order_id, data, created FROM events WHERE location_id = ? AND seq = ?",
            (location_id, seq),
        )
        .fetchone()
    )
    if row is None:
        return None
    return {
        "type": row["type"],
        "order_id": row["order_id"],
        "created": float(row["created"]),
        "data": json.loads(row["data"]),
    }


def outbox_rows(db: Store, states: tuple[str, ...], limit: int = 50) -> list[dict[str, Any]]:
    marks = ", ".join("?" for _ in states)
    rows = db.read().execute(
        "SELECT id, location_id, order_id, status, state, attempts, next_at, created, done,"
        f" last_error FROM outbox WHERE state IN ({marks}) ORDER BY id DESC LIMIT ?",
        (*states, limit),
    )
    return [dict(r) for r in rows]


def retry_now(db: Store, row_id: int) -> bool:
    """Make one outbox row due now: a waiting one skips its back-off; a failed one (refused or
    given up) is queued again with a fresh give-up clock. False when no such row can be."""
    now = time.time()
    with db.write() as conn:
        moved = conn.execute(
            "UPDATE outbox SET next_at = ? WHERE id = ? AND state = 'pending'", (now, row_id)
        ).rowcount
        if not moved:
            moved = conn.execute(
                "UPDATE outbox SET state = 'pending', next_at = ?, created = ?, done = NULL,"
                " claimed_by = NULL, lease_until = NULL WHERE id = ?"
                " AND state IN ('rejected', 'expired')",
                (now, now, row_id),
            ).rowcount
    return moved > 0


def received_since(db: Store, since: float) -> list[float]:
    """When (journal time) every order received since ``since`` was journaled.

    Found through the orders' age index (an order's row is made at most a day before the
    order itself arrives: a status or cancel that came first), not by scanning the journal."""
    rows = db.read().execute(
        "SELECT e.created FROM orders AS o JOIN events AS e"
        " ON e.location_id = o.location_id AND e.order_id = o.order_id"
        " WHERE o.created >= ? AND e.type = ? AND e.created >= ? ORDER BY e.created",
        (since - EARLY_ROW_S, EventType.ORDER_RECEIVED.value, since),
    )
    return [float(r["created"]) for r in rows]
