"""The PostgreSQL store (a chain: several gateway hosts on one database), with psycopg 3.

Connections come from a ``psycopg_pool`` pool, in autocommit mode: ``read()`` runs one
statement, ``write()`` one explicit transaction (READ COMMITTED). What SQLite gets from its one
writer at a time, PostgreSQL gets from row locks: an event's ``seq`` comes from
``UPDATE locations SET last_seq = last_seq + 1 ... RETURNING`` in the event's own transaction,
so writers of one location queue on that row and ``seq`` stays gap-free on any number of hosts;
outbox rows are claimed ``FOR UPDATE SKIP LOCKED``; leases and cursors are rows.
Wake-ups between processes and hosts are ``LISTEN``/``NOTIFY`` (:mod:`pg_notify`).

Storage faults (the server gone, read-only, disk full, a lock held too long) become
:class:`~kds_device.gateway.storage.StorageUnavailable`, so the HTTP layer answers 503 just as
with SQLite; any other database error becomes :class:`~kds_device.gateway.storage.StorageError`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from kds_device.gateway.pg_notify import NotifyBell
from kds_device.gateway.pg_schema import MIGRATIONS, SCHEMA_VERSION
from kds_device.gateway.storage import (
    Fault,
    Rows,
    StorageError,
    StorageHealth,
    StorageUnavailable,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The row the health check rewrites to prove the database takes writes.
PROBE_CURSOR = "storage-probe"
#: The health check's table, made and dropped in each probe: its first row needs new space.
PROBE_TABLE = "kds_storage_probe"
#: Held while migrating, so gateways starting together migrate once.
MIGRATION_LOCK = 0x6B6473  # "kds"

#: SQLSTATEs (or their two-character class) that mean "the storage, not the statement".
_FAULTS = {
    "25006": "readonly",  # read_only_sql_transaction
    "53100": "full",  # disk_full
    "53200": "overloaded",  # out_of_memory
    "53300": "overloaded",  # too_many_connections
    "55P03": "locked",  # lock_not_available (lock_timeout)
    "57014": "locked",  # query_canceled (statement_timeout)
    "40P01": "locked",  # deadlock_detected
    "40001": "locked",  # serialization_failure
    "58030": "io_error",  # io_error
    "XX001": "corrupt",  # data_corrupted
    "XX002": "corrupt",  # index_corrupted
    "08": "unreachable",  # connection exceptions
    "57P": "unreachable",  # admin/crash shutdown, cannot connect now
}


def fault_kind(error: BaseException) -> str | None:
    """The storage fault an exception stands for, or None (a bug, a constraint, ...)."""
    if isinstance(error, StorageUnavailable):
        return error.kind
    if isinstance(error, PoolTimeout):
        return "unreachable"
    if not isinstance(error, psycopg.Error):
        return None
    state = error.sqlstate
    if state is None:  # no answer from the server: the connection broke
        return "unreachable" if isinstance(error, psycopg.OperationalError) else None
    return _FAULTS.get(state) or _FAULTS.get(state[:3]) or _FAULTS.get(state[:2])


class PgRow(tuple[Any, ...]):
    """A row readable by index and by column name, like ``sqlite3.Row``."""

    _names: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> Sequence[str]:
        return self._names


_row_classes: dict[tuple[str, ...], type[PgRow]] = {}


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    names = tuple(column.name for column in cursor.description or ())
    kind = _row_classes.get(names)
    if kind is None:  # one class per column list, made once (statements repeat)
        index = {name: i for i, name in enumerate(names)}
        kind = _row_classes[names] = type("Row", (PgRow,), {"_names": names, "_index": index})
    return kind


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_converted: dict[tuple[str, bool], str] = {}


def _convert(sql: str, named: bool) -> str:
    """The stores' portable placeholders (``?``, ``:name``) in psycopg's (``%s``,
    ``%(name)s``)."""
    found = _converted.get((sql, named))
    if found is None:
        text = sql.replace("%", "%%")
        text = _NAMED.sub(r"%(\1)s", text) if named else text.replace("?", "%s")
        found = _converted[(sql, named)] = text
    return found


class PgTransaction:
    """Runs the stores' statements on one psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        named = isinstance(parameters, Mapping)
        if named:
            parameters = {name: _storable(value) for name, value in parameters.items()}
        else:
            parameters = [_storable(value) for value in parameters]
        return self._conn.execute(_convert(sql, named), parameters)


def _storable(value: Any) -> Any:
    """PostgreSQL's text cannot hold NUL: a NUL a client sent (an idempotency key, a reason)
    is stored as U+FFFD, the same way every time, so it still matches itself."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


class _Reader:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def execute(self, sql: str, parameters: Any = (), /) -> Rows:
        with self._store.connection() as conn:
            cursor = PgTransaction(conn).execute(sql, parameters)
            rows = cursor.fetchall() if cursor.description is not None else []
            return Rows(rows, cursor.rowcount)


class PostgresStore:
    """The PostgreSQL :class:`~kds_device.gateway.storage.Store`."""

    engine = "postgresql"

    def __init__(self, url: str, busy_timeout_s: float = 10.0, max_size: int = 16) -> None:
        self.url = url
        self.busy_timeout_s = busy_timeout_s
        self.health = StorageHealth()
        self._probe_lock = threading.Lock()
        self._probed_at = -1e9
        self._reader = _Reader(self)
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "row_factory": _row_factory},
            configure=self._configure,
            timeout=busy_timeout_s,
            name="kds-gateway",
            open=False,
        )
        self._migrated = threading.Event()
        self._migrate_lock = threading.Lock()
        self.pool.open(wait=False)
        try:
            self._ensure_migrated(busy_timeout_s)
        except StorageUnavailable as problem:
            # A gateway (or a worker restarted) during an outage starts anyway and answers
            # 503 until the server is back; the schema is checked on the first connection.
            log.error("database %s unreachable at start: %s", self.describe(), problem.detail)

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        # A write waits this long for another's row lock, then answers 503 (SQLite's
        # busy timeout).
        conn.execute(f"SET lock_timeout = {int(self.busy_timeout_s * 1000)}")

    def describe(self) -> str:
        """Host, port and database (never the password)."""
        parts = conninfo_to_dict(self.url)
        where = parts.get("host") or "local socket"
        return f"postgresql {where}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; database errors inside the block become storage errors."""
        if not self._migrated.is_set():
            self._ensure_migrated(timeout)
        try:
            with self.pool.connection(timeout=timeout) as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as error:
            kind = fault_kind(error)
            if kind is None:
                raise StorageError(str(error)) from error
            self.health.failed(kind, str(error).strip())
            raise StorageUnavailable(kind, str(error).strip()) from error

    def read(self) -> _Reader:
        return self._reader

    @contextmanager
    def write(self) -> Iterator[PgTransaction]:
        with self.connection() as conn, conn.transaction():
            yield PgTransaction(conn)
        if self.health.succeeded():
            # A row that fitted in a page with room commits on a full disk too: the next check
            # probes again (new space included) instead of trusting this write for a second.
            self._probed_at = -1e9

    def run(self, job: Callable[[Any], T]) -> T:
        """``job`` in its own transaction (PostgreSQL groups concurrent commits itself); once
        more on a fresh connection if the first one broke."""
        try:
            with self.write() as tx:
                return job(tx)
        except StorageUnavailable as problem:
            # Only a connection that broke under us (the server restarted, a failover) is worth
            # a second try; a pool that had none to lend has already waited its timeout.
            if problem.kind != "unreachable" or isinstance(problem.__cause__, PoolTimeout):
                raise
        with self.write() as tx:
            return job(tx)

    def check(self, max_age_s: float = 1.0, wait_s: float = 1.0) -> Fault | None:
        """The storage's fault now, or None: a write that needs new space (a row updated and a
        new table's first page), waiting at most ``wait_s``;
        while healthy at most every ``max_age_s``, while at fault each time."""
        asked = time.monotonic()
        with self._probe_lock:
            fresh = self._probed_at >= asked or (
                self.health.fault is None and asked - self._probed_at < max_age_s
            )
            if not fresh:
                with contextlib.suppress(StorageUnavailable, StorageError):
                    self._probe(wait_s)
                self._probed_at = time.monotonic()
            return self.health.fault

    def _probe(self, wait_s: float) -> None:
        limit = max(1, int(wait_s * 1000))
        with self.connection(timeout=wait_s) as conn, conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = {limit}")
            conn.execute(f"SET LOCAL statement_timeout = {limit}")
            conn.execute(
                "INSERT INTO cursors (name, value) VALUES (%s, %s) ON CONFLICT (name)"
                " DO UPDATE SET value = excluded.value",
                (PROBE_CURSOR, int(time.time())),
            )
            # A row that fits where the last one was proves nothing about space: a full disk
            # fails only writes that need a new page. A fresh (temporary, so in the database's
            # own tablespace and nobody else's way) table needs one for its first row.
            conn.execute(f"CREATE TEMPORARY TABLE {PROBE_TABLE} (probe INTEGER) ON COMMIT DROP")
            conn.execute(f"INSERT INTO {PROBE_TABLE} VALUES (1)")
        self.health.succeeded()

    def bell(self, kind: str, wake: Callable[[str | None], None]) -> NotifyBell:
        return NotifyBell(self.url, f"kds_{kind}", wake)

    def close(self) -> None:
        self.pool.close()

    def _ensure_migrated(self, timeout: float | None) -> None:
        """Create or migrate the schema once, on the first connection that works."""
        with self._migrate_lock:
            if self._migrated.is_set():
                return
            try:
                with self.pool.connection(timeout=timeout) as conn:
                    self._migrate(conn)
            except (psycopg.Error, PoolTimeout) as error:
                kind = fault_kind(error)
                if kind is None:
                    raise StorageError(str(error)) from error
                self.health.failed(kind, str(error).strip())
                raise StorageUnavailable(kind, str(error).strip()) from error
            self._migrated.set()

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            version = 0 if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.describe()} has schema {version}, newer than this gateway"
                    f" ({SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                log.info("database %s: migrating schema to version %d", self.describe(), target)
                conn.execute(MIGRATIONS[target].encode())  # several statements, no parameters
            if version != SCHEMA_VERSION:
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
