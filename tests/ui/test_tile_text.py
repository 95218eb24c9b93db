"""The words on a tile and in the bars (pure functions, no window)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from kds_device.domain.board import AgeClass
from kds_device.domain.urgency import Urgency
from kds_device.runtime.messages import Link, LinkChanged
from kds_device.ui import tile_text
from kds_device.ui.status_view import LinkAlarm, ago, link_text
from kds_device.ui.theme import Metrics


def test_timer_formats() -> None:
    assert tile_text.format_timer(0) == "00:00"
    assert tile_text.format_timer(61.9) == "01:01"
    assert tile_text.format_timer(3600 + 125) == "1:02:05"
    assert tile_text.format_timer(-90) == "-01:30"


def test_due_text() -> None:
    promised = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)

    def due(level: AgeClass, to_promise: float, asap: bool = True) -> str:
        urgency = Urgency(level, 60.0, to_promise, promised)
        return tile_text.format_due(urgency, asap, UTC)

    assert due(AgeClass.ON_TIME, 4 * 60 + 10) == "due 4 min"
    assert "8 min over" in due(AgeClass.LATE, -8 * 60 - 5)
    assert "due now" in due(AgeClass.LATE, -20)
    assert due(AgeClass.UPCOMING, 5000, asap=False) == "scheduled 13:05"
    assert due(AgeClass.ON_TIME, 50 * 60, asap=False) == "for 13:05"


def test_due_text_agrees_with_late_and_never_shows_absurd_minutes() -> None:
    """Issue 9, point 6/8: never "LATE" beside "due 2 min", never "10736 min over"."""
    promised = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)
    inside_margin = Urgency(AgeClass.LATE, 600.0, 90.0, promised)
    assert tile_text.format_due(inside_margin, True, UTC) == "[b]due 13:05[/b]"
    ancient = Urgency(AgeClass.LATE, 600.0, -10736 * 60.0, promised)
    assert tile_text.format_due(ancient, True, UTC) == "[b]due 22 Nov 13:05[/b]"
    two_hours_over = Urgency(AgeClass.LATE, 600.0, -2 * 3600.0, promised)
    assert tile_text.format_due(two_hours_over, True, UTC) == "[b]due 13:05[/b]"
    far_ahead = Urgency(AgeClass.ON_TIME, 60.0, 11 * 3600.0, promised)
    assert tile_text.format_due(far_ahead, True, UTC) == "due 13:05"  # from 02:05, same day


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
