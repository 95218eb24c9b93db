"""One SQLite writer at a time, across threads and processes, and group commit.

Every write runs in ``BEGIN IMMEDIATE`` so several gateway processes can share one file: the
write lock is taken up front, so two writers never deadlock upgrading a read lock. Writers
queue on a thread lock and, across processes, on an flock of a file beside the database,
rather than in SQLite's busy handler: that one sleeps in steps of up to 100 ms, which would
ruin the latency of every webhook. Both hand over at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from kds_device.gateway.db_pool import ConnectionPool
from kds_device.gateway.storage import StorageUnavailable, Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Job:
    """One caller's share of a group commit."""

    fn: Callable[[Transaction], Any]
    done: bool = False
    committed: bool = False
    result: Any = None
    error: BaseException | None = None


class Writer:
    """Write transactions on ``pool``'s connections, one at a time; ``committed`` is called
    after each commit that changed rows."""

    def __init__(
        self, pool: ConnectionPool, lock_path: Path, committed: Callable[[], None]
    ) -> None:
        self.pool = pool
        self._committed = committed
        #: Held by the writer of this process (the health check's probe waits on it too).
        self.lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Job] = []
        self._lock_fd = _open_lock_file(lock_path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; committed on success, rolled back on any
        exception."""
        with self.lock, self.pool.connection() as conn, self.file_lock():
            changes = conn.total_changes
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
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
        ticket = _Job(job)
        with self._queue_lock:
            self._queue.append(ticket)
        with self.lock:
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
            with self.pool.connection() as conn, self.file_lock():
                changes = conn.total_changes
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for job in batch:
                        job.result = job.fn(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    rollback(conn)
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

    @contextmanager
    def file_lock(self) -> Iterator[None]:
        """The other processes' writers wait while this is held."""
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            self.release_file_lock()

    def try_file_lock(self, deadline: float) -> bool:
        """Take the file lock by ``deadline`` (``time.monotonic``), else False; released by
        :meth:`release_file_lock`."""
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.005)

    def release_file_lock(self) -> None:
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _open_lock_file(path: Path) -> int:
    """The writers' lock file, for writing where it can be; else read-only (``flock`` needs
    no more), so a process started while the directory is read-only still starts."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return os.open(path, os.O_RDONLY)


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is open; a failing rollback must not hide the first error."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.debug("rollback failed", exc_info=True)
