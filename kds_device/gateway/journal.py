"""The journal: every change at a location as an event with a gap-free ``seq``.

Orders, cancels, statuses and product pushes are applied here, each in one ``BEGIN IMMEDIATE``
transaction that also appends the event(s), so a change and its event land together or not
at all. Duplicates (Deliverect retries) change nothing and append nothing. Reading the events
back is :mod:`~kds_device.gateway.journal_feed`; the bodies kept for the operator are
:mod:`~kds_device.gateway.kept_bodies`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kds_device.domain.events import EventType
from kds_device.domain.status import FINISHED_FROM, VOIDING
from kds_device.domain.timestamps import format_timestamp
from kds_device.gateway.journal_feed import JournalFeed
from kds_device.gateway.kept_bodies import KeptBodies
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.stations import RulesCache, routing_data
from kds_device.gateway.storage import FOR_UPDATE, Row, Store, Transaction, json_text

#: Statuses above this (other than voiding ones) are failures Deliverect handles; ignored.
_LAST_TRACKED = 95


class UnknownLocation(LookupError):
    """The location never registered with this gateway."""


@dataclass(frozen=True)
class Outcome:
    """What one webhook changed: ``result`` names it, ``seq`` is the last event appended."""

    result: str  # received | duplicate | voided | status | stored | ignored | synced
    seq: int | None = None
    detail: str = ""


class Journal(JournalFeed, KeptBodies):
    """Locations, orders, products and the event journal of one gateway database; reading
    the events back (:class:`JournalFeed`) and the kept bodies (:class:`KeptBodies`) come
    from its bases."""

    def __init__(self, db: Store, notifier: Notifier | None = None) -> None:
        self.db = db
        self.notifier = notifier or Notifier()
        self._known_locations: set[str] = set()
        #: Parsed routing rules per location (the order path parses a version once).
        self.rules_cache = RulesCache()

    # ---- locations ------------------------------------------------------------------

    def register(self, location_id: str, account_id: str, external_ref: str) -> bool:
        """Store (or refresh) a location; True when it is new. Idempotent."""
        now = time.time()
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT INTO locations (id, account_id, external_ref, registered_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " account_id = excluded.account_id, external_ref = excluded.external_ref,"
                " updated_at = excluded.updated_at RETURNING registered_at",
                (location_id, account_id, external_ref, now, now),
            )
            registered_at = cursor.fetchone()[0]
        self._known_locations.add(location_id)
        return bool(registered_at == now)

    def location_exists(self, location_id: str) -> bool:
        if location_id in self._known_locations:
            return True
        row = self.db.read().execute("SELECT 1 FROM locations WHERE id = ?", (location_id,))
        if row.fetchone() is None:
            return False
        self._known_locations.add(location_id)
        return True

    # ---- webhooks ---------------------------------------------------------------------

    def receive_order(self, location_id: str, order_id: str, payload: Mapping[str, Any]) -> Outcome:
        """A new order. A second delivery is a duplicate; after a cancel it lands voided."""
        now = time.time()
        outcome = self.db.run(lambda conn: self._receive(conn, location_id, order_id, payload, now))
        if outcome.seq is not None:
            self.notifier.notify(location_id)
        return outcome

    def _receive(
        self,
        conn: Transaction,
        location_id: str,
        order_id: str,
        payload: Mapping[str, Any],
        now: float,
    ) -> Outcome:
        inserted = conn.execute(
            "INSERT INTO orders (location_id, order_id, received, created, updated)"
            " VALUES (?, ?, 1, ?, ?) ON CONFLICT DO NOTHING",
            (location_id, order_id, now, now),
        ).rowcount
        received = EventType.ORDER_RECEIVED
        if inserted:  # the common case: a new order, three statements (four with rules)
            data = {
                "payload": payload,
                **routing_data(conn, location_id, payload, self.rules_cache),
            }
            return Outcome(
                "received", self.append(conn, location_id, received, order_id, data, now)
            )
        row = order_row(conn, location_id, order_id, FOR_UPDATE[self.db.engine])
        if row is None or row["received"]:
            return Outcome("duplicate", detail="order already journaled")
        data = {"payload": payload, **routing_data(conn, location_id, payload, self.rules_cache)}
        seq = self.append(conn, location_id, received, order_id, data, now)
        conn.execute(
            "UPDATE orders SET received = 1, updated = ? WHERE location_id = ? AND order_id = ?",
            (now, location_id, order_id),
        )
        # What arrived before the order is replayed after it, so a screen sees it.
        if row["voided"]:
            reason = {"reason": row["void_reason"]}
            seq = self.append(conn, location_id, EventType.ORDER_VOIDED, order_id, reason, now)
            return Outcome("voided", seq)
        if row["status"]:
            data = {"status": row["status"], "source": "deliverect"}
            seq = self.append(conn, location_id, EventType.STATUS_CHANGED, order_id, data, now)
        return Outcome("received", seq)

    def void_order(self, location_id: str, order_id: str, reason: str) -> Outcome:
        """A cancel (or a voiding status): the ticket is voided, pending bumps are dropped.

        A cancel for an order not seen yet leaves a tombstone, so the late order lands voided.
        """
        now = time.time()
        outcome = self.db.run(lambda conn: self._void(conn, location_id, order_id, reason, now))
        if outcome.seq is not None:
            self.notifier.notify(location_id)
        return outcome

    def _void(
        self, conn: Transaction, location_id: str, order_id: str, reason: str, now: float
    ) -> Outcome:
        row = order_row(conn, location_id, order_id, FOR_UPDATE[self.db.engine])
        if row is not None and row["voided"]:
            return Outcome("duplicate", detail="order already voided")
        if row is None:
            conn.execute(
                "INSERT INTO orders (location_id, order_id, voided, void_reason, created,"
                " updated, finished) VALUES (?, ?, 1, ?, ?, ?, ?)",
                (location_id, order_id, reason, now, now, now),
            )
        else:
            conn.execute(
                "UPDATE orders SET voided = 1, void_reason = ?, updated = ?, finished = ?"
                " WHERE location_id = ? AND order_id = ?",
                (reason, now, now, location_id, order_id),
            )
        conn.execute(
            "UPDATE outbox SET state = 'voided', done = ? WHERE location_id = ?"
            " AND order_id = ? AND state = 'pending'",
            (now, location_id, order_id),
        )
        seq = self.append(
            conn, location_id, EventType.ORDER_VOIDED, order_id, {"reason": reason}, now
        )
        return Outcome("voided", seq)

    def deliverect_status(
        self, location_id: str, order_id: str, status: int, reason: str = ""
    ) -> Outcome:
        """Deliverect says the order moved: forward only; a voiding status voids."""
        if status in VOIDING:
            return self.void_order(location_id, order_id, reason or f"status {status}")
        if not 0 < status <= _LAST_TRACKED:
            return Outcome("ignored", detail=f"status {status} is not tracked")
        now = time.time()
        finished = now if status >= FINISHED_FROM else None
        with self.db.write() as conn:
            row = order_row(conn, location_id, order_id, FOR_UPDATE[self.db.engine])
            if row is None:
                # Remember it; replayed when the order itself arrives.
                conn.execute(
                    "INSERT INTO orders (location_id, order_id, status, sent_status, created,"
                    " updated, finished) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (location_id, order_id, status, status, now, now, finished),
                )
                return Outcome("stored", detail="order not seen yet")
            if row["voided"]:
                return Outcome("ignored", detail="order is voided")
            if status <= row["status"]:
                return Outcome("ignored", detail=f"not forward of {row['status']}")
            conn.execute(
                "UPDATE orders SET status = ?, sent_status = CASE WHEN sent_status > ? THEN"
                " sent_status ELSE ? END, updated = ?, finished = COALESCE(finished, ?)"
                " WHERE location_id = ? AND order_id = ?",
                (status, status, status, now, finished, location_id, order_id),
            )
            # Deliverect already has this status: sending an older one would go backwards.
            conn.execute(
                "UPDATE outbox SET state = 'superseded', done = ? WHERE location_id = ?"
                " AND order_id = ? AND state = 'pending' AND status <= ?",
                (now, location_id, order_id, status),
            )
            if not row["received"]:
                return Outcome("stored", detail="order not seen yet")
            seq = self.append(
                conn,
                location_id,
                EventType.STATUS_CHANGED,
                order_id,
                {"status": status, "source": "deliverect"},
                now,
            )
        self.notifier.notify(location_id)
        return Outcome("status", seq)

    def sync_products(self, location_id: str, products: Sequence[Any]) -> Outcome:
        """A product push replaces the location's snapshot."""
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO products (location_id, body, count, synced) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (location_id) DO UPDATE SET body = excluded.body,"
                " count = excluded.count, synced = excluded.synced",
                (location_id, json_text(list(products)), len(products), now),
            )
            seq = self.append(
                conn, location_id, EventType.PRODUCTS_SYNCED, None, {"count": len(products)}, now
            )
        self.notifier.notify(location_id)
        return Outcome("synced", seq)

    def products(self, location_id: str) -> list[Any] | None:
        """The latest product snapshot of a location (None before the first push)."""
        row = self.db.read().execute(
            "SELECT body FROM products WHERE location_id = ?", (location_id,)
        )
        found = row.fetchone()
        return None if found is None else list(json.loads(found[0]))

    # ---- reading --------------------------------------------------------------------

    def order_state(self, location_id: str, order_id: str) -> dict[str, Any] | None:
        row = order_row(self.db.read(), location_id, order_id)
        return None if row is None else dict(row)

    # ---- internals ------------------------------------------------------------------

    def append(
        self,
        conn: Transaction,
        location_id: str,
        kind: EventType,
        order_id: str | None,
        data: Mapping[str, Any],
        now: float,
    ) -> int:
        """Append one event inside the caller's transaction; returns its seq.

        The caller must call ``notifier.notify(location_id)`` after committing."""
        at = format_timestamp(datetime.fromtimestamp(now, tz=UTC))
        if self.db.engine == "postgresql":
            # One round trip: the seq taken and the event written by one statement.
            row = conn.execute(
                "WITH taken AS (UPDATE locations SET last_seq = last_seq + 1 WHERE id = ?"
                " RETURNING last_seq) INSERT INTO events (location_id, seq, type, order_id,"
                " data, at, created) SELECT ?, last_seq, ?, ?, ?, ?, ? FROM taken RETURNING seq",
                (location_id, location_id, kind.value, order_id, json_text(data), at, now),
            ).fetchone()
            if row is None:
                raise UnknownLocation(location_id)
            return int(row[0])
        row = conn.execute(
            "UPDATE locations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
            (location_id,),
        ).fetchone()
        if row is None:
            raise UnknownLocation(location_id)
        seq = int(row[0])
        conn.execute(
            "INSERT INTO events (location_id, seq, type, order_id, data, at, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (location_id, seq, kind.value, order_id, json_text(data), at, now),
        )
        return seq


def order_row(
    conn: Transaction, location_id: str, order_id: str, for_update: str = ""
) -> Row | None:
    """The orders row of ``order_id`` (inside the caller's transaction, if any);
    ``for_update`` (``FOR_UPDATE[engine]``) when the transaction decides on it and writes: a
    concurrent writer of the same order then waits, and decides on what this one wrote."""
    row: Row | None = conn.execute(
        "SELECT * FROM orders WHERE location_id = ? AND order_id = ?" + for_update,
        (location_id, order_id),
    ).fetchone()
    return row
