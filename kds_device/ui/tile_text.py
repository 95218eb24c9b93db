"""What a tile says, as Kivy markup strings: timers, due times and badges (the body rows are
:mod:`kds_device.ui.body_rows`).

Pure functions (no Kivy), so the wording is tested without a window. Every piece of order
text is escaped before it goes into markup: a customer typing ``[b]`` gets literal brackets.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from kds_device.domain.board import AgeClass
from kds_device.domain.channels import channel_name
from kds_device.domain.order import Order, OrderType
from kds_device.domain.urgency import MINUTES_BOUND_S, Urgency
from kds_device.ui.body_rows import clean
from kds_device.ui.scripts import display_markup, escape
from kds_device.ui.theme import AGE_WORD

__all__ = ["clean", "display_markup", "escape"]


def format_timer(seconds: float) -> str:
    """``mm:ss``, ``h:mm:ss`` past an hour; a scheduled order's negative clock shows ``-mm:ss``."""
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes:02d}:{secs:02d}"


def format_due(urgency: Urgency, asap: bool, tz: tzinfo | None = None) -> str:
    """The promise as markup, in words that agree with the urgency: ``due 4 min``,
    ``for 19:30`` (scheduled), ``8 min over`` (bold, only when LATE), ``scheduled 19:30``
    while upcoming. Far from the promise (a wrong clock, an old test order) it names the
    promised clock time, ``due 13:05``, never "10736 min over"; a LATE ticket inside its
    finishing margin says ``due 13:05`` too, never "LATE" beside "due 2 min"."""
    promised, to_promise = urgency.promised, urgency.to_promise_s
    if promised is None or to_promise is None:
        return ""
    clock = _local_hm(promised, tz)
    if urgency.level is AgeClass.UPCOMING:
        return f"scheduled {clock}"
    late = urgency.level is AgeClass.LATE
    minutes = int(abs(to_promise) // 60)
    if abs(to_promise) > MINUTES_BOUND_S or (late and to_promise > 0):
        now = promised - timedelta(seconds=to_promise)
        if promised.astimezone(tz).date() != now.astimezone(tz).date():
            clock = promised.astimezone(tz).strftime("%d %b %H:%M")  # not today: say the day
        return f"[b]due {clock}[/b]" if late else f"due {clock}"
    if to_promise < 0 or minutes == 0:
        return f"[b]{minutes} min over[/b]" if minutes else "[b]due now[/b]"
    if not asap:
        return f"for {clock}"
    return f"due {minutes} min"


def _local_hm(moment: datetime, tz: tzinfo | None) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def age_word(age: AgeClass) -> str:
    return AGE_WORD[age]


def who_markup(order: Order) -> str:
    """Row 2, left: order type in capitals with the table or the customer's name."""
    kind = order.order_type.label.upper()
    if order.order_type is OrderType.EAT_IN and order.table:
        who = f"Table {display_markup(clean(order.table, 12))}"
    else:
        who = display_markup(clean(order.customer_name, 40))
    return f"[b]{kind}[/b]  {who}" if who else f"[b]{kind}[/b]"


def source_text(order: Order, channels: dict[int, str]) -> str:
    """Row 3: the REMAKE / TEST badges first (never cut: the row shortens from the right),
    then channel name and brand."""
    channel = channel_name(order.channel, channels)
    badges = [b for b, on in (("REMAKE", order.remake), ("TEST", order.test_order)) if on]
    parts = [f"[b]{b}[/b]" for b in badges]
    parts += [display_markup(p) for p in (channel, clean(order.brand, 40)) if p]
    return " · ".join(parts)
