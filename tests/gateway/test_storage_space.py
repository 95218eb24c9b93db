"""The health check sees a full disk even while a one-row write still fits, on both stores.

A full disk fails only the writes that need new space: SQLite's WAL pages it already has, or a
PostgreSQL page with room, still take a small write (the old probe, a row rewritten in place),
while an order's pages do not. The check's probe must need new space itself, or ``/health``
says ok during a real fault. The storage sits on a small tmpfs (a tablespace on one for
PostgreSQL, see ``tests/fixtures/storage_faults.py``), filled to the last byte.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kds_device.gateway.db import Database
from kds_device.gateway.journal import Journal
from kds_device.gateway.pg_store import PostgresStore
from kds_device.gateway.storage import Store
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.storage_faults import DiskFull, PgDiskFull

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def full_disk(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[DiskFull, Store]]:
    """A store of the current engine on a small tmpfs (not yet full), and its fault maker."""
    maker: DiskFull
    opened: Store
    if store == "postgresql":
        maker = PgDiskFull(request.getfixturevalue("postgres"))
        maker.prepare(PgDiskFull.mount_point())
        try:
            opened = PostgresStore(maker.url, busy_timeout_s=2.0)
        except BaseException:
            maker.cleanup()
            raise
    else:
        maker = DiskFull()
        maker.prepare(tmp_path / "data")
        opened = Database(tmp_path / "data" / "g.db", busy_timeout_s=2.0)
    try:
        yield maker, opened
    finally:
        opened.close()
        maker.cleanup()


def set_cursor(db: Store, value: int) -> None:
    """A one-row write that fits where the row was."""
    with db.write() as tx:
        tx.execute(
            "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name)"
            " DO UPDATE SET value = excluded.value",
            ("test-one-row", value),
        )


def test_health_reports_a_full_disk_that_a_one_row_write_does_not_notice(
    full_disk: tuple[DiskFull, Store],
) -> None:
    maker, db = full_disk
    journal = Journal(db)
    journal.register("loc", "acc", "ref")
    gen = OrderGenerator(seed=5, location="loc")
    for _ in range(40):  # pages, WAL frames and a page with room for the one row
        order = gen.order()
        journal.receive_order("loc", order["orderId"], order)
    set_cursor(db, 0)
    if isinstance(db, Database):  # the WAL's frames copied back: the next write reuses them
        with sqlite3.connect(db.path) as conn:
            conn.execute("PRAGMA wal_checkpoint(FULL)")
    assert db.check(max_age_s=0) is None

    maker.begin(Path(), 0)
    try:
        set_cursor(db, 1)  # still fits: this write alone proves nothing about space
        fault = db.check(max_age_s=0)
        assert fault is not None and fault.kind == "full", fault
        assert db.check(max_age_s=0) is not None  # and stays so while the disk is full
    finally:
        maker.end()
    deadline = time.monotonic() + 10
    while db.check(max_age_s=0) is not None:
        assert time.monotonic() < deadline, "health still at fault after space was freed"
        time.sleep(0.1)
    order = gen.order()
    assert journal.receive_order("loc", order["orderId"], order)


def test_a_write_that_still_fits_does_not_end_a_full_disk_fault(
    full_disk: tuple[DiskFull, Store],
) -> None:
    """A row rewritten in place commits on a full disk: that commit must not make ``/health``
    say ok (it used to for up to a second: the fault was cleared and the last probe was fresh)."""
    maker, db = full_disk
    journal = Journal(db)
    journal.register("loc", "acc", "ref")
    gen = OrderGenerator(seed=6, location="loc")
    for _ in range(40):
        order = gen.order()
        journal.receive_order("loc", order["orderId"], order)
    set_cursor(db, 0)
    if isinstance(db, Database):
        with sqlite3.connect(db.path) as conn:
            conn.execute("PRAGMA wal_checkpoint(FULL)")
    assert db.check(max_age_s=0) is None

    maker.begin(Path(), 0)
    try:
        fault = db.check(max_age_s=0)
        assert fault is not None and fault.kind == "full", fault
        for value in range(2, 6):
            set_cursor(db, value)  # commits: the row fits where it was
            fault = db.check()  # the default: a healthy store is probed at most once a second
            assert fault is not None and fault.kind == "full", f"write {value}: {fault}"
    finally:
        maker.end()
