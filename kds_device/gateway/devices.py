"""Enrollment codes and device identities.

An installer mints a one-time code for a location (``kds-gateway enroll-code``); a screen
trades it for a bearer token. Codes and tokens are stored only as SHA-256 hashes: both are
random enough that a slow password hash would add nothing but latency to every request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field

from kds_device.domain.heartbeat import Heartbeat
from kds_device.domain.roles import Role
from kds_device.gateway.broker_accounts import BrokerAccounts, new_password
from kds_device.gateway.device_status import DeviceStatus
from kds_device.gateway.storage import Row, StorageUnavailable, Store

log = logging.getLogger(__name__)

#: No 0/O, 1/I/L: codes are read off one screen and typed on another.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
#: last_seen is written at most this often per device (it is for the operator, not for logic).
SEEN_EVERY_S = 60.0


@dataclass(frozen=True)
class Device:
    """An enrolled screen; it may read and write only ``location_id``."""

    id: str
    location_id: str
    name: str
    station: str
    #: ``kds-gateway devices rotate`` was run: the token is good only for fetching new ones.
    rotated: bool = False
    #: What the screen shows in a kitchen of stations (``kds-gateway devices role``).
    role: Role = field(default_factory=Role)


@dataclass(frozen=True)
class Enrolled:
    device: Device
    token: str  # shown once, never stored
    broker_password: str | None = None  # its own broker user's (dynsec), shown once


@dataclass(frozen=True)
class DeviceRecord:
    """One row of ``kds-gateway devices list``."""

    device: Device
    created: float
    last_seen: float | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def code_hash_of(code: str) -> str:
    """What the enrollment back-off counts attempts of a code under (never the code itself)."""
    return _hash(normalise_code(code))


def normalise_code(code: str) -> str:
    """Codes are typed by people: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _device(row: Row) -> Device:
    return Device(
        row["id"],
        row["location_id"],
        row["name"],
        row["station"],
        row["rotated"] is not None,
        role_of(row["role"]),
    )


#: A device from a ``devices`` row (for the role admin, which reads one in its transaction).
device_from_row = _device


def role_of(stored: str | None) -> Role:
    """A stored role (JSON; NULL = all). A damaged one reads as all: the screen shows
    everything rather than nothing."""
    if not stored:
        return Role()
    try:
        return Role.from_json(json.loads(stored))
    except ValueError:
        log.error("stored role %r unreadable; the screen shows everything", stored[:80])
        return Role()


def role_text(role: Role) -> str | None:
    """How a role is stored: NULL for the default (all)."""
    return None if role == Role() else json.dumps(role.to_json(), separators=(",", ":"))


class Devices:
    """Mints codes, enrolls devices, authenticates bearer tokens, rotates and revokes.

    With ``accounts`` (dynsec), each device also has a broker user of its own: made at
    enrollment, re-keyed when its credentials are renewed, deleted (and its connection cut) at
    rotation and revocation.
    """

    def __init__(self, db: Store, accounts: BrokerAccounts | None = None) -> None:
        self.db = db
        self.accounts = accounts
        self._seen: dict[str, float] = {}

    def mint_code(self, location_id: str, ttl_s: float) -> str:
        """A fresh one-time code for ``location_id``, valid for ``ttl_s`` seconds."""
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO enroll_codes (code_hash, location_id, created, expires)"
                " VALUES (?, ?, ?, ?)",
                (_hash(raw), location_id, now, now + ttl_s),
            )
        return f"{raw[:5]}-{raw[5:]}"

    def _code_location(self, code_hash: str, now: float) -> str | None:
        row = (
            self.db.read()
            .execute(
                "SELECT location_id FROM enroll_codes WHERE code_hash = ? AND used IS NULL"
                " AND expires > ?",
                (code_hash, now),
            )
            .fetchone()
        )
        return None if row is None else str(row[0])

    def enroll(
        self, code: str, name: str, station: str, role: Role | None = None
    ) -> Enrolled | None:
        """Trade a code for a device identity; None when the code is unknown, used or expired.

        BrokerError when the device's broker user cannot be made (the code stays unused)."""
        now = time.time()
        code_hash = code_hash_of(code)
        location_id = self._code_location(code_hash, now)
        if location_id is None:
            return None
        token = secrets.token_urlsafe(32)
        device_id = f"dev_{uuid.uuid4().hex[:16]}"
        broker_password = None
        if self.accounts is not None:
            # Before the code is spent (a broker outage must not burn it), outside the write
            # lock (a broker round trip must not hold up webhooks).
            broker_password = new_password()
            self.accounts.add_screen(device_id, location_id, broker_password)
        with self.db.write() as conn:
            spent = conn.execute(
                "UPDATE enroll_codes SET used = ?, device_id = ? WHERE code_hash = ?"
                " AND used IS NULL AND expires > ?",
                (now, device_id, code_hash, now),
            ).rowcount
            if spent:
                conn.execute(
                    "INSERT INTO devices (id, location_id, name, station, token_hash, created,"
                    " role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        device_id,
                        location_id,
                        name,
                        station,
                        _hash(token),
                        now,
                        role_text(role or Role()),
                    ),
                )
        if not spent:  # another request spent the code meanwhile
            if self.accounts is not None:
                self.accounts.remove_screen(device_id)
            return None
        device = Device(device_id, location_id, name, station, role=role or Role())
        return Enrolled(device, token, broker_password)

    def authenticate(self, token: str) -> Device | None:
        """The device owning ``token``, or None."""
        if not token:
            return None
        row = (
            self.db.read()
            .execute(
                "SELECT id, location_id, name, station, rotated, role FROM devices"
                " WHERE token_hash = ?",
                (_hash(token),),
            )
            .fetchone()
        )
        if row is None:
            return None
        device = _device(row)
        now = time.time()
        if now - self._seen.get(device.id, 0.0) > SEEN_EVERY_S:
            self._seen[device.id] = now
            try:
                with self.db.write() as conn:
                    conn.execute("UPDATE devices SET last_seen = ? WHERE id = ?", (now, device.id))
            except StorageUnavailable as problem:
                # Bookkeeping only: a screen still reads its events while writes fail.
                log.debug("last_seen of %s not recorded: %s", device.id, problem)
        return device

    def renew(self, device: Device) -> Enrolled:
        """New token (and broker password) for ``device``; the old ones stop working.

        BrokerError leaves everything as it was (the device asks again)."""
        token = secrets.token_urlsafe(32)
        broker_password = None
        if self.accounts is not None:
            broker_password = new_password()
            self.accounts.add_screen(device.id, device.location_id, broker_password)
        with self.db.write() as conn:
            conn.execute(
                "UPDATE devices SET token_hash = ?, rotated = NULL WHERE id = ?",
                (_hash(token), device.id),
            )
        renewed = Device(
            device.id, device.location_id, device.name, device.station, role=device.role
        )
        return Enrolled(renewed, token, broker_password)

    def rotate(self, device_id: str) -> bool:
        """Retire the device's credentials: its token then only fetches new ones (once), and
        its broker user is deleted (connection cut) until it does. False if unknown."""
        with self.db.write() as conn:
            found = (
                conn.execute(
                    "UPDATE devices SET rotated = ? WHERE id = ?", (time.time(), device_id)
                ).rowcount
                > 0
            )
        if found and self.accounts is not None:
            self.accounts.remove_screen(device_id)
        return found

    def revoke(self, device_id: str) -> bool:
        """Forget a device (a stolen or retired screen) and delete its broker user, which
        cuts its connection; True if it was known here. Safe to run again after a
        BrokerError (HTTP access is gone already)."""
        from kds_device.gateway import heartbeats  # it reads devices' rows with role_of

        with self.db.write() as conn:
            row = conn.execute(
                "SELECT id, location_id, name, station, rotated, role FROM devices WHERE id = ?",
                (device_id,),
            ).fetchone()
            if row is not None:  # listed as revoked for a while (kds-gateway devices list)
                heartbeats.mark_revoked(conn, _device(row), time.time())
            found = conn.execute("DELETE FROM devices WHERE id = ?", (device_id,)).rowcount > 0
        if self.accounts is not None:
            found = self.accounts.remove_screen(device_id) or found
        return found

    def all(self) -> list[DeviceRecord]:
        rows = self.db.read().execute(
            "SELECT id, location_id, name, station, rotated, role, created, last_seen FROM devices"
            " ORDER BY location_id, created"
        )
        return [DeviceRecord(_device(r), r["created"], r["last_seen"]) for r in rows]

    def record_heartbeat(self, device: Device, beat: Heartbeat) -> None:
        """Keep ``beat`` as the screen's latest heartbeat (received now)."""
        from kds_device.gateway import heartbeats

        now = time.time()
        heartbeats.record(self.db, device, beat, now)
        self._seen[device.id] = now  # the heartbeat says it was seen: no last_seen write

    def heartbeats(self, location_id: str | None = None) -> list[DeviceStatus]:
        """Every screen (of ``location_id``, or everywhere) with its latest heartbeat, and the
        recently revoked ones."""
        from kds_device.gateway import heartbeats

        return heartbeats.statuses(self.db, location_id)
