"""Immutable messages that worker threads post to the inbox, and the ports the app talks to.

The main loop drains the inbox and applies each message to the board and the screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from kds_device.domain.actions import Action
from kds_device.domain.events import Event
from kds_device.domain.roles import Role
from kds_device.domain.ticket import Request


class Link(StrEnum):
    """How this screen hears about orders right now (shown in the status bar)."""

    LIVE_MQTT = "live (MQTT)"
    LIVE_HTTP = "live (HTTP)"
    OFFLINE = "offline"
    #: The gateway refuses this screen's token: it was revoked (or the gateway forgot it).
    REMOVED = "removed"
    DEMO = "demo"


@dataclass(frozen=True)
class OrderArrived:
    """A raw Deliverect order or cancel body (demo feed; the gateway path uses events)."""

    payload: Mapping[str, Any]


@dataclass(frozen=True)
class EventsArrived:
    """Journal events, any order, possibly duplicated: the app applies them by ``seq``."""

    events: tuple[Event, ...]
    source: str  # "mqtt" or "http"
    ack: Any = None  # called with no arguments once the events are committed locally
    #: HTTP answers only: every event up to this seq has now been handed over (earlier ones
    #: through the inbox before this message), so a hole below it is a pruned or junk event
    #: that will never come, not a gap to wait on.
    through: int | None = None


@dataclass(frozen=True)
class LinkChanged:
    link: Link
    since_mono: float  # when this state began (time.monotonic())
    detail: str = ""


@dataclass(frozen=True)
class OutboxChanged:
    pending: int  # bumps stored locally, not yet acknowledged by the gateway


@dataclass(frozen=True)
class ActionRequested:
    """A bump-bar press or key (from any thread)."""

    action: Action
    source: str = ""  # "gpio:17", "key:numpad5", ...


@dataclass(frozen=True)
class RoleChanged:
    """The gateway says what this screen is for (``GET /api/v1/device``)."""

    role: Role


Message = OrderArrived | EventsArrived | LinkChanged | OutboxChanged | ActionRequested | RoleChanged


class StatusSink(Protocol):
    """Where the board's status changes (and part and item changes) go: the device outbox,
    or the demo's simulator."""

    def submit(self, change: Request) -> None:
        """Store ``change`` durably (or hand it on) and return at once; never blocks on I/O
        to a remote peer."""
        ...
