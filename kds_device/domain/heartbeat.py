"""A screen's heartbeat: what it tells the gateway every few seconds about itself.

The body of ``POST /api/v1/heartbeat`` (gateway/openapi.yml), built by the device's
:mod:`~kds_device.adapters.heartbeat` sender and read by the gateway with :func:`read_heartbeat`,
which refuses anything else with a reason (the gateway answers 400 with it).

``shown_ms`` carries the screen's order-to-screen delays: for each ``order.received`` event
the board applied, ``{"seq": seq, "ms": ms}`` with ms = the screen's wall clock when it applied
the event minus the journal time the gateway stamped on it (:func:`shown_delay_ms`). A screen
whose clock is not right sends none; a delay below 0 or above an hour is a wrong clock, not a
delay.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kds_device.domain.timestamps import parse_timestamp

#: How the screen hears of orders now: the broker, HTTP long-poll, or not at all.
LINKS = ("mqtt", "http", "offline")
#: What the screen shows (as :class:`~kds_device.domain.roles.RoleKind`).
ROLE_KINDS = ("all", "expo", "stations")
#: As :data:`kds_device.domain.roles.STATION_ID`; the reserved names are roles, not stations.
_STATION = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_RESERVED = ("all", "expo")
MAX_STATIONS = 32
MAX_TEXT = 200
MAX_BUMPS = 2**31 - 1
MAX_SEQ = 2**63 - 1
#: A CPU temperature outside this range is not a reading (a broken sensor, a typo).
TEMP_RANGE_C = (-100.0, 200.0)
#: At most this many ``{seq, ms}`` delay samples in one heartbeat (a screen keeps no more).
MAX_SHOWN = 100
#: A delay above an hour says the clocks disagree, not how fast the screen is.
MAX_SHOWN_MS = 3_600_000


@dataclass(frozen=True)
class Heartbeat:
    version: str
    role: str
    stations: tuple[str, ...]
    link: str
    bumps_waiting: int
    last_seq: int
    clock_synced: bool | None = None
    cpu_temp_c: float | None = None
    #: ``(seq, ms)``: how long after the journal wrote an ``order.received`` the board applied it.
    shown_ms: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "version": self.version,
            "role": self.role,
            "stations": list(self.stations),
            "link": self.link,
            "bumps_waiting": self.bumps_waiting,
            "last_seq": self.last_seq,
            "clock_synced": self.clock_synced,
            "cpu_temp_c": self.cpu_temp_c,
        }
        if self.shown_ms:
            body["shown_ms"] = [{"seq": seq, "ms": ms} for seq, ms in self.shown_ms]
        return body


def shown_delay_ms(journaled: str, applied: datetime) -> int | None:
    """Milliseconds from ``journaled`` (an event's ``at``) to ``applied`` (aware); None when
    the journal time is unreadable or the delay is negative or over an hour (a wrong clock)."""
    try:
        stamp = parse_timestamp(journaled)
    except ValueError:
        return None
    if stamp is None:
        return None
    ms = round((applied - stamp).total_seconds() * 1000)
    return ms if 0 <= ms <= MAX_SHOWN_MS else None


def read_heartbeat(raw: object) -> Heartbeat:
    """The heartbeat in a request body; ValueError naming the first thing wrong.

    Keys it does not know are ignored (a newer screen may say more than this gateway reads)."""
    if not isinstance(raw, Mapping):
        raise ValueError("body must be a JSON object")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > MAX_TEXT:
        raise ValueError(f"version must be a non-empty string of at most {MAX_TEXT} characters")
    role = raw.get("role")
    if role not in ROLE_KINDS:
        raise ValueError(f"role must be one of {', '.join(ROLE_KINDS)}")
    link = raw.get("link")
    if link not in LINKS:
        raise ValueError(f"link must be one of {', '.join(LINKS)}")
    clock = raw.get("clock_synced")
    if clock is not None and not isinstance(clock, bool):
        raise ValueError("clock_synced must be true, false or null")
    return Heartbeat(
        version=version.strip(),
        role=str(role),
        stations=_stations(raw.get("stations")),
        link=str(link),
        bumps_waiting=_count(raw.get("bumps_waiting"), "bumps_waiting", MAX_BUMPS),
        last_seq=_count(raw.get("last_seq"), "last_seq", MAX_SEQ),
        clock_synced=clock,
        cpu_temp_c=_temperature(raw.get("cpu_temp_c")),
        shown_ms=_shown(raw.get("shown_ms")),
    )


def _shown(value: object) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_SHOWN:
        raise ValueError(f"shown_ms must be a list of at most {MAX_SHOWN} {{seq, ms}} objects")
    found: dict[int, int] = {}
    for sample in value:
        if not isinstance(sample, Mapping):
            raise ValueError(f"shown_ms: {str(sample)[:40]} is not a {{seq, ms}} object")
        seq = _count(sample.get("seq"), "shown_ms seq", MAX_SEQ)
        ms = _count(sample.get("ms"), "shown_ms ms", MAX_SHOWN_MS)
        if seq < 1:
            raise ValueError(f"shown_ms seq must be an integer from 1 to {MAX_SEQ}")
        found.setdefault(seq, ms)  # a seq twice: the first counts
    return tuple(found.items())


def _stations(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_STATIONS:
        raise ValueError(f"stations must be a list of at most {MAX_STATIONS} station ids")
    for station in value:
        if not isinstance(station, str) or not _STATION.fullmatch(station) or station in _RESERVED:
            raise ValueError(f"stations: {str(station)[:40]!r} is not a station id")
    return tuple(value)


def _count(value: object, name: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ValueError(f"{name} must be an integer from 0 to {high}")
    return value


def _temperature(value: object) -> float | None:
    if value is None:
        return None
    low, high = TEMP_RANGE_C
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ValueError(f"cpu_temp_c must be a number from {low:g} to {high:g}, or null")
    return float(value)
