"""Checking a location's routing rules as an operator writes them (TOML, ``kds-gateway
stations set``) or as they were journaled (JSON): :func:`parse_rules` reads them into
:class:`~kds_device.domain.routing_rules.RoutingRules` and lists every problem at once, each
saying where.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kds_device.domain.roles import check_station_id, station_title
from kds_device.domain.routing_rules import (
    ORDER_TYPE_KEYS,
    OTHER_TYPE_KEY,
    RoutingRules,
    Rule,
)

MAX_PREP_MIN = 24 * 60
MAX_RULES = 500
MAX_PATTERN = 300
MAX_NAME = 40
_TYPE_KEYS = frozenset(ORDER_TYPE_KEYS.values()) | {OTHER_TYPE_KEY}
_TOP_KEYS = frozenset({"default_station", "default_prep_min", "stations", "rule"})
_RULE_KEYS = frozenset({"station", "stations", "plu", "tags", "name", "prep_min", "also"})
_STATION_KEYS = frozenset({"name"})


class RulesError(ValueError):
    """Rules that cannot be used; ``problems`` lists every one, each saying where."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


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
