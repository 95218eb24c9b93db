"""What a tile says, as Kivy markup strings: timers, due times and badges (the body rows are
:mod:`kds_device.ui.body_rows`).

Pure functions (no Kivy), so the wording is tested without a window. Every piece of order
text is escaped before it goes into markup: a customer typing ``[b]`` gets literal brackets.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from kds_device.domain.board import AgeClass
from kds_device.domain.order import Order, OrderType
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


def format_due(
    order: Order, to_promise: float | None, age: AgeClass, tz: tzinfo | None = None
) -> str:
    """Time left to the promised pickup as markup: ``due 4 min``, ``8 min over`` (red),
    ``scheduled 19:30`` for an order not started yet."""
    promised = order.promised_time
    if age is AgeClass.UPCOMING and promised is not None:
        return f"scheduled {_local_hm(promised, tz)}"
    if to_promise is None:
        return ""
    minutes = int(abs(to_promise) // 60)
    if to_promise < 0:
        return f"[b]{minutes} min over[/b]" if minutes else "[b]due now[/b]"
    if minutes == 0:
        return "[b]due now[/b]"
    if not order.asap and promised is not None:
        return f"for {_local_hm(promised, tz)}"
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
    channel = channels.get(order.channel, "") if order.channel is not None else ""
    if not channel and order.channel is not None:
        channel = f"channel {order.channel}"
    badges = [b for b, on in (("REMAKE", order.remake), ("TEST", order.test_order)) if on]
    parts = [f"[b]{b}[/b]" for b in badges]
    parts += [display_markup(p) for p in (channel, clean(order.brand, 40)) if p]
    return " · ".join(parts)
