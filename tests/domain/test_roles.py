"""Screen roles: JSON and text forms both ways, junk refused, which stations a role shows."""

from __future__ import annotations

import pytest

from kds_device.domain.roles import Role, RoleKind, station_title


def test_role_json_round_trip_and_sorted_stations() -> None:
    role = Role.for_stations(["grill", "fryer"])
    assert role.to_json() == {"kind": "stations", "stations": ["fryer", "grill"]}
    assert Role.from_json(role.to_json()) == role
    assert Role.from_json({"kind": "expo"}) == Role(RoleKind.EXPO)
    assert Role.from_json({"kind": "all"}) == Role() == Role(RoleKind.ALL)
    assert Role().to_json() == {"kind": "all"}


def test_role_text_forms() -> None:
    assert Role.from_text("stations:grill, Fryer") == Role.for_stations(["fryer", "grill"])
    assert Role.from_text(" EXPO ") == Role(RoleKind.EXPO)
    assert Role.from_text("all").to_text() == "all"
    assert Role.for_stations(["grill", "bar"]).to_text() == "stations:bar,grill"


@pytest.mark.parametrize(
    "junk",
    [
        "all",
        {"kind": "chef"},
        {"kind": "stations"},
        {"kind": "stations", "stations": []},
        {"kind": "stations", "stations": "grill"},
        {"kind": "stations", "stations": ["Grill Station"]},
        {"kind": "stations", "stations": ["expo"]},
        {"kind": "expo", "stations": ["grill"]},
        {"kind": "all", "colour": "red"},
        {"kind": "stations", "stations": [3]},
        {"kind": "stations", "stations": ["Grill"]},
        {"kind": "stations", "stations": ["grill"] * 33},
        {"kind": "expo", "stations": []},
        {},
    ],
)
def test_junk_roles_are_refused(junk: object) -> None:
    with pytest.raises(ValueError):
        Role.from_json(junk)


@pytest.mark.parametrize("text", ["", "chef", "stations:", "expo:grill", "stations:a b"])
def test_junk_role_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Role.from_text(text)


def test_which_stations_a_role_shows() -> None:
    grill = Role.for_stations(["grill"])
    assert grill.shows_station("grill")
    assert not grill.shows_station("fryer")
    assert not grill.shows_station("all")
    assert Role().shows_station("fryer") and Role(RoleKind.EXPO).shows_station("fryer")
    with pytest.raises(ValueError):
        Role(RoleKind.STATIONS)
    assert station_title("cold_2") == "Cold 2"
