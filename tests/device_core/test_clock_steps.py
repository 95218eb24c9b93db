"""Clocks (issue 9, point 8): a Pi has no RTC and NTP steps its wall clock. With the real
Board and BoardStore and injected (wall, monotonic) times: ages survive restarts and steps,
a scheduled order never hides past its promise, and no tile shows absurd figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kds_device.adapters.store import MAX_DOWNTIME_S, BoardStore
from kds_device.domain import AgeClass, Alert, Board, BoardSettings
from kds_device.domain.clock import Instant
from kds_device.domain.timestamps import format_timestamp
from kds_device.sim.orders import OrderGenerator
from kds_device.ui import tile_text
from tests.fixtures.common import FakeTime

TRUE_START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return format_timestamp(moment)


def restart(path: Path, now: Instant, boot_id: str | None = None) -> tuple[Board, BoardStore]:
    """What a new process does: a new Board from the same SQLite file."""
    store = BoardStore(path) if boot_id is None else BoardStore(path, boot_id=boot_id)
    board = Board(BoardSettings())
    board.restore(store.load(now))
    return board, store


def save(board: Board, store: BoardStore, now: Instant) -> None:
    store.save(board.tickets(), {"last_seq": "1"}, now)
    store.close()


def due_text(board: Board, order_id: str, now: Instant) -> str:
    ticket = board.ticket(order_id)
    assert ticket is not None and ticket.order is not None
    return tile_text.format_due(board.urgency(ticket, now), ticket.order.asap, UTC)


def minutes_in(text: str) -> int:
    digits = "".join(ch if ch.isdigit() else " " for ch in text.split("due ")[-1]).split()
    return int(digits[0]) if digits and "min" in text else 0


@pytest.mark.parametrize("step_h", [3, -3])
def test_wall_clock_steps_with_a_restart_in_between_do_not_move_ages(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator, step_h: int
) -> None:
    path = tmp_path / "board.db"
    store = BoardStore(path)
    board = Board(BoardSettings())
    plain = orders.order(pickupTime="", estimatedPickupTime="", deliveryTime="", orderType=1)
    board.receive_order(plain, clock())
    now = clock.advance(120)
    save(board, store, now)

    now = clock.step_wall(step_h * 3600)  # NTP (or a person) steps the clock
    board, store = restart(tmp_path / "board.db", clock.advance(5))
    ticket = board.ticket(plain["orderId"])
    assert ticket is not None
    assert board.elapsed_s(ticket, clock()) == pytest.approx(125)
    assert board.age_class(ticket, clock()) is AgeClass.ON_TIME
    save(board, store, clock())

    clock.step_wall(-step_h * 3600)  # and back again, with another restart
    board, store = restart(path, clock.advance(5))
    ticket = board.ticket(plain["orderId"])
    assert ticket is not None
    assert board.elapsed_s(ticket, clock()) == pytest.approx(130)
    assert board.late_count(clock()) == 0
    store.close()


def boot_11h_behind() -> FakeTime:
    clock = FakeTime()
    clock.now = Instant(TRUE_START - timedelta(hours=11), 30.0)  # shortly after boot
    return clock


def true_orders(clock: FakeTime) -> OrderGenerator:
    """Deliverect's times are right: the orders carry the true time, not the Pi's."""
    return OrderGenerator(
        seed=7, clock=lambda: TRUE_START + (clock.now.mono - 30.0) * timedelta(seconds=1)
    )


def test_eleven_hours_behind_at_boot_then_corrected_with_a_restart(tmp_path: Path) -> None:
    clock = boot_11h_behind()
    orders = true_orders(clock)
    path = tmp_path / "board.db"
    store = BoardStore(path)
    board = Board(BoardSettings())
    asap = orders.order(orderType=1, pickupTime=stamp(TRUE_START + timedelta(minutes=15)))
    scheduled = orders.order(
        orderType=1,
        deliveryIsAsap=False,
        pickupTime=stamp(TRUE_START + timedelta(minutes=30)),
        estimatedPickupTime="",
    )
    board.receive_order(asap, clock())
    board.receive_order(scheduled, clock())
    now = clock.advance(120)
    # the wrong clock: the promise looks 11 h away; the tile names its time, not "673 min"
    assert "min" not in due_text(board, asap["orderId"], now)
    save(board, store, now)

    clock.step_wall(11 * 3600)  # NTP steps the clock to the truth
    board, store = restart(path, clock.advance(1))
    ticket = board.ticket(asap["orderId"])
    assert ticket is not None
    assert board.elapsed_s(ticket, clock()) == pytest.approx(121), "not 671 min LATE"
    assert board.age_class(ticket, clock()) is AgeClass.ON_TIME
    assert minutes_in(due_text(board, asap["orderId"], clock())) == 12
    hidden = board.ticket(scheduled["orderId"])
    assert hidden is not None and board.age_class(hidden, clock()) is AgeClass.UPCOMING

    # its start-by (promise - 20 min) comes: on the board, whatever the clock said at arrival
    assert board.release_due(clock()).alerts == []  # held UPCOMING again after the restart
    assert board.upcoming() == [hidden]
    now = clock.advance(10 * 60)
    assert board.age_class(hidden, now) is not AgeClass.UPCOMING
    assert board.release_due(now).alerts == [Alert.ORDER_DUE]
    # its promise passes: LATE, counted, and the words say so
    now = clock.advance(20 * 60)
    assert board.age_class(hidden, now) is AgeClass.LATE
    assert board.late_count(now) == 2  # the ASAP one (promise 13:15 passed) and this one
    assert "min over" in due_text(board, scheduled["orderId"], now)
    store.close()


def test_a_reboot_with_the_clock_behind_keeps_the_age_at_the_last_save(tmp_path: Path) -> None:
    clock = FakeTime()
    orders = OrderGenerator(seed=3, clock=lambda: clock.now.wall)
    path = tmp_path / "board.db"
    store = BoardStore(path, boot_id="boot-1")
    board = Board(BoardSettings())
    payload = orders.order(orderType=1, pickupTime="", estimatedPickupTime="", deliveryTime="")
    board.receive_order(payload, clock())
    save(board, store, clock.advance(240))

    # power cut; the Pi boots with its clock 11 h behind and a fresh monotonic clock
    clock.now = Instant(clock.now.wall - timedelta(hours=11), 25.0)
    board, store = restart(path, clock(), boot_id="boot-2")
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    assert board.elapsed_s(ticket, clock()) == pytest.approx(240)  # never 671 min, never < 0
    # NTP corrects the clock: the age runs on the monotonic clock, unmoved
    clock.step_wall(11 * 3600 + 60)
    assert board.elapsed_s(ticket, clock.advance(60)) == pytest.approx(300)
    save(board, store, clock())

    # a reboot with the clock far ahead adds at most MAX_DOWNTIME_S
    clock.now = Instant(clock.now.wall + timedelta(days=2), 12.0)
    board, store = restart(path, clock(), boot_id="boot-3")
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    assert board.elapsed_s(ticket, clock()) == pytest.approx(300 + MAX_DOWNTIME_S)
    store.close()


def test_old_files_without_monotonic_times_are_read_with_bounds(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    import sqlite3

    path = tmp_path / "board.db"
    store = BoardStore(path)
    board = Board(BoardSettings())
    payload = orders.order()
    board.receive_order(payload, clock())
    store.save(board.tickets())
    store.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE tickets SET arrived_mono=NULL")
    db.commit()
    db.close()
    clock.step_wall(11 * 3600)
    board, store = restart(path, clock())
    ticket: Any = board.ticket(payload["orderId"])
    assert board.elapsed_s(ticket, clock()) <= MAX_DOWNTIME_S
    store.close()


def test_an_empty_save_refreshes_the_clock_frame(tmp_path: Path) -> None:
    """The app saves the (wall, mono) pair every few minutes even when nothing changed, so a
    reboot adds only the real downtime."""
    clock = FakeTime()
    orders = OrderGenerator(seed=9, clock=lambda: clock.now.wall)
    path = tmp_path / "board.db"
    store = BoardStore(path, boot_id="boot-1")
    board = Board(BoardSettings())
    payload = orders.order(orderType=1, pickupTime="", estimatedPickupTime="", deliveryTime="")
    board.receive_order(payload, clock())
    store.save(board.tickets(), None, clock())
    store.save([], None, clock.advance(4 * 3600))  # four quiet hours, then the heartbeat
    store.close()
    clock.now = Instant(clock.now.wall + timedelta(minutes=2), 5.0)  # a 2-minute power cut
    board, store = restart(path, clock(), boot_id="boot-2")
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    assert board.elapsed_s(ticket, clock()) == pytest.approx(4 * 3600 + 120)
    store.close()
