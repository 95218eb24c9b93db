"""What an open ticket keeps: records without a __dict__ each, the menu's words shared, the
order's body as ASCII text, no second copy of its lines (a board holds hundreds of tickets,
each with its lines and items, for hours)."""

from __future__ import annotations

import dataclasses
import json
import pickle
from datetime import UTC, datetime

from kds_device.domain.board import Board
from kds_device.domain.clock import Instant
from kds_device.sim.orders import OrderGenerator

NOW = Instant(datetime(2026, 11, 22, 18, 0, tzinfo=UTC), 1000.0)


def received(count: int) -> Board:
    """A board of ``count`` orders, each decoded from its own JSON text as a feed delivers it
    (so no two orders share a string by accident)."""
    orders = OrderGenerator(seed=11, clock=lambda: NOW.wall)
    board = Board()
    for _ in range(count):
        board.receive_order(json.loads(json.dumps(orders.order(note="Ünïcode ✓ 寿司"))), NOW)
    return board


def test_per_ticket_records_have_no_dict_and_still_copy_compare_and_pickle() -> None:
    ticket = next(iter(received(1).open_tickets()))
    assert ticket.order is not None and ticket.order.items
    item, line = ticket.order.items[0], ticket.lines[0]
    records = [ticket, ticket.order, item, line, ticket.parts, ticket.parts.routing]
    for record in records:
        assert not hasattr(record, "__dict__"), type(record).__name__
    assert pickle.loads(pickle.dumps(ticket.order)) == ticket.order
    assert pickle.loads(pickle.dumps(line)) == line
    done = dataclasses.replace(line, done=True)
    assert done.done and not line.done and done.text == line.text


def test_the_menus_words_are_one_copy_for_every_ticket() -> None:
    board = received(40)
    by_text: dict[str, set[int]] = {}
    for ticket in board.open_tickets():
        assert ticket.order is not None
        for item in ticket.order.items:
            for text in (item.name, item.plu, item.remark):
                by_text.setdefault(text, set()).add(id(text))
    repeated = [text for text, ids in by_text.items() if text and len(ids) > 1]
    assert len(by_text) > 5 and not repeated, repeated[:5]


def test_the_body_is_ascii_text_and_the_lines_are_not_copied() -> None:
    for ticket in received(5).open_tickets():
        assert ticket.payload_json is not None and ticket.payload_json.isascii()
        assert ticket.payload is not None and ticket.payload["note"] == "Ünïcode ✓ 寿司"
        assert ticket.lines is ticket.base_lines  # an ALL screen shows every line as is
