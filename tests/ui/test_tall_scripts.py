"""A row in a script whose font is taller than Roboto's (Japanese, Arabic, Thai, emoji) takes
the body rows it is drawn in: the tile has room for it at the body size (its text is not
shrunk a step, which also opened every font again at a new size), and a tap lands on the
item drawn where the finger is. On the real board under Xvfb."""

from __future__ import annotations

import re

import pytest

from kds_device.domain.lines import LineKind, TicketLine
from tests.fixtures.board_app import BoardDriver
from tests.fixtures.stations import Journal, kitchen_order
from tests.ui.test_reads_true import item
from tests.ui.test_stations_board import GRILL, as_role, feed

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]

#: A character each fallback font draws (and the fonts' line boxes are measured with).
SAMPLES = {
    "KdsCJK": "寿",
    "KdsArabic": "ب",
    "KdsHebrew": "א",
    "KdsThai": "ก",
    "KdsDevanagari": "क",
    "KdsSymbols": "\u2615",
    "KdsDejaVu": "\u2192",
}


@pytest.mark.parametrize(
    "text",
    ["寿司と天ぷら", "شاورما دجاج", "ข้าวผัดกุ้ง", "Burger 🍔🌶"],
    ids=["japanese", "arabic", "thai", "emoji"],
)
def test_a_tall_script_row_fits_its_tile_at_the_body_size(
    board_app: BoardDriver, text: str
) -> None:
    (payload,) = board_app.add_orders(1, items=[item("Burger"), item(text), item("Fries")], note="")
    tile = board_app.tile(payload["orderId"])
    body = tile.ids.body
    board_app.wait_for(lambda: body.texture is not None, what="body")
    board_app.frames(3)
    assert tile.body_font_px == tile.body_px, "the body was shrunk: its rows were counted short"
    room = tile.height - tile.gap_px - tile.head_px
    assert body.texture_size[1] <= room + 1
    assert body.max_lines == 0, "nothing clipped"


def test_the_row_counter_counts_body_rows_as_tall_as_the_rows_are_drawn() -> None:
    from kds_device.ui.measure import RowCounter

    counter = RowCounter(28.57, 300.0, re.compile(r"\bnuts?\b", re.IGNORECASE))

    def line(name: str, allergy: bool = False) -> TicketLine:
        return TicketLine(LineKind.ITEM, name, quantity=1, allergy=allergy)

    assert counter(line("Burger")) == 1
    assert len(counter.rows(line("寿司"))) == 1
    assert counter(line("寿司")) == 2, "Noto CJK's row (41 px) is taller than a body row (35)"
    (flagged,) = counter.rows(line("Nut cake", allergy=True))
    assert "⚠" in flagged
    assert counter(line("Nut cake", allergy=True)) == 1, "the allergy sign's row fits a row"


def test_a_fallback_fonts_line_box_is_what_kivy_draws() -> None:
    """Read with Pillow (the font closed at once), as tall as SDL_ttf's or one pixel more."""
    from kivy.core.text import Label as CoreLabel

    from kds_device.ui.fonts import FILES, register_fonts
    from kds_device.ui.measure import line_box_px

    register_fonts()
    assert set(SAMPLES) <= set(FILES), "the fallback fonts are installed (deploy/provision.sh)"
    for font, sample in SAMPLES.items():
        for px in (18.0, 28.57, 41.0):
            drawn = max(
                CoreLabel(font_name=font, font_size=px, bold=bold).get_extents(sample)[1]
                for bold in (False, True)
            )
            assert drawn <= line_box_px(font, px) <= drawn + 1, (font, px)


def test_a_tap_lands_on_the_item_drawn_under_the_finger_below_a_tall_row(
    board_app: BoardDriver,
) -> None:
    """Rows are as tall as drawn: a tap near the foot of a Japanese row is on its item, not
    on the next one (the rows' average height put it there)."""
    from kivy.core.text import Label as CoreLabel

    as_role(board_app, GRILL)
    order = kitchen_order(board_app.orders, ["grill", "grill"])
    order["items"][0].update(name="寿司と天ぷら", subItems=[], itemRemark="")
    feed(board_app, Journal().received(order, ["grill", "grill"]))
    target = order["orderId"]
    tile = board_app.tile(target)
    body = tile.ids.body
    assert "寿司" in tile.body_text.split("\n")[0]
    cjk_row = CoreLabel(font_name="KdsCJK", font_size=tile.body_font_px, bold=True).get_extents(
        "寿司"
    )[1]
    assert cjk_row > body.height / 2 + 2, "the Japanese row is the taller one"
    spot = tile.to_window(body.x + 30, body.top - (cjk_row - 2))
    assert board_app.app.board.selected_id == target  # the only ticket: a tap marks an item
    board_app.tap(*spot)
    (change,) = board_app.sink.changes
    assert change.item == 0
