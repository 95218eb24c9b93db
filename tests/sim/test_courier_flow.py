"""The simulator's couriers: 81, 83, 84, 85 as the courier comes, 87 and 89 only after the
kitchen's 70 reached (simulated) Deliverect; journaled by a real gateway as order.courier."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kds_device.domain.timestamps import format_timestamp
from kds_device.sim.courier import CourierFlow, ready_at
from kds_device.sim.orders import OrderGenerator
from kds_device.sim.sender import WebhookSender
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import wait_until

LOC = "65f0c1a2b3c4d5e6f7a8b9d1"
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.t)


def delivery(order_id: str = "o1", promised_min: float = 10, kind: int = 2) -> dict[str, Any]:
    promised = format_timestamp(START + timedelta(minutes=promised_min))
    return {"orderId": order_id, "orderType": kind, "pickupTime": promised, "location": LOC}


def test_the_flow_follows_the_courier_and_waits_for_ready() -> None:
    clock = Clock()
    ready: set[str] = set()
    bodies: list[dict[str, Any]] = []
    flow = CourierFlow(bodies.append, ready.__contains__, clock=clock, wall=clock.wall, seed=1)
    assert not flow.add(delivery("pickup", kind=1))  # only deliveries have couriers
    assert flow.add(delivery())

    def at(minutes: float) -> list[int]:
        clock.t = minutes * 60
        flow.tick()
        return [b["status"] for b in bodies]

    assert at(0) == [81]
    assert at(3.9) == [81]
    assert at(4) == [81, 83]  # sets off 6 min before the promised pickup
    eta = bodies[1]["pickupTime"]
    assert eta == format_timestamp(START + timedelta(minutes=10))
    assert at(8) == [81, 83, 84]
    assert at(10) == [81, 83, 84, 85]  # arrives whether or not the food is ready
    assert at(30) == [81, 83, 84, 85]  # waits: no 87 before ready
    ready.add("o1")
    assert at(30.5) == [81, 83, 84, 85, 87]
    assert at(40) == [81, 83, 84, 85, 87]
    assert at(40.5) == [81, 83, 84, 85, 87, 89]
    assert flow.pending() == 0
    assert {b["orderId"] for b in bodies} == {"o1"}
    assert bodies[0]["courier"]["firstName"] and "pickupTime" not in bodies[3]


def test_a_late_order_skips_straight_to_what_is_due() -> None:
    clock = Clock()
    bodies: list[dict[str, Any]] = []
    flow = CourierFlow(bodies.append, lambda _: True, clock=clock, wall=clock.wall, scale=0.5)
    flow.add(delivery(promised_min=1))  # promised in a minute: the courier is nearly there
    flow.tick()
    assert [b["status"] for b in bodies] == [81, 83, 84]
    clock.t = 0.5 * 60 * (2 + 1)  # arrival (2 min at least) + handover, scaled by 0.5
    flow.tick()
    assert [b["status"] for b in bodies] == [81, 83, 84, 85, 87]
    with pytest.raises(ValueError):
        CourierFlow(bodies.append, lambda _: True, scale=0)


@pytest.mark.timeout(90)
def test_couriers_through_a_real_gateway(
    gateway: GatewayProcess, deliverect_sim: DeliverectSim
) -> None:
    """Scaled 1:200 (a minute is 0.3 s): the courier arrives before the order is ready, the
    expo bump's 70 reaches Deliverect, then the courier leaves."""
    gateway.register(LOC)
    device = gateway.enroll_device(LOC)
    order = OrderGenerator(seed=3, location=LOC).order(
        orderType=2, pickupTime=format_timestamp(datetime.now(UTC) + timedelta(minutes=10))
    )
    oid = order["orderId"]
    with WebhookSender(gateway.base_url, gateway.secret) as sender:
        sender.register("acc", LOC, "ref")
        assert sender.send_order(order).ok
        flow = CourierFlow(
            sender.send_status_update, ready_at(deliverect_sim.base_url), scale=1 / 200
        )
        flow.add(order)
        stop = threading.Event()
        runner = threading.Thread(target=flow.run, args=(stop, 0.05), daemon=True)
        runner.start()
        try:

            def courier_statuses() -> list[int]:
                events = gateway.events(device, limit=1000)["events"]
                return [e["data"]["status"] for e in events if e["type"] == "order.courier"]

            wait_until(lambda: courier_statuses() == [81, 83, 84, 85], 30, "courier arrived")
            assert courier_statuses() == [81, 83, 84, 85]  # no 87: the food is not ready
            assert gateway.post_status(device, oid, 70).json()["accepted"]
            wait_until(lambda: courier_statuses() == [81, 83, 84, 85, 87, 89], 30, "delivered")
        finally:
            stop.set()
            runner.join(timeout=5)
    events = gateway.events(device, limit=1000)["events"]
    first = next(e["data"] for e in events if e["type"] == "order.courier")
    assert first["courier"]["name"].endswith(".") and first["etaMin"] >= 1
    statuses = [e["data"]["status"] for e in events if e["type"] == "order.status"]
    assert statuses == [70]  # courier statuses never move the order's status


def test_kds_sim_send_help_names_the_courier_options() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kds_device.sim.cli", "send", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 0 and "--couriers" in done.stdout and "--courier-scale" in done.stdout


@pytest.mark.timeout(120)
def test_kds_sim_send_with_couriers(gateway: GatewayProcess, deliverect_sim: DeliverectSim) -> None:
    """`kds-sim send --couriers`: each delivery order's courier comes (81..85) and, with no
    ready (70) from the kitchen, waits at the restaurant."""
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("kds-sim")),
            "send",
            "--gateway",
            gateway.base_url,
            "--secret",
            gateway.secret,
            "--location",
            LOC,
            "--count",
            "12",
            "--rate",
            "0",
            "--duplicates",
            "0",
            "--cancels",
            "0",
            "--seed",
            "4",
            "--couriers",
            deliverect_sim.base_url,
            "--courier-scale",
            "0.002",
            "--courier-wait",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    device = gateway.enroll_device(LOC)
    events = gateway.events(device, limit=1000)["events"]
    deliveries = {
        e["orderId"]
        for e in events
        if e["type"] == "order.received" and e["data"]["payload"]["orderType"] == 2
    }
    assert deliveries, "the seed gave no delivery order"
    seen: dict[str, list[int]] = {}
    for event in events:
        if event["type"] == "order.courier":
            seen.setdefault(event["orderId"], []).append(event["data"]["status"])
    assert seen == {oid: [81, 83, 84, 85] for oid in deliveries}
