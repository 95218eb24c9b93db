"""Routing an order's items to kitchen stations (grill, fryer, cold, bar).

An operator writes the rules of a location as TOML (``kds-gateway stations set``);
:func:`~kds_device.domain.rules_check.parse_rules` checks them and lists every problem at
once (how rules match items: :mod:`~kds_device.domain.routing_rules`). When an order arrives
the gateway applies the rules current at that moment (:func:`route_order`) and stamps the
:class:`Routing` into the journal event, so every screen agrees and a later change of rules
never touches an open ticket. An order without routing is one part at station ``"all"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kds_device.domain.roles import check_station_id, station_title
from kds_device.domain.routing_rules import FALLBACK_PREP_MIN, RoutingRules

#: The one part of an order that has no routing (no rules, or an old journal).
ALL_STATION = "all"


@dataclass(frozen=True)
class RoutedItem:
    index: int  # into the payload's top-level ``items``
    stations: tuple[str, ...]
    prep_min: int


@dataclass(frozen=True)
class Routing:
    """Which station makes which top-level item of one order, and how long each part takes.

    ``single`` (no rules, an old journal, or unreadable routing) is one part at ``"all"``.
    ``problem`` says why routing that was given could not be read (for the log).
    """

    version: int = 0
    items: tuple[RoutedItem, ...] = ()
    stations: tuple[str, ...] = (ALL_STATION,)
    names: Mapping[str, str] = field(default_factory=lambda: {ALL_STATION: "All"})
    prep_min: Mapping[str, int] = field(default_factory=dict)
    single: bool = True
    problem: str = ""

    def stations_of(self, index: int) -> tuple[str, ...]:
        """The stations of top-level item ``index``; an item the routing does not list is
        shown at every station of the order (never lost)."""
        if self.single:
            return (ALL_STATION,)
        for item in self.items:
            if item.index == index:
                return item.stations
        return self.stations

    def items_at(self, station: str) -> tuple[int, ...]:
        return tuple(i.index for i in self.items if station in i.stations)

    def name_of(self, station: str) -> str:
        return self.names.get(station) or station_title(station)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "items": [
                {"index": i.index, "stations": list(i.stations), "prepMin": i.prep_min}
                for i in self.items
            ],
            "stations": list(self.stations),
            "names": dict(self.names),
            "prepMin": dict(self.prep_min),
        }

    @classmethod
    def parse(cls, raw: object) -> Routing:
        """Read routing JSON strictly; ValueError on anything that is not routing."""
        if not isinstance(raw, Mapping):
            raise ValueError("routing must be an object")
        version = raw.get("version", 0)
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise ValueError("routing version must be a non-negative integer")
        raw_items = raw.get("items")
        if not isinstance(raw_items, list):
            raise ValueError("routing items must be a list")
        items = []
        seen: set[int] = set()
        for entry in raw_items:
            if not isinstance(entry, Mapping):
                raise ValueError("a routed item must be an object")
            index = entry.get("index")
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValueError("a routed item's index must be a non-negative integer")
            if index in seen:
                raise ValueError(f"item {index} is routed twice")
            seen.add(index)
            stations = _station_list(entry.get("stations"))
            prep = entry.get("prepMin", FALLBACK_PREP_MIN)
            if isinstance(prep, bool) or not isinstance(prep, int) or prep < 0:
                raise ValueError("a routed item's prepMin must be whole minutes")
            items.append(RoutedItem(index, stations, prep))
        stations = _station_list(raw.get("stations"))
        names = raw.get("names", {})
        if not isinstance(names, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in names.items()
        ):
            raise ValueError("routing names must map station ids to text")
        prep_min = raw.get("prepMin", {})
        if not isinstance(prep_min, Mapping) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in prep_min.items()
        ):
            raise ValueError("routing prepMin must map station ids to minutes")
        missing = {s for i in items for s in i.stations} - set(stations)
        if missing:
            raise ValueError(f"items routed to unlisted station(s): {', '.join(sorted(missing))}")
        return cls(
            version=version,
            items=tuple(items),
            stations=stations,
            names={s: names.get(s) or station_title(s) for s in stations},
            prep_min={s: int(prep_min[s]) for s in stations if s in prep_min},
            single=False,
        )

    @classmethod
    def from_json(cls, raw: object) -> Routing:
        """Read routing leniently: absent -> one part "all"; unreadable -> one part "all"
        with ``problem`` set (the caller logs it). Never raises."""
        if raw is None:
            return cls()
        try:
            return cls.parse(raw)
        except (ValueError, TypeError) as problem:
            return cls(problem=f"unreadable routing ({problem}); shown as one part")


def _station_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("stations must be a non-empty list")
    found: list[str] = []
    for entry in value:
        station = check_station_id(entry)
        if station not in found:
            found.append(station)
    return tuple(found)


def route_order(payload: Mapping[str, Any], rules: RoutingRules, version: int = 0) -> Routing:
    """Route an order's top-level items with ``rules`` (version ``version``).

    An item that is not an object, and every item of an order with none, goes to the default
    station: each order has at least one part, so none disappears from the kitchen."""
    raw_items = payload.get("items")
    items_list = raw_items if isinstance(raw_items, list) else []
    default_prep = rules.prep_for_type(payload.get("orderType"))
    routed: list[RoutedItem] = []
    for index, item in enumerate(items_list):
        stations, prep = rules.route_item(item)
        routed.append(RoutedItem(index, stations, default_prep if prep is None else prep))
    order_stations: list[str] = []
    for item in routed:
        order_stations.extend(s for s in item.stations if s not in order_stations)
    if not order_stations:
        order_stations = [rules.default_station]
    ordered = tuple(sorted(order_stations))
    prep_min = {
        s: max((i.prep_min for i in routed if s in i.stations), default=default_prep)
        for s in ordered
    }
    return Routing(
        version=version,
        items=tuple(routed),
        stations=ordered,
        names={s: rules.name_of(s) for s in ordered},
        prep_min=prep_min,
        single=False,
    )
