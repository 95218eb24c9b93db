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


def test_a_tile_draws_its_texts_without_label_widgets(board_app: BoardDriver) -> None:
    """A Label widget cost some 60 KB a text; a tile's six texts are drawn in its own canvas."""
    from kivy.graphics import Rectangle

    (payload,) = board_app.add_orders(1, customerName="Al")
    tile = board_app.tile(payload["orderId"])
    board_app.frames(1)
    assert tile.children == [], "no child widgets"
    drawn = [i for i in tile.canvas.children if isinstance(i, Rectangle)]
    assert len(drawn) == 6
    shown = {name for name, text in tile.ids.items() if text.text}
    assert {"title", "clock", "who", "body"} <= shown
    for name in shown:
        text = tile.ids[name]
        assert text.texture in [r.texture for r in drawn], name
        assert text.texture.mag_filter == "nearest", name


def test_a_text_is_rendered_once_per_change_and_not_when_nothing_changed(
    board_app: BoardDriver,
) -> None:
    (payload,) = board_app.add_orders(1)
    tile = board_app.tile(payload["orderId"])
    board_app.frames(2)
    body = tile.ids.body
    renders = body.renders
    tile.body_text = "1  [b]Soup[/b]"  # text and size set together: one texture
    tile.body_font_px = tile.body_px * 0.9
    board_app.frames(2)
    assert body.renders == renders + 1
    assert "Soup" in "".join(w.text for line in body._label._cached_lines for w in line.words)
    renders = {name: text.renders for name, text in tile.ids.items()}
    tile.body_text = tile.body_text  # the same values again: nothing re-rendered
    tile.title_px = tile.title_px
    board_app.frames(2)
    assert {name: text.renders for name, text in tile.ids.items()} == renders


def test_a_drawn_text_is_held_once_in_its_texture_not_again_in_a_surface(
    board_app: BoardDriver,
) -> None:
    """Kivy's SDL2 text provider kept each label's drawing surface (as big as its texture)
    until the label's next render: every text on the board was held twice."""
    (payload,) = board_app.add_orders(1, customerName="Al")
    tile = board_app.tile(payload["orderId"])
    board_app.frames(1)
    body = tile.ids.body
    for name, text in tile.ids.items():
        assert getattr(text._label, "_surface", "never drawn") in (None, "never drawn"), name
    pixels = body.texture.pixels
    assert len(pixels) == body.texture.width * body.texture.height * 4
    assert any(pixels[3::4]), "the text is in the texture"
    renders = body.renders
    tile.body_text = "1  [b]Soup[/b]"  # drawn again, on a new surface, let go of again
    board_app.frames(2)
    assert body.renders == renders + 1
    assert body._label._surface is None
    assert any(body.texture.pixels[3::4])
