"""The gateway's SQLite database: one connection per thread, WAL, versioned schema.

Every write runs in ``BEGIN IMMEDIATE`` so several gateway processes can share one file: the
write lock is taken up front, so two writers never deadlock upgrading a read lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3

_SCHEMA_V1 = """
CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL DEFAULT '',
    external_ref TEXT NOT NULL DEFAULT '',
    registered_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    order_id TEXT,
    data TEXT NOT NULL,
    at TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (location_id, seq)
);
CREATE INDEX events_by_order ON events (location_id, order_id);
CREATE TABLE orders (
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    voided INTEGER NOT NULL DEFAULT 0,
    void_reason TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 0,
    sent_status INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    finished REAL,
    PRIMARY KEY (location_id, order_id)
);
CREATE INDEX orders_by_age ON orders (created);
CREATE TABLE products (
    location_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    count INTEGER NOT NULL,
    synced REAL NOT NULL
);
CREATE TABLE rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT,
    endpoint TEXT NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE enroll_codes (
    code_hash TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    used REAL,
    device_id TEXT
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    name TEXT NOT NULL,
    station TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    last_seen REAL
);
CREATE TABLE status_requests (
    device_id TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (device_id, key)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    claimed_by TEXT,
    lease_until REAL,
    created REAL NOT NULL,
    done REAL,
    last_error TEXT NOT NULL DEFAULT '',
    UNIQUE (location_id, order_id, status)
);
CREATE INDEX outbox_pending ON outbox (state, next_at);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until REAL NOT NULL
);
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

#: Device lifecycle: a rotated device may only trade its token for new credentials; failed
#: enrollment attempts per client and per code, for the back-off.
_SCHEMA_V2 = """
ALTER TABLE devices ADD COLUMN rotated REAL;
CREATE TABLE enroll_attempts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    blocked_until REAL NOT NULL,
    last REAL NOT NULL
);
"""

# v3: idempotency keys are scoped per order (the same key on another order is another
# request); orders journaled with problems keep their raw body in ``flagged``.
_SCHEMA_V3 = """
CREATE TABLE status_requests_v2 (
    device_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (device_id, order_id, key)
);
INSERT INTO status_requests_v2 (device_id, order_id, key, response, created)
    SELECT device_id, COALESCE(json_extract(response, '$.orderId'), ''), key, response, created
    FROM status_requests;
DROP TABLE status_requests;
ALTER TABLE status_requests_v2 RENAME TO status_requests;
CREATE TABLE flagged (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    problems TEXT NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL
);
"""

_MIGRATIONS = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3}

T = TypeVar("T")


@dataclass
class _Job:
    """One caller's share of a group commit."""

    fn: Callable[[sqlite3.Connection], Any]
    done: bool = False
    committed: bool = False
    result: Any = None
    error: BaseException | None = None


class Database:
    """Opens ``path`` lazily per thread; ``write()`` is a ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, path: Path | str, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        # Writers queue on a thread lock and, across processes, on an flock of a file beside
        # the database, rather than in SQLite's busy handler: that one sleeps in steps of up
        # to 100 ms, which would ruin the latency of every webhook. Both hand over at once.
        self._write_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Job] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._migrate()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode: transactions are explicit)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # an acknowledged webhook survives power loss
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed on success, rolled back on any exception."""
        conn = self.connection()
        with self._write_lock, self._file_lock():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` in a write transaction, possibly together with other threads' jobs.

        Group commit: whoever gets the write lock runs every job queued so far in one
        transaction (one fsync), so a burst of webhooks does not queue for one fsync each.
        ``job`` must only use the connection it is given. Its exception is re-raised here.
        """
        ticket = _Job(job)
        with self._queue_lock:
            self._queue.append(ticket)
        with self._write_lock:
            if not ticket.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run_batch(batch)
        if ticket.error is not None:
            raise ticket.error
        if not ticket.committed:
            raise sqlite3.OperationalError("the write transaction was interrupted")
        return cast(T, ticket.result)

    def _run_batch(self, batch: list[_Job]) -> None:
        conn = self.connection()
        with self._file_lock():
            try:
                conn.execute("BEGIN IMMEDIATE")
                for job in batch:
                    job.result = job.fn(conn)
                conn.execute("COMMIT")
                for job in batch:
                    job.committed = True
            except Exception:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if len(batch) == 1:
                    batch[0].error = sys.exc_info()[1]
                else:
                    # One job failed: run each alone, so only that one fails.
                    for job in batch:
                        self._run_batch([job])
            finally:
                for job in batch:
                    job.done = True

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def read(self) -> sqlite3.Connection:
        """A connection for single-statement reads (each statement sees a consistent snapshot)."""
        return self.connection()

    def close(self) -> None:
        """Close every connection this object opened (at shutdown)."""
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _migrate(self) -> None:
        with self.write() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has schema {version}, newer than this gateway ({SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                log.info("database %s: migrating schema to version %d", self.path, target)
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
