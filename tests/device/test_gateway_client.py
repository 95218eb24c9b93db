"""The device's HTTP client against the real gateway (``kds-gateway serve``)."""

from __future__ import annotations

import threading
import time

import pytest

from kds_device.adapters.gateway_client import (
    GatewayClient,
    GatewayRefused,
    GatewayUnreachable,
    enroll,
)
from kds_device.domain.board import StatusChange
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import free_port
from tests.fixtures.device import identity_of
from tests.fixtures.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(60)

LOCATION = "loc-client"


@pytest.fixture
def client(gateway: GatewayProcess) -> GatewayClient:
    gateway.register(LOCATION)
    client = GatewayClient.for_enrollment(identity_of(gateway, gateway.enroll_device(LOCATION)))
    yield client
    client.close()


def test_enroll_trades_a_code_once(gateway: GatewayProcess) -> None:
    gateway.register(LOCATION)
    code = gateway.enroll_code(LOCATION)
    identity = enroll(gateway.base_url + "/", code, "Grill", "Grill")
    assert identity.location_id == LOCATION
    assert identity.gateway_url == gateway.base_url
    assert identity.token and identity.device_id
    assert identity.mqtt is None  # this gateway has no broker
    with pytest.raises(GatewayRefused) as refused:
        enroll(gateway.base_url, code, "Grill", "Grill")
    assert refused.value.status == 404 and refused.value.final


def test_an_unreachable_gateway_is_reported_as_such() -> None:
    with pytest.raises(GatewayUnreachable, match="connection refused"):
        enroll(f"http://127.0.0.1:{free_port()}", "ABCDE-FGHJK", "x", "y")


def test_events_come_in_seq_order(gateway: GatewayProcess, client: GatewayClient) -> None:
    orders = OrderGenerator(seed=3)
    sent = [orders.order() for _ in range(3)]
    for payload in sent:
        assert gateway.send_order(LOCATION, payload).status_code in (200, 201, 204)
    batch = client.fetch_events(after=0)
    received = [e.order_id for e in batch.events if e.type == "order.received"]
    assert received == [p["orderId"] for p in sent]
    seqs = [e.seq for e in batch.events]
    assert seqs == sorted(seqs) and batch.last_seq == seqs[-1]
    assert client.fetch_events(after=batch.last_seq).events == ()
    limited = client.fetch_events(after=0, limit=1)
    assert len(limited.events) == 1 and limited.last_seq == batch.last_seq


def test_a_long_poll_returns_as_soon_as_an_order_arrives(
    gateway: GatewayProcess, client: GatewayClient
) -> None:
    after = client.fetch_events(after=0).last_seq
    payload = OrderGenerator(seed=4).order()
    timer = threading.Timer(0.5, gateway.send_order, (LOCATION, payload))
    started = time.monotonic()
    timer.start()
    try:
        batch = client.fetch_events(after=after, wait_s=20)
    finally:
        timer.join()
    took = time.monotonic() - started
    assert [e.order_id for e in batch.events] == [payload["orderId"]]
    assert 0.4 < took < 5.0


def test_a_long_poll_with_nothing_new_holds_then_answers_empty(client: GatewayClient) -> None:
    after = client.fetch_events(after=0).last_seq
    started = time.monotonic()
    batch = client.fetch_events(after=after, wait_s=1)
    assert batch.events == () and time.monotonic() - started >= 0.9


def test_status_is_idempotent_per_key(gateway: GatewayProcess, client: GatewayClient) -> None:
    payload = OrderGenerator(seed=5).order()
    gateway.send_order(LOCATION, payload)
    change = StatusChange(payload["orderId"], 70, "key-1")
    first = client.post_status(change)
    assert first.accepted and first.status == 70 and first.key == "key-1"
    assert client.post_status(change) == first


def test_refusals_are_typed(gateway: GatewayProcess, client: GatewayClient) -> None:
    with pytest.raises(GatewayRefused) as unknown:
        client.post_status(StatusChange("no-such-order", 70, "k"))
    assert unknown.value.status == 404 and unknown.value.final
    payload = OrderGenerator(seed=6).order()
    gateway.send_order(LOCATION, payload)
    with pytest.raises(GatewayRefused) as bad:
        client.post_status(StatusChange(payload["orderId"], 90, "k2"))
    assert bad.value.status == 400 and bad.value.error
    stranger = GatewayClient(gateway.base_url, "not-a-token")
    with pytest.raises(GatewayRefused) as unauthorized:
        stranger.fetch_events(after=0)
    stranger.close()
    assert unauthorized.value.status == 401 and not unauthorized.value.final


def test_a_killed_gateway_is_unreachable_not_a_crash(
    gateway: GatewayProcess, client: GatewayClient
) -> None:
    assert client.health()
    gateway.kill()
    with pytest.raises(GatewayUnreachable):
        client.fetch_events(after=0)
    assert not client.health()
