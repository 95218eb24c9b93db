"""Every script renders, long words break visibly, the recall list and the all-day panel tell
the truth, and the bar works on the 7" panel (issue 9, points 15-18), on the real board
under Xvfb with real taps and key events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.board_app import BoardDriver
from tests.ui.test_reads_true import NBSP, drawn_rows, item, resize

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]

#: A printable character Roboto has no glyph for (and no fallback font is asked for): it
#: draws the font's "missing" box.
MISSING = "\U0001d400"  # MATHEMATICAL BOLD CAPITAL A


def ink(label: Any) -> bytes:
    """The alpha channel of the label's texture as Kivy rendered it."""
    return bytes(label.texture.pixels[3::4])


def body_of(board_app: BoardDriver, text: str, **extra: Any) -> Any:
    (payload,) = board_app.add_orders(1, items=[item(text)], note="", **extra)
    body = board_app.tile(payload["orderId"]).ids.body
    board_app.wait_for(lambda: body.texture is not None and drawn_rows(body), what="body")
    return body


# ---- 15: every script renders ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["שווארמה גדולה", "寿司と天ぷら", "شاورما دجاج", "Burger 🍔🌶"],
    ids=["hebrew", "japanese", "arabic", "emoji"],
)
def test_names_in_other_scripts_draw_as_glyphs_not_boxes(board_app: BoardDriver, text: str) -> None:
    resize(board_app, (1280, 800))
    real = body_of(board_app, text)
    # the same line with every non-Latin character replaced by one that no font has
    boxes = "".join(ch if ord(ch) < 0x0530 else MISSING for ch in text)
    tofu = body_of(board_app, boxes)
    assert ink(real) != ink(tofu), "the glyphs are boxes"
    # each different letter draws differently: boxes would make every letter the same
    a_pixels, b_pixels = sum(ink(real)), sum(ink(tofu))
    assert abs(a_pixels - b_pixels) > 0.05 * max(a_pixels, b_pixels)


def test_right_to_left_text_reads_right_to_left_and_arabic_is_joined(
    board_app: BoardDriver,
) -> None:
    resize(board_app, (1280, 800))
    hebrew = "".join(drawn_rows(body_of(board_app, "שווארמה גדולה")))
    # drawn left to right on screen: the last word first, each word's letters reversed
    assert "הלודג המראווש" in hebrew
    arabic = "".join(drawn_rows(body_of(board_app, "شاورما دجاج")))
    assert any(0xFE70 <= ord(ch) <= 0xFEFF for ch in arabic), "letters in joined forms"
    (payload,) = board_app.add_orders(1, orderType=1, customerName="דנה כהן")
    who = board_app.tile(payload["orderId"]).ids.who
    board_app.wait_for(lambda: drawn_rows(who) != [], what="row 2")
    assert "ןהכ הנד" in "".join(drawn_rows(who)), "the customer's name, right to left"


# ---- 16: long words break visibly, the text stays ---------------------------------------------


def test_a_long_word_breaks_with_a_hyphen_and_no_inserted_space(board_app: BoardDriver) -> None:
    resize(board_app, (800, 480))
    word = "Supercalifragilisticexpialidociousburgerwithcheese"
    body = body_of(board_app, word)
    rows = drawn_rows(body)
    assert len(rows) >= 2 and all(r.endswith("-") for r in rows[:-1]), rows
    joined = "".join(r.strip(NBSP).removesuffix("-") for r in rows)
    assert joined == f"1  {word}", "the word, whole, with no space put into it"
    board = board_app.app.board
    assert any(t.lines and t.lines[0].text == word for t in board.open_tickets())
    tile = next(t for t in board_app.app.screen.tiles.values() if t.ids.body is body)
    assert body.right <= tile.right - tile.pad_px + 1, "inside its tile"


# ---- 17: the recall list and the all-day panel -----------------------------------------------


def _bump_first(board_app: BoardDriver) -> str:
    board = board_app.app.board
    first = next(s.order_id for c in board.current_page() for s in c)
    board_app.tap_widget(board_app.tile(first))
    if not board.ticket(first).bumped:  # that tap selected it: this one bumps
        board_app.tap_widget(board_app.tile(first))
    assert board.ticket(first).bumped
    return first


def test_the_recall_list_shows_items_ages_and_closes_by_esc_and_recall(
    board_app: BoardDriver,
) -> None:
    from kivy.core.window import Window

    board_app.add_orders(3, items=[item("Falafel wrap", 2)], note="")
    bumped = _bump_first(board_app)
    screen = board_app.app.screen
    recall_button = screen.status_bar.ids.recall
    board_app.tap_widget(recall_button)
    assert screen.recall_open
    (entry,) = screen.recall.buttons()
    assert "2x Falafel wrap" in entry.text, "what the ticket had"
    assert "bumped just now" in entry.text
    board_app.advance(185)
    assert "bumped 3 min ago" in entry.text, "the age moves on while the list is open"

    Window.dispatch("on_key_down", 27, 41, None, [])  # Esc
    Window.dispatch("on_key_up", 27, 41)
    board_app.frames(2)
    assert not screen.recall_open, "Esc closes the list"

    board_app.tap_widget(recall_button)
    assert screen.recall_open
    board_app.tap_widget(recall_button)  # RECALL again
    assert not screen.recall_open, "RECALL again closes the list"
    assert board_app.app.board.ticket(bumped).bumped, "and recalls nothing"


def test_the_all_day_panel_says_what_it_cannot_show_and_is_narrow(board_app: BoardDriver) -> None:
    resize(board_app, (800, 480))
    column = board_app.app.screen.metrics.column_px
    products = [item(f"Product number {n}") for n in range(40)]
    board_app.add_orders(1, items=products, note="")
    screen = board_app.app.screen
    board_app.tap_widget(screen.status_bar.ids.all_day)
    panel = screen.all_day
    assert panel.width < column * 0.7, "not a whole column on the 7-inch panel"
    assert screen.metrics.columns == 3, "the tickets keep their three columns"
    counts = panel.ids.counts
    board_app.wait_for(lambda: drawn_rows(counts) != [], what="the counts")
    rows = drawn_rows(counts)
    assert "more" in rows[-1] and str(panel.hidden) in rows[-1], rows[-1]
    assert counts.texture_size[1] <= counts.height + 1, "nothing cut off at the bottom"
    shown = sum(1 for r in rows if r.lstrip(" ").startswith("1  P"))  # one per product
    assert shown + panel.hidden == 40


# ---- 18: the bar on the 7" panel ------------------------------------------------------------


def test_the_bar_at_800x480_keeps_station_and_last_order_and_pages_both_ways(
    board_app: BoardDriver,
) -> None:
    board_app.stop()
    board_app.start(display__station="Grill & Pizza Station North")
    resize(board_app, (800, 480))
    bar = board_app.app.screen.status_bar
    board_app.add_orders(12)
    info = bar.ids.info
    board_app.wait_for(lambda: drawn_rows(info) != [], what="the info")
    room = info.width
    board_app.add_orders(60)  # the page figures grow
    board_app.advance(1)
    text = "\n".join(drawn_rows(info))
    assert "Grill" in text, "the station's name, abbreviated if need be"
    assert "last order" in text and "open" in text
    assert info.width == room, "the page figures take no room from the information"
    assert all(
        label.texture_size[0] <= label.width + 1 for label in (info, bar.ids.page, bar.ids.prev)
    )
    board = board_app.app.board
    if board.page_index == len(board.pages()) - 1:  # the page followed the selection
        board_app.tap_widget(bar.ids.page)  # "page 1 >"
    before = board.page_index
    more = board.tickets_after_page()
    assert "".join(drawn_rows(bar.ids.page)) == f"{more} more >", "says what '+16' meant"
    board_app.tap_widget(bar.ids.page)
    assert board.page_index == before + 1
    board_app.tap_widget(bar.ids.prev)  # a touch button for the previous page
    assert board.page_index == before
