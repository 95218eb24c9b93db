"""The SQLite store (one site): pooled connections, WAL, versioned schema, fault tracking.

The embedded default behind :class:`~kds_device.gateway.storage.Store`; PostgreSQL (a chain)
is :mod:`~kds_device.gateway.pg_store`.

Every write runs in ``BEGIN IMMEDIATE``, one writer at a time across the processes sharing the
file, and ``run()`` commits several threads' jobs together
(:class:`~kds_device.gateway.db_writer.Writer`). Connections come from a
:class:`~kds_device.gateway.db_pool.ConnectionPool`, borrowed for one statement (``read()``) or
one transaction (``write()``, ``run()``). A storage fault raises
:class:`~kds_device.gateway.db_pool.StorageUnavailable` (the HTTP layer answers 503) and is
kept in ``health`` until a write succeeds again; ``check()`` tries a tiny write to find out
now (the health endpoint, :class:`~kds_device.gateway.db_health.HealthCheck`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kds_device.gateway.db_health import HealthCheck
from kds_device.gateway.db_pool import ConnectionPool
from kds_device.gateway.db_schema import MIGRATIONS, SCHEMA_VERSION
from kds_device.gateway.db_writer import Writer
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


Queryable = Transaction  # the name this module used before the storage seam


class Reader:
    """Single-statement reads, each on a borrowed connection (a consistent snapshot each)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Rows:
        with self._pool.connection() as conn:
            cursor = conn.execute(sql, parameters)
            return Rows(cursor.fetchall(), cursor.rowcount)


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = Writer(self.pool, Path(f"{self.path}.lock"), self._committed)
        self._health_check = HealthCheck(
            self.path, self._writer, self.health, busy_timeout_s, self._committed
        )
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
        with self._writer.transaction() as conn:
            yield conn

    def run(self, job: Callable[[Transaction], T]) -> T:
        """Run ``job`` in a write transaction, possibly together with other threads' jobs
        (group commit: see :meth:`Writer.run <kds_device.gateway.db_writer.Writer.run>`)."""
        self._ensure_migrated()
        return self._writer.run(job)

    def _committed(self) -> None:
        """A transaction that changed rows committed. (One that changed nothing wrote nothing,
        which proves nothing about the storage: it leaves a fault as it is.)"""
        if self.health.succeeded():
            self.pool.flush()  # connections opened during the fault go, whatever they are
            # A row that fitted in pages the file had may commit on a full disk: the next
            # check probes again (space included) instead of trusting this write for a second.
            self._health_check.expire()

    def check(self, max_age_s: float = 1.0, wait_s: float = 1.0) -> Fault | None:
        """The storage's fault now, or None (:meth:`HealthCheck.check
        <kds_device.gateway.db_health.HealthCheck.check>`)."""
        return self._health_check.check(max_age_s, wait_s)

    def bell(self, kind: str, wake: Callable[[str | None], None]) -> Bell | None:
        """Wake-ups between the processes of this file: unix datagram doorbells beside it."""
        return Doorbell(bell_directory(self.path, kind), wake, kind)

    def describe(self) -> str:
        return str(self.path)

    def close(self) -> None:
        """Close every connection (at shutdown; lent-out ones when given back)."""
        self.pool.close()
        self._writer.close()

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
        with self._writer.transaction() as conn:
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
