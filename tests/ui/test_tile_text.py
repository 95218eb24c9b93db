"""The words on a tile and in the bars (pure functions, no window)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from kds_device.domain.board import AgeClass
from kds_device.domain.order import parse_order
from kds_device.runtime.messages import Link, LinkChanged
from kds_device.ui import tile_text
from kds_device.ui.status_view import LinkAlarm, ago, link_text
from kds_device.ui.theme import Metrics


def test_timer_formats() -> None:
    assert tile_text.format_timer(0) == "00:00"
    assert tile_text.format_timer(61.9) == "01:01"
    assert tile_text.format_timer(3600 + 125) == "1:02:05"
    assert tile_text.format_timer(-90) == "-01:30"


def test_due_text(orders) -> None:  # type: ignore[no-untyped-def]
    order = parse_order(orders.order())
    assert tile_text.format_due(order, 4 * 60 + 10, AgeClass.ON_TIME) == "due 4 min"
    assert "8 min over" in tile_text.format_due(order, -8 * 60 - 5, AgeClass.LATE)
    assert "due now" in tile_text.format_due(order, 20, AgeClass.CAUTION)
    later = datetime(2026, 11, 22, 19, 30, tzinfo=UTC)
    scheduled = parse_order(orders.order(pickupTime=later.isoformat(), deliveryIsAsap=False))
    assert tile_text.format_due(scheduled, 5000, AgeClass.UPCOMING, UTC) == "scheduled 19:30"


def test_link_words_and_ago() -> None:
    assert link_text(LinkChanged(Link.LIVE_MQTT, 0.0), 100.0) == ("LIVE · MQTT", True)
    assert link_text(LinkChanged(Link.OFFLINE, 0.0), 30.0) == ("OFFLINE 30 s", False)
    assert link_text(LinkChanged(Link.OFFLINE, 0.0), 600.0) == ("OFFLINE 10 min", False)
    assert link_text(LinkChanged(Link.OFFLINE, 0.0), 7500.0) == ("OFFLINE 2 h 05", False)
    assert ago(3) == "just now" and ago(125) == "2 min ago"


def test_link_alarm_escalates() -> None:
    alarm = LinkAlarm(banner_s=10, alarm_s=60)
    down = LinkChanged(Link.OFFLINE, 0.0)
    assert alarm.banner(down, 5) == "" and "OFFLINE" in alarm.banner(down, 11)
    fired = [t for t in range(0, 900) if alarm.due(down, float(t))]
    gaps = [b - a for a, b in itertools.pairwise(fired)]
    assert fired[0] == 60
    assert gaps[0] == 30 and gaps[-1] == 5, gaps
    assert not alarm.due(LinkChanged(Link.LIVE_HTTP, 0.0), 1000.0)


def test_sizes_follow_the_window() -> None:
    small, big = Metrics.for_window(800, 480), Metrics.for_window(1920, 1080)
    assert small.columns == 3 and small.body_px >= 18
    assert big.columns >= 5 and big.body_px >= 1080 / 28
    for m in (small, big):
        head = m.row1_px + m.row2_px + m.row3_px + m.gap_px
        assert head == 3 * m.row_px, "the header is exactly the paginator's three rows"
        assert m.rows * m.row_px <= m.height - m.bar_px
