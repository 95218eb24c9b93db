"""The board's row counts (what its pages are cut by) are kept for open tickets only: a
kitchen that runs for days does not keep the rows of every ticket it ever showed."""

from __future__ import annotations

from datetime import UTC, datetime

from kds_device.domain.board import Board
from kds_device.domain.clock import Instant
from kds_device.domain.layout import LayoutSpec
from kds_device.domain.lines import TicketLine
from kds_device.sim.orders import OrderGenerator


def test_the_board_forgets_the_rows_of_tickets_that_left() -> None:
    board = Board()
    counted: list[TicketLine] = []

    def rows(line: TicketLine) -> int:
        counted.append(line)
        return 1

    board.set_layout(LayoutSpec(), rows)
    orders = OrderGenerator(seed=3)
    now = Instant(datetime(2026, 11, 22, 18, 0, tzinfo=UTC), 1000.0)
    for _ in range(300):
        order = orders.order()
        board.receive_order(order, now)
        board.pages()
        board.bump(now, board.open_tickets()[0].order_id)
        board.pages()
    assert len(board.open_tickets()) == 0
    assert len(board._row_cache) == 0
    # an open ticket's rows are counted once, not on every page computation
    order = orders.order()
    counted.clear()
    board.receive_order(order, now)
    ticket = board.open_tickets()[0]
    for _ in range(5):
        board._touched()
        board.pages()
    assert len(counted) == len(ticket.lines)
