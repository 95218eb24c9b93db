"""SQLite connections for the gateway: a small pool that closes what it does not keep.

A connection is borrowed for one statement or one transaction (``with pool.connection() as
conn``) and given back, so connections follow the work, not the threads: a server that starts
a thread per request leaves nothing behind, and at most ``max_idle`` connections stay open
between requests.

A storage fault (read-only file, full disk, I/O error, lock held too long) is translated into
:class:`StorageUnavailable` and reported to :class:`StorageHealth`. The connection that saw it
is closed and the idle ones are dropped too, so after the fault every statement runs on a
freshly opened connection. A connection opened while the database file or its directory
could not be written is read-only for good (SQLite falls back to read-only at open), so it
is used for the borrow that opened it and then closed, never kept.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kds_device.gateway.storage import Fault, StorageError, StorageHealth, StorageUnavailable

__all__ = ["ConnectionPool", "Fault", "StorageHealth", "StorageUnavailable", "fault_kind"]

log = logging.getLogger(__name__)

#: SQLite's primary result codes that mean "the storage, not the statement, is at fault".
FAULT_KINDS = {
    5: "locked",  # SQLITE_BUSY
    6: "locked",  # SQLITE_LOCKED
    8: "readonly",  # SQLITE_READONLY
    10: "io_error",  # SQLITE_IOERR
    11: "corrupt",  # SQLITE_CORRUPT
    13: "full",  # SQLITE_FULL
    14: "cantopen",  # SQLITE_CANTOPEN
    15: "locked",  # SQLITE_PROTOCOL (a lock race in WAL)
    26: "corrupt",  # SQLITE_NOTADB
}


def fault_kind(error: BaseException) -> str | None:
    """The storage fault an exception stands for, or None (a bug, a constraint, ...)."""
    if isinstance(error, StorageUnavailable):
        return error.kind
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return FAULT_KINDS.get(code & 0xFF)
    text = str(error).lower()  # errors raised before SQLite gave a code
    if "readonly" in text:
        return "readonly"
    if "locked" in text:
        return "locked"
    if "unable to open" in text:
        return "cantopen"
    return None


@dataclass
class _Pooled:
    conn: sqlite3.Connection
    generation: int
    keep: bool  # False: opened read-only (or at a bad moment); closed after this borrow


class ConnectionPool:
    """Borrow-and-return SQLite connections to one file; at most ``max_idle`` kept open."""

    def __init__(
        self,
        path: Path,
        opener: Callable[[Path], sqlite3.Connection],
        health: StorageHealth,
        max_idle: int = 4,
    ) -> None:
        self.path = path
        self._opener = opener
        self.health = health
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[_Pooled] = []
        self._generation = 0
        self._closed = False
        self.opened = 0  # connections opened so far (for tests and the soak bench)
        self._open_now = 0

    @property
    def open_connections(self) -> int:
        """Connections open right now: idle ones plus those lent out."""
        with self._lock:
            return self._open_now

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one statement or transaction; a storage fault inside the block is
        re-raised as :class:`StorageUnavailable` and the connection is not reused."""
        pooled = self._take()
        try:
            yield pooled.conn
        except BaseException as error:
            kind = fault_kind(error)
            if kind is None:
                self._give_back(pooled)
                if isinstance(error, sqlite3.Error):  # no engine errors past the store
                    raise StorageError(str(error)) from error
                raise
            self._close(pooled)
            if kind != "locked":  # a lock is someone else's; the connections are fine
                self.flush()
            self.health.failed(kind, str(error))
            if isinstance(error, StorageUnavailable):
                raise
            raise StorageUnavailable(kind, str(error)) from error
        self._give_back(pooled)

    def flush(self) -> None:
        """Close every idle connection; those lent out are closed when given back."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
        for pooled in idle:
            self._close(pooled)

    def close(self) -> None:
        """At shutdown: close the idle connections and every one given back from now on."""
        with self._lock:
            self._closed = True
        self.flush()

    def _take(self) -> _Pooled:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            generation = self._generation
            self._open_now += 1
        try:
            writable = self.writable()
            conn = self._opener(self.path)
        except BaseException as error:
            with self._lock:
                self._open_now -= 1
            kind = fault_kind(error)
            if kind is None:
                if isinstance(error, sqlite3.Error):
                    raise StorageError(str(error)) from error
                raise
            self.health.failed(kind, str(error))
            raise StorageUnavailable(kind, str(error)) from error
        self.opened += 1
        return _Pooled(conn, generation, keep=writable)

    def writable(self) -> bool:
        """Can this process write the file and create its journal? (Checked at open: SQLite
        silently opens read-only when it cannot, and such a connection stays read-only.)"""
        directory = self.path.parent
        return os.access(directory, os.W_OK | os.X_OK, effective_ids=True) and (
            not self.path.exists() or os.access(self.path, os.W_OK, effective_ids=True)
        )

    def _give_back(self, pooled: _Pooled) -> None:
        if pooled.conn.in_transaction:  # the borrower left one open: never lend it so
            try:
                pooled.conn.execute("ROLLBACK")
            except sqlite3.Error:
                self._close(pooled)
                return
        with self._lock:
            if (
                pooled.keep
                and not self._closed
                and pooled.generation == self._generation
                and len(self._idle) < self.max_idle
            ):
                self._idle.append(pooled)
                return
        self._close(pooled)

    def _close(self, pooled: _Pooled) -> None:
        with self._lock:
            self._open_now -= 1
        try:
            pooled.conn.close()
        except sqlite3.Error:
            log.debug("closing a connection failed", exc_info=True)
