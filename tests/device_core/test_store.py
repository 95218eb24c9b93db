"""The board file: a restart shows the same board."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kds_device.adapters.store import BoardStore, StoreError
from kds_device.domain import Board, Cancel
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import FakeTime


def test_restart_shows_the_same_board(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    store = BoardStore(tmp_path / "board.db")
    board = Board()
    payloads = [orders.order() for _ in range(5)]
    for payload in payloads:
        board.receive_order(payload, clock.advance(10))
    board.start(clock(), payloads[0]["orderId"])
    board.bump(clock(), payloads[1]["orderId"])
    board.receive_cancel(Cancel(payloads[2]["orderId"], reason="Store too busy"), clock())
    board.receive_cancel(Cancel("never-seen"), clock())
    store.save(board.tickets(), meta={"last_seq": "17"})
    store.close()

    later = clock.advance(120)
    store = BoardStore(tmp_path / "board.db")
    again = Board()
    again.restore(store.load(later))
    again.release_due(later)  # as the core does: scheduled ones wait UPCOMING again
    assert [t.order_id for t in again.open_tickets()] == [t.order_id for t in board.open_tickets()]
    assert [t.order_id for t in again.recall_list()] == [payloads[1]["orderId"]]
    voided = again.ticket(payloads[2]["orderId"])
    assert voided is not None and voided.voided and voided.void_reason == "Store too busy"
    assert again.ticket(payloads[0]["orderId"]).status == 50  # type: ignore[union-attr]
    tombstone = again.ticket("never-seen")
    assert tombstone is not None and tombstone.order is None
    first = again.ticket(payloads[0]["orderId"])
    assert first is not None
    assert again.elapsed_s(first, later) == pytest.approx(board.elapsed_s(first, later))
    assert store.get_meta("last_seq") == "17"
    # the echo guard survives the restart too
    assert again.ticket(payloads[1]["orderId"]).own_keys  # type: ignore[union-attr]


def test_file_is_wal_with_versioned_schema(tmp_path: Path) -> None:
    BoardStore(tmp_path / "board.db").close()
    db = sqlite3.connect(tmp_path / "board.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema 99"):
        BoardStore(tmp_path / "board.db")


def test_delete_forgets_pruned_tickets(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    store = BoardStore(tmp_path / "board.db")
    board = Board()
    payload = orders.order()
    board.receive_order(payload, clock())
    store.save(board.tickets())
    store.delete([payload["orderId"]])
    assert store.load(clock()) == []


def test_open_ticket_keeps_its_order_as_text_and_the_store_round_trips_it(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    """A ticket holds the order's body as compact ASCII JSON text (a fifth of a decoded dict's
    memory; ASCII: one byte a character, and no UTF-8 copy when SQLite binds it); the store
    saves that text as it is and a restart parses the same order."""
    payload = orders.order(note="Ünïcode ✓ 寿司")
    board = Board()
    board.receive_order(payload, clock())
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    assert isinstance(ticket.payload_json, str) and ticket.payload_json.isascii()
    assert "\\u5bff\\u53f8" in ticket.payload_json  # 寿司
    assert ticket.payload == payload
    store = BoardStore(tmp_path / "board.db")
    store.save(board.tickets())
    raw = store._db.execute("SELECT payload FROM tickets").fetchone()[0]
    assert raw == ticket.payload_json
    again = Board()
    again.restore(store.load(clock.advance(5)))
    restored = again.ticket(payload["orderId"])
    assert restored is not None and restored.payload == payload
    assert restored.order == ticket.order
