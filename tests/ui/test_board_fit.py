"""Nothing a cook needs is cut or spills, at the panel's and the big screens' sizes: the
offline banner wraps inside its box, the display id and the REMAKE badge show in full, the
link state and unsent bumps always show in the bar, and no label draws outside its tile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kds_device.domain.actions import Action
from kds_device.domain.board import AgeClass
from kds_device.runtime.messages import Link, LinkChanged, OrderArrived, OutboxChanged
from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]

SIZES = [(800, 480), (1280, 800)]


def resize(board_app: BoardDriver, size: tuple[int, int]) -> None:
    from kivy.core.window import Window

    Window.size = size
    board_app.wait_for(lambda: board_app.app.screen.metrics.width == size[0], what="resize")


def drawn(label: Any) -> str:
    """The characters Kivy actually rendered in ``label`` (after any shortening)."""
    board_lines = label._label._cached_lines
    return "\n".join("".join(word.text for word in line.words) for line in board_lines)


def fits(label: Any) -> bool:
    return bool(label.texture_size[0] <= label.width + 1)


def offline(board_app: BoardDriver, for_s: float) -> None:
    board_app.post(LinkChanged(Link.OFFLINE, since_mono=board_app.clock.now.mono - for_s))
    board_app.frames(2)
    board_app.advance(0)


@pytest.mark.parametrize("size", SIZES)
def test_offline_banner_wraps_inside_its_box(board_app: BoardDriver, size: tuple[int, int]) -> None:
    resize(board_app, size)
    board_app.add_orders(6)
    assert board_app.app.device.connection.offline_banner_s < 185
    offline(board_app, 185)  # past the banner's threshold: "3 min"
    banner = board_app.app.screen.ids.banner
    board_app.wait_for(lambda: banner.text != "" and banner.texture is not None, what="banner")
    assert "OFFLINE 3 min" in banner.text and "NOT reaching" in banner.text
    assert banner.texture_size[0] <= banner.width - 2 * banner.pad_px + 1
    assert banner.texture_size[1] <= banner.height
    assert banner.x >= 0 and banner.right <= size[0]
    assert "reaching this" in drawn(banner).replace("\n", " "), "nothing clipped"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("display_id", ["WMWMW", "WMWMWMWMWMWM"])
@pytest.mark.parametrize("age", [AgeClass.ON_TIME, AgeClass.CAUTION, AgeClass.LATE])
def test_the_display_id_is_never_cut(
    board_app: BoardDriver, size: tuple[int, int], display_id: str, age: AgeClass
) -> None:
    resize(board_app, size)
    # promises that make the wanted urgency at the advance below (domain/urgency.py)
    promised_in = {AgeClass.ON_TIME: 25, AgeClass.CAUTION: 11.5}.get(age, 5)
    moment = (board_app.clock.now.wall + timedelta(minutes=promised_in)).isoformat()
    (payload,) = board_app.add_orders(
        1,
        channelOrderDisplayId=display_id,
        customerName="Leonardo Bartholomew",
        orderType=5,
        pickupTime=moment,
        estimatedPickupTime=moment,
    )
    board_app.advance({AgeClass.ON_TIME: 130, AgeClass.CAUTION: 330}.get(age, 500))
    order_id = payload["orderId"]
    board = board_app.app.board
    assert board.age_class(board.ticket(order_id), board_app.clock.now) is age
    tile = board_app.tile(order_id)
    title = tile.ids.title
    board_app.wait_for(lambda: drawn(title) != "", what="the title")
    assert drawn(title) == display_id, "the id in full, no ellipsis"
    assert fits(title) and title.right <= tile.ids.clock.x + 1
    word = {AgeClass.ON_TIME: "", AgeClass.CAUTION: "HURRY"}.get(age, "LATE")
    assert word in drawn(tile.ids.clock) + drawn(tile.ids.due), "never colour alone"
    kind, _, name = drawn(tile.ids.who).partition("  ")
    assert kind == "DRIVE-THRU", "the order type in full"
    assert not name or len(name.rstrip(".…")) >= 4, "a name shows usefully or not at all"


@pytest.mark.parametrize("size", SIZES)
def test_a_remake_shows_its_badge_in_full(board_app: BoardDriver, size: tuple[int, int]) -> None:
    resize(board_app, size)
    (payload,) = board_app.add_orders(1, remake=True, brandName="The Very Long Brand Name Co.")
    source = board_app.tile(payload["orderId"]).ids.source
    board_app.wait_for(lambda: drawn(source) != "", what="row 3")
    assert drawn(source).startswith("REMAKE · ")
    assert fits(source)


def test_link_state_and_unsent_bumps_always_show_in_the_bar(board_app: BoardDriver) -> None:
    resize(board_app, (800, 480))
    board_app.add_orders(40)  # late counts and a long page indicator take room too
    board_app.advance(500)
    offline(board_app, 200)
    board_app.post(OutboxChanged(2))
    bar = board_app.app.screen.status_bar
    link = bar.ids.link
    # on one line, or stacked on a narrow bar: whole either way
    whole = ("OFFLINE 3 min · 2 unsent", "OFFLINE 3 min\n2 unsent")
    board_app.wait_for(lambda: drawn(link) in whole, what="the link")
    assert fits(link) and link.x >= bar.ids.late.right and link.right <= bar.ids.page.x + 1
    assert "LATE" in drawn(bar.ids.late) and fits(bar.ids.late)
    info = bar.ids.info
    assert "open" in drawn(info) and "..." not in drawn(info), "items dropped whole, not cut"
    assert fits(info) and info.right <= bar.ids.late.x + 1


@pytest.mark.parametrize("size", [(800, 480), (1280, 800), (1920, 1080)])
def test_no_label_draws_outside_its_tile(board_app: BoardDriver, size: tuple[int, int]) -> None:
    resize(board_app, size)
    remark = "Allergy: sesame and peanuts, really careful please"
    item = {"plu": "X", "name": "Falafel wrap", "quantity": 1, "price": 0, "itemRemark": remark}
    board_app.add_orders(2, items=[item], customerName="Bartholomew-Featherstonehaugh")
    later = (board_app.clock.now.wall + timedelta(minutes=50)).isoformat()
    # scheduled: UPCOMING first, on the board ("for 19:30") once the clock passes start-by
    board_app.add_orders(2, pickupTime=later, deliveryIsAsap=False)
    board_app.add_orders(1, remake=True, test=True, channelOrderDisplayId="WMWMWMWMWMWM")
    board_app.advance(3700)  # timers past an hour: "1:01:40"
    board_app.add_orders(3, orderType=5)
    board_app.advance(330)  # HURRY
    board_app.add_orders(2)
    board_app.post(OrderArrived(board_app.orders.cancel(board_app.add_orders(1)[0])))
    board_app.frames(3)
    board_app.advance(1)
    checked = 0
    for _page in range(len(board_app.app.board.pages())):
        for tile in board_app.app.screen.tiles.values():
            assert_inside(tile, size)
            checked += 1
        board_app.app.perform(Action.PAGE_NEXT)
        board_app.frames(2)
    assert checked >= 11, "every ticket checked"


def assert_inside(tile: Any, size: tuple[int, int]) -> None:
    for name, label in tile.ids.items():
        if not label.text:
            continue
        where = (size, name, label.text, label.texture_size, label.width)
        assert label.texture_size[0] <= label.width + 1, where
        assert label.texture_size[0] <= tile.width - 2 * tile.pad_px + 1, where
        assert label.x >= tile.x + tile.pad_px - 1, where
        assert label.right <= tile.right - tile.pad_px + 1, where
