"""A screen's heartbeat: what it tells the gateway every few seconds about itself.

The body of ``POST /api/v1/heartbeat`` (gateway/openapi.yml), built by the device's
:mod:`~kds_device.adapters.heartbeat` sender and read by the gateway with :func:`read_heartbeat`,
which refuses anything else with a reason (the gateway answers 400 with it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "role": self.role,
            "stations": list(self.stations),
            "link": self.link,
            "bumps_waiting": self.bumps_waiting,
            "last_seq": self.last_seq,
            "clock_synced": self.clock_synced,
            "cpu_temp_c": self.cpu_temp_c,
        }


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
    )


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
