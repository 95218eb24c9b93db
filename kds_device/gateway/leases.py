"""Leases and cursors in the database: how several gateway processes share background work.

A lease names one holder for a job (publishing to MQTT, pruning, delivering the outbox) until it
expires; a holder that dies simply stops renewing and another process takes over. A holder on
this host whose process is gone (``host-pid-random``, see ``app.holder_id``) is taken over at
once: a crashed gateway restarted by systemd need not wait out its predecessor's lease.
"""

from __future__ import annotations

import os
import socket
import time

from kds_device.gateway.storage import FOR_UPDATE, Row, Store


def _gone(holder: str) -> bool:
    """True for a holder of this host whose process no longer exists."""
    host, _, pid = holder.rpartition("-")[0].rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, but not ours to signal
    try:  # killed but not yet reaped (a zombie) is gone too
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _held(row: Row | None, holder: str, now: float) -> bool:
    """Does the lease ``row`` (holder, until) belong to a live someone else?"""
    if row is None:
        return False
    other = str(row["holder"])
    return other != holder and float(row["until"]) > now and not _gone(other)


def acquire(db: Store, name: str, holder: str, ttl_s: float) -> bool:
    """Take or renew lease ``name`` for ``holder``; False while someone else holds it.

    Two processes asking at once get one answer True: SQLite's write transaction admits one
    writer at a time; on PostgreSQL (READ COMMITTED) the lease's row is read ``FOR UPDATE``, so
    the second asker waits for the first one's commit and then sees its holder, and a first
    lease of that name is an ``INSERT ... DO NOTHING`` that only one of them wins."""
    now = time.time()
    with db.write() as conn:
        row = conn.execute(
            "SELECT holder, until FROM leases WHERE name = ?" + FOR_UPDATE[db.engine], (name,)
        ).fetchone()
        if row is None:
            taken = conn.execute(
                "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO NOTHING",
                (name, holder, now + ttl_s),
            )
            return bool(taken.rowcount == 1)
        if _held(row, holder, now):
            return False
        conn.execute(
            "UPDATE leases SET holder = ?, until = ? WHERE name = ?",
            (holder, now + ttl_s, name),
        )
    return True


def held_by_other(db: Store, name: str, holder: str) -> bool:
    """A read-only look: does someone else hold ``name`` now? (Cheap enough for every wake-up.)"""
    row = db.read().execute("SELECT holder, until FROM leases WHERE name = ?", (name,)).fetchone()
    return _held(row, holder, time.time())


def release(db: Store, name: str, holder: str) -> None:
    """Give a lease up at shutdown so a sibling need not wait for it to expire."""
    with db.write() as conn:
        conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def read_cursor(db: Store, name: str) -> int:
    row = db.read().execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
    return 0 if row is None else int(row[0])


def write_cursor(db: Store, name: str, value: int) -> None:
    write_cursors(db, {name: value})


def write_position(db: Store, names: tuple[str, str], value: tuple[int, int]) -> None:
    """Move a two-part cursor forward (never back: compared as a pair), in one transaction."""
    with db.write() as conn:
        stored = []
        for name in names:
            row = conn.execute(
                "SELECT value FROM cursors WHERE name = ?" + FOR_UPDATE[db.engine], (name,)
            ).fetchone()
            stored.append(0 if row is None else int(row[0]))
        if tuple(stored) >= value:
            return
        for name, part in zip(names, value, strict=True):
            conn.execute(
                "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = excluded.value",
                (name, part),
            )


def write_cursors(db: Store, values: dict[str, int]) -> None:
    """Move cursors forward (never back), together in one transaction."""
    with db.write() as conn:
        for name, value in values.items():
            conn.execute(
                "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = CASE WHEN cursors.value > excluded.value"
                " THEN cursors.value ELSE excluded.value END",
                (name, value),
            )
