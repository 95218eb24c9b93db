"""The board's SQLite file: tickets, their state and the recall history, so a restart (or a
kill -9) shows the same board.

WAL with ``synchronous=FULL``: a commit survives a power cut. Used from the main thread only.
Times are stored as UTC wall-clock; on load, monotonic times are rebuilt against ``now``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from kds_device.domain.board import Ticket
from kds_device.domain.clock import Instant

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    order_id TEXT PRIMARY KEY,
    arrival INTEGER NOT NULL,
    arrived_wall TEXT NOT NULL,
    payload TEXT,
    status INTEGER NOT NULL,
    bumped INTEGER NOT NULL,
    finished_wall TEXT,
    recalled INTEGER NOT NULL,
    voided INTEGER NOT NULL,
    void_reason TEXT NOT NULL,
    void_acknowledged INTEGER NOT NULL,
    own_keys TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoreError(RuntimeError):
    """The board file cannot be used (newer schema, corrupt file)."""


class BoardStore:
    """Persists :class:`Ticket` records. ``save`` upserts; ``delete`` forgets pruned ones."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{path} has schema {version}; this version knows {SCHEMA_VERSION}")
        if version < SCHEMA_VERSION:
            # executescript commits first, so the transaction is spelled out in the script
            self._db.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )

    def load(self, now: Instant) -> list[Ticket]:
        rows = self._db.execute(
            "SELECT order_id, arrival, arrived_wall, payload, status, bumped, finished_wall,"
            " recalled, voided, void_reason, void_acknowledged, own_keys FROM tickets"
            " ORDER BY arrival"
        ).fetchall()
        tickets = []
        for row in rows:
            arrived = datetime.fromisoformat(row[2])
            finished = datetime.fromisoformat(row[6]) if row[6] else None
            tickets.append(
                Ticket(
                    order_id=row[0],
                    arrival=row[1],
                    arrived_wall=arrived,
                    arrived_mono=_mono_at(arrived, now),
                    payload_json=row[3],
                    status=row[4],
                    bumped=bool(row[5]),
                    finished_wall=finished,
                    finished_mono=_mono_at(finished, now) if finished else None,
                    recalled=bool(row[7]),
                    voided=bool(row[8]),
                    void_reason=row[9],
                    void_acknowledged=bool(row[10]),
                    own_keys=list(json.loads(row[11])),
                )
            )
        return tickets

    def save(self, tickets: Iterable[Ticket], meta: Mapping[str, str] | None = None) -> None:
        """Upsert ``tickets`` and ``meta`` in one transaction."""
        rows = [
            (
                t.order_id,
                t.arrival,
                t.arrived_wall.isoformat(),
                t.payload_json,
                t.status,
                int(t.bumped),
                t.finished_wall.isoformat() if t.finished_wall else None,
                int(t.recalled),
                int(t.voided),
                t.void_reason,
                int(t.void_acknowledged),
                json.dumps(t.own_keys),
            )
            for t in tickets
        ]
        with self._transaction():
            self._db.executemany(
                "INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(order_id) DO UPDATE SET payload=excluded.payload,"
                " status=excluded.status, bumped=excluded.bumped,"
                " finished_wall=excluded.finished_wall, recalled=excluded.recalled,"
                " voided=excluded.voided, void_reason=excluded.void_reason,"
                " void_acknowledged=excluded.void_acknowledged, own_keys=excluded.own_keys",
                rows,
            )
            for key, value in (meta or {}).items():
                self._set_meta(key, value)

    def delete(self, order_ids: Iterable[str]) -> None:
        with self._transaction():
            self._db.executemany("DELETE FROM tickets WHERE order_id=?", [(i,) for i in order_ids])

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._set_meta(key, value)

    def close(self) -> None:
        self._db.close()

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _mono_at(wall: datetime, now: Instant) -> float:
    """The monotonic reading that corresponds to ``wall``, seen from ``now``."""
    return now.mono - (now.wall - wall) / timedelta(seconds=1)
