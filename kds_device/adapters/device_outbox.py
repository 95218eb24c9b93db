"""The device outbox: every bump is stored here before anything else happens to it, then sent
to the gateway in order until the gateway acknowledges it. A bump is a status (expo, a
one-screen kitchen), a station's part bumped or reopened, or an item marked done; all three
travel the same way, each with its idempotency key.

The board's change is on screen at once; :meth:`DeviceOutbox.submit` commits the
:class:`StatusChange` (with the board's idempotency key) to SQLite on the caller's thread and
wakes the sender thread, which posts the oldest row first and deletes it only on a 200. 5xx,
timeouts, connection errors, 401/403/429 are retried with backoff (sooner when the gateway comes
back); other 4xx are final: logged, kept in a small ``rejected`` table for ``kds-device
status`` and dropped from the queue. A restart resumes with the same rows and keys, and the
gateway answers a repeated key with the first answer, so each bump reaches Deliverect once.

Own file (``outbox.sqlite3``) in the data dir, WAL with ``synchronous=FULL`` (SD cards, trap 10).
The app must call ``submit`` *before* it persists the bumped board: a crash in between then
shows the ticket again while its status still travels, never the reverse.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kds_device.adapters.backoff import Backoff
from kds_device.adapters.gateway_client import GatewayClient, GatewayRefused, GatewayUnreachable
from kds_device.domain.ticket import ItemChange, PartChange, Request, StatusChange
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Message, OutboxChanged

log = logging.getLogger(__name__)

FILE_NAME = "outbox.sqlite3"
SCHEMA_VERSION = 2
KEEP_REJECTED = 100
CONTACT_WRITE_EVERY_S = 30.0  # "last contact" for `kds-device status`, without wearing the SD

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    order_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    error TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
#: Version 2: part and item requests beside statuses (``kind``: status, part or item).
_MIGRATE_2 = """
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'status';
ALTER TABLE outbox ADD COLUMN station TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN item INTEGER NOT NULL DEFAULT -1;
ALTER TABLE outbox ADD COLUMN done INTEGER NOT NULL DEFAULT 1;
"""
_COLUMNS = "id, order_id, status, key, attempts, last_error, kind, station, item, done"


@dataclass(frozen=True)
class QueuedBump:
    id: int
    change: Request
    attempts: int
    last_error: str


def _row(row: tuple[Any, ...]) -> QueuedBump:
    ident, order_id, status, key, attempts, error, kind, station, item, done = row
    change: Request
    if kind == "part":
        change = PartChange(order_id, station, bool(done), key)
    elif kind == "item":
        change = ItemChange(order_id, station, int(item), bool(done), key)
    else:
        change = StatusChange(order_id, int(status), key)
    return QueuedBump(ident, change, attempts, error)


def _kind(change: Request) -> tuple[str, int, str, int, int]:
    """(kind, status, station, item, done) columns of a request."""
    if isinstance(change, PartChange):
        return "part", 0, change.station, -1, int(change.done)
    if isinstance(change, ItemChange):
        return "item", 0, change.station, change.item, int(change.done)
    return "status", change.status, "", -1, 1


def outbox_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


class OutboxDatabase:
    """The SQLite side, usable without a sender (``kds-device status`` reads it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"{path}: schema {version} is newer than this program")
        if version < SCHEMA_VERSION:
            steps = (_SCHEMA if version < 1 else "") + _MIGRATE_2
            with self._transaction() as db:
                for statement in steps.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, change: Request) -> bool:
        """Store one request durably; False when its key is already queued."""
        kind, status, station, item, done = _kind(change)
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO outbox (key, order_id, status, created, kind, station,"
                " item, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (change.key, change.order_id, status, _now(), kind, station, item, done),
            )
            return cursor.rowcount == 1

    def head(self) -> QueuedBump | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY id LIMIT 1").fetchone()
        return None if row is None else _row(row)

    def pending(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def delivered(self, item: QueuedBump) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (item.id,))

    def failed(self, item: QueuedBump, error: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:300], item.id),
            )

    def reject(self, item: QueuedBump, error: str) -> None:
        if not isinstance(item.change, StatusChange):  # say what it was (its status is 0)
            error = f"{describe(item.change)}: {error}"
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (item.id,))
            db.execute(
                "INSERT INTO rejected (key, order_id, status, error, at) VALUES (?, ?, ?, ?, ?)",
                (item.change.key, item.change.order_id, _kind(item.change)[1], error[:300], _now()),
            )
            db.execute(
                "DELETE FROM rejected WHERE id <= (SELECT MAX(id) FROM rejected) - ?",
                (KEEP_REJECTED,),
            )

    def rejected(self, limit: int = 10) -> list[tuple[str, int, str, str]]:
        """(order id, status, error, when) of the latest final refusals, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT order_id, status, error, at FROM rejected ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(r[0], int(r[1]), r[2], r[3]) for r in rows]

    def queued(self) -> list[QueuedBump]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY id").fetchall()
        return [_row(r) for r in rows]

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])


class DeviceOutbox:
    """The :class:`StatusSink` of ``kds-device run``: durable, ordered, retried."""

    def __init__(
        self,
        database: OutboxDatabase,
        client: GatewayClient,
        inbox: Inbox[Message],
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self._client = client
        self._inbox = inbox
        self._backoff = backoff or Backoff(initial_s=0.5, maximum_s=15.0)
        self._clock = clock
        self._work = threading.Event()  # something was queued
        self._retry_now = threading.Event()  # the gateway is back: skip the backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._contact_written = -CONTACT_WRITE_EVERY_S

    # ---- StatusSink ---------------------------------------------------------------------

    def submit(self, change: Request) -> None:
        """Commit the change (a local SQLite write) and return; the sender does the rest."""
        if self.database.add(change):
            self._announce()
        self._work.set()

    # ---- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._announce()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop sending (what is queued stays queued for the next start)."""
        self._stop.set()
        self._work.set()
        self._retry_now.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._client.close()

    def nudge(self) -> None:
        """The gateway is reachable again: retry the head now instead of after the backoff."""
        self._backoff.reset()
        self._retry_now.set()
        self._work.set()

    def note_contact(self) -> None:
        """Remember when the gateway last answered (written at most every 30 s)."""
        now = self._clock()
        if now - self._contact_written < CONTACT_WRITE_EVERY_S:
            return
        self._contact_written = now
        try:
            self.database.set_meta("last_contact", _now())
        except sqlite3.Error as error:
            log.warning("cannot record the last contact: %s", error)

    @property
    def pending(self) -> int:
        return self.database.pending()

    # ---- the sender ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self.database.head()
            except sqlite3.Error:
                log.exception("outbox: cannot read the queue")
                self._stop.wait(1.0)
                continue
            if item is None:
                self._work.wait()
                self._work.clear()
                continue
            self._send(item)

    def _send(self, item: QueuedBump) -> None:
        change = item.change
        self._retry_now.clear()  # a nudge from here on cuts the next backoff short
        try:
            answer = self._client.post_request(change)
        except GatewayRefused as error:
            if error.final:
                log.warning(
                    "gateway refused %s for order %s (key %s): %s; dropped",
                    describe(change),
                    change.order_id,
                    change.key,
                    error,
                )
                self.database.reject(item, str(error))
                self._announce()
                return
            self._retry_later(item, str(error), error.retry_after)
            return
        except GatewayUnreachable as error:
            self._retry_later(item, error.detail, error.retry_after)
            return
        except Exception as error:  # a bug must not stop the queue for good
            log.exception("outbox: unexpected error sending %s", change)
            self._retry_later(item, f"internal error: {error}", None)
            return
        if not answer.accepted:
            log.info("gateway kept but did not forward %s for %s", describe(change), answer)
        self.database.delivered(item)
        self._backoff.reset()
        self._announce()

    def _retry_later(self, item: QueuedBump, error: str, retry_after: float | None) -> None:
        log.debug("outbox: %s %d failed (%s); retrying", item.change.order_id, item.id, error)
        try:
            self.database.failed(item, error)
        except sqlite3.Error as db_error:
            log.warning("outbox: cannot record the failure: %s", db_error)
        delay = self._backoff.next_delay(retry_after)
        deadline = self._clock() + delay
        while not self._stop.is_set():
            left = deadline - self._clock()
            if left <= 0 or self._retry_now.wait(left):
                break

    def _announce(self) -> None:
        self._inbox.post(OutboxChanged(self.database.pending()))


def describe(change: Request) -> str:
    """A request in words for the log and ``kds-device status``."""
    if isinstance(change, PartChange):
        return f"{change.station} part {'done' if change.done else 'reopened'}"
    if isinstance(change, ItemChange):
        return f"{change.station} item {change.item} {'done' if change.done else 'not done'}"
    return f"status {change.status}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
