"""A location's routing rules: stored (current version per location), journaled as
``stations.rules``, and applied to each order as it arrives (docs/stations.md).

The rules live in ``station_rules`` (one row per location, the normalised JSON of
:func:`~kds_device.domain.rules_check.parse_rules`); the order path reads that row inside its own
transaction, so an order is routed by exactly the rules current when it was journaled, and a
change applies only to orders that arrive after it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kds_device.domain.events import EventType
from kds_device.domain.routing import route_order
from kds_device.domain.routing_rules import RoutingRules
from kds_device.domain.rules_check import parse_rules

if TYPE_CHECKING:
    from kds_device.gateway.ports import EventJournal

log = logging.getLogger(__name__)

#: Product types that are never a top-level item of an order (modifier, modifier group).
_NOT_ITEMS = frozenset({2, 3})


@dataclass(frozen=True)
class CurrentRules:
    version: int
    rules: RoutingRules
    updated: float


class RulesCache:
    """Parsed rules by (location, version): the order path reads one row, parses once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parsed: dict[str, tuple[int, RoutingRules]] = {}

    def parsed(self, location_id: str, version: int, body: str) -> RoutingRules:
        with self._lock:
            found = self._parsed.get(location_id)
        if found is not None and found[0] == version:
            return found[1]
        rules = parse_rules(json.loads(body))
        with self._lock:
            self._parsed[location_id] = (version, rules)
        return rules


def read_rules_row(conn: Any, location_id: str) -> tuple[int, str] | None:
    row = conn.execute(
        "SELECT version, body FROM station_rules WHERE location_id = ?", (location_id,)
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def read_rules(conn: Any, location_id: str, cache: RulesCache) -> CurrentRules | None:
    """The location's current rules (inside the caller's transaction), or None."""
    row = conn.execute(
        "SELECT version, body, updated FROM station_rules WHERE location_id = ?", (location_id,)
    ).fetchone()
    if row is None:
        return None
    version = int(row[0])
    return CurrentRules(version, cache.parsed(location_id, version, str(row[1])), float(row[2]))


def routing_data(
    conn: Any, location_id: str, payload: Mapping[str, Any], cache: RulesCache
) -> dict[str, Any]:
    """What ``order.received`` carries besides the payload: its routing when rules are set.

    Rules that cannot be read (a damaged row) never cost an order: it is journaled without
    routing (one part, every screen shows it) and the fault is logged."""
    current = read_rules_row(conn, location_id)
    if current is None:
        return {}
    version, body = current
    try:
        rules = cache.parsed(location_id, version, body)
    except ValueError as problem:
        log.error(
            "location %s: stored rules v%d unreadable (%s); order not routed",
            location_id,
            version,
            problem,
        )
        return {}
    return {"routing": route_order(payload, rules, version).to_json()}


def set_rules(journal: EventJournal, location_id: str, rules: RoutingRules) -> tuple[int, int]:
    """Make ``rules`` the location's current rules: (version, seq of ``stations.rules``).

    UnknownLocation when the location never registered."""
    now = time.time()
    body = rules.to_json()
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    with journal.db.write() as conn:
        # The version is taken (and the row locked) first, in one statement: two operators
        # setting rules at once get two versions, on any store.
        version = int(
            conn.execute(
                "INSERT INTO station_rules (location_id, version, body, updated)"
                " VALUES (?, 1, ?, ?) ON CONFLICT (location_id) DO UPDATE SET"
                " version = station_rules.version + 1, body = excluded.body,"
                " updated = excluded.updated RETURNING version",
                (location_id, text, now),
            ).fetchone()[0]
        )
        data = {"version": version, "rules": body}
        seq = journal.append(conn, location_id, EventType.STATIONS_RULES, None, data, now)
    journal.notifier.notify()
    return version, seq


def current_rules(journal: EventJournal, location_id: str) -> CurrentRules | None:
    return read_rules(journal.db.read(), location_id, journal.rules_cache)


def station_names(journal: EventJournal, location_id: str) -> dict[str, str]:
    """Display names of the location's stations ({} before any rules are set)."""
    current = current_rules(journal, location_id)
    return {} if current is None else dict(current.rules.stations)


def unrouted_products(rules: RoutingRules, products: Sequence[Any]) -> list[str]:
    """Names (with PLU) of the synced products no rule takes: they fall to the default."""
    fallen = []
    for product in products:
        if not isinstance(product, Mapping) or product.get("productType") in _NOT_ITEMS:
            continue
        if not any(rule.matches(product) for rule in rules.rules):
            name = product.get("name") or "?"
            fallen.append(f"{name} ({product.get('plu') or 'no PLU'})")
    return fallen


def describe(current: CurrentRules | None, products: Sequence[Any] | None) -> list[str]:
    """The lines ``kds-gateway stations show`` prints."""
    if current is None:
        return ["no routing rules: every screen shows every item (one part, station all)"]
    rules = current.rules
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(current.updated))
    lines = [f"rules version {current.version} (set {when})"]
    for station, name in sorted(rules.stations.items()):
        mark = "  (default)" if station == rules.default_station else ""
        count = sum(station in rule.stations for rule in rules.rules)
        lines.append(f"  {station:12} {name:20} {count} rule(s){mark}")
    lines.append(f"  {len(rules.rules)} rule(s); default prep min: {_prep(rules)}")
    if products is None:
        lines.append("no product sync yet: cannot list the products no rule routes")
        return lines
    fallen = unrouted_products(rules, products)
    if not fallen:
        lines.append(f"every one of {len(products)} synced products is routed by a rule")
    else:
        default = rules.name_of(rules.default_station)
        lines.append(
            f"{len(fallen)} product(s) fall to the default station ({default}): "
            + ", ".join(fallen)
        )
    return lines


def _prep(rules: RoutingRules) -> str:
    if not rules.default_prep_min:
        return "none set"
    return ", ".join(f"{k} {v}" for k, v in sorted(rules.default_prep_min.items()))
