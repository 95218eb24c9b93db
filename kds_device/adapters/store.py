"""The board's SQLite file: tickets, their state and the recall history, so a restart (or a
kill -9) shows the same board.

WAL with ``synchronous=FULL``: a commit survives a power cut. Used from the main thread only.

Ages must survive restarts and clock steps (a Pi has no RTC; NTP steps the wall clock after
boot). Each ticket keeps its monotonic times, and each save records the boot id and one
(wall, monotonic) pair. On load:

* same boot (a restart of the app): the monotonic clock has run on, so the stored monotonic
  times are used as they are, whatever the wall clock did meanwhile;
* another boot: age = age at the last save + the wall-clock time since that save, the latter
  bounded to ``[0, MAX_DOWNTIME_S]`` (a clock that boots hours behind or ahead cannot make a
  ticket hours old or young);
* rows of an older file without monotonic times: age from the wall clock, bounded the same way.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kds_device.domain.board import Ticket
from kds_device.domain.clock import Instant

SCHEMA_VERSION = 3
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
#: The most a reboot may add to a ticket's age (wall-clock time between the last save and now).
MAX_DOWNTIME_S = 3 * 3600.0
BOOT_ID, SAVED_WALL, SAVED_MONO = "boot_id", "saved_wall", "saved_mono"
CACHE_KIB = 256  # the board file's page cache (SQLite's default: 2000 KiB)

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
#: Version 2: monotonic times beside the wall-clock ones (NULL in rows from version 1).
_MIGRATE_2 = """
ALTER TABLE tickets ADD COLUMN arrived_mono REAL;
ALTER TABLE tickets ADD COLUMN finished_mono REAL;
"""
#: Version 3: the order's station parts (routing and progress) as JSON; NULL: one part.
_MIGRATE_3 = """
ALTER TABLE tickets ADD COLUMN parts TEXT;
"""


def read_boot_id() -> str:
    """This boot's id (the monotonic clock is comparable only within one boot)."""
    try:
        return BOOT_ID_FILE.read_text(encoding="ascii").strip()
    except OSError:
        return ""


class StoreError(RuntimeError):
    """The board file cannot be used (newer schema, corrupt file)."""


class BoardStore:
    """Persists :class:`Ticket` records. ``save`` upserts; ``delete`` forgets pruned ones."""

    def __init__(self, path: Path, boot_id: str | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.boot_id = read_boot_id() if boot_id is None else boot_id
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        # The board writes one ticket's row at a time and reads the file once, at start: a
        # small page cache does; SQLite's default (2 MB) would fill up with the rows of every
        # ticket kept for recall (hours of them) and stay in memory for nothing.
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{path} has schema {version}; this version knows {SCHEMA_VERSION}")
        if version < SCHEMA_VERSION:
            # executescript commits first, so the transaction is spelled out in the script
            steps = (_SCHEMA if version < 1 else "") + (_MIGRATE_2 if version < 2 else "")
            steps += _MIGRATE_3
            self._db.executescript(
                f"BEGIN IMMEDIATE; {steps} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )

    def load(self, now: Instant) -> list[Ticket]:
        """The saved tickets, their monotonic times rebuilt for ``now`` (see the module doc)."""
        rows = self._db.execute(
            "SELECT order_id, arrival, arrived_wall, payload, status, bumped, finished_wall,"
            " recalled, voided, void_reason, void_acknowledged, own_keys, arrived_mono,"
            " finished_mono, parts FROM tickets ORDER BY arrival"
        ).fetchall()
        ages = _Ages(now, self.boot_id, self.get_meta(BOOT_ID), self._saved_instant())
        tickets = []
        for row in rows:
            arrived_age = ages.age(datetime.fromisoformat(row[2]), row[12])
            finished_age = ages.age(datetime.fromisoformat(row[6]), row[13]) if row[6] else None
            tickets.append(
                Ticket(
                    order_id=row[0],
                    arrival=row[1],
                    arrived_wall=now.wall - timedelta(seconds=arrived_age),
                    arrived_mono=now.mono - arrived_age,
                    payload_json=row[3],
                    status=row[4],
                    bumped=bool(row[5]),
                    finished_wall=(
                        now.wall - timedelta(seconds=finished_age)
                        if finished_age is not None
                        else None
                    ),
                    finished_mono=now.mono - finished_age if finished_age is not None else None,
                    recalled=bool(row[7]),
                    voided=bool(row[8]),
                    void_reason=row[9],
                    void_acknowledged=bool(row[10]),
                    own_keys=list(json.loads(row[11])),
                    saved_parts=json.loads(row[14]) if row[14] else None,
                )
            )
        return tickets

    def save(
        self,
        tickets: Iterable[Ticket],
        meta: Mapping[str, str] | None = None,
        now: Instant | None = None,
    ) -> None:
        """Upsert ``tickets`` and ``meta`` in one transaction; with ``now``, also the boot id
        and the (wall, monotonic) pair that later rebuild ages truthfully."""
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
                t.arrived_mono,
                t.finished_mono,
                json.dumps(t.parts.to_json()) if t.parts.routing.routed or t.parts.state else None,
            )
            for t in tickets
        ]
        frame: dict[str, str] = {}
        if now is not None:
            frame = {
                BOOT_ID: self.boot_id,
                SAVED_WALL: now.wall.isoformat(),
                SAVED_MONO: repr(now.mono),
            }
        with self._transaction():
            self._db.executemany(
                "INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(order_id) DO UPDATE SET payload=excluded.payload,"
                " status=excluded.status, bumped=excluded.bumped,"
                " finished_wall=excluded.finished_wall, recalled=excluded.recalled,"
                " voided=excluded.voided, void_reason=excluded.void_reason,"
                " void_acknowledged=excluded.void_acknowledged, own_keys=excluded.own_keys,"
                " arrived_mono=excluded.arrived_mono, finished_mono=excluded.finished_mono,"
                " parts=excluded.parts",
                rows,
            )
            for key, value in {**(meta or {}), **frame}.items():
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

    def _saved_instant(self) -> tuple[datetime, float] | None:
        wall, mono = self.get_meta(SAVED_WALL), self.get_meta(SAVED_MONO)
        try:
            return (datetime.fromisoformat(wall), float(mono)) if wall and mono else None
        except ValueError:
            return None

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


class _Ages:
    """Rebuilds a saved moment's age (seconds before ``now``), as the module doc says."""

    def __init__(
        self,
        now: Instant,
        boot_id: str,
        saved_boot: str | None,
        saved: tuple[datetime, float] | None,
    ) -> None:
        self.now = now
        self.same_boot = bool(boot_id) and saved_boot == boot_id
        self.saved = saved

    def age(self, wall: datetime, mono: Any) -> float:
        now = self.now
        if isinstance(mono, float):
            if self.same_boot and mono <= now.mono:
                return now.mono - mono  # the monotonic clock ran on: exact
            if self.saved is not None:
                saved_wall, saved_mono = self.saved
                since_save = _bounded((now.wall - saved_wall).total_seconds())
                return max(0.0, saved_mono - mono) + since_save
        return _bounded((now.wall - wall).total_seconds())


def _bounded(seconds: float) -> float:
    return min(max(0.0, seconds), MAX_DOWNTIME_S)
