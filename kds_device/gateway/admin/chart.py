"""The admin page's chart, drawn on the server as SVG (no script, no chart library).

Orders per time bucket as bars, and the median delay from Deliverect creating an order to
the gateway journaling it (which is when screens are told) as a line on its own scale.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from kds_device.domain.timestamps import parse_timestamp

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
    median_delay_s: float | None


def buckets(
    received: Sequence[tuple[float, object]], now: float, hours: float, bucket_min: int
) -> list[Bucket]:
    """Orders per ``bucket_min`` over the last ``hours`` (oldest first) with each bucket's
    median Deliverect-to-gateway delay (None without a usable ``_created``)."""
    size = bucket_min * 60
    count = max(1, int(hours * 3600 // size))
    first = (now // size - count + 1) * size
    orders = [0] * count
    delays: list[list[float]] = [[] for _ in range(count)]
    for journaled, created in received:
        index = int((journaled - first) // size)
        if not 0 <= index < count:
            continue
        orders[index] += 1
        stamp = parse_timestamp(created)
        if stamp is not None:
            delay = journaled - stamp.timestamp()
            if 0 <= delay < 3600:  # a clock far off says nothing about the delay
                delays[index].append(delay)
    return [
        Bucket(first + i * size, orders[i], statistics.median(delays[i]) if delays[i] else None)
        for i in range(count)
    ]


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    for top in (1, 2, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 400, 500, 1000):
        if value <= top:
            return float(top)
    return float(value)


def svg(rows: Sequence[Bucket], tz_label: str = "") -> str:
    """The chart as an inline ``<svg>`` element (text escaped)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top_orders = _nice_top(max((b.orders for b in rows), default=0) or 1)
    delays = [b.median_delay_s for b in rows if b.median_delay_s is not None]
    top_delay = _nice_top(max(delays, default=0.0) or 1.0)
    step = plot_w / max(1, len(rows))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="Orders and delay per period">'
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
            f"{top_delay * fraction:g} s</text>"
        )
    #: Runs of consecutive buckets that have a delay: the line breaks where one has none.
    runs: list[list[tuple[float, float]]] = [[]]
    for i, bucket in enumerate(rows):
        x = LEFT + i * step
        height = plot_h * bucket.orders / top_orders
        label = datetime.fromtimestamp(bucket.start).strftime("%H:%M")
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{TOP + plot_h - height:.1f}"'
            f' width="{max(1.0, step - 2):.1f}" height="{height:.1f}" class="bar">'
            f"<title>{escape(label)}: {bucket.orders} order(s)</title></rect>"
        )
        if bucket.median_delay_s is not None:
            y = TOP + plot_h * (1 - bucket.median_delay_s / top_delay)
            runs[-1].append((x + step / 2, y))
        elif runs[-1]:
            runs.append([])
        if i % max(1, len(rows) // 8) == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 12}" class="axis" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for run in runs:
        if len(run) > 1:
            line = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            parts.append(f'<polyline points="{line}" class="line"/>')
        for px, py in run:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" class="dot"/>')
    if tz_label:
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" class="axis" '
            f'text-anchor="end">{escape(tz_label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
