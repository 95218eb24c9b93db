"""Routing rules: every rule kind, the default station, `also`, prep minutes, every problem of
a bad file listed, and the Routing JSON both ways (strict and lenient)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import kds_device.sim
from kds_device.domain.routing import ALL_STATION, Routing, route_order
from kds_device.domain.routing_rules import FALLBACK_PREP_MIN
from kds_device.domain.rules_check import RulesError, parse_rules
from kds_device.sim.kitchen import sim_rules
from kds_device.sim.menu import PRODUCTS
from kds_device.sim.orders import OrderGenerator

SIM_RULES = Path(kds_device.sim.__file__).with_name("stations.toml")

RULES = """
default_station = "grill"
[default_prep_min]
pickup = 10
delivery = 12
[stations.grill]
name = "Grill"
[stations.fryer]
name = "Fryer"
[stations.bar]
[stations.cold]
name = "Cold side"
[stations.pack]
name = "Packing"
[[rule]]
station = "fryer"
plu = ["FRY-01", "FRY-02"]
prep_min = 6
[[rule]]
station = "bar"
tags = [3, "drinks"]
prep_min = 2
[[rule]]
station = "cold"
name = "(?i)salad|slaw"
[[rule]]
stations = ["pack"]
plu = "MEAL-1"
prep_min = 4
also = true
[[rule]]
station = "grill"
plu = ["MEAL-1", "BRG-1"]
prep_min = 8
"""


def rules_of(text: str = RULES) -> Any:
    return parse_rules(tomllib.loads(text))


def item(plu: str = "X", name: str = "Thing", **extra: Any) -> dict[str, Any]:
    return {"plu": plu, "name": name, "quantity": 1, **extra}


def order(*items: Any, order_type: int = 1) -> dict[str, Any]:
    return {"orderId": "o1", "orderType": order_type, "items": list(items)}


def problems_of(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        rules_of(text)
    return caught.value.problems


# ---- every rule kind ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plu", "station"),
    [
        ("FRY-01", "fryer"),
        ("FRY-02", "fryer"),
        ("FRY-01#2", "fryer"),  # Deliverect's variant suffixes
        ("FRY-01###", "fryer"),
        ("FRY-011", "grill"),  # another product, not a variant
        ("FRY-0", "grill"),
        ("fry-01", "grill"),  # PLUs are exact
        ("BRG-1", "grill"),
    ],
)
def test_plu_rule_matches_the_plu_and_its_hash_variants(plu: str, station: str) -> None:
    routing = route_order(order(item(plu)), rules_of())
    assert routing.stations_of(0) == (station,)


def test_tags_rule_compares_ints_and_strings_as_text() -> None:
    rules = rules_of()
    routing = route_order(
        order(
            item(productTags=[3]),
            item(productTags=["3"]),
            item(productTags=["drinks", 9]),
            item(productTags=[4, 33]),
            item(productTags="3"),  # not a list: no tags
        ),
        rules,
    )
    assert [routing.stations_of(i) for i in range(5)] == [
        ("bar",),
        ("bar",),
        ("bar",),
        ("grill",),
        ("grill",),
    ]


def test_name_rule_searches_the_name_and_the_kitchen_name() -> None:
    routing = route_order(
        order(
            item(name="Caesar SALAD"),
            item(name="Burger", kitchenName="coleslaw side"),
            item(name="Salsa"),
        ),
        rules_of(),
    )
    assert [routing.stations_of(i) for i in range(3)] == [("cold",), ("cold",), ("grill",)]


def test_first_matching_rule_wins_and_also_adds_and_goes_on() -> None:
    rules = rules_of()
    # FRY-01 tagged 3: the fryer rule comes first and wins; the bar never sees it.
    routing = route_order(order(item("FRY-01", productTags=[3]), item("MEAL-1")), rules)
    assert routing.stations_of(0) == ("fryer",)
    assert routing.stations_of(1) == ("pack", "grill")
    assert routing.items_at("grill") == (1,)
    assert routing.items_at("pack") == (1,)
    # The item's prep is the longest of its rules'.
    assert routing.items[1].prep_min == 8


def test_unmatched_items_and_junk_go_to_the_default_station() -> None:
    routing = route_order(order(item("NOPE"), "not an object", None, item("FRY-01")), rules_of())
    assert [routing.stations_of(i) for i in range(4)] == [
        ("grill",),
        ("grill",),
        ("grill",),
        ("fryer",),
    ]
    assert routing.stations == ("fryer", "grill")


def test_an_order_without_items_still_has_a_part_at_the_default_station() -> None:
    for payload in ({"orderId": "o"}, {"orderId": "o", "items": []}, {"orderId": "o", "items": 3}):
        routing = route_order(payload, rules_of())
        assert routing.stations == ("grill",)
        assert routing.items == ()


def test_prep_minutes_per_part_are_the_longest_item_else_the_order_types_default() -> None:
    rules = rules_of()
    pickup = route_order(
        order(item("FRY-01"), item("BRG-1"), item("X"), item(productTags=[3])), rules
    )
    assert pickup.prep_min == {"bar": 2, "fryer": 6, "grill": 10}  # X: pickup default 10 > 8
    delivery = route_order(order(item("X"), order_type=2), rules)
    assert delivery.prep_min == {"grill": 12}
    eat_in = route_order(order(item("X"), order_type=3), rules)  # no default for eat-in
    assert eat_in.prep_min == {"grill": FALLBACK_PREP_MIN}
    assert [i.prep_min for i in pickup.items] == [6, 8, 10, 2]


def test_one_default_prep_for_every_type() -> None:
    rules = rules_of('default_station = "grill"\ndefault_prep_min = 7\n')
    for kind in (1, 2, 3, 4, 5, 99, None):
        assert route_order(order(item(), order_type=kind), rules).prep_min == {"grill": 7}  # type: ignore[arg-type]


def test_names_come_from_the_rules_or_the_title_cased_id() -> None:
    rules = rules_of()
    routing = route_order(order(item(productTags=[3]), item(name="slaw"), item()), rules)
    assert routing.names == {"bar": "Bar", "cold": "Cold side", "grill": "Grill"}


def test_routing_stamps_the_rules_version() -> None:
    assert route_order(order(item()), rules_of(), version=7).version == 7


# ---- bad files: every problem listed -----------------------------------------------------


def test_a_bad_file_lists_every_problem_with_where() -> None:
    problems = problems_of(
        """
default_station = "Grill Station"
colour = "red"
[default_prep_min]
pickup = 0
brunch = 5
[stations.fryer]
nme = "Fryer"
[stations.all]
[[rule]]
station = "fryer"
plux = ["A"]
[[rule]]
station = "fryer"
name = "(unclosed"
[[rule]]
plu = ["B"]
[[rule]]
station = "frier"
plu = ["C"]
prep_min = -3
also = "yes"
[[rule]]
station = "fryer"
stations = ["fryer"]
plu = []
tags = [true, 2.5]
"""
    )
    expected = [
        "unknown key 'colour'",
        "[stations.fryer]: unknown key 'nme'",
        "[stations.all]: station id 'all' is reserved",
        "default_station: station id 'Grill Station' must be a lower-case slug",
        "default_prep_min: unknown order type 'brunch'",
        "default_prep_min.pickup must be whole minutes from 1",
        "rule 1: unknown key 'plux'",
        "rule 2: name '(unclosed' is not a valid regular expression",
        "rule 3: needs station",
        "rule 4: prep_min must be whole minutes",
        "rule 4: also must be true or false",
        "rule 4: station 'frier' is not declared in [stations]",
        "rule 5: give station or stations, not both",
        "rule 5: plu must not be empty",
        "rule 5: tags: True is not one of the texts or integers expected",
        "rule 5: tags: 2.5 is not one of the texts or integers expected",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert len(problems) == len(expected), problems


def test_a_rule_needs_something_to_match() -> None:
    assert problems_of('default_station = "a"\n[[rule]]\nstation = "a"\nprep_min = 3\n') == [
        "rule 1: needs plu, tags or name to match items"
    ]


def test_the_default_station_is_required_and_shapes_are_checked() -> None:
    assert problems_of("") == ["default_station is required (the station of items no rule takes)"]
    problems = problems_of('default_station = "a"\nrule = 3\nstations = 4\n')
    assert problems == [
        "[stations] must be a table of [stations.<id>] tables",
        "rule must be an array of tables ([[rule]])",
    ]
    with pytest.raises(RulesError):
        parse_rules(["not", "a", "table"])


def test_undeclared_stations_are_fine_when_none_are_declared() -> None:
    rules = rules_of('default_station = "grill"\n[[rule]]\nstation = "cold_2"\nname = "x"\n')
    assert rules.stations == {"grill": "Grill", "cold_2": "Cold 2"}


# ---- normalised JSON ---------------------------------------------------------------------


def test_rules_json_round_trip_is_stable() -> None:
    rules = rules_of()
    raw = rules.to_json()
    again = parse_rules(raw)
    assert again.to_json() == raw
    assert again == rules
    assert raw["rule"][3] == {"station": "pack", "plu": ["MEAL-1"], "prep_min": 4, "also": True}


# ---- Routing JSON ------------------------------------------------------------------------


def test_routing_json_round_trip() -> None:
    routing = route_order(order(item("FRY-01"), item("MEAL-1"), item()), rules_of(), version=3)
    raw = routing.to_json()
    assert raw == {
        "version": 3,
        "items": [
            {"index": 0, "stations": ["fryer"], "prepMin": 6},
            {"index": 1, "stations": ["pack", "grill"], "prepMin": 8},
            {"index": 2, "stations": ["grill"], "prepMin": 10},
        ],
        "stations": ["fryer", "grill", "pack"],
        "names": {"fryer": "Fryer", "grill": "Grill", "pack": "Packing"},
        "prepMin": {"fryer": 6, "grill": 10, "pack": 8},
    }
    assert Routing.from_json(raw) == routing
    assert Routing.parse(raw).to_json() == raw


def test_no_routing_is_one_part_all() -> None:
    single = Routing.from_json(None)
    assert single.single and single.problem == ""
    assert single.stations == (ALL_STATION,)
    assert single.stations_of(5) == (ALL_STATION,)


@pytest.mark.parametrize(
    "junk",
    [
        "text",
        [],
        {"items": "x", "stations": ["grill"]},
        {"items": [], "stations": []},
        {"items": [{"index": -1, "stations": ["grill"]}], "stations": ["grill"]},
        {"items": [{"index": 0, "stations": ["grill"]}] * 2, "stations": ["grill"]},
        {"items": [{"index": 0, "stations": ["fryer"]}], "stations": ["grill"]},
        {"items": [{"index": 0, "stations": ["GRILL!"]}], "stations": ["grill"]},
        {"items": [], "stations": ["grill"], "version": "3"},
        {"items": [], "stations": ["grill"], "names": {"grill": 3}},
        {"items": [], "stations": ["grill"], "prepMin": {"grill": True}},
        {"items": [{"index": 0, "stations": ["grill"], "prepMin": "5"}], "stations": ["grill"]},
    ],
)
def test_unreadable_routing_is_one_part_with_a_problem(junk: object) -> None:
    with pytest.raises(ValueError):
        Routing.parse(junk)
    lenient = Routing.from_json(junk)
    assert lenient.single
    assert lenient.stations == (ALL_STATION,)
    assert lenient.problem.startswith("unreadable routing")


def test_an_item_the_routing_does_not_list_shows_at_every_station() -> None:
    routing = Routing.from_json(
        {"items": [{"index": 0, "stations": ["grill"]}], "stations": ["bar", "grill"]}
    )
    assert routing.stations_of(0) == ("grill",)
    assert routing.stations_of(4) == ("bar", "grill")
    assert routing.name_of("bar") == "Bar"


# ---- the simulator's kitchen -------------------------------------------------------------


def test_the_simulators_rules_route_every_product_to_its_station() -> None:
    rules = sim_rules()
    assert rules == parse_rules(tomllib.loads(SIM_RULES.read_text(encoding="utf-8")))
    assert set(rules.stations) == {"grill", "fryer", "cold", "bar"}
    generator = OrderGenerator(seed=5)
    products = {p["plu"]: p for p in generator.products()}
    wanted = {
        "BRG-SMK": ("grill",),
        "MEAL-SMK": ("fryer", "grill"),
        "MEAL-KID": ("fryer",),
        "FRI-REG": ("fryer",),
        "SHK-VAN": ("bar",),
        "SAL-CAP": ("cold",),
        "BWL-POK": ("cold",),  # by productTags
        "BWL-BUD": ("cold",),  # by name
        "PIZ-MAR": ("grill",),  # default station
    }
    for plu, stations in wanted.items():
        routing = route_order(order(products[plu]), rules)
        assert routing.stations_of(0) == stations, plu
    every = route_order(order(*products.values()), rules)
    assert set(every.stations) == {"grill", "fryer", "cold", "bar"}
    assert len(every.items) == len(PRODUCTS)
