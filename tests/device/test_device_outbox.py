"""The bump outbox against the real gateway and the simulated Deliverect: in order, once,
through outages and restarts; final refusals dropped, not retried forever."""

from __future__ import annotations

from pathlib import Path

import pytest

from kds_device.adapters.backoff import Backoff
from kds_device.adapters.device_outbox import DeviceOutbox, OutboxDatabase, outbox_path
from kds_device.adapters.gateway_client import GatewayClient
from kds_device.domain.board import StatusChange
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.device import InboxRecorder, identity_of
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import wait_until

pytestmark = pytest.mark.timeout(90)

LOCATION = "loc-outbox"


def _orders(gateway: GatewayProcess, count: int, seed: int) -> list[str]:
    gateway.register(LOCATION)
    generator = OrderGenerator(seed=seed)
    ids = []
    for _ in range(count):
        payload = generator.order()
        assert gateway.send_order(LOCATION, payload).ok
        ids.append(payload["orderId"])
    return ids


def _outbox(gateway: GatewayProcess, directory: Path, recorder: InboxRecorder) -> DeviceOutbox:
    identity = identity_of(gateway, gateway.enroll_device(LOCATION))
    return DeviceOutbox(
        OutboxDatabase(outbox_path(directory)),
        GatewayClient.for_enrollment(identity),
        recorder.inbox,
        backoff=Backoff(initial_s=0.1, maximum_s=1.0),
    )


def _statuses(sim: DeliverectSim) -> list[tuple[str, int]]:
    return [(c.order_id, c.status) for c in sim.accepted_calls()]


def test_bumps_reach_deliverect_in_order_once(
    gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    device_dir: Path,
    recorder: InboxRecorder,
) -> None:
    ids = _orders(gateway, 4, seed=20)
    outbox = _outbox(gateway, device_dir, recorder)
    outbox.start()
    try:
        for index, order_id in enumerate(ids):
            outbox.submit(StatusChange(order_id, 70, f"key-{index}"))
        outbox.submit(StatusChange(ids[0], 70, "key-0"))  # the same change again: one row
        recorder.wait_for(lambda r: r.pending == 0 and outbox.pending == 0, what="sent")
        deliverect_sim.wait_for_calls(4, timeout=10, accepted_only=True)
    finally:
        outbox.stop()
    assert sorted(_statuses(deliverect_sim)) == sorted((i, 70) for i in ids)


def test_queued_through_an_outage_and_a_restart_then_delivered_once(
    gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    device_dir: Path,
    recorder: InboxRecorder,
) -> None:
    ids = _orders(gateway, 3, seed=21)
    identity = identity_of(gateway, gateway.enroll_device(LOCATION))
    gateway.stop()
    first = DeviceOutbox(
        OutboxDatabase(outbox_path(device_dir)),
        GatewayClient.for_enrollment(identity),
        recorder.inbox,
        backoff=Backoff(initial_s=0.1, maximum_s=0.5),
    )
    first.start()
    for index, order_id in enumerate(ids):
        first.submit(StatusChange(order_id, 60 if index == 0 else 70, f"k{index}"))
    recorder.wait_for(lambda r: r.pending == 3, what="three queued")
    wait_until(lambda: first.database.queued()[0].attempts >= 2, 10, "retries")
    first.stop()  # the device restarts while the gateway is still down

    gateway.start()
    second = DeviceOutbox(
        OutboxDatabase(outbox_path(device_dir)),
        GatewayClient.for_enrollment(identity),
        recorder.inbox,
        backoff=Backoff(initial_s=0.1, maximum_s=0.5),
    )
    second.start()
    try:
        recorder.wait_for(lambda r: r.pending == 0, timeout=20, what="the backlog sent")
        deliverect_sim.wait_for_calls(3, timeout=10, accepted_only=True)
    finally:
        second.stop()
    assert _statuses(deliverect_sim) == [(ids[0], 60), (ids[1], 70), (ids[2], 70)]


def test_a_final_refusal_is_dropped_and_the_queue_goes_on(
    gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    device_dir: Path,
    recorder: InboxRecorder,
) -> None:
    (order_id,) = _orders(gateway, 1, seed=22)
    outbox = _outbox(gateway, device_dir, recorder)
    outbox.start()
    try:
        outbox.submit(StatusChange("never-sent-order", 70, "k-unknown"))
        outbox.submit(StatusChange(order_id, 70, "k-good"))
        recorder.wait_for(lambda r: r.pending == 0, what="queue empty")
        deliverect_sim.wait_for_calls(1, timeout=10, accepted_only=True)
        refused = outbox.database.rejected()
    finally:
        outbox.stop()
    assert [(r[0], r[1]) for r in refused] == [("never-sent-order", 70)]
    assert "404" in refused[0][2]
    assert _statuses(deliverect_sim) == [(order_id, 70)]


def test_a_gateway_coming_back_is_retried_at_once_not_after_the_backoff(
    gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    device_dir: Path,
    recorder: InboxRecorder,
) -> None:
    (order_id,) = _orders(gateway, 1, seed=23)
    identity = identity_of(gateway, gateway.enroll_device(LOCATION))
    gateway.stop()
    outbox = DeviceOutbox(
        OutboxDatabase(outbox_path(device_dir)),
        GatewayClient.for_enrollment(identity),
        recorder.inbox,
        backoff=Backoff(initial_s=60.0, maximum_s=60.0),  # only a nudge can send it in time
    )
    outbox.start()
    try:
        outbox.submit(StatusChange(order_id, 70, "k-nudge"))
        wait_until(lambda: outbox.database.queued()[0].attempts >= 1, 10, "first failure")
        gateway.start()
        outbox.nudge()
        recorder.wait_for(lambda r: r.pending == 0, timeout=10, what="sent after the nudge")
    finally:
        outbox.stop()
    assert deliverect_sim.wait_for_calls(1, timeout=10, accepted_only=True)
