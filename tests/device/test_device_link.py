"""The whole device side (outbox, poller, MQTT feed, link state) against a real gateway that
publishes to a real Mosquitto and forwards to the simulated Deliverect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kds_device.config import ConnectionConfig
from kds_device.device_link import DeviceLink
from kds_device.domain.board import StatusChange
from kds_device.runtime.messages import Link
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.device import InboxRecorder, identity_of
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import Mosquitto

pytestmark = [pytest.mark.timeout(120), pytest.mark.mqtt]

LOCATION = "loc-link"


@pytest.fixture
def link(
    mqtt_gateway: GatewayProcess, device_dir: Path, recorder: InboxRecorder
) -> Iterator[DeviceLink]:
    mqtt_gateway.register(LOCATION)
    identity = identity_of(mqtt_gateway, mqtt_gateway.enroll_device(LOCATION))
    assert identity.mqtt is not None
    link = DeviceLink(identity, device_dir, recorder.inbox, ConnectionConfig(poll_wait_s=5), 0)
    link.start()
    recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, what="live over MQTT")
    yield link
    link.stop()


def test_orders_come_over_mqtt(
    mqtt_gateway: GatewayProcess, recorder: InboxRecorder, link: DeviceLink
) -> None:
    orders = OrderGenerator(seed=30)
    ids = []
    for _ in range(10):
        payload = orders.order()
        mqtt_gateway.send_order(LOCATION, payload)
        ids.append(payload["orderId"])
    recorder.wait_for(lambda r: set(ids) <= r.order_ids(), what="ten orders")
    mqtt_orders = {e.order_id for e in recorder.events("mqtt") if e.type == "order.received"}
    assert mqtt_orders == set(ids)  # the fast path carried every one


def test_gateway_loss_shows_offline_despite_the_broker_and_bumps_wait(
    mqtt_gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    recorder: InboxRecorder,
    link: DeviceLink,
) -> None:
    orders = OrderGenerator(seed=31)
    ids = []
    for _ in range(3):
        payload = orders.order()
        mqtt_gateway.send_order(LOCATION, payload)
        ids.append(payload["orderId"])
    recorder.wait_for(lambda r: set(ids) <= r.order_ids(), what="orders")
    mqtt_gateway.kill()
    lost = time.monotonic()
    recorder.wait_for(lambda r: r.link is Link.OFFLINE, timeout=8, what="offline")
    assert time.monotonic() - lost < 5.0  # the banner threshold (10 s) counts from here
    for index, order_id in enumerate(ids):
        link.outbox.submit(StatusChange(order_id, 70, f"k{index}"))
    recorder.wait_for(lambda r: r.pending == 3, what="queued")
    mqtt_gateway.start()
    recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, timeout=20, what="back")
    recorder.wait_for(lambda r: r.pending == 0, timeout=20, what="backlog sent")
    calls = deliverect_sim.wait_for_calls(3, timeout=20, accepted_only=True)
    assert [(c.order_id, c.status) for c in calls if c.accepted] == [(i, 70) for i in ids]


def test_a_broker_killed_mid_stream_loses_nothing(
    mqtt_gateway: GatewayProcess,
    mosquitto: Mosquitto,
    recorder: InboxRecorder,
    link: DeviceLink,
) -> None:
    orders = OrderGenerator(seed=32)
    ids: list[str] = []

    def stream() -> None:
        for _ in range(40):
            payload = orders.order()
            assert mqtt_gateway.send_order(LOCATION, payload).ok
            ids.append(payload["orderId"])
            time.sleep(0.05)  # a paced stream, not a condition wait

    sender = threading.Thread(target=stream)
    sender.start()
    recorder.wait_for(lambda r: len(r.order_ids()) >= 10, what="the stream flowing")
    mosquitto.kill()
    recorder.wait_for(lambda r: r.link is Link.LIVE_HTTP, timeout=30, what="broker lost")
    mosquitto.start()
    sender.join(30)
    recorder.wait_for(lambda r: set(ids) <= r.order_ids(), timeout=30, what="every order")
    recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, timeout=30, what="broker back")
    assert len(ids) == 40
