"""What must not stay buried on another page: late and cancelled tickets the current page
does not show, for the status bar's counts and the NEXT LATE key."""

from __future__ import annotations

from kds_device.domain.board import AgeClass, Board
from kds_device.domain.clock import Instant


def elsewhere(board: Board, now: Instant) -> tuple[list[str], list[str]]:
    """Late and cancelled tickets that are not on the current page, in board order."""
    here = set(board.ids_on_page())
    late: list[str] = []
    cancelled: list[str] = []
    for ticket in board.open_tickets():
        if ticket.order_id in here:
            continue
        if ticket.voided:
            cancelled.append(ticket.order_id)
        elif ticket.workable and board.age_class(ticket, now) is AgeClass.LATE:
            late.append(ticket.order_id)
    return late, cancelled


def next_urgent(board: Board, now: Instant) -> str | None:
    """The next late or cancelled ticket on another page, going forward from this page and
    round: where the NEXT LATE key jumps."""
    late, cancelled = elsewhere(board, now)
    wanted = set(late) | set(cancelled)
    if not wanted:
        return None
    count = len(board.pages())
    for step in range(1, count + 1):
        index = (board.page_index + step) % count
        for order_id in board.ids_on_page(index):
            if order_id in wanted and board.page_of(order_id) == index:
                return order_id
    return (late + cancelled)[0]
