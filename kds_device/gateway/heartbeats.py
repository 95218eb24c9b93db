"""Each screen's latest heartbeat, kept in the ``heartbeats`` table (one row per screen), and
the order-to-screen delays heartbeats carry (``shown_delays``, one row per screen and event).

A heartbeat replaces the screen's row; a revocation marks it ``revoked`` (the ``devices`` row
is deleted), so the operator sees a revoked screen go rather than vanish. The pruner deletes
revoked rows after ``database.prune_after_h``. Portable SQL: both stores run it as it is.
"""

from __future__ import annotations

import json
import logging

from kds_device.domain.events import EventType
from kds_device.domain.heartbeat import Heartbeat
from kds_device.gateway.device_status import DeviceStatus
from kds_device.gateway.devices import Device, role_of
from kds_device.gateway.storage import Row, Store, Transaction

log = logging.getLogger(__name__)

_COLUMNS = (
    "version, role, stations, link, bumps_waiting, last_seq, clock_synced, cpu_temp_c, received_at"
)


def record(db: Store, device: Device, beat: Heartbeat, now: float) -> None:
    """Keep ``beat`` as ``device``'s latest heartbeat, received at ``now``."""
    values = (
        device.id,
        device.location_id,
        device.name,
        beat.version,
        beat.role,
        json.dumps(list(beat.stations)),
        beat.link,
        beat.bumps_waiting,
        beat.last_seq,
        None if beat.clock_synced is None else int(beat.clock_synced),
        beat.cpu_temp_c,
        now,
    )

    def upsert(conn: Transaction) -> None:
        conn.execute(
            f"INSERT INTO heartbeats (device_id, location_id, name, {_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (device_id) DO UPDATE SET location_id = excluded.location_id,"
            " name = excluded.name, version = excluded.version, role = excluded.role,"
            " stations = excluded.stations, link = excluded.link,"
            " bumps_waiting = excluded.bumps_waiting, last_seq = excluded.last_seq,"
            " clock_synced = excluded.clock_synced, cpu_temp_c = excluded.cpu_temp_c,"
            " received_at = excluded.received_at",
            values,
        )

    def upsert_all(conn: Transaction) -> None:
        upsert(conn)
        if beat.shown_ms:
            _keep_delays(conn, device, beat.shown_ms)

    db.run(upsert_all)  # shares a commit with other writes of the moment; safe to run again


def _keep_delays(conn: Transaction, device: Device, samples: tuple[tuple[int, int], ...]) -> None:
    """Keep the screen's order-to-screen delays, each at its ``order.received``'s journal
    time; one row per screen and seq (a retried heartbeat adds nothing). A seq that is no
    order received at the screen's location (pruned already, or a confused screen) is left out
    and logged: the rest of the heartbeat still counts."""
    seqs = [seq for seq, _ms in samples]
    marks = ", ".join("?" for _ in seqs)
    rows = conn.execute(
        f"SELECT seq, created FROM events WHERE location_id = ? AND type = ? AND seq IN ({marks})",
        (device.location_id, EventType.ORDER_RECEIVED.value, *seqs),
    ).fetchall()
    journaled = {int(r["seq"]): float(r["created"]) for r in rows}
    unknown = [seq for seq in seqs if seq not in journaled]
    if unknown:
        log.warning(
            "screen %s reported delays for seq %s, no order received at %s; left out",
            device.id,
            ",".join(map(str, unknown[:10])),
            device.location_id,
        )
    for seq, ms in samples:
        if seq in journaled:
            conn.execute(
                "INSERT INTO shown_delays (device_id, location_id, seq, at, ms)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING",
                (device.id, device.location_id, seq, journaled[seq], ms),
            )


def delays_since(db: Store, since: float) -> list[tuple[float, int]]:
    """(journal time, ms) of every order-to-screen delay reported for orders journaled since."""
    rows = db.read().execute("SELECT at, ms FROM shown_delays WHERE at >= ? ORDER BY at", (since,))
    return [(float(r["at"]), int(r["ms"])) for r in rows]


def mark_revoked(conn: Transaction, device: Device, now: float) -> None:
    """In the revoking transaction, before the ``devices`` row goes: keep the screen listed
    as revoked (with its last heartbeat, if it sent one)."""
    conn.execute(
        "INSERT INTO heartbeats (device_id, location_id, name, role, stations, revoked)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (device_id) DO UPDATE SET name = excluded.name, revoked = excluded.revoked",
        (
            device.id,
            device.location_id,
            device.name,
            device.role.kind.value,
            json.dumps(sorted(device.role.stations)),
            now,
        ),
    )


def statuses(db: Store, location_id: str | None = None) -> list[DeviceStatus]:
    """Every enrolled screen (of ``location_id``, or of all locations) with its latest
    heartbeat, then the revoked ones still kept; by location, then enrollment time."""
    where = "" if location_id is None else " WHERE d.location_id = ?"
    params: tuple[str, ...] = () if location_id is None else (location_id,)
    enrolled = db.read().execute(
        "SELECT d.id, d.location_id, d.name, d.role AS assigned, d.rotated, d.last_seen,"
        " d.created, h.version, h.role, h.stations, h.link, h.bumps_waiting, h.last_seq,"
        " h.clock_synced, h.cpu_temp_c, h.received_at"
        f" FROM devices d LEFT JOIN heartbeats h ON h.device_id = d.id{where}"
        " ORDER BY d.location_id, d.created",
        params,
    )
    found = [_enrolled(row) for row in enrolled]
    gone = db.read().execute(
        "SELECT device_id, location_id, name, revoked, role, stations, "
        f"{_COLUMNS} FROM heartbeats WHERE revoked IS NOT NULL"
        + ("" if location_id is None else " AND location_id = ?")
        + " ORDER BY location_id, revoked",
        params,
    )
    found += [_revoked(row) for row in gone]
    return sorted(found, key=lambda s: (s.location_id, s.revoked))


def _enrolled(row: Row) -> DeviceStatus:
    heard = row["received_at"] is not None
    if heard:
        role, stations = row["role"], _stations(row["stations"])
    else:  # no heartbeat yet: the role the gateway gave it
        assigned = role_of(row["assigned"])
        role, stations = assigned.kind.value, tuple(sorted(assigned.stations))
    seen = [t for t in (row["received_at"], row["last_seen"]) if t is not None]
    return DeviceStatus(
        device_id=row["id"],
        location_id=row["location_id"],
        name=row["name"],
        role=role,
        stations=stations,
        version=row["version"],
        link=row["link"],
        bumps_waiting=row["bumps_waiting"],
        last_seq=row["last_seq"],
        clock_synced=None if row["clock_synced"] is None else bool(row["clock_synced"]),
        cpu_temp_c=row["cpu_temp_c"],
        seen_at=max(seen) if seen else None,
        revoked=False,
        rotated=row["rotated"] is not None,
    )


def _revoked(row: Row) -> DeviceStatus:
    return DeviceStatus(
        device_id=row["device_id"],
        location_id=row["location_id"],
        name=row["name"],
        role=row["role"],
        stations=_stations(row["stations"]),
        version=row["version"],
        link=row["link"],
        bumps_waiting=row["bumps_waiting"],
        last_seq=row["last_seq"],
        clock_synced=None if row["clock_synced"] is None else bool(row["clock_synced"]),
        cpu_temp_c=row["cpu_temp_c"],
        seen_at=row["received_at"],
        revoked=True,
        rotated=False,
    )


def _stations(stored: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(stored or "[]")
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        log.error("stored heartbeat stations %r unreadable", (stored or "")[:80])
        return ()
    return tuple(value)
