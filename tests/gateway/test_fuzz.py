"""Fuzzing the gateway served for real: whatever a client sends, never a 5xx, still serving."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess

pytestmark = pytest.mark.timeout(180)

LOC = "fuzz-location"
FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
ORDER_KEYS = list(OrderGenerator(seed=0).order())


@st.composite
def mutated_orders(draw: st.DrawFn) -> dict[str, Any]:
    """A realistic order with some fields replaced by arbitrary JSON."""
    order = OrderGenerator(seed=draw(st.integers(0, 1000)), location=LOC).order()
    for key in draw(st.lists(st.sampled_from([*ORDER_KEYS, "status", "_id"]), max_size=4)):
        order[key] = draw(json_values)
    if draw(st.booleans()) and isinstance(order.get("items"), list) and order["items"]:
        order["items"][0] = draw(json_values)
    return order


bodies = (
    mutated_orders().map(lambda o: json.dumps(o).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
)


@pytest.fixture(scope="module")
def fuzz_target(shared_gateway: GatewayProcess) -> tuple[GatewayProcess, EnrolledDevice]:
    shared_gateway.register(LOC)
    return shared_gateway, shared_gateway.enroll_device(LOC)


def assert_served(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"], response.text


@FUZZ
@given(
    endpoint=st.sampled_from(["orders", "products", "order-status", "register"]),
    body=bodies,
    signed=st.booleans(),
)
def test_webhooks_never_answer_5xx(
    fuzz_target: tuple[GatewayProcess, EnrolledDevice], endpoint: str, body: bytes, signed: bool
) -> None:
    gateway, _ = fuzz_target
    path = "/deliverect/register" if endpoint == "register" else f"/deliverect/{LOC}/{endpoint}"
    response = gateway.post_webhook(path, body, sign=signed)
    assert_served(response)
    if not signed:
        assert response.status_code == 401


@FUZZ
@given(
    order_id=st.text(min_size=1, max_size=40),
    body=json_values | st.fixed_dictionaries({"status": json_values, "key": json_values}),
    params=st.dictionaries(st.sampled_from(["after", "wait", "limit", "x"]), st.text(max_size=8)),
)
def test_device_endpoints_never_answer_5xx(
    fuzz_target: tuple[GatewayProcess, EnrolledDevice],
    order_id: str,
    body: Any,
    params: dict[str, str],
) -> None:
    gateway, device = fuzz_target
    base = gateway.base_url
    session = gateway.session
    params = {**params, "wait": "0"}  # a long-poll would only slow the fuzzing down
    assert_served(session.get(f"{base}/api/v1/events", params=params, headers=device.headers))
    url = f"{base}/api/v1/orders/{quote(order_id, safe='')}/status"
    assert_served(session.post(url, data=json.dumps(body), headers=device.headers))
    assert_served(session.post(f"{base}/api/v1/enroll", data=json.dumps(body)))


def test_still_serving_after_the_fuzzing(
    fuzz_target: tuple[GatewayProcess, EnrolledDevice],
) -> None:
    gateway, device = fuzz_target
    assert gateway.session.get(f"{gateway.base_url}/api/v1/health").json() == {"ok": True}
    order = OrderGenerator(seed=99_999, location=LOC).order()
    assert gateway.send_order(LOC, order).json()["result"] == "received"
    assert gateway.events(device, after=0, limit=1000)["lastSeq"] >= 1
    assert "Traceback" not in gateway.log_text()
