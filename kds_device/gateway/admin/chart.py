"""The admin page's chart, drawn on the server as SVG (no script, no chart library).

Orders per time bucket as bars, and the median order-to-screen delay as a line on its own
scale (milliseconds): over every screen's reported delays (``shown_ms`` in the heartbeats,
``shown_delays`` table) for the orders journaled in the bucket, from the gateway's journal write
to the moment the screen's board applied the order.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH = 1160
HEIGHT = 260
LEFT = 48
RIGHT = 56
TOP = 16
BOTTOM = 34


@dataclass(frozen=True)
class Bucket:
    start: float  # epoch seconds
    orders: int
    #: The median of the screens' order-to-screen delays for the bucket's orders (None: none).
    median_shown_ms: float | None


def buckets(
    received: Sequence[float],
    shown: Sequence[tuple[float, int]],
    now: float,
    hours: float,
    bucket_min: int,
) -> list[Bucket]:
    """Orders per ``bucket_min`` over the last ``hours`` (oldest first) by journal time, with
    the median of the delays ``shown`` (each at its order's journal time) in each bucket."""
    size = bucket_min * 60
    count = max(1, int(hours * 3600 // size))
    first = (now // size - count + 1) * size
    orders = [0] * count
    delays: list[list[int]] = [[] for _ in range(count)]
    for journaled in received:
        index = int((journaled - first) // size)
        if 0 <= index < count:
            orders[index] += 1
    for journaled, ms in shown:
        index = int((journaled - first) // size)
        if 0 <= index < count:
            delays[index].append(ms)
    return [
        Bucket(first + i * size, orders[i], statistics.median(delays[i]) if delays[i] else None)
        for i in range(count)
    ]


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    for top in (1, 2, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 400, 500):
        if value <= top:
            return float(top)
    scale = 1000.0
    while True:  # 1000, 2000, 5000, 10000 ... (milliseconds up to an hour)
        for step in (1, 2, 5):
            if value <= step * scale:
                return step * scale
        scale *= 10


def svg(rows: Sequence[Bucket], tz_label: str = "") -> str:
    """The chart as an inline ``<svg>`` element (text escaped)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top_orders = _nice_top(max((b.orders for b in rows), default=0) or 1)
    delays = [b.median_shown_ms for b in rows if b.median_shown_ms is not None]
    top_delay = _nice_top(max(delays, default=0.0) or 1.0)
    step = plot_w / max(1, len(rows))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="Orders and order-to-screen delay per period">'
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{top_orders * fraction:g}</text>"
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT + 6}" y="{y + 4:.1f}" class="axis delay">'
            f"{top_delay * fraction:g} ms</text>"
        )
    #: Runs of consecutive buckets that have a delay: the line breaks where one has none.
    runs: list[list[tuple[float, float, float, str]]] = [[]]
    for i, bucket in enumerate(rows):
        x = LEFT + i * step
        height = plot_h * bucket.orders / top_orders
        label = datetime.fromtimestamp(bucket.start).strftime("%H:%M")
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{TOP + plot_h - height:.1f}"'
            f' width="{max(1.0, step - 2):.1f}" height="{height:.1f}" class="bar">'
            f"<title>{escape(label)}: {bucket.orders} order(s)</title></rect>"
        )
        if bucket.median_shown_ms is not None:
            y = TOP + plot_h * (1 - bucket.median_shown_ms / top_delay)
            runs[-1].append((x + step / 2, y, bucket.median_shown_ms, label))
        elif runs[-1]:
            runs.append([])
        if i % max(1, len(rows) // 8) == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 12}" class="axis" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for run in runs:
        if len(run) > 1:
            line = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ms, _label in run)
            parts.append(f'<polyline points="{line}" class="line"/>')
        for px, py, ms, label in run:
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" class="dot">'
                f"<title>{escape(label)}: median {ms:g} ms to the screens</title></circle>"
            )
    if tz_label:
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" class="axis" '
            f'text-anchor="end">{escape(tz_label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
