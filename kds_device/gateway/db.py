"""The SQLite store (one site): pooled connections, WAL, versioned schema, fault tracking.

The embedded default behind :class:`~kds_device.gateway.storage.Store`; PostgreSQL (a chain)
is :mod:`~kds_device.gateway.pg_store`.

Every write runs in ``BEGIN IMMEDIATE`` so several gateway processes can share one file: the
write lock is taken up front, so two writers never deadlock upgrading a read lock.
Connections come from a :class:`~kds_device.gateway.db_pool.ConnectionPool`, borrowed for one
statement (``read()``) or one transaction (``write()``, ``run()``). A storage fault raises
:class:`~kds_device.gateway.db_pool.StorageUnavailable` (the HTTP layer answers 503) and is
kept in ``health`` until a write succeeds again; ``check()`` tries a tiny write to find out
now (the health endpoint).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from kds_device.gateway.db_pool import ConnectionPool
from kds_device.gateway.db_schema import MIGRATIONS, SCHEMA_VERSION
from kds_device.gateway.doorbell import Doorbell, bell_directory
from kds_device.gateway.storage import (
    Bell,
    Fault,
    Rows,
    StorageError,
    StorageHealth,
    StorageUnavailable,
    Transaction,
)

__all__ = ["SCHEMA_VERSION", "Database", "Fault", "Queryable", "StorageUnavailable"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Connections kept open between requests, per process; more are opened when needed and
#: closed when given back.
MAX_IDLE_CONNECTIONS = 8
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


Queryable = Transaction  # the name this module used before the storage seam


class Reader:
    """Single-statement reads, each on a borrowed connection (a consistent snapshot each)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Rows:
        with self._pool.connection() as conn:
            cursor = conn.execute(sql, parameters)
            return Rows(cursor.fetchall(), cursor.rowcount)


@dataclass
class _Job:
    """One caller's share of a group commit."""

    fn: Callable[[Transaction], Any]
    done: bool = False
    committed: bool = False
    result: Any = None
    error: BaseException | None = None


class Database:
    """The SQLite :class:`~kds_device.gateway.storage.Store`: ``read()`` runs one statement;
    ``write()`` is a ``BEGIN IMMEDIATE`` transaction."""

    engine = "sqlite"

    def __init__(
        self,
        path: Path | str,
        busy_timeout_s: float = 10.0,
        max_idle: int = MAX_IDLE_CONNECTIONS,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.health = StorageHealth()
        self.pool = ConnectionPool(self.path, self._open, self.health, max_idle)
        self._reader = Reader(self.pool)
        # Writers queue on a thread lock and, across processes, on an flock of a file beside
        # the database, rather than in SQLite's busy handler: that one sleeps in steps of up
        # to 100 ms, which would ruin the latency of every webhook. Both hand over at once.
        self._write_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Job] = []
        self._probe_lock = threading.Lock()
        self._probed_at = -1e9
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _open_lock_file(Path(f"{self.path}.lock"))
        # A process that starts during a storage fault (a gunicorn worker replacing one that
        # died) must still start and answer 503 until the fault passes, not fail its boot
        # (gunicorn then stops the whole server): the schema is migrated at the first write
        # that works, unless it is current already (then a fault changes nothing here).
        self._migration = threading.Lock()
        self._migrated = False
        try:
            self._migrate()
        except StorageUnavailable as problem:
            if self._schema_version() != SCHEMA_VERSION:
                log.warning(
                    "database %s: schema not migrated yet (%s: %s); trying again at the"
                    " first write",
                    self.path,
                    problem.kind,
                    problem,
                )
            else:
                self._migrated = True

    def _open(self, path: Path) -> sqlite3.Connection:
        """A new connection (autocommit mode: transactions are explicit)."""
        conn = sqlite3.connect(
            path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # an acknowledged webhook survives power loss
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A borrowed connection for several reads (wrap them in a transaction for one
        snapshot); given back at the end of the block."""
        with self.pool.connection() as conn:
            yield conn

    def read(self) -> Reader:
        """Runs single-statement reads: ``db.read().execute(sql, params).fetchone()``."""
        return self._reader

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed on success, rolled back on any exception."""
        self._ensure_migrated()
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self.pool.connection() as conn, self._file_lock():
            changes = conn.total_changes
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            wrote = conn.total_changes != changes
        if wrote:
            self._committed()

    def run(self, job: Callable[[Transaction], T]) -> T:
        """Run ``job`` in a write transaction, possibly together with other threads' jobs.

        Group commit: whoever gets the write lock runs every job queued so far in one
        transaction (one fsync), so a burst of webhooks does not queue for one fsync each.
        ``job`` must only use the connection it is given, and may run more than once (after
        a rollback). Its exception is re-raised here.
        """
        self._ensure_migrated()
        ticket = _Job(job)
        with self._queue_lock:
            self._queue.append(ticket)
        with self._write_lock:
            if not ticket.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run_batch(batch, retry=True)
        if ticket.error is not None:
            raise ticket.error
        if not ticket.committed:
            raise StorageUnavailable("interrupted", "the write transaction was interrupted")
        return cast(T, ticket.result)

    def _run_batch(self, batch: list[_Job], retry: bool = False) -> None:
        try:
            with self.pool.connection() as conn, self._file_lock():
                changes = conn.total_changes
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for job in batch:
                        job.result = job.fn(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
                wrote = conn.total_changes != changes
            for job in batch:
                job.committed = True
            if wrote:
                self._committed()
        except StorageUnavailable as problem:
            # The pool has dropped its connections: once more on a fresh one, which is all a
            # connection opened read-only during a fault now over needs. A lock is not retried
            # (that one has already waited its busy timeout).
            if retry and problem.kind != "locked":
                self._run_batch(batch)
            else:
                for job in batch:
                    job.error = problem
        except Exception:
            if len(batch) == 1:
                batch[0].error = sys.exc_info()[1]
            else:
                # One job failed: run each alone, so only that one fails.
                for job in batch:
                    self._run_batch([job])
        finally:
            for job in batch:
                job.done = True

    def _committed(self) -> None:
        """A transaction that changed rows committed. (One that changed nothing wrote nothing,
        which proves nothing about the storage: it leaves a fault as it is.)"""
        if self.health.succeeded():
            self.pool.flush()  # connections opened during the fault go, whatever they are
            # A row that fitted in pages the file had may commit on a full disk: the next
            # check probes again (space included) instead of trusting this write for a second.
            self._probed_at = -1e9

    def check(self, max_age_s: float = 1.0, wait_s: float = 1.0) -> Fault | None:
        """The storage's fault now, or None. Tries a one-row write and new space (see
        ``_space_fault``), waiting at most ``wait_s``
        for the locks; while healthy at most every ``max_age_s``, while at fault each time
        (callers that queued behind a probe take its answer)."""
        asked = time.monotonic()
        with self._probe_lock:
            if not self.pool.writable():
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
        if not self._write_lock.acquire(timeout=wait_s):
            self.health.failed("locked", f"writes have queued for over {wait_s:g} s")
            return
        try:
            if not self._try_file_lock(deadline):
                self.health.failed("locked", f"another process has written for over {wait_s:g} s")
                return
            try:
                with self.pool.connection() as conn:
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
                            _rollback(conn)
                            raise
                    finally:
                        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            self._write_lock.release()
        if self._space_fault() is None:
            self._committed()

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

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _try_file_lock(self, deadline: float) -> bool:
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.005)

    def bell(self, kind: str, wake: Callable[[str | None], None]) -> Bell | None:
        """Wake-ups between the processes of this file: unix datagram doorbells beside it."""
        return Doorbell(bell_directory(self.path, kind), wake, kind)

    def describe(self) -> str:
        return str(self.path)

    def close(self) -> None:
        """Close every connection (at shutdown; lent-out ones when given back)."""
        self.pool.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _ensure_migrated(self) -> None:
        if self._migrated:
            return
        with self._migration:
            if not self._migrated:
                self._migrate()  # a fault: StorageUnavailable (503), tried again next time

    def _schema_version(self) -> int | None:
        """The file's schema version as a reader sees it; None when it cannot be read."""
        try:
            return int(self._reader.execute("PRAGMA user_version").fetchone()[0])
        except (StorageUnavailable, StorageError):
            return None

    def _migrate(self) -> None:
        with self._transaction() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has schema {version}, newer than this gateway ({SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                log.info("database %s: migrating schema to version %d", self.path, target)
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
        self._migrated = True


def _open_lock_file(path: Path) -> int:
    """The writers' lock file, for writing where it can be; else read-only (``flock`` needs
    no more), so a process started while the directory is read-only still starts."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return os.open(path, os.O_RDONLY)


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is open; a failing rollback must not hide the first error."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.debug("rollback failed", exc_info=True)
