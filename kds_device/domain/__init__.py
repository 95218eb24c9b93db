"""The kitchen's own logic: orders, tickets, the board. Pure Python, no I/O.

Nothing here imports kivy, paho, requests, gpiozero or sqlite3 (a test enforces it);
time is passed in.
"""

from kds_device.domain.board import (
    PAGE_CHANGED,
    AgeClass,
    AgeThresholds,
    Alert,
    Board,
    BoardSettings,
    Outcome,
    StatusChange,
    Ticket,
)
from kds_device.domain.clock import Instant
from kds_device.domain.events import Event, EventType
from kds_device.domain.layout import LayoutSpec, Segment, paginate
from kds_device.domain.lines import LineKind, TicketLine, ticket_lines
from kds_device.domain.order import (
    Cancel,
    Item,
    Order,
    OrderPayloadError,
    OrderType,
    parse_cancel,
    parse_order,
    parse_webhook,
)
from kds_device.domain.status import KDS_SENDABLE, OrderStatus

__all__ = [
    "KDS_SENDABLE",
    "PAGE_CHANGED",
    "AgeClass",
    "AgeThresholds",
    "Alert",
    "Board",
    "BoardSettings",
    "Cancel",
    "Event",
    "EventType",
    "Instant",
    "Item",
    "LayoutSpec",
    "LineKind",
    "Order",
    "OrderPayloadError",
    "OrderStatus",
    "OrderType",
    "Outcome",
    "Segment",
    "StatusChange",
    "Ticket",
    "TicketLine",
    "paginate",
    "parse_cancel",
    "parse_order",
    "parse_webhook",
    "ticket_lines",
]
