"""The journal on MQTT: a real Mosquitto, real subscribers, broker outages."""

from __future__ import annotations

import time

import pytest

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import Mosquitto

pytestmark = [pytest.mark.timeout(90), pytest.mark.mqtt]

LOC = "65f0c1a2b3c4d5e6f7a8b9d1"
TOPIC = f"kds/{LOC}/events"


def seqs(messages: list) -> set[int]:
    return {m["seq"] for m in messages if isinstance(m, dict)}


def test_every_event_is_published_on_the_location_topic(
    mqtt_gateway: GatewayProcess, mosquitto: Mosquitto
) -> None:
    gateway = mqtt_gateway
    subscriber = mosquitto.subscribe(TOPIC)
    elsewhere = mosquitto.subscribe("kds/another-location/events")
    gateway.register(LOC)
    gen = OrderGenerator(seed=1, location=LOC)
    orders = [gen.order() for _ in range(5)]
    for order in orders:
        gateway.send_order(LOC, order)
    gateway.send_order(LOC, gen.cancel(orders[0]))
    gateway.post_webhook(f"/deliverect/{LOC}/products", gen.products())
    got = subscriber.wait_for(lambda m: seqs(m) >= set(range(1, 8)), what="seq 1..7")
    journal = {e.seq: e.to_json() for e in gateway.journal().events_after(LOC, 0)}
    assert {m["seq"]: m for m in got} == journal
    assert elsewhere.messages == []
    device = gateway.enroll_device(LOC)
    assert device.mqtt == {
        "host": mosquitto.host,
        "port": mosquitto.port,
        "username": None,
        "password": None,
        "tls": False,
        "topic": TOPIC,
        "caCert": None,
    }


@pytest.mark.parametrize("outage", ["stop", "kill"])
def test_a_broker_outage_loses_nothing_and_never_holds_up_a_webhook(
    mqtt_gateway: GatewayProcess, mosquitto: Mosquitto, outage: str
) -> None:
    gateway = mqtt_gateway
    subscriber = mosquitto.subscribe(TOPIC, client_id=f"screen-{outage}", persistent=True)
    subscribed = time.time()
    gateway.register(LOC)
    gen = OrderGenerator(seed=2, location=LOC)
    gateway.send_order(LOC, gen.order())
    subscriber.wait_for(lambda m: seqs(m) == {1}, what="the first event")
    # The broker saves its sessions every second or two; a SIGKILL before it saved ours would
    # lose it, and the events published before the screen subscribed again would never reach
    # it: not what this test is about.
    mosquitto.wait_saved(since=subscribed)
    getattr(mosquitto, outage)()
    for _ in range(5):
        started = time.monotonic()
        response = gateway.send_order(LOC, gen.order())
        assert response.status_code == 200
        assert time.monotonic() - started < 1.0
    mosquitto.start()
    subscriber.wait_for(lambda m: seqs(m) >= set(range(1, 7)), timeout=30, what="the backlog")
    assert seqs(subscriber.messages) == set(range(1, 7))
