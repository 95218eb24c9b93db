"""Every ticket reads true (issue 9, points 9-14), on the real board under Xvfb: wrapped lines
keep their hanging indent, modifiers stay with their items, nothing covers a ticket line,
names show, what a cook acts on is at body size on the 7" panel, and pages are full, show
each ticket once and keep the selected ticket in view."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from kds_device.domain.layout import LayoutSpec, paginate
from kds_device.domain.lines import LineKind
from kds_device.runtime.messages import Link, LinkChanged
from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]

NBSP = "\u00a0"


def resize(board_app: BoardDriver, size: tuple[int, int]) -> None:
    from kivy.core.window import Window

    Window.size = size
    board_app.wait_for(lambda: board_app.app.screen.metrics.width == size[0], what="resize")


def drawn_rows(label: Any) -> list[str]:
    """The rows Kivy actually laid out in ``label``."""
    return ["".join(word.text for word in line.words) for line in label._label._cached_lines]


def item(name: str, quantity: int = 1, subs: list[dict[str, Any]] | None = None) -> dict:
    return {"plu": "P", "name": name, "quantity": quantity, "price": 0, "subItems": subs or []}


def rects_overlap(a: Any, b: Any) -> bool:
    return bool(a.x < b.right and b.x < a.right and a.y < b.top and b.y < a.top)


# ---- 9: hanging indents ---------------------------------------------------------------------


def test_wrapped_lines_keep_their_hanging_indent_on_tiles(board_app: BoardDriver) -> None:
    resize(board_app, (800, 480))
    mod = item("Sriracha mayo with extra chilli flakes on the side", 3)
    (payload,) = board_app.add_orders(1, items=[item("Loaded fries", 1, [mod])], note="")
    body = board_app.tile(payload["orderId"]).ids.body
    board_app.wait_for(lambda: len(drawn_rows(body)) >= 3, what="a wrapped modifier")
    rows = drawn_rows(body)
    first = next(i for i, r in enumerate(rows) if "Sriracha" in r)
    assert rows[first].lstrip(NBSP + " ").startswith("+ 3x Sriracha")
    text_at = rows[first].index("Sriracha")
    for row in rows[first + 1 :]:
        indent = len(row) - len(row.lstrip(NBSP + " "))
        assert indent >= text_at - 1, f"continuation {row!r} restarts left of the text"
        assert not row.lstrip(NBSP + " ").startswith(("+", "1 ")), "reads as a new line"


def test_wrapped_names_keep_their_hanging_indent_in_the_all_day_panel(
    board_app: BoardDriver,
) -> None:
    resize(board_app, (800, 480))
    board_app.add_orders(1, items=[item("Smokehouse double bacon burger deluxe meal", 2)])
    board_app.tap_widget(board_app.app.screen.status_bar.ids.all_day)
    counts = board_app.app.screen.all_day.ids.counts
    board_app.wait_for(lambda: len(drawn_rows(counts)) >= 2, what="a wrapped name")
    rows = drawn_rows(counts)
    assert rows[0].lstrip().startswith("2  Smokehouse")
    assert rows[1].startswith(NBSP * 3), f"{rows[1]!r} restarts at the panel's edge"


# ---- 10: a modifier stays with its item ------------------------------------------------------


def test_the_paginator_never_cuts_between_an_item_and_its_modifiers() -> None:
    spec = LayoutSpec(columns=2, rows=10)
    glue = [False, True, True, False, True, True, True, False]  # items with their modifiers
    # "a" leaves 7 rows: b's header and 4 lines fit, but line 4 is the second item's modifier
    pages = paginate([("a", []), ("b", [1] * 8, glue)], spec)
    starts = [s.first for page in pages for col in page for s in col if s.order_id == "b"]
    assert starts == [0, 3], "the second item moves with its modifiers"


def test_no_column_or_page_starts_with_a_modifier_or_remark(board_app: BoardDriver) -> None:
    resize(board_app, (800, 480))
    subs = [item(f"Topping {n}") for n in range(4)]
    meal = [item(f"Meal {n}", 1, subs) for n in range(4)]
    board_app.add_orders(8, items=meal, note="")
    board = board_app.app.board
    cut = [
        (seg, board.ticket(seg.order_id))
        for page in board.pages()
        for column in page
        for seg in column
        if seg.continued
    ]
    assert cut, "tickets this tall do go on in the next column"
    for seg, ticket in cut:
        assert ticket.lines[seg.first].kind is LineKind.ITEM, seg


# ---- 11: nothing covers a ticket line --------------------------------------------------------


def test_the_undo_bar_and_the_offline_banner_cover_no_tile(board_app: BoardDriver) -> None:
    resize(board_app, (800, 480))
    board_app.add_orders(12)
    screen = board_app.app.screen
    lowest = min(t.y for t in screen.tiles.values())
    assert lowest < screen.metrics.height * 0.2, "tiles reach down to the board's foot"
    first = next(s.order_id for c in board_app.app.board.current_page() for s in c)
    board_app.tap_widget(board_app.tile(first))
    if not board_app.app.board.ticket(first).bumped:  # that tap selected it: this one bumps
        board_app.tap_widget(board_app.tile(first))
    assert board_app.app.board.ticket(first).bumped
    undo = screen.undo_bar
    board_app.wait_for(lambda: undo.text != "" and undo.y >= 0, what="the undo bar")
    for tile in screen.tiles.values():
        assert not rects_overlap(undo, tile), "the undo bar covers a ticket"
    board_app.post(LinkChanged(Link.OFFLINE, since_mono=board_app.clock.now.mono - 185))
    board_app.frames(2)
    board_app.advance(0)
    banner = screen.ids.banner
    board_app.wait_for(lambda: banner.text != "" and banner.height > 0, what="the banner")
    board_app.frames(3)
    for tile in screen.tiles.values():
        assert not rects_overlap(banner, tile), "the offline banner covers a ticket"
    assert rects_overlap(banner, banner) and banner.y >= 0


# ---- 12 and 13: names, and sizes on the 7" panel ---------------------------------------------


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
@pytest.mark.parametrize("age_s", [60, 330, 700])
def test_the_customers_name_shows(
    board_app: BoardDriver, size: tuple[int, int], age_s: int
) -> None:
    resize(board_app, size)
    (pickup,) = board_app.add_orders(1, orderType=1, customerName="Aisha Mansour")
    (delivery,) = board_app.add_orders(1, orderType=2, customerName="Tom Brady")
    board_app.advance(age_s)  # on time, HURRY, LATE
    for payload, start in ((pickup, "Aish"), (delivery, "Tom")):
        tile = board_app.tile(payload["orderId"])
        board_app.wait_for(lambda t=tile: drawn_rows(t.ids.who) != [], what="row 2")
        assert start in "".join(drawn_rows(tile.ids.who)), "the name, in row 2"


def test_what_a_cook_acts_on_is_at_least_body_size_at_800x480(board_app: BoardDriver) -> None:
    resize(board_app, (800, 480))
    (payload,) = board_app.add_orders(1, orderType=1, customerName="Aisha Mansour")
    screen = board_app.app.screen
    body = screen.metrics.body_px
    tile = board_app.tile(payload["orderId"])
    for _ in range(60):  # until the urgency model says HURRY or LATE
        if any(w in tile.clock_text + tile.due_text for w in ("HURRY", "LATE")):
            break
        board_app.advance(60)
    word = "HURRY" if "HURRY" in tile.clock_text + tile.due_text else "LATE"
    assert word in tile.clock_text + tile.due_text
    assert tile.ids.title.font_size >= body, "the id"
    assert tile.ids.body.font_size >= body, "items and modifiers"
    assert tile.ids.clock.font_size >= body, "the timer"
    if word in tile.clock_text:  # the urgency word, beside the timer
        marked = tile.clock_text.partition("[size=")[2].partition("]")[0]
        assert not marked or float(marked) >= int(body), tile.clock_text
    else:
        assert tile.ids.due.font_size >= body
    who = "".join(drawn_rows(tile.ids.who))
    assert who.startswith("PICKUP") and "Aish" in who, "order type and pickup name"
    assert tile.ids.who.font_size >= body


# ---- 14: full pages, each ticket once, the selection stays in view ---------------------------


def _first_rows(board: Any, order_id: str) -> int:
    spec = board.layout_spec
    ticket = board.ticket(order_id)
    rows = board._rows_of(ticket)
    glued = [line.kind in (LineKind.MODIFIER, LineKind.REMARK) for line in ticket.lines]
    first = 1
    while first < len(rows) and glued[first]:
        first += 1
    return int(spec.header_rows + sum(rows[:first]))


@pytest.mark.parametrize("size", [(800, 480), (1280, 800), (1920, 1080)])
def test_no_column_stands_half_empty_and_a_ticket_shows_once(
    board_app: BoardDriver, size: tuple[int, int]
) -> None:
    resize(board_app, size)
    board_app.add_orders(30)
    board = board_app.app.board
    spec = board.layout_spec
    pages = board.pages()
    for page in pages:
        for left, right in itertools.pairwise(page):
            if not right or right[0].continued:
                continue
            used = sum(s.rows(spec, board._rows_of(board.ticket(s.order_id))) for s in left)
            assert spec.rows - used < _first_rows(board, right[0].order_id), (
                "a ticket moved to the next column although its first item fitted here"
            )
    for index, page in enumerate(pages[:-1]):
        later = {s.order_id for p in pages[index + 1 :] for c in p for s in c}
        here = {s.order_id for c in page for s in c}
        for order_id in here & later:
            whole = paginate([(order_id, board._rows_of(board.ticket(order_id)))], spec)
            assert len(whole) > 1, f"{order_id} shows on two pages but fits on one"


def test_an_arriving_order_never_pushes_the_selection_off_the_page(
    board_app: BoardDriver,
) -> None:
    resize(board_app, (800, 480))
    wall = board_app.clock.now.wall
    later = (wall + timedelta(minutes=40)).isoformat()
    # promised times, ASAP (a scheduled order would wait UPCOMING, off the pages)
    board_app.add_orders(14, pickupTime=later, deliveryIsAsap=True)
    board = board_app.app.board
    assert len(board.pages()) >= 3
    board_app.tap_widget(board_app.app.screen.status_bar.ids.page)
    assert board.page_index == 1
    chosen = board.selected_id  # paging selects the page's first ticket
    assert chosen is not None and board_app.app.screen.tile_for(chosen) is not None
    sooner = (wall + timedelta(minutes=5)).isoformat()
    for _ in range(8):  # one by one, each sorted before it: more than a page in all
        board_app.add_orders(1, pickupTime=sooner, deliveryIsAsap=True)
        assert board.selected_id == chosen, "the cook's choice is kept"
        assert board_app.app.screen.tile_for(chosen) is not None, "and stays in view"
