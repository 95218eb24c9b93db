"""The storage seam: what the gateway's stores need from a database engine, engine-neutral.

The journal, outbox, devices, leases and pruner (the ports, see :mod:`ports`) are written
once against :class:`Store`: transactions that run portable SQL (``?`` and ``:name``
placeholders, ``ON CONFLICT``, ``RETURNING``, rows read by name or index), a health check, and
a wake-up channel between processes. Two engines implement it: SQLite
(:mod:`~kds_device.gateway.db`, one site, the default) and PostgreSQL
(:mod:`~kds_device.gateway.pg_store`, a chain: several gateway hosts on one database), chosen
by ``database.url``. Nothing outside those two modules names an engine's types or errors:
engine errors arrive as :class:`StorageError` (a bug or a refused statement) or
:class:`StorageUnavailable` (the storage cannot work now: 503 and ``Retry-After``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Appended to a SELECT of a row the transaction is about to write back, per engine:
#: PostgreSQL (READ COMMITTED) locks it until the transaction ends, so a concurrent writer
#: waits and then reads what this one wrote; SQLite's write transaction already admits one
#: writer at a time.
FOR_UPDATE = {"sqlite": "", "postgresql": " FOR UPDATE"}


def json_text(value: Any) -> str:
    """``value`` as the stores keep JSON in a text column: compact, non-ASCII as it is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class StorageError(Exception):
    """The database refused a statement for a reason other than a storage fault."""


class StorageUnavailable(StorageError):
    """The database cannot do this now (``kind``: locked, readonly, io_error, full, ...).

    The request should be retried later: the gateway answers 503 with ``Retry-After``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Fault:
    kind: str
    detail: str
    since: float  # epoch seconds of the first failure of this fault


class StorageHealth:
    """The storage's state as the last operations saw it: a fault until a write succeeds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self.faults = 0  # how many faults began (for logs and tests)

    @property
    def fault(self) -> Fault | None:
        with self._lock:
            return self._fault

    def failed(self, kind: str, detail: str) -> bool:
        """Record a failure; True when it starts a fault (the storage was fine before)."""
        with self._lock:
            if self._fault is not None:
                if self._fault.kind != kind:
                    self._fault = Fault(kind, detail, self._fault.since)
                return False
            self._fault = Fault(kind, detail, time.time())
            self.faults += 1
        log.error("storage fault (%s): %s; answering 503 until it passes", kind, detail)
        return True

    def succeeded(self) -> bool:
        """A write committed; True when that ends a fault."""
        with self._lock:
            fault, self._fault = self._fault, None
        if fault is None:
            return False
        log.warning(
            "storage recovered after %.1f s (%s: %s)",
            time.time() - fault.since,
            fault.kind,
            fault.detail,
        )
        return True


class Row(Protocol):
    """One result row: by column index or name; ``dict(row)`` gives name -> value."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Sequence[str]: ...


class Result(Protocol):
    """A statement's outcome."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Rows:
    """A statement's rows, already fetched (the connection is back in its pool)."""

    def __init__(self, rows: list[Any], rowcount: int = -1) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Transaction(Protocol):
    """Runs statements: inside one transaction (``write``/``run``) or one each (``read``)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Result: ...


class Bell(Protocol):
    """Carries a wake-up to the other gateway processes (and hosts) of one database."""

    def ring(self, key: str | None = None) -> object:
        """Wake the others' waiters of ``key`` (None: all of them)."""
        ...

    def close(self) -> None: ...


class Store(Protocol):
    """A gateway database engine."""

    #: "sqlite" or "postgresql": for the few statements that differ (see ``sql_*`` below).
    engine: str
    health: StorageHealth

    def read(self) -> Transaction:
        """Single-statement reads, each on a borrowed connection."""
        ...

    def write(self) -> AbstractContextManager[Transaction]:
        """One write transaction; committed on success, rolled back on any exception."""
        ...

    def run(self, job: Callable[[Transaction], T]) -> T:
        """``job`` in a write transaction (maybe shared with other threads' jobs, maybe run
        again after a rollback); its result, or its exception re-raised."""
        ...

    def check(self, max_age_s: float = 1.0, wait_s: float = 1.0) -> Fault | None:
        """The storage's fault now (tries a tiny write), or None."""
        ...

    def bell(self, kind: str, wake: Callable[[str | None], None]) -> Bell | None:
        """A channel that calls ``wake(key)`` when another process rings ``kind`` (``key`` as
        it was rung, or None when the channel cannot tell)."""
        ...

    def describe(self) -> str:
        """Where the data lives, for logs (no password)."""
        ...

    def close(self) -> None: ...


#: The event as a device reads it (``Event.to_json()``), built by the database.
EVENT_JSON = {
    "sqlite": "json_object('seq', seq, 'locationId', location_id, 'type', type,"
    " 'orderId', order_id, 'data', json(data), 'at', at)",
    "postgresql": "json_build_object('seq', seq, 'locationId', location_id, 'type', type,"
    " 'orderId', order_id, 'data', data::json, 'at', at)::text",
}
