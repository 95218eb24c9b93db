"""What a frame costs stays small: tiles draw no invisible outline (a transparent wide Kivy
Line goes through the stencil buffer), label textures are only as big as their text, and a
clock tick re-renders the timers only."""

from __future__ import annotations

import pytest

from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(60)]


def lines(tile: object) -> list[object]:
    from kivy.graphics import Line

    found: list[object] = []

    def walk(instruction: object) -> None:
        if isinstance(instruction, Line):
            found.append(instruction)
        for child in getattr(instruction, "children", None) or []:
            walk(child)

    walk(tile.canvas.after)  # type: ignore[attr-defined]
    return found


def test_only_the_selected_tile_draws_an_outline(board_app: BoardDriver) -> None:
    first, second = (p["orderId"] for p in board_app.add_orders(2))
    board = board_app.app.board
    selected = board.selected_id
    other = second if selected == first else first
    assert len(lines(board_app.tile(selected))) == 1
    assert lines(board_app.tile(other)) == []
    board_app.tap_widget(board_app.tile(other))
    board_app.frames(1)
    assert lines(board_app.tile(selected)) == []
    assert len(lines(board_app.tile(other))) == 1
    tile = board_app.tile(other)
    assert board_app.pixel(tile.x + 1, tile.center_y) == (38, 224, 255)  # SELECTED, opaque


def test_label_textures_are_only_as_wide_as_their_text(board_app: BoardDriver) -> None:
    (payload,) = board_app.add_orders(1, customerName="Al")
    tile = board_app.tile(payload["orderId"])
    room = tile.width - 2 * tile.pad_px
    for name in ("title", "who", "body"):
        label = tile.ids[name]
        assert 0 < label.texture_size[0] < room * 0.9, name
        assert label.width == label.texture_size[0]


def test_a_long_text_is_still_shortened_to_its_room(board_app: BoardDriver) -> None:
    (payload,) = board_app.add_orders(1, brandName="An Extremely Long Brand Name " * 4)
    source = board_app.tile(payload["orderId"]).ids.source
    board_app.frames(2)
    assert source.texture_size[0] <= source.room + 1
    source.room = source.room / 2  # a narrower tile (resize): shortened again
    board_app.frames(2)
    assert source.texture_size[0] <= source.room + 1
