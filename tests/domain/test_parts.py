"""An order's parts as one screen sees them: routing read leniently, the lines of a station
and of expo, progress, and the saved form."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from kds_device.domain.lines import LineKind, glued, ticket_lines
from kds_device.domain.order import parse_order
from kds_device.domain.parts import OrderRouting, Parts, screen_lines, shown_here
from kds_device.domain.roles import Role, RoleKind
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.stations import kitchen_order, routing

GRILL = Role.for_stations(["grill"])
EXPO = Role(RoleKind.EXPO)


def parts_of(stations: list[str], raw: object = "same") -> tuple[list, Parts]:
    payload = kitchen_order(OrderGenerator(seed=3), stations)
    payload["note"] = "Ring twice"
    order = parse_order(payload)
    raw_routing = routing(stations) if raw == "same" else raw
    return ticket_lines(order), Parts(OrderRouting.read(raw_routing, len(order.items), "o"))


@pytest.mark.parametrize(
    "junk",
    [{"items": "x"}, {"items": [{"index": -1, "stations": ["grill"]}], "stations": ["grill"]}, 7],
)
def test_unreadable_routing_is_one_part_for_everyone_and_logged(
    junk: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        base, parts = parts_of(["grill", "fryer"], junk)
    assert not parts.routing.routed and parts.routing.stations == ("all",)
    assert "order o" in caplog.text
    assert screen_lines(base, parts, GRILL) == base, "a station shows an unrouted order whole"


def test_an_item_the_routing_does_not_list_is_made_at_every_station_of_the_order() -> None:
    raw = routing(["grill", "fryer"])
    raw["items"] = raw["items"][:1]  # item 1 left out
    raw["stations"] = ["fryer", "grill"]
    _base, parts = parts_of(["grill", "fryer"], raw)
    assert parts.routing.stations_of(1) == ("fryer", "grill")


def test_a_station_sees_its_items_with_a_hint_before_the_note() -> None:
    base, parts = parts_of(["grill", "fryer", "fryer", "cold"])
    lines = screen_lines(base, parts, GRILL)
    kinds = [line.kind for line in lines]
    assert kinds == [
        LineKind.ITEM,
        LineKind.REMARK,
        LineKind.MODIFIER,
        LineKind.HINT,
        LineKind.NOTE,
    ]
    assert lines[3].text == "+1 at Cold · +2 at Fryer"
    _base, bar_only = parts_of(["bar"])
    assert not shown_here(
        parse_order(kitchen_order(OrderGenerator(seed=3), ["bar"])), bar_only, GRILL
    )


def test_expo_sees_progress_then_every_item_done_ones_marked() -> None:
    base, parts = parts_of(["grill", "fryer", "fryer"])
    parts.part("fryer").items_done.add(2)
    parts.part("grill").done = True
    parts.part("grill").done_wall = datetime(2026, 11, 22, 18, 4, tzinfo=UTC)
    lines = screen_lines(base, parts, EXPO, UTC)
    assert [(line.text, line.done) for line in lines[:2]] == [
        ("Fryer  1/2", False),
        ("Grill  done 18:04", True),
    ]
    items = [line for line in lines if line.kind is LineKind.ITEM]
    assert [line.done for line in items] == [False, False, True]
    assert screen_lines(base, parts, Role()) == base, "ALL: the ticket as it always was"


def test_parts_survive_their_saved_form() -> None:
    _base, parts = parts_of(["grill", "fryer"])
    parts.part("grill").items_done.add(0)
    parts.part("fryer").done = True
    parts.part("fryer").done_wall = datetime(2026, 11, 22, 18, 4, tzinfo=UTC)
    again = Parts.from_json(parts.to_json(), 2, "o")
    assert again.routing.stations == ("fryer", "grill")
    assert again.part("grill").items_done == {0}
    assert (
        again.part("fryer").done and again.part("fryer").done_wall == parts.part("fryer").done_wall
    )
    assert not Parts.from_json("junk", 2).routing.routed


def test_expo_progress_and_a_station_hint_are_never_cut_from_their_lines() -> None:
    base, parts = parts_of(["grill", "fryer"])
    expo = screen_lines(base, parts, EXPO)
    assert [line.kind for line in expo[:3]] == [LineKind.PART, LineKind.PART, LineKind.ITEM]
    assert glued(expo)[:4] == [False, True, True, True], "progress rows stay with the first item"
    station = screen_lines(base, parts, GRILL)
    hint = [i for i, line in enumerate(station) if line.kind is LineKind.HINT]
    assert hint and glued(station)[hint[0]]
