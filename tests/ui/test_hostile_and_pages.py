"""Hostile tickets still render legibly inside their tile, and 500 open tickets mean widgets
for one page only; the page button walks the pages."""

from __future__ import annotations

import pytest

from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(90)]

LONG_WORD = "Supercalifragilisticexpialidociousextraordinarilylongword1234"  # 61 chars
HOSTILE_TEXTS = [
    LONG_WORD,
    "Pizza 🍕🔥 with 😀 emoji",
    "שווארמה בפיתה עם חומוס",  # RTL
    "[b]markup[/b] & [color=ff0000]injection[/color]",
]


def item(name: str, remark: str = "", qty: int = 1) -> dict:
    return {"plu": "X", "name": name, "quantity": qty, "price": 0, "itemRemark": remark}


def assert_inside(tile: object) -> None:
    """The body's text fits the space the tile gives it (nothing spills off-tile)."""
    body = tile.ids.body  # type: ignore[attr-defined]
    room = tile.height - tile.gap_px - tile.head_px  # type: ignore[attr-defined]
    assert body.texture_size[1] <= room + 1, (body.texture_size, room)
    assert body.texture_size[0] <= body.width + 1
    assert body.y >= tile.y + tile.gap_px - 1  # type: ignore[attr-defined]
    lines = body.text.count("\n") + 1
    assert body.texture_size[1] >= lines * tile.row_px * 0.9, "no line dropped"  # type: ignore[attr-defined]
    assert body.x >= tile.x and body.right <= tile.right  # type: ignore[attr-defined]


def test_hostile_ticket_renders_inside_its_tile(board_app: BoardDriver) -> None:
    items = [item(text, remark=text) for text in HOSTILE_TEXTS]
    (payload,) = board_app.add_orders(
        1, items=items, customerName=LONG_WORD, note="🔥" * 40, channelOrderDisplayId=LONG_WORD
    )
    tiles = [t for (o, _), t in board_app.app.screen.tiles.items() if o == payload["orderId"]]
    for tile in tiles:
        assert_inside(tile)
        assert tile.ids.title.width <= tile.width
    bodies = "".join(t.body_text for t in tiles)
    assert "&bl;b&br;markup" in bodies, "order text never becomes markup"
    assert "🍕" in bodies


def test_a_150_item_ticket_continues_over_columns_uncut(board_app: BoardDriver) -> None:
    items = [item(f"Item number {n}", qty=1 + n % 3) for n in range(150)]
    (payload,) = board_app.add_orders(1, items=items, note="")
    order_id = payload["orderId"]
    board = board_app.app.board
    screen = board_app.app.screen
    shown = []
    for _page in range(len(board.pages())):
        for (tile_order, first), tile in screen.tiles.items():
            if tile_order == order_id:
                assert_inside(tile)
                segment = next(s for col in board.current_page() for s in col if s.first == first)
                shown.extend(range(segment.first, segment.last))
                if segment.continued:  # "continued", or "cont." in a crowded header
                    assert "cont" in tile.title_text
                if segment.continues:  # "cont. »", "»", or in row 3 in a crowded header
                    assert "»" in tile.title_text + tile.source_text
        board_app.tap_widget(screen.status_bar.ids.page)
    assert shown == list(range(len(board.ticket(order_id).lines))), "every line, once, in order"


def test_500_open_tickets_only_build_one_page(board_app: BoardDriver) -> None:
    board_app.add_orders(500)
    screen = board_app.app.screen
    board = board_app.app.board
    on_page = sum(len(column) for column in board.current_page())
    assert len(screen.tiles) == on_page < 40
    assert len(screen.ids.area.children) == on_page
    pages = len(board.pages())
    assert pages > 10
    bar = screen.status_bar
    assert bar.page_text == f"1/{pages}"
    assert bar.next_text == f"{board.tickets_after_page()} more >"

    first_page = set(screen.tiles)
    board_app.tap_widget(bar.ids.page)
    assert board.page_index == 1
    assert bar.page_text.startswith(f"2/{pages}")
    assert set(screen.tiles).isdisjoint(first_page) or board.current_page()[0][0].continued
    assert len(screen.ids.area.children) == sum(len(c) for c in board.current_page())


@pytest.mark.parametrize("size", [(1280, 800), (800, 480), (1920, 1080)])
def test_every_tile_shows_all_its_lines(board_app: BoardDriver, size: tuple[int, int]) -> None:
    from kivy.core.window import Window

    Window.size = size
    board_app.wait_for(lambda: board_app.app.screen.metrics.width == size[0], what="resize")
    board_app.add_orders(30)
    screen = board_app.app.screen
    assert screen.tiles
    for tile in screen.tiles.values():
        assert_inside(tile)
