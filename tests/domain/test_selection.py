"""The selection and the actions stay on the page the cook sees (issue 9, point 1)."""

from __future__ import annotations

from kds_device.domain.actions import Action, apply_action
from kds_device.domain.board import Board
from kds_device.domain.layout import LayoutSpec
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import FakeTime


def paged_board(orders: OrderGenerator, clock: FakeTime, count: int) -> Board:
    """``count`` one-line tickets, two a page."""
    board = Board()
    for _ in range(count):
        payload = orders.order(note="", deliveryIsAsap=True)
        payload["items"] = [{**payload["items"][0], "subItems": []}]
        board.receive_order(payload, clock())
    board.set_layout(LayoutSpec(columns=1, rows=9), lambda line: 1)
    return board


def test_a_bump_selects_the_next_on_the_page_then_the_previous_then_nothing(
    orders: OrderGenerator, clock: FakeTime
) -> None:
    board = paged_board(orders, clock, 5)
    assert [len(board.ids_on_page(i)) for i in range(len(board.pages()))] == [2, 2, 1]
    board.page_next()
    a, b = board.ids_on_page()
    assert board.selected_id == a
    board.bump(clock())
    assert board.page_index == 1 and board.selected_id == b  # the next, slid into place
    b_, c = board.ids_on_page()
    assert b_ == b
    board.select(c)
    board.bump(clock())  # the last on the page: the one before it
    assert board.selected_id == b and board.ids_on_page() == [b]
    board.bump(clock())  # alone on its page: nothing, never a ticket on page 1
    assert board.selected_id is None
    assert not apply_action(board, Action.BUMP, clock())


def test_actions_refuse_a_selected_ticket_that_is_not_on_this_page(
    orders: OrderGenerator, clock: FakeTime
) -> None:
    board = paged_board(orders, clock, 4)
    hidden = board.ids_on_page(1)[0]
    board.selected_id = hidden  # as if a reflow had left it selected on page 2
    assert board.page_index == 0 and not board.on_current_page(hidden)
    for action in (Action.BUMP, Action.START, Action.ACKNOWLEDGE):
        assert not apply_action(board, action, clock())
    assert not board.ticket(hidden).bumped and board.ticket(hidden).status < 50
    apply_action(board, Action.NEXT, clock())  # starts on the page on screen
    assert board.selected_id == board.ids_on_page()[0]
