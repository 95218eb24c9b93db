"""The SQLite store's health check: does the file take a write, and new space, now?

``GET /api/v1/health`` asks it (:meth:`Database.check <kds_device.gateway.db.Database.check>`):
a one-row write (the ``cursors`` row :data:`PROBE_CURSOR`) waiting at most ``wait_s`` for the
locks, then a few orders' worth of new bytes beside the database. A fault found is recorded in
the store's :class:`~kds_device.gateway.storage.StorageHealth`; a probe that succeeds ends it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kds_device.gateway.db_writer import Writer, rollback
from kds_device.gateway.storage import Fault, StorageHealth, StorageUnavailable

#: The row the health check rewrites to prove the database takes writes.
PROBE_CURSOR = "storage-probe"
#: New bytes the health check writes beside the database: more than an order needs.
SPACE_PROBE_BYTES = 65536
#: What the health check's file write failing with an errno means.
_SPACE_FAULTS = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "readonly",
    errno.EACCES: "readonly",
    errno.EPERM: "readonly",
}


@dataclass
class HealthCheck:
    """Probes the database at ``path`` through ``writer``'s locks and connections;
    ``committed`` is the store's reaction to a write that succeeded (it ends a fault)."""

    path: Path
    writer: Writer
    health: StorageHealth
    busy_timeout_s: float
    committed: Callable[[], None]
    _probe_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _probed_at: float = field(default=-1e9, init=False)

    def expire(self) -> None:
        """The next check probes again, however recent the last probe."""
        self._probed_at = -1e9

    def check(self, max_age_s: float = 1.0, wait_s: float = 1.0) -> Fault | None:
        """The storage's fault now, or None. Tries a one-row write and new space (see
        ``_space_fault``), waiting at most ``wait_s``
        for the locks; while healthy at most every ``max_age_s``, while at fault each time
        (callers that queued behind a probe take its answer)."""
        asked = time.monotonic()
        with self._probe_lock:
            if not self.writer.pool.writable():
                # Connections opened before may still write, but a new one (or a restart)
                # cannot: a fault however many writes still succeed.
                detail = f"{self.path} or its directory is not writable"
                self.health.failed("readonly", detail)
                fault = self.health.fault
                return fault if fault is not None else Fault("readonly", detail, time.time())
            fresh = self._probed_at >= asked or (
                self.health.fault is None and asked - self._probed_at < max_age_s
            )
            if not fresh:
                with contextlib.suppress(StorageUnavailable):  # recorded in health
                    self._probe(wait_s)
                self._probed_at = time.monotonic()
            return self.health.fault

    def _probe(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        if not self.writer.lock.acquire(timeout=wait_s):
            self.health.failed("locked", f"writes have queued for over {wait_s:g} s")
            return
        try:
            if not self.writer.try_file_lock(deadline):
                self.health.failed("locked", f"another process has written for over {wait_s:g} s")
                return
            try:
                with self.writer.pool.connection() as conn:
                    conn.execute(f"PRAGMA busy_timeout = {max(1, int(wait_s * 1000))}")
                    try:
                        conn.execute("BEGIN IMMEDIATE")
                        try:
                            conn.execute(
                                "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT"
                                " (name) DO UPDATE SET value = excluded.value",
                                (PROBE_CURSOR, int(time.time())),
                            )
                            conn.execute("COMMIT")
                        except BaseException:
                            rollback(conn)
                            raise
                    finally:
                        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            finally:
                self.writer.release_file_lock()
        finally:
            self.writer.lock.release()
        if self._space_fault() is None:
            self.committed()

    def _space_fault(self) -> str | None:
        """A one-row write may fit in WAL pages the file already has while an order's pages do
        not: the probe also writes a few orders' worth of new bytes beside the database (and
        deletes them). The fault it found (recorded in ``health``), or None."""
        probe = self.path.with_name(f".{self.path.name}.space-probe-{os.getpid()}")
        try:
            try:
                with probe.open("wb", buffering=0) as out:
                    out.write(bytes(SPACE_PROBE_BYTES))
            finally:
                with contextlib.suppress(FileNotFoundError):
                    probe.unlink()
        except OSError as problem:
            kind = _SPACE_FAULTS.get(problem.errno or 0, "io_error")
            self.health.failed(kind, f"{probe.parent}: {problem.strerror}")
            return kind
        return None
