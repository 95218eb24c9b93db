"""The journal read back: a screen's events after a ``seq``, a location's bounds, and the
MQTT publisher's feed of every location's events in journal order.

A base of :class:`~kds_device.gateway.journal.Journal`: these are part of its port
(:class:`~kds_device.gateway.ports.EventJournal`), written over the same ``db``.
"""

from __future__ import annotations

import json

from kds_device.domain.events import Event
from kds_device.gateway.storage import EVENT_JSON, Row, Store

#: Where the MQTT publisher is in the journal: (transaction id, event id); SQLite's is (0, id).
FeedPosition = tuple[int, int]


class JournalFeed:
    """Reads of the ``events`` table (and each location's ``last_seq``)."""

    db: Store

    def events_after(self, location_id: str, after: int, limit: int = 500) -> list[Event]:
        """Events of one location with ``seq > after``, oldest first."""
        rows = self.db.read().execute(
            "SELECT seq, location_id, type, order_id, data, at FROM events"
            " WHERE location_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (location_id, after, limit),
        )
        return [_event(row) for row in rows]

    def bounds(self, location_id: str) -> tuple[int, int]:
        """(firstSeq, lastSeq): the oldest kept seq (lastSeq + 1 when none) and the newest."""
        conn = self.db.read()
        row = conn.execute(
            "SELECT l.last_seq, (SELECT MIN(seq) FROM events WHERE location_id = l.id)"
            " FROM locations AS l WHERE l.id = ?",
            (location_id,),
        ).fetchone()
        if row is None:
            return 1, 0
        last = int(row[0])
        return (int(row[1]) if row[1] is not None else last + 1), last

    def published_form_since(
        self, after: FeedPosition, limit: int = 500
    ) -> list[tuple[FeedPosition, str, str]]:
        """(position, location, JSON of ``Event.to_json()``) of every location's events in
        journal order after ``after``: the MQTT publisher's feed, built by the database so the
        hot path skips a parse and a dump per event.

        SQLite commits one writer at a time, so the event id is the order. On PostgreSQL ids
        commit out of order under concurrent writers: the order is (transaction id, id), and
        only events of transactions older than every one still running are handed out, so a
        later commit can never land behind the position."""
        form = EVENT_JSON[self.db.engine]
        if self.db.engine == "sqlite":
            rows = self.db.read().execute(
                f"SELECT 0, id, location_id, {form} FROM events WHERE id > ? ORDER BY id LIMIT ?",
                (after[1], limit),
            )
        else:
            rows = self.db.read().execute(
                f"SELECT xid::text::bigint, id, location_id, {form} FROM events"
                " WHERE (xid, id) > (?::text::xid8, ?)"
                " AND xid < pg_snapshot_xmin(pg_current_snapshot())"
                " ORDER BY xid, id LIMIT ?",
                (str(after[0]), after[1], limit),
            )
        return [((int(row[0]), int(row[1])), str(row[2]), str(row[3])) for row in rows]


def _event(row: Row) -> Event:
    return Event(
        seq=int(row["seq"]),
        location_id=row["location_id"],
        type=row["type"],
        order_id=row["order_id"],
        data=json.loads(row["data"]),
        at=row["at"],
    )
