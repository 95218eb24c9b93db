"""Degrade, don't drop: an order with problems is on the board, each problem flagged where it
is ("CHECK qty -1" on its line, "NO ITEMS - check the tablet" and "time?" on top)."""

from __future__ import annotations

import pytest

from kds_device.domain.lines import LineKind
from kds_device.ui.body_rows import line_rows
from kds_device.ui.header_fit import plain
from kds_device.ui.theme import Palette
from tests.fixtures.board_app import BoardDriver
from tests.ui.test_hostile_and_pages import assert_inside

pytestmark = [pytest.mark.ui, pytest.mark.timeout(90)]


def test_flagged_orders_are_shown_with_their_flags(board_app: BoardDriver) -> None:
    bad_quantity = [
        {"plu": "B", "name": "Burger", "quantity": -1},
        {"plu": "F", "name": "Fries", "quantity": 2},
    ]
    (negative,) = board_app.add_orders(1, items=bad_quantity, note="")
    (empty,) = board_app.add_orders(1, items=[], note="", pickupTime=1e20)
    board = board_app.app.board
    lines = board.ticket(negative["orderId"]).lines
    assert [(line.kind, line.flag) for line in lines] == [
        (LineKind.ITEM, "CHECK qty -1"),
        (LineKind.ITEM, ""),
    ]
    flagged = board_app.tile(negative["orderId"])
    assert_inside(flagged)
    drawn = plain(flagged.body_text).replace("\u00a0", "").replace("\n", " ")  # rows joined
    assert "?  Burger  CHECK qty -1" in drawn
    assert Palette.ALLERGY in flagged.body_text.split("\n")[0]  # the flagged line stands out
    assert "Fries" in flagged.body_text
    no_items = board_app.tile(empty["orderId"])
    assert_inside(no_items)
    assert len(board.ticket(empty["orderId"]).lines) == 2  # two problem lines, wrapped rows
    shown = plain(no_items.body_text).replace("\u00a0", "").replace("\n", " ")
    assert "NO ITEMS - check the tablet" in shown
    assert "time?" in no_items.body_text


def test_flag_markup_is_escaped_and_measured_as_drawn() -> None:
    from kds_device.domain.lines import TicketLine

    def measure(text: str) -> float:
        return 10.0 * len(text)

    line = TicketLine(LineKind.ITEM, "[b]x[/b]", 0, 0, 0, False, "CHECK qty -1")
    rows = line_rows(line, None, 1000, measure)
    assert plain("".join(rows)) == "?  [b]x[/b]  CHECK qty -1"
    assert "&bl;b&br;x" in "".join(rows)
    problem = TicketLine(LineKind.PROBLEM, "NO ITEMS - check the tablet", 0, 0, 0)
    assert plain("".join(line_rows(problem, None, 1000, measure))) == "NO ITEMS - check the tablet"
