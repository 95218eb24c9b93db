"""What a screen is for: the whole kitchen (ALL, today's one-screen behaviour), expo, or one
or more stations. Pure; the JSON form travels in enrollment answers and ``device.role`` events."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_STATION = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


class RoleKind(StrEnum):
    ALL = "all"
    EXPO = "expo"
    STATIONS = "stations"


@dataclass(frozen=True)
class Role:
    kind: RoleKind = RoleKind.ALL
    stations: frozenset[str] = frozenset()  # lower-case station ids, only for STATIONS

    @classmethod
    def for_stations(cls, stations: Iterable[str]) -> Role:
        names = frozenset(s.strip().lower() for s in stations if s.strip())
        for name in names:
            if not _STATION.fullmatch(name):
                raise ValueError(f"station id {name!r} must be a short lower-case slug")
        if not names:
            raise ValueError("a station role needs at least one station")
        return cls(RoleKind.STATIONS, names)

    def to_json(self) -> dict[str, Any]:
        if self.kind is RoleKind.STATIONS:
            return {"kind": self.kind.value, "stations": sorted(self.stations)}
        return {"kind": self.kind.value}

    @classmethod
    def from_json(cls, raw: object) -> Role:
        """ValueError on anything that is not a role."""
        if not isinstance(raw, Mapping):
            raise ValueError("role must be an object")
        try:
            kind = RoleKind(str(raw.get("kind", "")).strip().lower())
        except ValueError:
            raise ValueError(f"role kind must be one of all, expo, stations: {raw!r}") from None
        if kind is not RoleKind.STATIONS:
            return cls(kind)
        stations = raw.get("stations")
        if not isinstance(stations, list) or not all(isinstance(s, str) for s in stations):
            raise ValueError("a station role needs stations: a list of station ids")
        return cls.for_stations(stations)

    def shows_station(self, station: str) -> bool:
        return self.kind is not RoleKind.STATIONS or station in self.stations

    @classmethod
    def parse(cls, text: str) -> Role:
        """``"all"``, ``"expo"`` or ``"stations:grill,fryer"`` (the demo config's form)."""
        kind, _, rest = text.strip().lower().partition(":")
        if kind in (RoleKind.ALL.value, RoleKind.EXPO.value) and not rest:
            return cls(RoleKind(kind))
        if kind == RoleKind.STATIONS.value:
            return cls.for_stations(rest.split(","))
        raise ValueError(f'role must be "all", "expo" or "stations:grill,fryer", not {text!r}')

    def __str__(self) -> str:
        if self.kind is RoleKind.STATIONS:
            return "stations:" + ",".join(sorted(self.stations))
        return self.kind.value
