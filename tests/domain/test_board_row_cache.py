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
    shown = 0
    for _ in range(300):
        board.receive_order(orders.order(), now)
        board.pages()
        for ticket in list(board.open_tickets()):
            shown += 1
            board.bump(now, ticket.order_id)
        board.pages()
    assert shown > 200  # most orders were on the board, then bumped
    assert len(board.open_tickets()) == 0
    assert len(board._row_cache) == 0
    # an open ticket's rows are counted once, not on every page computation
    while not board.open_tickets():
        counted.clear()
        board.receive_order(orders.order(), now)
    ticket = board.open_tickets()[0]
    for _ in range(5):
        board._touched()
        board.pages()
    assert len(counted) == len(ticket.lines)
