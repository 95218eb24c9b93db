"""Routing an order's items to kitchen stations (grill, fryer, cold, bar).

An operator writes the rules of a location as TOML (``kds-gateway stations set``);
:func:`parse_rules` checks them and lists every problem at once. When an order arrives the
gateway applies the rules current at that moment (:func:`route_order`) and stamps the
:class:`Routing` into the journal event, so every screen agrees and a later change of rules
never touches an open ticket. An order without routing is one part at station ``"all"``.

Rule matching: a rule matches a top-level item when any of its matchers does (``plu``: the
item's PLU equals one, or is one followed by Deliverect's ``#`` variant suffix; ``tags``: one
of the item's ``productTags``; ``name``: the regular expression is found in the item's name
or kitchen name). The first matching rule wins, unless it says ``also = true``: then its
stations are added and matching goes on. Items no rule takes go to ``default_station``.
Modifiers and remarks follow their top-level item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kds_device.domain.roles import check_station_id, station_title

#: The one part of an order that has no routing (no rules, or an old journal).
ALL_STATION = "all"
#: Prep minutes when neither a rule nor the order type's default gives any.
FALLBACK_PREP_MIN = 10
MAX_PREP_MIN = 24 * 60
MAX_RULES = 500
MAX_PATTERN = 300
MAX_NAME = 40
#: ``default_prep_min`` keys: Deliverect's order types (``orderType`` 1..5, else other).
ORDER_TYPE_KEYS = {1: "pickup", 2: "delivery", 3: "eat_in", 4: "curbside", 5: "drive_through"}
OTHER_TYPE_KEY = "other"
_TYPE_KEYS = frozenset(ORDER_TYPE_KEYS.values()) | {OTHER_TYPE_KEY}
_TOP_KEYS = frozenset({"default_station", "default_prep_min", "stations", "rule"})
_RULE_KEYS = frozenset({"station", "stations", "plu", "tags", "name", "prep_min", "also"})
_STATION_KEYS = frozenset({"name"})


class RulesError(ValueError):
    """Rules that cannot be used; ``problems`` lists every one, each saying where."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Rule:
    stations: tuple[str, ...]
    plus: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    pattern: str = ""
    prep_min: int | None = None
    also: bool = False
    compiled: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, item: Mapping[str, Any]) -> bool:
        plu = item.get("plu")
        if self.plus and isinstance(plu, str) and any(_plu_matches(plu, p) for p in self.plus):
            return True
        if self.tags:
            tags = item.get("productTags")
            if isinstance(tags, list) and any(_tag_text(t) in self.tags for t in tags):
                return True
        if self.compiled is not None:
            for key in ("name", "kitchenName"):
                text = item.get(key)
                if isinstance(text, str) and self.compiled.search(text):
                    return True
        return False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if len(self.stations) == 1:
            out["station"] = self.stations[0]
        else:
            out["stations"] = list(self.stations)
        if self.plus:
            out["plu"] = list(self.plus)
        if self.tags:
            out["tags"] = list(self.tags)
        if self.pattern:
            out["name"] = self.pattern
        if self.prep_min is not None:
            out["prep_min"] = self.prep_min
        if self.also:
            out["also"] = True
        return out


def _plu_matches(plu: str, wanted: str) -> bool:
    """``FRY-01`` matches ``FRY-01`` and Deliverect's variants ``FRY-01#2``, ``FRY-01###``."""
    return plu == wanted or (plu.startswith(wanted) and plu[len(wanted)] == "#")


def _tag_text(tag: object) -> str:
    if isinstance(tag, bool):
        return ""
    if isinstance(tag, (int, str)):
        return str(tag).strip()
    return ""


@dataclass(frozen=True)
class RoutingRules:
    """A location's checked rules; ``to_json`` is the normalised form journaled."""

    default_station: str
    stations: Mapping[str, str]  # id -> display name (every station the rules name)
    rules: tuple[Rule, ...] = ()
    default_prep_min: Mapping[str, int] = field(default_factory=dict)

    def name_of(self, station: str) -> str:
        return self.stations.get(station) or station_title(station)

    def prep_for_type(self, order_type: object) -> int:
        key = OTHER_TYPE_KEY
        if isinstance(order_type, int) and not isinstance(order_type, bool):
            key = ORDER_TYPE_KEYS.get(order_type, OTHER_TYPE_KEY)
        found = self.default_prep_min.get(key, self.default_prep_min.get(OTHER_TYPE_KEY))
        return FALLBACK_PREP_MIN if found is None else found

    def route_item(self, item: object) -> tuple[tuple[str, ...], int | None]:
        """(stations, rule prep minutes or None) of one top-level item."""
        stations: list[str] = []
        prep: int | None = None
        if isinstance(item, Mapping):
            for rule in self.rules:
                if not rule.matches(item):
                    continue
                stations.extend(s for s in rule.stations if s not in stations)
                if rule.prep_min is not None:
                    prep = rule.prep_min if prep is None else max(prep, rule.prep_min)
                if not rule.also:
                    break
        return (tuple(stations) or (self.default_station,)), prep

    def to_json(self) -> dict[str, Any]:
        return {
            "default_station": self.default_station,
            "default_prep_min": dict(sorted(self.default_prep_min.items())),
            "stations": {sid: {"name": name} for sid, name in sorted(self.stations.items())},
            "rule": [rule.to_json() for rule in self.rules],
        }


# ---- parsing ---------------------------------------------------------------------------


def parse_rules(raw: object) -> RoutingRules:
    """Check a TOML-loaded (or journaled JSON) rules table; RulesError lists every problem."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise RulesError(["the rules must be a table"])
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(f"unknown key {key!r} (expected {', '.join(sorted(_TOP_KEYS))})")
    declared = _stations_table(raw.get("stations"), problems)
    default = _station(raw.get("default_station"), "default_station", problems, required=True)
    prep = _default_prep(raw.get("default_prep_min"), problems)
    rules = _rules(raw.get("rule"), problems)
    named = dict(declared)
    used = ([default] if default else []) + [s for r in rules for s in r.stations]
    for where, station in _where_used(default, raw.get("rule")):
        if declared and station not in declared:
            problems.append(f"{where}: station {station!r} is not declared in [stations]")
    for station in used:
        named.setdefault(station, station_title(station))
    if problems:
        raise RulesError(problems)
    assert default is not None
    return RoutingRules(default, named, tuple(rules), prep)


def _where_used(default: str | None, raw_rules: object) -> Iterable[tuple[str, str]]:
    if default:
        yield "default_station", default
    if not isinstance(raw_rules, list):
        return
    for number, rule in enumerate(raw_rules, start=1):
        if not isinstance(rule, Mapping):
            continue
        for value in _as_list(rule.get("station")) + _as_list(rule.get("stations")):
            try:
                yield f"rule {number}", check_station_id(value)
            except ValueError:
                continue


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _station(value: object, where: str, problems: list[str], required: bool) -> str | None:
    if value is None:
        if required:
            problems.append(f"{where} is required (the station of items no rule takes)")
        return None
    try:
        return check_station_id(value)
    except ValueError as problem:
        problems.append(f"{where}: {problem}")
        return None


def _stations_table(raw: object, problems: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append("[stations] must be a table of [stations.<id>] tables")
        return {}
    found: dict[str, str] = {}
    for key, table in raw.items():
        station = _station(key, f"[stations.{key}]", problems, required=True)
        if station is None:
            continue
        if not isinstance(table, Mapping):
            problems.append(f'[stations.{key}] must be a table (name = "...")')
            continue
        for extra in table:
            if extra not in _STATION_KEYS:
                problems.append(f"[stations.{key}]: unknown key {extra!r} (expected 'name')")
        name = table.get("name", station_title(station))
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            problems.append(f"[stations.{key}]: name must be text of 1 to {MAX_NAME} characters")
            continue
        found[station] = name.strip()
    return found


def _minutes(value: object, where: str, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PREP_MIN:
        problems.append(f"{where} must be whole minutes from 1 to {MAX_PREP_MIN}, not {value!r}")
        return None
    return value


def _default_prep(raw: object, problems: list[str]) -> dict[str, int]:
    if raw is None:
        return {}
    if isinstance(raw, int) and not isinstance(raw, bool):  # one value for every type
        minutes = _minutes(raw, "default_prep_min", problems)
        return {} if minutes is None else {OTHER_TYPE_KEY: minutes}
    if not isinstance(raw, Mapping):
        problems.append("default_prep_min must be minutes or a table of minutes per order type")
        return {}
    found: dict[str, int] = {}
    for key, value in raw.items():
        if key not in _TYPE_KEYS:
            problems.append(
                f"default_prep_min: unknown order type {key!r}"
                f" (expected {', '.join(sorted(_TYPE_KEYS))})"
            )
            continue
        minutes = _minutes(value, f"default_prep_min.{key}", problems)
        if minutes is not None:
            found[key] = minutes
    return found


def _rules(raw: object, problems: list[str]) -> list[Rule]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append("rule must be an array of tables ([[rule]])")
        return []
    if len(raw) > MAX_RULES:
        problems.append(f"at most {MAX_RULES} rules, not {len(raw)}")
        return []
    rules = []
    for number, table in enumerate(raw, start=1):
        rule = _rule(table, f"rule {number}", problems)
        if rule is not None:
            rules.append(rule)
    return rules


def _rule(table: object, where: str, problems: list[str]) -> Rule | None:
    if not isinstance(table, Mapping):
        problems.append(f"{where}: must be a table")
        return None
    before = len(problems)
    for key in table:
        if key not in _RULE_KEYS:
            problems.append(
                f"{where}: unknown key {key!r} (expected {', '.join(sorted(_RULE_KEYS))})"
            )
    stations = _rule_stations(table, where, problems)
    plus = _texts(table.get("plu"), f"{where}: plu", problems)
    tags = _texts(table.get("tags"), f"{where}: tags", problems, numbers=True)
    pattern, compiled = _pattern(table.get("name"), where, problems)
    if not plus and not tags and not pattern and len(problems) == before:
        problems.append(f"{where}: needs plu, tags or name to match items")
    prep = table.get("prep_min")
    prep_min = None if prep is None else _minutes(prep, f"{where}: prep_min", problems)
    also = table.get("also", False)
    if not isinstance(also, bool):
        problems.append(f"{where}: also must be true or false, not {also!r}")
    if len(problems) > before:
        return None
    return Rule(tuple(stations), plus, tags, pattern, prep_min, bool(also), compiled)


def _rule_stations(table: Mapping[str, Any], where: str, problems: list[str]) -> list[str]:
    one, many = table.get("station"), table.get("stations")
    if one is not None and many is not None:
        problems.append(f"{where}: give station or stations, not both")
        return []
    if one is None and many is None:
        problems.append(f'{where}: needs station = "<id>" or stations = ["<id>", ...]')
        return []
    if many is not None and (not isinstance(many, list) or not many):
        problems.append(f"{where}: stations must be a non-empty list of station ids")
        return []
    found: list[str] = []
    for value in [one] if one is not None else list(many or []):
        station = _station(value, where, problems, required=True)
        if station is not None and station not in found:
            found.append(station)
    return found


def _texts(
    value: object, where: str, problems: list[str], numbers: bool = False
) -> tuple[str, ...]:
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    if not values:
        problems.append(f"{where} must not be empty")
        return ()
    found: list[str] = []
    for entry in values:
        ok = isinstance(entry, str) or (
            numbers and isinstance(entry, int) and not isinstance(entry, bool)
        )
        text = str(entry).strip() if ok else ""
        if not text or len(text) > 100:
            kinds = "texts or integers" if numbers else "non-empty texts"
            problems.append(f"{where}: {entry!r} is not one of the {kinds} expected")
            continue
        if text not in found:
            found.append(text)
    return tuple(found)


def _pattern(value: object, where: str, problems: list[str]) -> tuple[str, re.Pattern[str] | None]:
    if value is None:
        return "", None
    if not isinstance(value, str) or not value or len(value) > MAX_PATTERN:
        problems.append(
            f"{where}: name must be a regular expression of 1 to {MAX_PATTERN} characters"
        )
        return "", None
    try:
        return value, re.compile(value)
    except re.error as problem:
        problems.append(f"{where}: name {value!r} is not a valid regular expression: {problem}")
        return "", None


# ---- routing an order ------------------------------------------------------------------


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
