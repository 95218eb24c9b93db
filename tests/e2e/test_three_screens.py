"""A kitchen of three screens (grill, fryer, expo) on one location, end to end with the real
parts: ``kds-gateway serve`` with the simulator's station rules, Mosquitto, the simulated
Deliverect sending the orders and receiving the statuses, and three device cores, each with
its own device link (outbox, poller, MQTT) and board file.

An order with grill and fryer items shows only its grill items on grill and only its fryer
items on fryer; part bumps (and a part recalled) show on expo; Deliverect hears 50 at the
first part bump, 60 when the last part is done and 70 from expo's bump, each exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kds_device.domain.actions import Action
from kds_device.domain.roles import Role, RoleKind
from kds_device.sim.sender import WebhookSender
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.kitchen import HeadlessScreen, pump_all
from tests.gateway.stations_kit import SIM_RULES, item, order, set_rules

pytestmark = [pytest.mark.mqtt, pytest.mark.slow, pytest.mark.timeout(180)]

LOCATION = "loc-stations"


@pytest.fixture
def kitchen(
    mqtt_gateway: GatewayProcess, deliverect: WebhookSender, tmp_path: Path
) -> Iterator[tuple[HeadlessScreen, HeadlessScreen, HeadlessScreen]]:
    """Three screens on the location, its rules set (it registered first, as Deliverect
    does)."""
    set_rules(mqtt_gateway, LOCATION, SIM_RULES)
    roles = {
        "grill": Role.for_stations(["grill"]),
        "fryer": Role.for_stations(["fryer"]),
        "expo": Role(RoleKind.EXPO),
    }
    screens = []
    try:
        for name, role in roles.items():
            code = mqtt_gateway.enroll_code(LOCATION)
            screens.append(HeadlessScreen(mqtt_gateway.base_url, code, role, tmp_path / name, name))
        for screen in screens:
            screen.live()
        grill, fryer, expo = screens
        yield grill, fryer, expo
    finally:
        for screen in screens:
            screen.stop()


@pytest.fixture
def deliverect(mqtt_gateway: GatewayProcess) -> Iterator[WebhookSender]:
    sender = WebhookSender(mqtt_gateway.base_url, mqtt_gateway.secret)
    sender.register("acc-stations", LOCATION, "store-stations")
    yield sender
    sender.close()


def soon(minutes: int = 20) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def statuses(sim: DeliverectSim, order_id: str) -> list[int | None]:
    return [c.status for c in sim.accepted_calls() if c.order_id == order_id]


def test_grill_fryer_and_expo_split_an_order_and_send_50_60_70_once(
    kitchen: tuple[HeadlessScreen, HeadlessScreen, HeadlessScreen],
    deliverect: WebhookSender,
    deliverect_sim: DeliverectSim,
    mqtt_gateway: GatewayProcess,
) -> None:
    grill, fryer, expo = kitchen
    screens = [grill, fryer, expo]
    mixed = order(
        "ord-split-1",
        item("BRG-SMK", "Smokehouse Burger", itemRemark="no onions"),
        item("FRI-REG", "Fries"),
        item("BRG-CLS", "Classic Burger"),
        pickupTime=soon(),
    )
    fries = order("ord-fries-1", item("FRI-SWT", "Sweet Potato Fries"), pickupTime=soon())
    assert deliverect.send_order(mixed).ok and deliverect.send_order(fries).ok
    split, alone = mixed["orderId"], fries["orderId"]
    pump_all(
        screens,
        lambda: (
            split in grill.open_ids()
            and {split, alone} <= set(fryer.open_ids())
            and {split, alone} <= set(expo.open_ids())
            and grill.board.ticket(alone) is not None
        ),
        20,
        "the orders on every screen",
    )
    on_grill, on_fryer = " | ".join(grill.lines(split)), " | ".join(fryer.lines(split))
    assert "Smokehouse Burger" in on_grill and "Classic Burger" in on_grill
    assert "no onions" in on_grill, "the remark follows its item"
    assert "Fries" not in on_grill and "+1 at Fryer" in on_grill
    assert "Fries" in on_fryer and "Burger" not in on_fryer and "+2 at Grill" in on_fryer
    assert alone not in grill.open_ids(), "nothing for the grill: never on the grill screen"
    assert any(line.startswith("Grill  0/2") for line in expo.lines(split))

    # the grill marks an item done, then bumps its part: expo sees both; Deliverect hears 50
    grill.board.select(split)
    grill.core.perform(Action.ITEM_DONE)
    grill.bump(split)
    assert split not in grill.open_ids()
    expo.wait_for(lambda: "Grill  done" in " ".join(expo.lines(split)), 15, "grill done on expo")
    deliverect_sim.wait_for_calls(1, timeout=15, accepted_only=True)
    assert statuses(deliverect_sim, split) == [50]

    # the grill recalls its part: open again on expo; bumped again: no second 50
    grill.core.perform(Action.RECALL)
    grill.core.perform(Action.BUMP)  # restores the newest entry of the recall list
    assert split in grill.open_ids()
    expo.wait_for(lambda: "Grill  1/2" in " ".join(expo.lines(split)), 15, "grill reopened")
    grill.bump(split)
    expo.wait_for(lambda: "Grill  done" in " ".join(expo.lines(split)), 15, "grill done again")
    assert not expo.board.all_ready(expo.board.ticket(split))

    # the fryer's part is the last: 60; expo says ALL READY and its bump sends 70
    fryer.bump(split)
    expo.wait_for(lambda: expo.board.all_ready(expo.board.ticket(split)), 15, "ALL READY")
    deliverect_sim.wait_for_calls(2, timeout=15, accepted_only=True)
    assert statuses(deliverect_sim, split) == [50, 60]
    expo.bump(split)
    expo.core.perform(Action.UNDO)  # back on expo; bumped again: 70 is not sent twice
    assert split in expo.open_ids()
    expo.bump(split)
    deliverect_sim.wait_for_calls(3, timeout=15, accepted_only=True)
    pump_all(screens, lambda: all(s.synced() for s in screens), 15, "every outbox empty")
    pump_all(
        screens,
        lambda: all(r["state"] == "sent" for r in mqtt_gateway.outbox_rows()),
        15,
        "the gateway's outbox sent",
    )
    assert statuses(deliverect_sim, split) == [50, 60, 70]
    assert statuses(deliverect_sim, alone) == []
    for screen in (grill, fryer):
        ticket = screen.board.ticket(split)
        assert ticket is not None and ticket.bumped and ticket.status == 70


def test_a_screen_changes_role_from_the_gateway_without_enrolling_again(
    kitchen: tuple[HeadlessScreen, HeadlessScreen, HeadlessScreen],
    deliverect: WebhookSender,
    mqtt_gateway: GatewayProcess,
) -> None:
    grill, _fryer, expo = kitchen
    drink = order("ord-drink-1", item("SHK-VAN", "Vanilla Shake"), pickupTime=soon())
    assert deliverect.send_order(drink).ok
    expo.wait_for(lambda: drink["orderId"] in expo.open_ids(), 15, "the shake on expo")
    grill.wait_for(lambda: grill.board.ticket(drink["orderId"]) is not None, 15, "heard there")
    assert drink["orderId"] not in grill.open_ids()
    done = mqtt_gateway.cli("devices", "role", grill.enrollment.device_id, "--stations", "bar")
    assert done.returncode == 0, done.stderr
    grill.wait_for(lambda: drink["orderId"] in grill.open_ids(), 15, "the shake on the bar")
    assert grill.board.role == Role.for_stations(["bar"])
    assert "Vanilla Shake" in " ".join(grill.lines(drink["orderId"]))


FRIES_AT_GRILL = """
default_station = "grill"
[stations.grill]
name = "Grill"
[stations.fryer]
name = "Fryer"
[[rule]]
station = "grill"
plu = ["FRI-REG"]
"""


def test_a_routing_change_mid_service_touches_only_new_orders(
    kitchen: tuple[HeadlessScreen, HeadlessScreen, HeadlessScreen],
    deliverect: WebhookSender,
    mqtt_gateway: GatewayProcess,
    tmp_path: Path,
) -> None:
    grill, fryer, expo = kitchen
    before = order("ord-before-1", item("FRI-REG", "Fries"), pickupTime=soon())
    assert deliverect.send_order(before).ok
    fryer.wait_for(lambda: before["orderId"] in fryer.open_ids(), 15, "fries on the fryer")
    rules = tmp_path / "fries-at-grill.toml"
    rules.write_text(FRIES_AT_GRILL, encoding="utf-8")
    set_rules(mqtt_gateway, LOCATION, rules)
    after = order("ord-after-1", item("FRI-REG", "Fries"), pickupTime=soon())
    assert deliverect.send_order(after).ok
    pump_all(
        [grill, fryer, expo],
        lambda: after["orderId"] in grill.open_ids() and after["orderId"] in expo.open_ids(),
        15,
        "the new order on the grill",
    )
    assert before["orderId"] in fryer.open_ids(), "the open ticket keeps its routing"
    assert before["orderId"] not in grill.open_ids()
    assert after["orderId"] not in fryer.open_ids()
    assert any(line.startswith("Fryer") for line in expo.lines(before["orderId"]))
    assert any(line.startswith("Grill") for line in expo.lines(after["orderId"]))
