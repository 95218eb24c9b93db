"""The content of one tile, computed from the board: what the widget shows, nothing drawn.

Split into the part that changes with the clock (:class:`ClockView`, recomputed every
second for the tiles on screen) and the part that changes only when the ticket does
(:class:`TileView`), so a clock tick touches timer labels only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

from kds_device.domain.board import AgeClass, Board, Ticket
from kds_device.domain.clock import Instant
from kds_device.domain.layout import Segment
from kds_device.ui import tile_text
from kds_device.ui.theme import Palette


@dataclass(frozen=True)
class ClockView:
    """Header parts that move with time."""

    clock: str
    due: str
    header_bg: str
    header_fg: str
    age: AgeClass | None  # None for a voided ticket


@dataclass(frozen=True)
class TileView:
    """Everything else on a tile."""

    order_id: str
    continued: bool
    continues: bool
    voided: bool
    title: str
    who: str
    source: str
    body: str


def clock_view(
    board: Board, ticket: Ticket, now: Instant, tz: tzinfo | None, small_px: int = 16
) -> ClockView:
    if ticket.voided or ticket.order is None:
        bg, fg = Palette.HEADER_VOID
        return ClockView(f"[b][size={small_px}]CANCELLED[/size][/b]", "", bg, fg, None)
    age = board.age_class(ticket, now)
    bg, fg = Palette.HEADER[age]
    due = tile_text.format_due(ticket.order, board.seconds_to_promise(ticket, now), age, tz)
    clock = tile_text.clock_markup(board.elapsed_s(ticket, now), age, small_px)
    return ClockView(clock, due, bg, fg, age)


def tile_view(
    ticket: Ticket,
    segment: Segment,
    allergy: re.Pattern[str] | None,
    channels: dict[int, str],
    small_px: int = 16,
) -> TileView:
    order = ticket.order
    assert order is not None  # only visible tickets are laid out
    lines = ticket.lines[segment.first : segment.last]
    if ticket.voided:
        reason = tile_text.escape(tile_text.clean(ticket.void_reason, 60))
        who = "[b]TAP TO CLEAR[/b]"
        source = f"cancelled: {reason}" if reason else "order cancelled by the customer/platform"
    else:
        who = tile_text.who_markup(order)
        source = tile_text.source_text(order, channels)
    if ticket.recalled and not ticket.voided:
        source = f"[b]RECALLED[/b] · {source}" if source else "[b]RECALLED[/b]"
    return TileView(
        order_id=ticket.order_id,
        continued=segment.continued,
        continues=segment.continues,
        voided=ticket.voided,
        title=tile_text.title_markup(order, segment.continued, segment.continues, small_px),
        who=who,
        source=source,
        body=tile_text.body_markup(lines, allergy, ticket.voided),
    )
