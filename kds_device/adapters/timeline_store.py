"""The screen's ticket timelines (speed of service, :mod:`kds_device.domain.speed`) in a compact
table of the board file: one row per order, its moments as epoch seconds. Its own table and
connection, beside the board's: losing it loses figures, never a ticket. Main thread only."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from kds_device.domain.speed import TicketTimeline

_SCHEMA = """
CREATE TABLE IF NOT EXISTS timeline (
    order_id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    channel INTEGER,
    arrived REAL NOT NULL,
    started REAL,
    parts TEXT NOT NULL,
    ready REAL,
    served REAL,
    recalled TEXT NOT NULL,
    voided REAL,
    promised REAL,
    stations TEXT NOT NULL,
    prep_s REAL,
    asap INTEGER NOT NULL,
    reopened INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS timeline_by_arrival ON timeline (arrived);
"""
_COLUMNS = (
    "order_id, location_id, channel, arrived, started, parts, ready, served, recalled,"
    " voided, promised, stations, prep_s, asap, reopened"
)


class TimelineStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA cache_size=-64")
        self._db.executescript(_SCHEMA)

    def load(self, since: float) -> list[TicketTimeline]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM timeline WHERE arrived >= ? ORDER BY arrived", (since,)
        ).fetchall()
        return [_timeline(row) for row in rows]

    def save(self, timelines: Iterable[TicketTimeline]) -> None:
        rows = [_row(t) for t in timelines]
        if not rows:
            return
        marks = ", ".join("?" for _ in range(15))
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                f"INSERT OR REPLACE INTO timeline ({_COLUMNS}) VALUES ({marks})", rows
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def forget_before(self, before: float) -> int:
        return self._db.execute("DELETE FROM timeline WHERE arrived < ?", (before,)).rowcount

    def close(self) -> None:
        self._db.close()


def _row(t: TicketTimeline) -> tuple[object, ...]:
    return (
        t.order_id,
        t.location_id,
        t.channel,
        t.arrived,
        t.started,
        json.dumps(t.parts_done, separators=(",", ":")),
        t.ready,
        t.served,
        json.dumps(t.recalled),
        t.voided,
        t.promised,
        json.dumps(list(t.stations)),
        t.prep_s,
        int(t.asap),
        int(t.reopened),
    )


def _timeline(row: tuple[object, ...]) -> TicketTimeline:
    (order_id, location, channel, arrived, started, parts, ready, served, recalled) = row[:9]
    (voided, promised, stations, prep_s, asap, reopened) = row[9:]
    return TicketTimeline(
        order_id=str(order_id),
        location_id=str(location),
        channel=channel if isinstance(channel, int) else None,
        arrived=float(arrived),  # type: ignore[arg-type]
        started=_real(started),
        parts_done={str(k): float(v) for k, v in json.loads(str(parts)).items()},
        ready=_real(ready),
        served=_real(served),
        recalled=[float(x) for x in json.loads(str(recalled))],
        voided=_real(voided),
        promised=_real(promised),
        stations=tuple(str(s) for s in json.loads(str(stations))),
        prep_s=_real(prep_s),
        asap=bool(asap),
        reopened=bool(reopened),
    )


def _real(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
