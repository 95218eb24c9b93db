"""Statuses a kitchen of stations sends, seen at the simulated Deliverect: 50 at the first
start, 60 when every part is done, 70 at the expo bump, each exactly once and at that moment;
recalls, repeats and two screens racing for the last part never send one twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.fixtures.mosquitto import wait_until
from tests.gateway.stations_kit import (
    events_of,
    item,
    order,
    post_item,
    post_part,
    set_rules,
    write_rules,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

LOC = "65f0c1a2b3c4d5e6f7a8b9d1"


def sent(sim: DeliverectSim, order_id: str) -> list[int | None]:
    return [c.status for c in sim.accepted_calls() if c.order_id == order_id]


def wait_sent(sim: DeliverectSim, order_id: str, wanted: list[int]) -> None:
    wait_until(lambda: sent(sim, order_id) == wanted, 20, f"{wanted} at Deliverect")


def all_sent(gateway: GatewayProcess) -> bool:
    return all(row["state"] == "sent" for row in gateway.outbox_rows())


def kitchen(gateway: GatewayProcess, tmp_path: Path, *orders: dict) -> dict[str, EnrolledDevice]:
    gateway.register(LOC)
    set_rules(gateway, LOC, write_rules(tmp_path))
    for payload in orders:
        assert gateway.send_order(LOC, payload).status_code == 200
    return {name: gateway.enroll_device(LOC, name=name) for name in ("grill", "fryer", "expo")}


def test_50_60_70_each_once_at_the_right_moment(
    gateway: GatewayProcess, deliverect_sim: DeliverectSim, tmp_path: Path
) -> None:
    payload = order("o-stations", item("BRG"), item("FRY-01"), item("HOT"))
    oid = payload["orderId"]
    screens = kitchen(gateway, tmp_path, payload)
    grill, fryer, expo = screens["grill"], screens["fryer"], screens["expo"]
    # The grill starts (an item done): Deliverect hears 50, nothing more.
    assert post_item(gateway, grill, oid, 0, "grill").json()["statuses"] == [50]
    wait_sent(deliverect_sim, oid, [50])
    assert post_part(gateway, grill, oid, "grill").json()["statuses"] == []
    # The fryer recalls and redoes nothing yet; its part done is the last one: 60.
    assert post_item(gateway, fryer, oid, 1, "fryer").json()["statuses"] == []
    wait_until(lambda: all_sent(gateway), 20, "outbox idle")
    assert sent(deliverect_sim, oid) == [50]  # still only 50: the fryer's part is open
    last = post_part(gateway, fryer, oid, "fryer")
    assert last.json()["statuses"] == [60]
    wait_sent(deliverect_sim, oid, [50, 60])
    # Recall and redo a part: no status again (never twice, never backwards).
    assert post_part(gateway, fryer, oid, "fryer", done=False).json()["accepted"]
    assert post_part(gateway, fryer, oid, "fryer").json()["statuses"] == []
    # The expo bump sends 70 itself.
    assert gateway.post_status(expo, oid, 70, reason="expo").json()["accepted"]
    wait_sent(deliverect_sim, oid, [50, 60, 70])
    assert not gateway.post_status(expo, oid, 70).json()["accepted"]
    assert not gateway.post_status(grill, oid, 50).json()["accepted"]  # a late start
    wait_until(lambda: all_sent(gateway), 20, "outbox idle")
    assert sent(deliverect_sim, oid) == [50, 60, 70]
    journaled = [e["data"] for e in events_of(gateway, expo, "order.status")]
    assert [(s["status"], s["source"]) for s in journaled] == [
        (50, "policy"),
        (60, "policy"),
        (70, "device"),
    ]
    reasons = [c.reason for c in deliverect_sim.accepted_calls() if c.order_id == oid]
    assert reasons == ["started at a station", "every station's part done", "expo"]


def test_two_screens_racing_for_the_last_parts_send_60_once(
    gateway: GatewayProcess, deliverect_sim: DeliverectSim, tmp_path: Path
) -> None:
    payloads = [order(f"race-{n}", item("BRG"), item("FRY-01")) for n in range(6)]
    screens = kitchen(gateway, tmp_path, *payloads)
    answers: list[list[int]] = []
    lock = threading.Lock()

    def bump(device: EnrolledDevice, station: str, oid: str, go: threading.Barrier) -> None:
        go.wait(timeout=10)
        statuses = post_part(gateway, device, oid, station).json()["statuses"]
        with lock:
            answers.append(statuses)

    for payload in payloads:
        go = threading.Barrier(2)
        threads = [
            threading.Thread(target=bump, args=(screens[s], s, payload["orderId"], go))
            for s in ("grill", "fryer")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    assert len(answers) == 12
    assert Counter(s for statuses in answers for s in statuses) == {50: 6, 60: 6}
    wait_until(lambda: len(deliverect_sim.accepted_calls()) >= 12, 30, "12 statuses")
    wait_until(lambda: all_sent(gateway), 20, "outbox idle")
    for payload in payloads:
        assert sent(deliverect_sim, payload["orderId"]) == [50, 60]


def test_a_one_screen_kitchen_keeps_bump_70_only(
    make_gateway: Callable[..., GatewayProcess], deliverect_sim: DeliverectSim
) -> None:
    gateway = make_gateway(deliverect=deliverect_sim)
    gateway.register(LOC)
    payload = order("o-single", item("BRG"), item("FRY-01"))
    assert gateway.send_order(LOC, payload).status_code == 200
    device = gateway.enroll_device(LOC)  # role all, no rules at the location
    assert gateway.post_status(device, payload["orderId"], 70).json()["accepted"]
    wait_sent(deliverect_sim, payload["orderId"], [70])
    wait_until(lambda: all_sent(gateway), 20, "outbox idle")
    assert sent(deliverect_sim, payload["orderId"]) == [70]


def test_configured_statuses(
    make_gateway: Callable[..., GatewayProcess], deliverect_sim: DeliverectSim, tmp_path: Path
) -> None:
    """[stations] first_part_status = 0 (none), all_parts_status = 70: the last part done is
    ready for pickup, no expo needed."""
    gateway = make_gateway(
        deliverect=deliverect_sim,
        settings={"stations": {"first_part_status": 0, "all_parts_status": 70}},
    )
    payload = order("o-config", item("BRG"), item("FRY-01"))
    screens = kitchen(gateway, tmp_path, payload)
    oid = payload["orderId"]
    assert post_part(gateway, screens["grill"], oid, "grill").json()["statuses"] == []
    assert post_part(gateway, screens["fryer"], oid, "fryer").json()["statuses"] == [70]
    wait_sent(deliverect_sim, oid, [70])
    bad = make_gateway(start=False, settings={"stations": {"all_parts_status": 55}})
    checked = bad.cli("prune")
    assert checked.returncode == 2
    assert "stations.all_parts_status must be 0 (none) or one of [50, 60, 70, 80]" in checked.stderr
