"""Words for the status bar, the undo bar, the offline banner and the recall list, and the
escalating link alarm. Pure (no Kivy): tested on their own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from kds_device.domain.attention import elsewhere
from kds_device.domain.board import Board
from kds_device.domain.clock import Instant
from kds_device.domain.pacing import behind_text
from kds_device.domain.roles import RoleKind
from kds_device.runtime.messages import Link, LinkChanged
from kds_device.ui import tile_text


@dataclass(frozen=True)
class StatusView:
    """What the status bar says; computed once a second and after every change."""

    station: str
    clock: str
    open_count: int
    late_count: int
    link: str
    link_ok: bool
    pending: int
    last_order: str
    page: str  # "2/3"
    more: int = 0  # tickets starting on the pages after this one
    late_elsewhere: int = 0  # late tickets on other pages (a touch target: jump there)
    cancelled_elsewhere: int = 0  # cancelled tickets on other pages
    clock_note: str = ""  # "CLOCK NOT SYNCED", "CLOCK 11 h SLOW"; "" when the clock is right
    upcoming: int = 0  # scheduled tickets waiting for their start-by (the UPCOMING panel)
    behind: str = ""  # "falling behind: +12 min" (kds_device.domain.pacing), "" on pace


@dataclass(frozen=True)
class RecallEntry:
    order_id: str
    text: str  # markup, three lines: id and who, the items, how long ago it was bumped


def ago(seconds: float) -> str:
    """``just now``, ``45 s``, ``3 min``, ``2 h 05 min``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60:02d} min ago"


#: The link state as the bar says it, short enough to always fit.
LINK_WORDS = {
    Link.LIVE_MQTT: "LIVE · MQTT",
    Link.LIVE_HTTP: "LIVE · HTTP",
    Link.DEMO: "DEMO",
}


def span(seconds: float) -> str:
    """``45 s``, ``3 min``, ``2 h 05``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d}"


def link_text(link: LinkChanged, now_mono: float) -> tuple[str, bool]:
    """What the bar says about the link, and whether that is healthy."""
    if link.link is Link.OFFLINE:
        return f"OFFLINE {span(now_mono - link.since_mono)}", False
    if link.link is Link.REMOVED:
        return "REMOVED · RE-ENROLL", False
    return LINK_WORDS.get(link.link, str(link.link.value).upper()), True


def status_view(
    board: Board,
    now: Instant,
    station: str,
    link: LinkChanged,
    pending: int,
    last_order: datetime | None,
    tz: tzinfo | None,
    clock_note: str = "",
    cooks: Mapping[str, int] | None = None,
) -> StatusView:
    workable = [t for t in board.open_tickets() if t.workable]
    pages = board.pages()
    after = board.tickets_after_page()
    page = f"{board.page_index + 1}/{len(pages)}"
    late_away, cancelled_away = elsewhere(board, now)
    text, ok = link_text(link, now.mono)
    if last_order is None:
        last = "no orders yet"
    else:
        since = (now.wall - last_order).total_seconds()
        last = "last order just now" if since < 60 else f"last order {span(since)}"
    return StatusView(
        station=station,
        clock=now.wall.astimezone(tz).strftime("%H:%M"),
        open_count=len(workable),
        late_count=board.late_count(now),
        link=text,
        link_ok=ok,
        pending=pending,
        last_order=last,
        page=page,
        more=after,
        late_elsewhere=len(late_away),
        cancelled_elsewhere=len(cancelled_away),
        clock_note=clock_note,
        upcoming=len(board.upcoming()),
        behind=behind_text(board.pace.falling_behind(board, now, cooks)),
    )


def elsewhere_texts(late: int, cancelled: int, short: bool = False) -> tuple[str, str]:
    """The bar's two jump buttons: "2 late," and "1 cancelled on other pages" (either may be
    empty; the last one says where); ``short`` (a narrow bar): "2 late >" "1 cancelled >"."""
    if short:
        return (f"{late} late >" if late else ""), (f"{cancelled} cancelled >" if cancelled else "")
    where = " on other pages"
    late_text = f"{late} late" if late else ""
    cancelled_text = f"{cancelled} cancelled" if cancelled else ""
    if cancelled_text:
        return (late_text + "," if late_text else ""), cancelled_text + where
    return (late_text + where if late_text else ""), ""


def station_label(board: Board, configured: str) -> str:
    """The bar's first words: the station(s) of a station screen, EXPO, or the configured
    name of a whole-kitchen screen."""
    role = board.role
    if role.kind is RoleKind.EXPO:
        return "EXPO"
    if role.kind is RoleKind.STATIONS:
        return " + ".join(
            s.replace("-", " ").replace("_", " ").title() for s in sorted(role.stations)
        )
    return configured


def undo_text(board: Board, now: Instant) -> str:
    """The undo bar's words while the undo window is open, else empty (bar hidden)."""
    order_id = board.undo_available(now)
    item = board.last_item if board.last_item_open(now) else None
    if order_id is None or (board.last_bump is None and item is None):
        return ""
    ticket = board.ticket(order_id)
    if ticket is None or ticket.order is None:
        return ""
    since = item[2] if item is not None else board.last_bump[1] if board.last_bump else now.mono
    left = board.settings.undo_window_s - (now.mono - since)
    name = tile_text.escape(tile_text.clean(ticket.order.display_id, 24))
    what = "item done" if item is not None else "part bumped" if board.is_station else "bumped"
    # the id first: on a narrow bar the end is what gets shortened
    return f"[b]{name}[/b] {what}  ({max(0, int(left + 0.999))} s)"


def recall_entries(board: Board, now: Instant, tz: tzinfo | None) -> list[RecallEntry]:
    """Each recently bumped ticket: id and who, what it had, and how long ago it went."""
    entries = []
    for ticket in board.recall_list():
        order = ticket.order
        if order is None:
            continue
        when = ago(now.mono - ticket.finished_mono) if ticket.finished_mono is not None else ""
        items = sum(item.quantity for item in order.items)
        first = f"[b]{tile_text.display_markup(tile_text.clean(order.display_id, 24))}[/b]   "
        first += tile_text.who_markup(order)
        what = ", ".join(
            f"{item.quantity}x {tile_text.clean(item.name, 40)}" for item in order.items[:6]
        )
        if len(order.items) > 6:
            what += ", ..."
        second = tile_text.display_markup(tile_text.clean(what, 70))
        third = f"bumped {when} · {items} item{'s' if items != 1 else ''}"
        entries.append(
            RecallEntry(ticket.order_id, f"{first}\n{second}\n[color=#c9d1da]{third}[/color]")
        )
    return entries


REMOVED_BANNER = (
    "THIS SCREEN WAS REMOVED FROM THE KITCHEN - new orders are NOT reaching it\n"
    "The gateway no longer accepts it. To use it again, enroll it again:"
    " kds-device enroll --gateway URL --code CODE"
)


class LinkAlarm:
    """Banner once the link has been down ``banner_s``; after ``alarm_s`` the alert sound
    repeats, faster the longer it lasts (every 30 s, down to every 5 s)."""

    def __init__(self, banner_s: float, alarm_s: float) -> None:
        self.banner_s = banner_s
        self.alarm_s = alarm_s
        self._next: float | None = None

    def banner(self, link: LinkChanged, now_mono: float) -> str:
        if link.link is Link.REMOVED:  # no grace time: it will not come back by itself
            return REMOVED_BANNER
        if link.link is not Link.OFFLINE or now_mono - link.since_mono < self.banner_s:
            return ""
        return (
            f"OFFLINE {span(now_mono - link.since_mono)} - new orders are NOT reaching this"
            " screen\nCheck network and gateway. Bumps are kept and sent later."
        )

    def due(self, link: LinkChanged, now_mono: float) -> bool:
        """True when the alarm should sound now."""
        down = now_mono - link.since_mono
        if link.link not in (Link.OFFLINE, Link.REMOVED) or down < self.alarm_s:
            self._next = None
            return False
        if self._next is not None and now_mono < self._next:
            return False
        over_min = (down - self.alarm_s) / 60.0
        self._next = now_mono + max(5.0, 30.0 - 5.0 * over_min)
        return True


@dataclass(frozen=True)
class UpcomingEntry:
    order_id: str
    starts: str  # "19:05"
    display_id: str  # plain (cleaned) text
    kind: str  # "DELIVERY"
    items: int


def upcoming_entries(board: Board, tz: tzinfo | None) -> list[UpcomingEntry]:
    """The tickets waiting UPCOMING, soonest first: when each starts, and what it is."""
    entries = []
    for ticket in board.upcoming():
        order = ticket.order
        start = board.pace.start_by(ticket, board.settings)
        if order is None or start is None:
            continue
        entries.append(
            UpcomingEntry(
                ticket.order_id,
                start.astimezone(tz).strftime("%H:%M"),
                tile_text.clean(order.display_id, 24),
                order.order_type.label.upper(),
                sum(item.quantity for item in order.items),
            )
        )
    return entries
