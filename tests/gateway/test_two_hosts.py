"""Two gateways as two hosts on one PostgreSQL: ``kds-gateway serve`` twice, each with its own
runtime directory (nothing shared but the database and the broker), as a chain runs them
behind a load balancer.

Webhooks go to A; screens long-poll B and subscribe through MQTT. The periodic re-checks are
5 s, so an event seen within 1 s was carried by ``LISTEN/NOTIFY`` (or by the publisher's own
commit wake-up), not found by polling.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.fixtures.mosquitto import Mosquitto

STORES = ("postgresql",)
pytestmark = [pytest.mark.timeout(120), pytest.mark.mqtt]

SLOW_RECHECK: dict[str, dict[str, Any]] = {"server": {"workers": 1}, "database": {"recheck_s": 5.0}}
WITHIN_S = 1.0


class LongPoller:
    """A screen long-polling a gateway in a thread: when each seq first arrived."""

    def __init__(self, gateway: GatewayProcess, device: EnrolledDevice) -> None:
        self.gateway = gateway
        self.device = device
        self.seen: dict[int, float] = {}
        self.order_ids: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        after = 0
        with requests.Session() as session:
            while not self._stop.is_set():
                try:
                    response = session.get(
                        f"{self.gateway.base_url}/api/v1/events",
                        params={"after": after, "wait": 2},
                        headers=self.device.headers,
                        timeout=12,
                    )
                except requests.RequestException:
                    time.sleep(0.1)
                    continue
                arrived = time.monotonic()
                for event in response.json()["events"]:
                    self.seen.setdefault(event["seq"], arrived)
                    if event["orderId"]:
                        self.order_ids[event["orderId"]] = event["seq"]
                    after = max(after, event["seq"])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(15)


def mqtt_order_ids(messages: list[Any]) -> set[str]:
    return {m["orderId"] for m in messages if isinstance(m, dict) and m.get("orderId")}


def test_webhooks_to_a_reach_screens_of_b_at_once_and_survive_a_kill_of_a(
    make_gateway: Callable[..., GatewayProcess],
    deliverect_sim: DeliverectSim,
    mosquitto: Mosquitto,
    loc: str,
) -> None:
    a = make_gateway(mqtt=mosquitto, deliverect=deliverect_sim, settings=SLOW_RECHECK)
    b = make_gateway(
        mqtt=mosquitto, deliverect=deliverect_sim, settings=SLOW_RECHECK, database=a.database
    )
    assert a.workdir != b.workdir and a.database_url == b.database_url
    a.register(loc)
    device = b.enroll_device(loc)
    subscriber = mosquitto.subscribe(f"kds/{loc}/events")
    poller = LongPoller(b, device)
    gen = OrderGenerator(seed=41, location=loc)
    try:
        # Both running: each event reaches B's long-poll and the MQTT topic within a second.
        orders = [gen.order() for _ in range(15)]
        for order in orders:
            answer = a.send_order(loc, order)
            assert answer.status_code == 200, answer.text
            acknowledged = time.monotonic()
            seq = answer.json()["seq"]
            subscriber.wait_for(
                lambda m, oid=order["orderId"]: oid in mqtt_order_ids(m), timeout=10
            )
            assert time.monotonic() - acknowledged < WITHIN_S, f"seq {seq} late on MQTT"
            deadline = time.monotonic() + 10
            while seq not in poller.seen and time.monotonic() < deadline:
                time.sleep(0.01)
            assert poller.seen.get(seq, 1e12) - acknowledged < WITHIN_S, f"seq {seq} late on B"

        # Bumps through both hosts: each status reaches Deliverect exactly once.
        wanted: Counter[tuple[str, int | None]] = Counter()
        for index, order in enumerate(orders):
            via = (a, b)[index % 2]
            for status in (50, 70):
                assert via.post_status(device, order["orderId"], status).json()["accepted"]
                wanted[(order["orderId"], status)] = 1
        deliverect_sim.wait_for_calls(len(wanted), timeout=30, accepted_only=True)
        time.sleep(1.0)  # a second sender, if there were one, would show up by now
        got = Counter((c.order_id, c.status) for c in deliverect_sim.accepted_calls())
        assert got == wanted

        # kill -9 of A mid-stream: whatever A acknowledged reaches B's screens and MQTT.
        acknowledged_ids: list[str] = []
        stop = threading.Event()

        def stream() -> None:
            for order in (gen.order() for _ in range(300)):
                if stop.is_set():
                    return
                try:
                    response = a.send_order(loc, order)  # nobody else uses A's session now
                except requests.RequestException:
                    return  # A is gone
                if response.status_code == 200:
                    acknowledged_ids.append(order["orderId"])

        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        deadline = time.monotonic() + 30
        while len(acknowledged_ids) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        a.kill()
        stop.set()
        streamer.join(10)
        assert len(acknowledged_ids) >= 20
        everything = {o["orderId"] for o in orders} | set(acknowledged_ids)
        deadline = time.monotonic() + 30
        while not everything <= set(poller.order_ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert everything <= set(poller.order_ids), "acknowledged orders missing on B"
        subscriber.wait_for(
            lambda m: everything <= mqtt_order_ids(m), timeout=30, what="every order on MQTT"
        )
        seqs = sorted(poller.seen)
        assert seqs == list(range(1, len(seqs) + 1))  # B's screen saw a gap-free journal
    finally:
        poller.close()
