"""Routing rules at a real gateway: `kds-gateway stations set|show`, every rule kind stamped on
arriving orders, bad files with every problem listed, a change mid-service touching only new
orders; screen roles (enrollment, `GET /api/v1/device`, `kds-gateway devices role`)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import GatewayProcess
from tests.gateway.stations_kit import (
    RULES,
    SIM_RULES,
    device_info,
    enroll,
    events_of,
    item,
    order,
    received,
    set_rules,
    write_rules,
)

pytestmark = pytest.mark.timeout(90)


# ---- stations set / show ---------------------------------------------------------------


def test_set_then_show_lists_the_products_no_rule_routes(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    api.register(loc)
    before = api.cli("stations", "show", "--location", loc)
    assert before.returncode == 0 and "no routing rules" in before.stdout
    out = set_rules(api, loc, SIM_RULES)
    assert f"rules version 1 set for {loc}" in out
    assert "no product sync yet" in out
    products = OrderGenerator(seed=1, location=loc).products()
    products.append({"plu": "MOD-X", "name": "A modifier", "productType": 2})
    answer = api.post_webhook(f"/deliverect/{loc}/products", products)
    assert answer.status_code == 200, answer.text
    show = api.cli("stations", "show", "--location", loc)
    assert show.returncode == 0, show.stderr
    lines = show.stdout.splitlines()
    assert lines[0].startswith("rules version 1 (set ")
    assert any(line.split()[:2] == ["fryer", "Fryer"] for line in lines)
    fallen = [line for line in lines if "fall to the default station" in line]
    assert len(fallen) == 1, show.stdout
    # The simulator's menu: pizzas, calzone, garlic bread and the falafel wrap (8 products).
    assert fallen[0].startswith("8 product(s) fall to the default station (Grill): ")
    for name in ("Margherita (PIZ-MAR)", "Garlic Bread (GAR-BRD)", "Falafel Wrap (WRP-FAL)"):
        assert name in fallen[0]
    assert "Fries" not in fallen[0] and "A modifier" not in fallen[0]
    again = set_rules(api, loc, write_rules(tmp_path))
    assert f"rules version 2 set for {loc}" in again


def test_a_bad_file_lists_every_problem_and_changes_nothing(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    api.register(loc)
    set_rules(api, loc, write_rules(tmp_path))
    bad = write_rules(
        tmp_path,
        """
default_station = "Grill Station"
[stations.grill]
[[rule]]
station = "fryer"
plux = ["A"]
[[rule]]
station = "grill"
name = "(oops"
prep_min = 0
""",
        "bad.toml",
    )
    done = api.cli("stations", "set", "--location", loc, str(bad))
    assert done.returncode == 2
    problems = [line[4:] for line in done.stderr.splitlines() if line.startswith("  - ")]
    assert f"{bad}: 5 problem(s), nothing changed:" in done.stderr
    assert problems == [
        "default_station: station id 'Grill Station' must be a lower-case slug: a letter,"
        " then up to 31 letters, digits, '-' or '_'",
        "rule 1: unknown key 'plux' (expected also, name, plu, prep_min, station, stations, tags)",
        "rule 2: name '(oops' is not a valid regular expression: missing ), unterminated"
        " subpattern at position 0",
        "rule 2: prep_min must be whole minutes from 1 to 1440, not 0",
        "rule 1: station 'fryer' is not declared in [stations]",
    ]
    assert "rules version 1 " in api.cli("stations", "show", "--location", loc).stdout
    broken = write_rules(tmp_path, "default_station = \n", "broken.toml")
    unreadable = api.cli("stations", "set", "--location", loc, str(broken))
    assert unreadable.returncode == 2 and "cannot read" in unreadable.stderr
    missing = api.cli("stations", "set", "--location", loc, str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    stranger = api.cli("stations", "show", "--location", "never-registered-1")
    assert stranger.returncode == 1 and "has not registered" in stranger.stderr


# ---- routing stamped on arriving orders ----------------------------------------------------


def test_every_rule_kind_is_stamped_on_the_order(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    api.register(loc)
    device = api.enroll_device(loc)
    set_rules(api, loc, write_rules(tmp_path))
    payload = order(
        f"{loc}-kinds",
        item("FRY-01"),  # 0: plu
        item("FRY-01#2"),  # 1: plu, Deliverect's variant
        item("COLA", productTags=[3]),  # 2: tags (int)
        item("TEA", productTags=["drinks"]),  # 3: tags (text)
        item("S-1", "Caesar Salad"),  # 4: name pattern
        item("BRG", "Burger"),  # 5: no rule: default station
        item("MEAL-1", "Meal"),  # 6: also (pack) then fryer
        order_type=2,
    )
    assert api.send_order(loc, payload).status_code == 200
    routing = received(api, device, payload["orderId"])["routing"]
    assert routing["version"] == 1
    assert [(i["index"], i["stations"], i["prepMin"]) for i in routing["items"]] == [
        (0, ["fryer"], 6),
        (1, ["fryer"], 6),
        (2, ["bar"], 2),
        (3, ["bar"], 2),
        (4, ["cold"], 4),
        (5, ["grill"], 12),  # the delivery default
        (6, ["pack", "fryer"], 6),
    ]
    assert routing["stations"] == ["bar", "cold", "fryer", "grill", "pack"]
    assert routing["names"] == {
        "bar": "Bar",
        "cold": "Cold",
        "fryer": "Fryer",
        "grill": "Grill",
        "pack": "Pack",
    }
    assert routing["prepMin"] == {"bar": 2, "cold": 4, "fryer": 6, "grill": 12, "pack": 6}


def test_a_change_mid_service_touches_only_new_orders(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    api.register(loc)
    device = api.enroll_device(loc)
    first = order(f"{loc}-a", item("FRY-01"), item("X"))
    assert api.send_order(loc, first).status_code == 200
    assert "routing" not in received(api, device, first["orderId"])  # no rules: one part
    set_rules(api, loc, write_rules(tmp_path))
    second = order(f"{loc}-b", item("FRY-01"), item("X"))
    assert api.send_order(loc, second).status_code == 200
    moved = RULES.replace('station = "fryer"\nplu = ["FRY-01"', 'station = "cold"\nplu = ["FRY-01"')
    assert moved != RULES
    set_rules(api, loc, write_rules(tmp_path, moved, "v2.toml"))
    third = order(f"{loc}-c", item("FRY-01"), item("X"))
    assert api.send_order(loc, third).status_code == 200
    # A retry of the second order (Deliverect re-delivers) is a duplicate: its routing stays.
    assert api.send_order(loc, second).json()["result"] == "duplicate"
    assert "routing" not in received(api, device, first["orderId"])
    old = received(api, device, second["orderId"])["routing"]
    new = received(api, device, third["orderId"])["routing"]
    assert (old["version"], old["items"][0]["stations"]) == (1, ["fryer"])
    assert (new["version"], new["items"][0]["stations"]) == (2, ["cold"])
    journaled = events_of(api, device, "stations.rules")
    assert [e["data"]["version"] for e in journaled] == [1, 2]
    assert journaled[1]["orderId"] is None
    assert journaled[1]["data"]["rules"]["rule"][1] == {
        "station": "cold",
        "plu": ["FRY-01", "MEAL-1"],
        "prep_min": 6,
    }


def test_an_order_after_its_cancel_is_routed_too(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    api.register(loc)
    device = api.enroll_device(loc)
    set_rules(api, loc, write_rules(tmp_path))
    late = order(f"{loc}-late", item("FRY-01"))
    assert api.send_order(loc, {"orderId": late["orderId"], "status": 100}).status_code == 200
    assert api.send_order(loc, late).json()["result"] == "voided"
    assert received(api, device, late["orderId"])["routing"]["stations"] == ["fryer"]


# ---- roles -------------------------------------------------------------------------------


def test_enrollment_role_device_endpoint_and_role_changes(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    api.register(loc)
    plain = enroll(api, loc)
    assert plain.status_code == 200, plain.text
    assert plain.json()["role"] == {"kind": "all"}
    answer = enroll(api, loc, role={"kind": "stations", "stations": ["grill", "fryer"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == {"kind": "stations", "stations": ["fryer", "grill"]}
    device = api.enroll_device(loc)
    info = device_info(api, device)
    assert info == {
        "id": device.device_id,
        "name": "Test screen",
        "locationId": loc,
        "role": {"kind": "all"},
        "stationNames": {},
        "statuses": {"firstPart": 50, "allParts": 60, "expo": 70},
    }
    set_rules(api, loc, write_rules(tmp_path))
    assert device_info(api, device)["stationNames"]["fryer"] == "Fryer"
    done = api.cli("devices", "role", device.device_id, "--stations", "fryer,Grill")
    assert done.returncode == 0, done.stderr
    assert "is now stations:fryer,grill" in done.stdout
    assert device_info(api, device)["role"] == {"kind": "stations", "stations": ["fryer", "grill"]}
    assert api.cli("devices", "role", device.device_id, "--expo").returncode == 0
    assert device_info(api, device)["role"] == {"kind": "expo"}
    warned = api.cli("devices", "role", device.device_id, "--stations", "wok")
    assert warned.returncode == 0 and "no station wok in the rules" in warned.stderr
    assert api.cli("devices", "role", device.device_id, "--all").returncode == 0
    roles = [e["data"] for e in events_of(api, device, "device.role")]
    assert roles == [
        {"device": device.device_id, "role": {"kind": "stations", "stations": ["fryer", "grill"]}},
        {"device": device.device_id, "role": {"kind": "expo"}},
        {"device": device.device_id, "role": {"kind": "stations", "stations": ["wok"]}},
        {"device": device.device_id, "role": {"kind": "all"}},
    ]
    listing = api.cli("devices", "list")
    assert listing.returncode == 0 and "ROLE" in listing.stdout


def test_bad_roles_are_refused_with_a_reason(api: GatewayProcess, loc: str) -> None:
    api.register(loc)
    for junk in (
        "expo",
        {"kind": "chef"},
        {"kind": "stations"},
        {"kind": "stations", "stations": ["Grill Bar"]},
        {"kind": "expo", "stations": ["grill"]},
    ):
        response = enroll(api, loc, role=junk)
        assert response.status_code == 400, (junk, response.text)
        assert response.json()["error"] == "bad_request"
        assert response.json()["detail"].startswith("role: "), response.text
    bad = api.cli("devices", "role", "dev_nope", "--stations", "Not A Slug")
    assert bad.returncode == 2 and "lower-case slug" in bad.stderr
    unknown = api.cli("devices", "role", "dev_nope", "--expo")
    assert unknown.returncode == 1 and "no device dev_nope" in unknown.stderr
    assert json.loads(json.dumps(unknown.stdout)) == ""


def test_rules_set_at_once_by_two_operators_get_two_versions(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    api.register(loc)
    device = api.enroll_device(loc)
    path = write_rules(tmp_path)
    runs: list[int] = []

    def run() -> None:
        runs.append(api.cli("stations", "set", "--location", loc, str(path)).returncode)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert runs == [0, 0, 0]
    versions = sorted(e["data"]["version"] for e in events_of(api, device, "stations.rules"))
    assert versions == [1, 2, 3]
    assert "rules version 3 " in api.cli("stations", "show", "--location", loc).stdout
