"""Bumps from the device API reach the simulated Deliverect through the durable outbox."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.fixtures.mosquitto import wait_until

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]

LOC = "65f0c1a2b3c4d5e6f7a8b9d1"


def setup_orders(
    gateway: GatewayProcess, count: int, seed: int = 1
) -> tuple[EnrolledDevice, list[dict]]:
    gateway.register(LOC)
    gen = OrderGenerator(seed=seed, location=LOC)
    orders = [gen.order() for _ in range(count)]
    for order in orders:
        assert gateway.send_order(LOC, order).status_code == 200
    return gateway.enroll_device(LOC), orders


def delivered(sim: DeliverectSim) -> Counter[tuple[str, int | None]]:
    return Counter((call.order_id, call.status) for call in sim.accepted_calls())


def when(call_at: str) -> datetime:
    return datetime.fromisoformat(call_at.replace("Z", "+00:00"))


def test_each_bump_reaches_deliverect_once_in_order(
    gateway: GatewayProcess, deliverect_sim: DeliverectSim
) -> None:
    device, [order] = setup_orders(gateway, 1)
    oid = order["orderId"]
    assert gateway.post_status(device, oid, 70, key="a", reason="bumped").json()["accepted"]
    assert gateway.post_status(device, oid, 70, key="a").json()["accepted"]  # same answer
    assert not gateway.post_status(device, oid, 60, key="b").json()["accepted"]
    assert gateway.post_status(device, oid, 80, key="c").json()["accepted"]
    calls = deliverect_sim.wait_for_calls(2, timeout=15, accepted_only=True)
    assert [(c.order_id, c.status, c.reason) for c in calls] == [
        (oid, 70, "bumped"),
        (oid, 80, ""),
    ]
    wait_until(lambda: all(r["state"] == "sent" for r in gateway.outbox_rows()), what="sent")
    assert deliverect_sim.tokens_issued == 1


def test_429_then_503_then_recovery_delivers_once_honouring_retry_after(
    gateway: GatewayProcess, deliverect_sim: DeliverectSim
) -> None:
    device, [order] = setup_orders(gateway, 1, seed=2)
    deliverect_sim.inject("429", retry_after=2)
    deliverect_sim.inject("503")
    assert gateway.post_status(device, order["orderId"], 70).json()["accepted"]
    deliverect_sim.wait_for_calls(3, timeout=20, accepted_only=False)
    calls = deliverect_sim.calls()
    assert [c.http_status for c in calls] == [429, 503, 200]
    assert (when(calls[1].at) - when(calls[0].at)).total_seconds() >= 1.95
    assert delivered(deliverect_sim) == {(order["orderId"], 70): 1}
    wait_until(lambda: gateway.outbox_rows()[0]["state"] == "sent", what="row marked sent")
    assert gateway.outbox_rows()[0]["attempts"] == 3


def test_kill_9_with_statuses_waiting_then_each_arrives_exactly_once(
    make_gateway: Callable[..., GatewayProcess],
    deliverect_sim: DeliverectSim,
    make_deliverect_sim: Callable[..., DeliverectSim],
) -> None:
    down = deliverect_sim
    gateway = make_gateway(deliverect=down, settings={"outbox": {"lease_s": 6.0}})
    device, orders = setup_orders(gateway, 4, seed=3)
    down.inject("503", times=10_000)  # Deliverect is down
    wanted = Counter()
    for order in orders:
        for status in (50, 70):
            assert gateway.post_status(device, order["orderId"], status).json()["accepted"]
            wanted[(order["orderId"], status)] = 1
    wait_until(
        lambda: any(r["attempts"] >= 2 for r in gateway.outbox_rows()),
        timeout=20,
        what="the outbox retrying against a failing Deliverect",
    )
    gateway.kill()
    assert all(row["state"] == "pending" for row in gateway.outbox_rows())
    # Deliverect is back, reached at another address: a request the killed process had sent
    # but the simulator had not read yet is still answered 503, as the Deliverect that was
    # down when it was sent would have (reset in place, it would be taken late: a second
    # delivery that says nothing about the gateway).
    back = make_deliverect_sim()
    gateway.use_deliverect(back)
    gateway.start()
    back.wait_for_calls(len(wanted), timeout=40, accepted_only=True)
    wait_until(
        lambda: all(r["state"] == "sent" for r in gateway.outbox_rows()), timeout=20, what="sent"
    )
    assert delivered(back) == wanted
    assert delivered(down) == Counter()
    by_order: dict[str, list[int | None]] = {}
    for call in back.accepted_calls():
        by_order.setdefault(call.order_id, []).append(call.status)
    assert all(statuses == [50, 70] for statuses in by_order.values())  # never backwards


def test_nothing_is_sent_for_an_order_voided_while_its_status_waits(
    gateway: GatewayProcess, deliverect_sim: DeliverectSim
) -> None:
    device, (doomed, other) = setup_orders(gateway, 2, seed=4)
    deliverect_sim.inject("503", times=10_000)
    assert gateway.post_status(device, doomed["orderId"], 70).json()["accepted"]
    wait_until(lambda: gateway.outbox_rows()[0]["attempts"] >= 1, timeout=15, what="a retry")
    cancel = OrderGenerator(seed=4, location=LOC).cancel(doomed)
    assert gateway.send_order(LOC, cancel).json()["result"] == "voided"
    deliverect_sim.state.reset()
    assert gateway.post_status(device, other["orderId"], 70).json()["accepted"]
    deliverect_sim.wait_for_calls(1, timeout=15, accepted_only=True)
    wait_until(
        lambda: {r["state"] for r in gateway.outbox_rows()} == {"voided", "sent"}, what="closed"
    )
    assert delivered(deliverect_sim) == {(other["orderId"], 70): 1}


def test_a_status_deliverect_already_has_is_not_sent_backwards(
    gateway: GatewayProcess, deliverect_sim: DeliverectSim
) -> None:
    device, [order] = setup_orders(gateway, 1, seed=5)
    oid = order["orderId"]
    deliverect_sim.inject("503", times=10_000)
    assert gateway.post_status(device, oid, 60).json()["accepted"]
    wait_until(lambda: gateway.outbox_rows()[0]["attempts"] >= 1, timeout=15, what="a retry")
    pushed = gateway.post_webhook(f"/deliverect/{LOC}/order-status", {"orderId": oid, "status": 70})
    assert pushed.json()["result"] == "status"
    deliverect_sim.state.reset()
    assert gateway.post_status(device, oid, 80).json()["accepted"]
    deliverect_sim.wait_for_calls(1, timeout=15, accepted_only=True)
    wait_until(lambda: gateway.outbox_rows()[-1]["state"] == "sent", what="80 sent")
    assert [r["state"] for r in gateway.outbox_rows()] == ["superseded", "sent"]
    assert delivered(deliverect_sim) == {(oid, 80): 1}


def test_two_gateway_processes_on_one_database_send_each_status_once(
    make_gateway: Callable[..., GatewayProcess], deliverect_sim: DeliverectSim
) -> None:
    first = make_gateway(deliverect=deliverect_sim)
    second = make_gateway(deliverect=deliverect_sim, database=first.database)
    device, orders = setup_orders(first, 12, seed=6)
    wanted = Counter()
    for index, order in enumerate(orders):
        via = (first, second)[index % 2]
        for status in (50, 60, 70):
            assert via.post_status(device, order["orderId"], status).json()["accepted"]
            wanted[(order["orderId"], status)] = 1
    deliverect_sim.wait_for_calls(len(wanted), timeout=30, accepted_only=True)
    wait_until(lambda: all(r["state"] == "sent" for r in first.outbox_rows()), what="all sent")
    assert delivered(deliverect_sim) == wanted
    assert len(deliverect_sim.calls()) == len(wanted)
