"""What a tile says, as Kivy markup strings: timers, due times, badges and the body lines.

Pure functions (no Kivy), so the wording is tested without a window. Every piece of order
text is escaped before it goes into markup: a customer typing ``[b]`` gets literal brackets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from kds_device.domain.board import AgeClass
from kds_device.domain.channels import channel_name
from kds_device.domain.lines import LineKind, TicketLine
from kds_device.domain.order import Order, OrderType
from kds_device.domain.urgency import MINUTES_BOUND_S, Urgency
from kds_device.ui.theme import AGE_WORD, Palette

#: Longest run of characters without a break point before we insert one (hostile payloads).
MAX_WORD = 18
_WORD = re.compile(rf"\S{{{MAX_WORD + 1},}}")
#: Kivy's Roboto has no emoji or symbol glyphs beyond Latin/Greek/Cyrillic; DejaVu has more.
SYMBOL_FONT = "DejaVuSans"
INDENT = "\u00a0\u00a0\u00a0"


def escape(text: str) -> str:
    """Make ``text`` safe inside Kivy markup."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def clean(text: str, limit: int = 400) -> str:
    """One printable line: control characters dropped, very long words broken, capped."""
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _WORD.sub(lambda m: _break_word(m.group(0)), text)


def _break_word(word: str) -> str:
    return " ".join(word[i : i + MAX_WORD] for i in range(0, len(word), MAX_WORD))


def colour(text: str, hex_colour: str) -> str:
    return f"[color={hex_colour}]{text}[/color]"


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
        who = f"Table {escape(clean(order.table, 12))}"
    else:
        who = escape(clean(order.customer_name, 40))
    return f"[b]{kind}[/b]  {who}" if who else f"[b]{kind}[/b]"


def source_text(order: Order, channels: dict[int, str]) -> str:
    """Row 3: the REMAKE / TEST badges first (never cut: the row shortens from the right),
    then channel name and brand."""
    channel = channel_name(order.channel, channels)
    badges = [b for b, on in (("REMAKE", order.remake), ("TEST", order.test_order)) if on]
    parts = [f"[b]{b}[/b]" for b in badges]
    parts += [escape(p) for p in (channel, clean(order.brand, 40)) if p]
    return " · ".join(parts)


def line_markup(line: TicketLine, allergy: re.Pattern[str] | None, voided: bool = False) -> str:
    """One body line: items bold with their quantity, modifiers indented, remarks yellow
    italics, the note cyan; allergy words bold magenta in capitals. A cancelled ticket's
    lines are struck through in plain white (legible on its red tile)."""
    if voided:
        return f"[s]{_void_line(line)}[/s]"
    if line.kind is LineKind.PROBLEM or line.flag:
        return problem_markup(line)
    text = _highlight(clean(line.text), allergy) if line.allergy else escape(clean(line.text))
    warn = f"[font={SYMBOL_FONT}]{colour('⚠', Palette.ALLERGY)}[/font] " if line.allergy else ""
    if line.kind is LineKind.ITEM:
        qty = f"{line.quantity}x" if line.quantity != 1 else "1"
        if line.quantity != 1:
            qty = colour(f"[b]{qty}[/b]", Palette.QUANTITY)
        out = f"{warn}{qty}  [b]{text}[/b]"
    elif line.kind is LineKind.MODIFIER:
        prefix = f"{line.quantity}x " if line.quantity != 1 else ""
        mark = warn or "+ "
        out = INDENT * line.depth + mark + colour(f"{prefix}{text}", Palette.MODIFIER)
    elif line.kind is LineKind.REMARK:
        out = INDENT * line.depth + warn + colour(f"[i]» {text}[/i]", Palette.REMARK)
    else:
        out = warn + colour(f"[b]NOTE:[/b] [i]{text}[/i]", Palette.NOTE)
    return out


def problem_markup(line: TicketLine) -> str:
    """A line the order got wrong, as the tablet sent it: "NO ITEMS - check the tablet" on
    its own, or the item followed by its flag ("? Burger  CHECK qty -1"), bold in the alert
    colour so the cook asks before cooking."""
    return colour(f"[b]{escape(plain_line(line))}[/b]", Palette.ALLERGY)


def _void_line(line: TicketLine) -> str:
    plain = escape(plain_line(line))
    if line.allergy:  # the warning sign needs the symbol font
        plain = plain.replace("⚠", f"[font={SYMBOL_FONT}]⚠[/font]", 1)
    return f"[b]{plain}[/b]" if line.kind is LineKind.ITEM else plain


def _highlight(text: str, allergy: re.Pattern[str] | None) -> str:
    if allergy is None:
        return escape(text)
    pieces: list[str] = []
    last = 0
    for match in allergy.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(colour(f"[b]{escape(match.group(0).upper())}[/b]", Palette.ALLERGY))
        last = match.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)


def body_markup(
    lines: Sequence[TicketLine], allergy: re.Pattern[str] | None, voided: bool = False
) -> str:
    """The body of one segment, one markup line per ticket line."""
    return "\n".join(line_markup(line, allergy, voided) for line in lines)


def plain_line(line: TicketLine) -> str:
    """The text the row counter measures (markup-free, as wide as what is drawn)."""
    text = clean(line.text)  # measured bold: wider than the capitals of an allergy word
    if line.kind is LineKind.PROBLEM or line.flag:
        return f"{INDENT * line.depth}{clean(line.label())}"
    warn = "⚠ " if line.allergy else ""
    if line.kind is LineKind.ITEM:
        qty = f"{line.quantity}x" if line.quantity != 1 else "1"
        return f"{warn}{qty}  {text}"
    if line.kind is LineKind.MODIFIER:
        prefix = f"{line.quantity}x " if line.quantity != 1 else ""
        return f"{INDENT * line.depth}{warn or '+ '}{prefix}{text}"
    if line.kind is LineKind.REMARK:
        return f"{INDENT * line.depth}{warn}» {text}"
    return f"{warn}NOTE: {text}"
