"""The simulator's kitchen of stations: its routing rules (``stations.toml``: grill, fryer,
cold, bar, with prep times), for the demo kitchen, the tests and the benchmarks.

In process: ``set_rules(journal, location, sim_rules())`` (``kds_device.gateway.stations``);
from a shell: ``kds-gateway stations set --location ID kds_device/sim/stations.toml``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from kds_device.domain.routing_rules import RoutingRules
from kds_device.domain.rules_check import parse_rules

STATIONS_TOML = Path(__file__).with_name("stations.toml")


def sim_rules() -> RoutingRules:
    """The simulator's rules, checked (RulesError if the shipped file were broken)."""
    return parse_rules(tomllib.loads(STATIONS_TOML.read_text(encoding="utf-8")))
