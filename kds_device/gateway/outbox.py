"""The durable outbox of statuses for Deliverect, and the device's status change that fills it.

A device's status is journaled, queued here and remembered under its idempotency key (scoped
to the device and the order) in ONE transaction before the device gets its answer. Rows are
claimed with a lease, so several gateway processes can share one database and a row of a
dead process is taken over.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kds_device.domain.events import EventType
from kds_device.gateway.devices import Device
from kds_device.gateway.journal import order_row
from kds_device.gateway.storage import FOR_UPDATE

if TYPE_CHECKING:  # ports names these classes' own types
    from kds_device.gateway.ports import EventJournal

PENDING = "pending"
SENT = "sent"
REJECTED = "rejected"
VOIDED = "voided"
SUPERSEDED = "superseded"
EXPIRED = "expired"

#: On PostgreSQL a claim skips rows another host has locked instead of waiting for them.
_SKIP_LOCKED = {"sqlite": "", "postgresql": " FOR UPDATE OF b SKIP LOCKED"}


@dataclass(frozen=True)
class StatusAnswer:
    """The device API's answer to a status change: HTTP code and JSON body."""

    code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class OutboxItem:
    id: int
    location_id: str
    order_id: str
    status: int
    reason: str
    attempts: int
    created: float


def queue_status(
    journal: EventJournal,
    conn: Any,
    location: str,
    order_id: str,
    data: dict[str, Any],
    reason: str,
    now: float,
) -> int:
    """Journal a status change (``data["status"]``), move the order to it and queue it for
    Deliverect, in the caller's transaction; the journal's seq."""
    status = data["status"]
    seq = journal.append(conn, location, EventType.STATUS_CHANGED, order_id, data, now)
    conn.execute(
        "UPDATE orders SET status = ?, updated = ? WHERE location_id = ? AND order_id = ?",
        (status, now, location, order_id),
    )
    conn.execute(
        "INSERT INTO outbox (location_id, order_id, status, reason, next_at, created)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (location, order_id, status, reason, now, now),
    )
    return int(seq)


def record_device_status(
    journal: EventJournal, device: Device, order_id: str, status: int, reason: str, key: str
) -> StatusAnswer:
    """Apply a device's status: journal it and queue it for Deliverect, or say why not."""
    now = time.time()
    location = device.location_id
    accepted = False
    with journal.db.write() as conn:
        # The order's row first, locked: two posts for one order (two screens, two hosts, a
        # retried request) take their turns, each seeing what the other answered and wrote.
        row = order_row(conn, location, order_id, FOR_UPDATE[journal.db.engine])
        previous = conn.execute(
            "SELECT response FROM status_requests WHERE device_id = ? AND order_id = ? AND key = ?",
            (device.id, order_id, key),
        ).fetchone()
        if previous is not None:
            return StatusAnswer(200, json.loads(previous[0]))
        if row is None or not row["received"]:
            return StatusAnswer(404, {"error": "unknown_order", "detail": "no such order here"})
        if row["voided"]:
            return StatusAnswer(409, {"error": "voided", "detail": "the order was cancelled"})
        body: dict[str, Any] = {"orderId": order_id, "status": status, "key": key}
        if status <= row["status"]:
            body.update(accepted=False, seq=None)
        else:
            data: dict[str, Any] = {
                "status": status,
                "source": "device",
                "device": device.id,
                "key": key,
            }
            seq = queue_status(journal, conn, location, order_id, data, reason, now)
            body.update(accepted=True, seq=seq)
            accepted = True
        conn.execute(
            "INSERT INTO status_requests (device_id, order_id, key, response, created)"
            " VALUES (?, ?, ?, ?, ?)",
            (device.id, order_id, key, json.dumps(body), now),
        )
    if accepted:
        journal.notifier.notify(device.location_id)
    return StatusAnswer(200, body)


class Outbox:
    """Claims due rows and records how their delivery went."""

    def __init__(self, journal: EventJournal, holder: str, lease_s: float) -> None:
        self.db = journal.db
        self.holder = holder
        self.lease_s = lease_s

    def claim(self, limit: int = 20) -> list[OutboxItem]:
        """Due rows, at most one per order (its oldest), leased to this holder.

        Rows whose order was voided, or whose status Deliverect already has, are closed here
        instead of being sent.
        """
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'voided', done = ? WHERE state = 'pending' AND"
                " EXISTS (SELECT 1 FROM orders o WHERE o.location_id = outbox.location_id"
                " AND o.order_id = outbox.order_id AND o.voided = 1)",
                (now,),
            )
            conn.execute(
                "UPDATE outbox SET state = 'superseded', done = ? WHERE state = 'pending' AND"
                " status <= (SELECT o.sent_status FROM orders o WHERE"
                " o.location_id = outbox.location_id AND o.order_id = outbox.order_id)",
                (now,),
            )
            rows = conn.execute(
                "SELECT id, location_id, order_id, status, reason, attempts, created FROM outbox"
                " AS b WHERE state = 'pending' AND next_at <= ?"
                " AND (claimed_by IS NULL OR lease_until < ? OR claimed_by = ?)"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.state = 'pending'"
                " AND e.location_id = b.location_id AND e.order_id = b.order_id AND e.id < b.id)"
                " ORDER BY next_at, id LIMIT ?" + _SKIP_LOCKED[self.db.engine],
                (now, now, self.holder, limit),
            ).fetchall()
            for row in rows:
                conn.execute(
                    "UPDATE outbox SET claimed_by = ?, lease_until = ? WHERE id = ?",
                    (self.holder, now + self.lease_s, row["id"]),
                )
        return [OutboxItem(**dict(row)) for row in rows]

    def delivered(self, item: OutboxItem) -> None:
        now = time.time()
        with self.db.write() as conn:
            # The order first, then the row: the order every writer takes them in (a cancel
            # too), so two hosts on PostgreSQL never deadlock over them.
            conn.execute(
                "UPDATE orders SET sent_status = CASE WHEN sent_status > ? THEN sent_status"
                " ELSE ? END WHERE location_id = ? AND order_id = ?",
                (item.status, item.status, item.location_id, item.order_id),
            )
            conn.execute(
                "UPDATE outbox SET state = 'sent', done = ?, attempts = attempts + 1,"
                " claimed_by = NULL, lease_until = NULL, last_error = '' WHERE id = ?",
                (now, item.id),
            )

    def retry_later(self, item: OutboxItem, delay_s: float, error: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ?, claimed_by = NULL,"
                " lease_until = NULL, last_error = ? WHERE id = ?",
                (time.time() + delay_s, error[:500], item.id),
            )

    def close(self, item: OutboxItem, state: str, error: str) -> None:
        """Finish a row without delivering it (rejected by Deliverect, or given up)."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE outbox SET state = ?, done = ?, attempts = attempts + 1,"
                " claimed_by = NULL, lease_until = NULL, last_error = ? WHERE id = ?",
                (state, time.time(), error[:500], item.id),
            )

    def next_due(self) -> float | None:
        """When the soonest pending row becomes due (epoch seconds), or None."""
        row = (
            self.db.read()
            .execute("SELECT MIN(next_at) FROM outbox WHERE state = 'pending'")
            .fetchone()
        )
        return None if row[0] is None else float(row[0])

    def counts(self) -> dict[str, int]:
        rows = self.db.read().execute("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        return {str(state): int(count) for state, count in rows}
