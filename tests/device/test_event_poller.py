"""The HTTP feed against the real gateway: order, catch-up, offline and back, prompt stop."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kds_device.adapters.event_poller import EventPoller, FeedCursor
from kds_device.adapters.gateway_client import GatewayClient
from kds_device.adapters.link_monitor import LinkMonitor
from kds_device.runtime.messages import Link
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.device import InboxRecorder, identity_of
from tests.fixtures.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(90)

LOCATION = "loc-poller"


def _poller(
    gateway: GatewayProcess, recorder: InboxRecorder, start: int = 0, wait_s: float = 3.0
) -> EventPoller:
    """A poller with a short hold: the gateway's graceful stop waits for held long-polls."""
    identity = identity_of(gateway, gateway.enroll_device(LOCATION))
    monitor = LinkMonitor(recorder.inbox, mqtt_configured=False)
    return EventPoller(
        GatewayClient.for_enrollment(identity), recorder.inbox, monitor, FeedCursor(start), wait_s
    )


@pytest.fixture
def running(gateway: GatewayProcess, recorder: InboxRecorder) -> Iterator[EventPoller]:
    gateway.register(LOCATION)
    poller = _poller(gateway, recorder)
    poller.start()
    yield poller
    poller.stop()


def test_orders_arrive_in_order_and_the_link_is_live(
    gateway: GatewayProcess, recorder: InboxRecorder, running: EventPoller
) -> None:
    orders = OrderGenerator(seed=10)
    payloads = [orders.order() for _ in range(5)]
    sent = [p["orderId"] for p in payloads]
    for payload in payloads:
        gateway.send_order(LOCATION, payload)
    recorder.wait_for(lambda r: set(sent) <= r.order_ids(), what="five orders")
    received = [e.order_id for e in recorder.events() if e.type == "order.received"]
    assert received == sent  # seq order, each once
    assert recorder.link is Link.LIVE_HTTP
    assert running.cursor.value == max(recorder.seqs())


def test_starts_from_the_stored_seq(gateway: GatewayProcess, recorder: InboxRecorder) -> None:
    gateway.register(LOCATION)
    orders = OrderGenerator(seed=11)
    for _ in range(4):
        gateway.send_order(LOCATION, orders.order())
    device = gateway.enroll_device(LOCATION)
    last = gateway.events(device)["lastSeq"]
    poller = _poller(gateway, recorder, start=last - 2)
    poller.start()
    try:
        recorder.wait_for(lambda r: r.seqs() == {last - 1, last}, what="the two newest")
    finally:
        poller.stop()


def test_offline_quickly_and_back_with_what_was_missed(
    gateway: GatewayProcess, recorder: InboxRecorder, running: EventPoller
) -> None:
    recorder.wait_for(lambda r: r.link is Link.LIVE_HTTP, what="live")
    gateway.kill()  # while a long-poll is held
    lost = time.monotonic()
    recorder.wait_for(lambda r: r.link is Link.OFFLINE, timeout=5, what="offline")
    assert time.monotonic() - lost < 3.0
    gateway.start()
    payload = OrderGenerator(seed=12).order()
    gateway.send_order(LOCATION, payload)
    recorder.wait_for(lambda r: payload["orderId"] in r.order_ids(), timeout=20, what="order")
    assert recorder.link is Link.LIVE_HTTP


def test_a_catch_up_request_fetches_at_once(
    gateway: GatewayProcess, recorder: InboxRecorder, running: EventPoller
) -> None:
    recorder.wait_for(lambda r: r.link is Link.LIVE_HTTP, what="live")
    polls_before = len(recorder.link_changes())
    running.request_catch_up()
    gateway.send_order(LOCATION, OrderGenerator(seed=13).order())
    recorder.wait_for(lambda r: r.order_ids(), timeout=5, what="the order")
    assert len(recorder.link_changes()) == polls_before  # no flapping on the way


def test_stop_is_prompt_even_during_a_long_poll(
    gateway: GatewayProcess, recorder: InboxRecorder
) -> None:
    gateway.register(LOCATION)
    poller = _poller(gateway, recorder, wait_s=5)
    poller.start()
    recorder.wait_for(lambda r: r.link is Link.LIVE_HTTP, what="live")
    started = time.monotonic()
    poller.stop(timeout_s=1.0)
    assert time.monotonic() - started < 1.5
    gateway.send_order(LOCATION, OrderGenerator(seed=14).order())
    time.sleep(0.5)  # nothing to wait on: proving that nothing more is posted after stop
    recorder.pump()
    assert not recorder.order_ids()
