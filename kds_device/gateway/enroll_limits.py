"""Back-off for enrollment: a few wrong codes per client and per code, then 429 for a while.

Codes are ten characters of a 31-letter alphabet, so guessing one is hopeless anyway; this
keeps a misbehaving script (or a person typing a dead code over and over) from costing more
than a few requests. Counts live in the database, so every gateway process and host shares
them. A success clears the client's count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from kds_device.gateway.storage import Store

#: Failures older than this are forgotten.
FORGET_AFTER_S = 3600.0


@dataclass(frozen=True)
class EnrollPolicy:
    free_attempts: int = 5  # wrong attempts allowed before any wait
    backoff_s: float = 30.0  # the first wait; doubled with each further failure
    backoff_max_s: float = 900.0


def client_key(address: str) -> str:
    return f"client:{address}"


def code_key(code_hash: str) -> str:
    return f"code:{code_hash}"


class EnrollLimits:
    def __init__(self, db: Store, policy: EnrollPolicy) -> None:
        self.db = db
        self.policy = policy

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Whole seconds to wait when any of ``keys`` is blocked now, else None."""
        keys = list(keys)
        now = time.time()
        marks = ",".join("?" * len(keys))
        row = (
            self.db.read()
            .execute(f"SELECT MAX(blocked_until) FROM enroll_attempts WHERE key IN ({marks})", keys)
            .fetchone()
        )
        until = row[0] if row is not None else None
        if until is None or until <= now:
            return None
        return max(1, math.ceil(until - now))

    def failed(self, keys: Iterable[str]) -> None:
        now = time.time()
        policy = self.policy
        with self.db.write() as conn:
            conn.execute("DELETE FROM enroll_attempts WHERE last < ?", (now - FORGET_AFTER_S,))
            for key in keys:
                row = conn.execute(
                    "SELECT failures, last FROM enroll_attempts WHERE key = ?", (key,)
                ).fetchone()
                failures = 1
                if row is not None and now - row["last"] < FORGET_AFTER_S:
                    failures = int(row["failures"]) + 1
                over = failures - policy.free_attempts
                wait = 0.0
                if over >= 0:
                    wait = min(policy.backoff_s * 2 ** min(over, 30), policy.backoff_max_s)
                conn.execute(
                    "INSERT INTO enroll_attempts (key, failures, blocked_until, last)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                    " failures = excluded.failures, blocked_until = excluded.blocked_until,"
                    " last = excluded.last",
                    (key, failures, now + wait, now),
                )

    def succeeded(self, key: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM enroll_attempts WHERE key = ?", (key,))
