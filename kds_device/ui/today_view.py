"""What the "Today" view says, without Kivy: the texts of its header and of each row, the bar
lengths of its chart and their colours (testable, and the same at every window size)."""

from __future__ import annotations

from dataclasses import dataclass

from kds_device.domain.speed import SpeedRow

#: Tabs of the view, in the order NEXT / PREVIOUS walk them.
TITLES = {"hour": "BY HOUR", "channel": "BY CHANNEL", "station": "BY STATION"}
#: Late shares from which a row's bar turns amber, then red.
WARN_SHARE = 0.10
BAD_SHARE = 0.25
#: The chart's scale is at least this (a quiet morning's 2-minute tickets are not full bars).
MIN_SCALE_S = 600.0


def clock(seconds: float) -> str:
    """``6:05`` (minutes and seconds); ``1:02:05`` past an hour."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


def level(share: float) -> str:
    """ "good", "warn" or "bad": the colour of a late share."""
    if share >= BAD_SHARE:
        return "bad"
    return "warn" if share >= WARN_SHARE else "good"


@dataclass(frozen=True)
class RowText:
    key: str
    tickets: str
    median: str
    p90: str
    late: str
    level: str
    median_part: float  # of the chart's width, 0..1
    p90_part: float


def summary(total: SpeedRow) -> str:
    """The header's line: ``42 tickets · median 6:10 · 9 in 10 within 11:20 · 18% late`` (the
    90th percentile said in a cook's words)."""
    if not total.tickets:
        return "no tickets finished yet today"
    word = "ticket" if total.tickets == 1 else "tickets"
    return (
        f"{total.tickets} {word} · median {clock(total.median_s)}"
        f" · 9 in 10 within {clock(total.p90_s)}"
        f" · {percent(total.late_share)} late"
    )


def row_texts(rows: list[SpeedRow]) -> list[RowText]:
    """Each row's cells and bars, on one scale: the longest p90 (at least 10 min)."""
    scale = max([MIN_SCALE_S, *(r.p90_s for r in rows)])
    return [
        RowText(
            key=r.key,
            tickets=str(r.tickets),
            median=clock(r.median_s),
            p90=clock(r.p90_s),
            late=percent(r.late_share),
            level=level(r.late_share),
            median_part=min(1.0, r.median_s / scale),
            p90_part=min(1.0, r.p90_s / scale),
        )
        for r in rows
    ]


def scale_text(rows: list[SpeedRow]) -> str:
    """The time at the chart's right end (``15:00``)."""
    return clock(max([MIN_SCALE_S, *(r.p90_s for r in rows)]))
