"""A screen removed at the gateway (revoked) says so on the board at once, in the status bar
and in the banner, and goes back to normal if the gateway takes it again."""

from __future__ import annotations

import pytest

from kds_device.runtime.messages import Link, LinkChanged
from tests.fixtures.board_app import BoardDriver

pytestmark = [pytest.mark.ui, pytest.mark.timeout(60)]


def test_a_removed_screen_says_so_at_once(board_app: BoardDriver) -> None:
    app = board_app.app
    bar = app.screen.status_bar
    detail = "the gateway no longer knows this screen: enroll it again"
    board_app.post(LinkChanged(Link.REMOVED, board_app.clock.now.mono, detail))
    board_app.wait_for(lambda: "REMOVED" in bar.link_text, what="the removed state")
    board_app.advance(1)  # the once-a-second pass: no offline grace time for this one
    assert "REMOVED FROM THE KITCHEN" in app.screen.banner_text
    assert "enroll" in app.screen.banner_text
    board_app.post(LinkChanged(Link.LIVE_HTTP, board_app.clock.now.mono))
    board_app.wait_for(lambda: app.screen.banner_text == "", what="the banner to go")
