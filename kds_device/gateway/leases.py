"""Leases and cursors in the database: how several gateway processes share background work.

A lease names one holder for a job (publishing to MQTT, pruning) until it expires; a holder
that dies simply stops renewing and another process takes over.
"""

from __future__ import annotations

import time

from kds_device.gateway.db import Database


def acquire(db: Database, name: str, holder: str, ttl_s: float) -> bool:
    """Take or renew lease ``name`` for ``holder``; False while someone else holds it."""
    now = time.time()
    with db.write() as conn:
        row = conn.execute("SELECT holder, until FROM leases WHERE name = ?", (name,)).fetchone()
        if row is not None and row["holder"] != holder and row["until"] > now:
            return False
        conn.execute(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?) ON CONFLICT (name)"
            " DO UPDATE SET holder = excluded.holder, until = excluded.until",
            (name, holder, now + ttl_s),
        )
    return True


def release(db: Database, name: str, holder: str) -> None:
    """Give a lease up at shutdown so a sibling need not wait for it to expire."""
    with db.write() as conn:
        conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def read_cursor(db: Database, name: str) -> int:
    row = db.read().execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
    return 0 if row is None else int(row[0])


def write_cursor(db: Database, name: str, value: int) -> None:
    with db.write() as conn:
        conn.execute(
            "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name)"
            " DO UPDATE SET value = MAX(value, excluded.value)",
            (name, value),
        )
