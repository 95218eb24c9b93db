"""A location's routing rules and how they match an order's items to kitchen stations.

Rule matching: a rule matches a top-level item when any of its matchers does (``plu``: the
item's PLU equals one, or is one followed by Deliverect's ``#`` variant suffix; ``tags``: one
of the item's ``productTags``; ``name``: the regular expression is found in the item's name
or kitchen name). The first matching rule wins, unless it says ``also = true``: then its
stations are added and matching goes on. Items no rule takes go to ``default_station``.
Modifiers and remarks follow their top-level item.

The rules are checked by :func:`kds_device.domain.rules_check.parse_rules`; an order is routed
with them by :func:`kds_device.domain.routing.route_order`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kds_device.domain.roles import station_title

#: Prep minutes when neither a rule nor the order type's default gives any.
FALLBACK_PREP_MIN = 10
#: ``default_prep_min`` keys: Deliverect's order types (``orderType`` 1..5, else other).
ORDER_TYPE_KEYS = {1: "pickup", 2: "delivery", 3: "eat_in", 4: "curbside", 5: "drive_through"}
OTHER_TYPE_KEY = "other"


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
