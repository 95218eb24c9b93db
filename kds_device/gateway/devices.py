"""Enrollment codes and device identities.

An installer mints a one-time code for a location (``kds-gateway enroll-code``); a screen
trades it for a bearer token. Codes and tokens are stored only as SHA-256 hashes: both are
random enough that a slow password hash would add nothing but latency to every request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass

from kds_device.gateway.storage import StorageUnavailable, Store

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


@dataclass(frozen=True)
class Enrolled:
    device: Device
    token: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    """Codes are typed by people: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


class Devices:
    """Mints codes, enrolls devices, authenticates bearer tokens."""

    def __init__(self, db: Store) -> None:
        self.db = db
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

    def enroll(self, code: str, name: str, station: str) -> Enrolled | None:
        """Trade a code for a device identity; None when the code is unknown, used or expired."""
        now = time.time()
        token = secrets.token_urlsafe(32)
        device_id = f"dev_{uuid.uuid4().hex[:16]}"
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT location_id FROM enroll_codes WHERE code_hash = ? AND used IS NULL"
                " AND expires > ?",
                (_hash(normalise_code(code)), now),
            ).fetchone()
            if row is None:
                return None
            location_id = str(row[0])
            conn.execute(
                "UPDATE enroll_codes SET used = ?, device_id = ? WHERE code_hash = ?",
                (now, device_id, _hash(normalise_code(code))),
            )
            conn.execute(
                "INSERT INTO devices (id, location_id, name, station, token_hash, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (device_id, location_id, name, station, _hash(token), now),
            )
        return Enrolled(Device(device_id, location_id, name, station), token)

    def authenticate(self, token: str) -> Device | None:
        """The device owning ``token``, or None."""
        if not token:
            return None
        row = (
            self.db.read()
            .execute(
                "SELECT id, location_id, name, station FROM devices WHERE token_hash = ?",
                (_hash(token),),
            )
            .fetchone()
        )
        if row is None:
            return None
        device = Device(row["id"], row["location_id"], row["name"], row["station"])
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

    def revoke(self, device_id: str) -> bool:
        """Forget a device (a stolen or retired screen); True if it existed."""
        with self.db.write() as conn:
            return conn.execute("DELETE FROM devices WHERE id = ?", (device_id,)).rowcount > 0
