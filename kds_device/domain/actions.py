"""What a cook can do, whatever the input (touch, keyboard, USB bump bar, GPIO buttons)."""

from __future__ import annotations

from enum import StrEnum

from kds_device.domain.attention import next_urgent
from kds_device.domain.board import Board, Outcome
from kds_device.domain.clock import Instant


class Action(StrEnum):
    NEXT = "next"
    PREVIOUS = "previous"
    FIRST = "first"
    BUMP = "bump"
    START = "start"  # send "preparing"
    ITEM_DONE = "item_done"  # a station screen: the selected ticket's next open item is done
    RECALL = "recall"  # open the recall list / restore the chosen ticket
    UNDO = "undo"
    PAGE_NEXT = "page_next"
    PAGE_PREVIOUS = "page_previous"
    CLEAN_LOCK = "clean_lock"  # touch and keys off for a while, to wipe the screen (the UI's)
    ALL_DAY = "all_day"  # toggle the all-day panel
    ACKNOWLEDGE = "acknowledge"  # take a cancelled ticket away
    CLEAR_ALL = "clear_all"  # acknowledge every cancelled ticket
    NEXT_URGENT = "next_urgent"  # show the next late or cancelled ticket on another page
    TODAY = "today"  # open or close the "Today" view (speed of service)

    @classmethod
    def parse(cls, name: str) -> Action:
        try:
            return cls(name.strip().lower().replace("-", "_").replace(" ", "_"))
        except ValueError:
            raise ValueError(
                f"unknown action {name!r}; known: {', '.join(a.value for a in cls)}"
            ) from None


#: Actions that destroy information: a bump bar must hold them to confirm.
DESTRUCTIVE: frozenset[Action] = frozenset({Action.ACKNOWLEDGE, Action.CLEAR_ALL})


def apply_action(board: Board, action: Action, now: Instant) -> Outcome:
    """Apply a board action. RECALL, ALL_DAY and TODAY are screen matters and return nothing
    here; the UI opens its panels for them."""
    if action is Action.NEXT:
        return board.select_next()
    if action is Action.PREVIOUS:
        return board.select_previous()
    if action is Action.FIRST:
        return board.select_first()
    if action is Action.BUMP:
        return board.bump(now)
    if action is Action.START:
        return board.start(now)
    if action is Action.UNDO:
        return board.undo(now)
    if action is Action.PAGE_NEXT:
        return board.page_next()
    if action is Action.PAGE_PREVIOUS:
        return board.page_previous()
    if action is Action.NEXT_URGENT:
        target = next_urgent(board, now)
        return board.jump_to(target) if target else Outcome()
    if action is Action.ITEM_DONE:
        item = board.next_open_item()
        return board.toggle_item(item, now) if item is not None else Outcome()
    if action is Action.ACKNOWLEDGE:
        return board.acknowledge()
    if action is Action.CLEAR_ALL:  # the cancelled tickets on screen, not those on other pages
        outcome = Outcome()
        for order_id in board.ids_on_page():
            ticket = board.ticket(order_id)
            if ticket is not None and ticket.voided:
                outcome.merge(board.acknowledge(order_id))
        return outcome
    return Outcome()
