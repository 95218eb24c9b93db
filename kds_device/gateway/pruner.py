"""Bounded growth: finished orders, their events and old bookkeeping are deleted after a while.

An order is finished when voided or at status 90+; any order is dropped after ``keep_max_h``
whatever its status (kitchens rarely report 90). Devices accept the holes this leaves.
"""

from __future__ import annotations

import logging
import threading
import time

from kds_device.gateway import leases
from kds_device.gateway.config import DatabaseConfig
from kds_device.gateway.storage import StorageError, Store

log = logging.getLogger(__name__)

LEASE = "pruner"

_DROP = "(finished IS NOT NULL AND finished < :finished) OR created < :oldest"


def prune(db: Store, config: DatabaseConfig, now: float | None = None) -> dict[str, int]:
    """Delete what has expired; returns the number of rows removed per table."""
    now = time.time() if now is None else now
    cutoff = {
        "finished": now - config.prune_after_h * 3600,
        "oldest": now - config.keep_max_h * 3600,
    }
    counts: dict[str, int] = {}
    with db.write() as conn:
        doomed = f"SELECT location_id, order_id FROM orders WHERE {_DROP}"
        counts["events"] = conn.execute(
            f"DELETE FROM events WHERE (location_id, order_id) IN ({doomed})", cutoff
        ).rowcount
        counts["events"] += conn.execute(
            "DELETE FROM events WHERE order_id IS NULL AND created < :finished", cutoff
        ).rowcount
        counts["outbox"] = conn.execute(
            f"DELETE FROM outbox WHERE (location_id, order_id) IN ({doomed})"
            " OR (state != 'pending' AND done < :finished)",
            cutoff,
        ).rowcount
        counts["orders"] = conn.execute(f"DELETE FROM orders WHERE {_DROP}", cutoff).rowcount
        counts["rejected"] = conn.execute(
            "DELETE FROM rejected WHERE created < :finished", cutoff
        ).rowcount
        counts["flagged"] = conn.execute(
            "DELETE FROM flagged WHERE created < :finished", cutoff
        ).rowcount
        counts["status_requests"] = conn.execute(
            "DELETE FROM status_requests WHERE created < :finished", cutoff
        ).rowcount
        counts["enroll_codes"] = conn.execute(
            "DELETE FROM enroll_codes WHERE expires < :finished", cutoff
        ).rowcount
        counts["revoked_screens"] = conn.execute(
            "DELETE FROM heartbeats WHERE revoked IS NOT NULL AND revoked < :finished", cutoff
        ).rowcount
        counts["shown_delays"] = conn.execute(
            "DELETE FROM shown_delays WHERE at < :finished", cutoff
        ).rowcount
    return counts


class Pruner:
    """Runs :func:`prune` every ``prune_every_s`` in whichever process holds the lease."""

    def __init__(self, db: Store, config: DatabaseConfig, holder: str) -> None:
        self.db = db
        self.config = config
        self.holder = holder
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pruner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.config.prune_every_s):
            try:
                if leases.acquire(self.db, LEASE, self.holder, self.config.prune_every_s * 2):
                    counts = prune(self.db, self.config)
                    if any(counts.values()):
                        log.info("pruned %s", counts)
            except StorageError:
                log.exception("pruning failed; trying again next round")
