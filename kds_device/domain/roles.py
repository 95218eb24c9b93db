"""What a screen is for in a kitchen of stations: everything (one screen), expo, or stations.

A role travels as JSON (enrollment answer, ``GET /api/v1/device``, ``device.role`` events):
``{"kind": "all"}``, ``{"kind": "expo"}``, ``{"kind": "stations", "stations": ["fryer",
"grill"]}``. People type it as text (config, CLI): ``all``, ``expo``, ``stations:grill,fryer``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: A station id: a short lower-case slug (``grill``, ``cold-2``, ``expo-pack``).
STATION_ID = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: Names a station cannot take: they are roles (or the one part of an unrouted order).
RESERVED_STATIONS = frozenset({"all", "expo"})
#: The most stations one screen may show.
MAX_STATIONS = 32


def check_station_id(value: object) -> str:
    """``value`` when it is a valid station id; ValueError saying why not."""
    if not isinstance(value, str):
        raise ValueError(f"a station id must be a string, not {type(value).__name__}")
    station = value
    if not STATION_ID.fullmatch(station):
        raise ValueError(
            f"station id {value[:40]!r} must be a lower-case slug: a letter, then up to 31"
            " letters, digits, '-' or '_'"
        )
    if station in RESERVED_STATIONS:
        raise ValueError(f"station id {station!r} is reserved")
    return station


def station_title(station: str) -> str:
    """The display name of a station nobody named: its id, title-cased."""
    return station.replace("_", " ").replace("-", " ").title()


class RoleKind(StrEnum):
    ALL = "all"
    EXPO = "expo"
    STATIONS = "stations"


@dataclass(frozen=True)
class Role:
    """A screen's role; ``stations`` (lower-case ids) only for :attr:`RoleKind.STATIONS`."""

    kind: RoleKind = RoleKind.ALL
    stations: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind is RoleKind.STATIONS and not self.stations:
            raise ValueError("a stations role needs at least one station")
        if self.kind is not RoleKind.STATIONS and self.stations:
            raise ValueError(f"a {self.kind.value} role has no stations")

    @classmethod
    def for_stations(cls, stations: Iterable[str]) -> Role:
        ids = [check_station_id(s) for s in stations]
        if len(ids) > MAX_STATIONS:
            raise ValueError(f"at most {MAX_STATIONS} stations per screen")
        return cls(RoleKind.STATIONS, frozenset(ids))

    def to_json(self) -> dict[str, Any]:
        if self.kind is RoleKind.STATIONS:
            return {"kind": self.kind.value, "stations": sorted(self.stations)}
        return {"kind": self.kind.value}

    @classmethod
    def from_json(cls, raw: object) -> Role:
        """Read a role; ValueError on anything that is not one."""
        if not isinstance(raw, Mapping):
            raise ValueError("a role must be a JSON object")
        unknown = set(raw) - {"kind", "stations"}
        if unknown:
            raise ValueError(f"unknown role key(s): {', '.join(sorted(map(str, unknown)))}")
        kind = raw.get("kind")
        try:
            found = RoleKind(kind if isinstance(kind, str) else "")
        except ValueError:
            raise ValueError(f"role kind must be all, expo or stations, not {kind!r}") from None
        stations = raw.get("stations")
        if found is RoleKind.STATIONS:
            if not isinstance(stations, list) or not stations:
                raise ValueError("a stations role needs a non-empty list of stations")
            return cls.for_stations(stations)
        if "stations" in raw:
            raise ValueError(f"a {found.value} role has no stations")
        return cls(found)

    @classmethod
    def from_text(cls, text: str) -> Role:
        """``all``, ``expo`` or ``stations:grill,fryer`` (as typed in a config or the CLI)."""
        kind, _, rest = text.strip().partition(":")
        kind = kind.strip().lower()
        if kind == RoleKind.STATIONS.value:  # typed by people: any case, spaces around
            return cls.for_stations(s.strip().lower() for s in rest.split(",") if s.strip())
        if rest.strip():
            raise ValueError(f"role {text[:40]!r}: only a stations role lists stations")
        try:
            return cls(RoleKind(kind))
        except ValueError:
            raise ValueError(
                f"role {text[:40]!r} must be all, expo or stations:<id>,<id>"
            ) from None

    def to_text(self) -> str:
        if self.kind is RoleKind.STATIONS:
            return "stations:" + ",".join(sorted(self.stations))
        return self.kind.value

    def shows_station(self, station: str) -> bool:
        """Whether this screen shows the part of an order routed to ``station``."""
        if self.kind is RoleKind.STATIONS:
            return station in self.stations
        return True
