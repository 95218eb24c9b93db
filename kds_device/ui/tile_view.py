"""The content of one tile, computed from the board: what the widget shows, nothing drawn.

Split into the part that changes with the clock (:class:`ClockView`, recomputed every
second for the tiles on screen) and the part that changes only when the ticket does
(:class:`TileView`), so a clock tick touches timer labels only. How the header's parts share
its rows is decided by the tile (:mod:`kds_device.ui.header_fit`), which knows its width.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from kds_device.domain.board import AgeClass, Board, Ticket
from kds_device.domain.board_pace import READY
from kds_device.domain.clock import Instant
from kds_device.domain.courier import courier_text
from kds_device.domain.layout import Segment
from kds_device.domain.lines import LineKind, TicketLine
from kds_device.domain.order import OrderType
from kds_device.domain.status import KDS_SENDABLE, OrderStatus
from kds_device.ui import tile_text
from kds_device.ui.theme import Palette


@dataclass(frozen=True)
class ClockView:
    """Header parts that move with time."""

    word: str  # HURRY / LATE, never colour alone
    timer: str
    due: str  # markup
    header_bg: str
    header_fg: str
    age: AgeClass | None  # None for a voided ticket
    #: The courier ("courier 2 min", "COURIER WAITING"), plain text for row 2; "" if none.
    courier: str = ""


@dataclass(frozen=True)
class TileView:
    """Everything else on a tile; ``display_id`` and ``name`` are plain (cleaned) text."""

    order_id: str
    continued: bool
    continues: bool
    voided: bool
    started: bool  # at a status a kitchen screen sent (PREPARING ...): marked on the tile
    display_id: str
    marks: tuple[str, ...]
    kind: str
    name: str
    table: str
    source: str
    body: str
    #: For each body row: the top-level item it belongs to (-1: none), so a tap on a row
    #: of a station screen can mark that item done.
    row_items: tuple[int, ...] = ()


#: Expo's header word when every part of the order is done.
ALL_READY = "ALL READY"


def clock_view(board: Board, ticket: Ticket, now: Instant, tz: tzinfo | None) -> ClockView:
    if ticket.voided or ticket.order is None:
        bg, fg = Palette.HEADER_VOID
        return ClockView("", "", "", bg, fg, None)
    urgency = board.urgency(ticket, now)  # one answer for colour, word, timer and due text
    age = urgency.level
    bg, fg = Palette.HEADER[age]
    due = tile_text.format_due(urgency, ticket.order.asap, tz)
    elapsed = urgency.elapsed_s
    timer = tile_text.format_timer(max(elapsed, 0.0)) if age is not AgeClass.UPCOMING else ""
    courier = courier_view(board, ticket, now)
    word = tile_text.age_word(age)
    if board.pace.courier_waiting(ticket):  # the courier is here, the food is not: loudest
        return ClockView(word, timer, due, *Palette.COURIER_WAITING, age, courier)
    if board.all_ready(ticket):  # expo: loud, in words and colour: send it
        return ClockView(ALL_READY, timer, due, Palette.READY, "#ffffff", age, courier)
    return ClockView(word, timer, due, bg, fg, age, courier)


def courier_view(board: Board, ticket: Ticket, now: Instant) -> str:
    """The courier's words for row 2 ("courier 2 min", "COURIER WAITING" while the order
    is not ready), "" without a courier."""
    state = board.pace.courier_of(ticket)
    if state is None:
        return ""
    ready = ticket.status >= READY
    return courier_text(state, now.wall, ready)


def tile_view(
    ticket: Ticket,
    segment: Segment,
    allergy: re.Pattern[str] | None,
    channels: dict[int, str],
    rows: Callable[[TicketLine, bool], list[str]],
) -> TileView:
    """``rows(line, voided)``: the markup rows a body line is drawn in (the row counter's)."""
    order = ticket.order
    assert order is not None  # only visible tickets are laid out
    lines = ticket.lines[segment.first : segment.last]
    if ticket.voided:
        reason = tile_text.display_markup(tile_text.clean(ticket.void_reason, 60))
        source = f"[b]Reason:[/b] {reason}" if reason else "cancelled by the customer/platform"
        kind, name, table = "", "", ""
    else:
        source = tile_text.source_text(order, channels)
        kind = order.order_type.label.upper()
        name, table = tile_text.clean(order.customer_name, 40), ""
        if order.order_type is OrderType.EAT_IN and order.table:
            name, table = "", tile_text.clean(order.table, 12)
    if ticket.recalled and not ticket.voided:
        source = f"[b]RECALLED[/b] · {source}" if source else "[b]RECALLED[/b]"
    state = "" if ticket.voided else kitchen_state(ticket.status)
    if state:  # a status a screen sent (this one or another): first on row 3, never cut
        source = f"[b]{state}[/b] · {source}" if source else f"[b]{state}[/b]"
    marks: tuple[str, ...] = ()
    if segment.continued and segment.continues:
        marks = ("continued · cont. »", "cont. »")
    elif segment.continued:
        marks = ("continued", "cont.")
    elif segment.continues:
        marks = ("cont. »", "»")
    return TileView(
        order_id=ticket.order_id,
        continued=segment.continued,
        continues=segment.continues,
        voided=ticket.voided,
        started=bool(state),
        display_id=tile_text.clean(order.display_id, 24),
        marks=marks,
        kind=kind,
        name=name,
        table=table,
        source=source,
        body="\n".join(row for line in lines for row in rows(line, ticket.voided)),
        row_items=tuple(
            line.item if line.kind in _ITEM_KINDS else -1
            for line in lines
            for _row in rows(line, ticket.voided)
        ),
    )


_ITEM_KINDS = (LineKind.ITEM, LineKind.MODIFIER, LineKind.REMARK)


def kitchen_state(status: int) -> str:
    """The word for a status a kitchen screen sends (PREPARING after START), else ""."""
    if status not in KDS_SENDABLE:
        return ""
    return OrderStatus(status).label.upper()
