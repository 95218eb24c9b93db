"""The screens' API served for real; every exchange is checked against openapi.yml."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.gateway.contract import Contract

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def contract(shared_gateway: GatewayProcess) -> Iterator[Contract]:
    """Validates every response of the shared gateway's session during one test."""
    checker = Contract(shared_gateway.base_url).attach(shared_gateway.session)
    yield checker
    shared_gateway.session.hooks["response"].remove(checker)
    assert checker.checked > 0


@pytest.fixture
def api(shared_gateway: GatewayProcess, contract: Contract) -> GatewayProcess:
    return shared_gateway


def with_order(gateway: GatewayProcess, loc: str, seed: int = 1) -> dict:
    gateway.register(loc)
    order = OrderGenerator(seed=seed, location=loc).order()
    assert gateway.send_order(loc, order).status_code == 200
    return order


def test_enroll_gives_an_identity_once_per_code(api: GatewayProcess, loc: str) -> None:
    code = api.enroll_code(loc)
    url = f"{api.base_url}/api/v1/enroll"
    body = {"code": code.lower().replace("-", " "), "name": "Grill", "station": "Hot"}
    first = api.session.post(url, json=body)
    assert first.status_code == 200, first.text
    data = first.json()
    assert data["locationId"] == loc and data["mqtt"] is None
    assert data["deviceId"].startswith("dev_") and len(data["token"]) >= 40
    again = api.session.post(url, json=body)
    assert again.status_code == 404 and again.json()["error"] == "invalid_code"
    expired = api.enroll_code(loc, ttl_s=-1)
    assert api.session.post(url, json={"code": expired}).status_code == 404
    for bad in ({"name": "x"}, {"code": ""}, {"code": 123}, ["code"]):
        response = api.session.post(url, json=bad)
        assert response.status_code == 400 and response.json()["error"] == "bad_request"
    stored = api.db().read().execute("SELECT token_hash FROM devices WHERE location_id = ?", (loc,))
    assert [row[0] for row in stored] != [data["token"]]  # only a hash is kept


def test_without_a_valid_token_everything_is_401(api: GatewayProcess, loc: str) -> None:
    order = with_order(api, loc)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        events = api.session.get(f"{api.base_url}/api/v1/events", headers=headers)
        status = api.session.post(
            f"{api.base_url}/api/v1/orders/{order['orderId']}/status",
            json={"status": 70, "key": "k"},
            headers=headers,
        )
        assert events.status_code == status.status_code == 401
        assert events.json()["error"] == "unauthorized"
    assert api.outbox_rows() == []


def test_events_page_in_seq_order_with_bounds(api: GatewayProcess, loc: str) -> None:
    device = api.enroll_device(loc)
    empty = api.events(device)
    assert empty == {"events": [], "lastSeq": 0, "firstSeq": 1}
    gen = OrderGenerator(seed=3, location=loc)
    api.register(loc)
    orders = [gen.order() for _ in range(5)]
    for order in orders:
        api.send_order(loc, order)
    page = api.events(device, after=1, limit=2)
    assert [e["seq"] for e in page["events"]] == [2, 3]
    assert page["lastSeq"] == 5 and page["firstSeq"] == 1
    assert page["events"][0]["orderId"] == orders[1]["orderId"]
    assert page["events"][0]["data"]["payload"] == orders[1]
    assert api.events(device, after=5)["events"] == []
    for params in ({"after": -1}, {"after": "x"}, {"wait": "nan"}, {"limit": 0}):
        response = api.session.get(
            f"{api.base_url}/api/v1/events", params=params, headers=device.headers
        )
        assert response.status_code == 400, params


def test_a_device_of_location_a_cannot_read_location_b(api: GatewayProcess, loc: str) -> None:
    other = f"{loc}-b"
    order_b = with_order(api, other, seed=5)
    with_order(api, loc, seed=6)
    device_a = api.enroll_device(loc)
    seen = api.events(device_a, after=0, location=other, locationId=other)
    assert {e["locationId"] for e in seen["events"]} == {loc}
    assert order_b["orderId"] not in {e["orderId"] for e in seen["events"]}
    bump = api.post_status(device_a, order_b["orderId"], 70)
    assert bump.status_code == 404
    assert [e.type for e in api.journal().events_after(other, 0)] == ["order.received"]


def test_status_is_journaled_idempotent_and_never_backwards(api: GatewayProcess, loc: str) -> None:
    order = with_order(api, loc)
    oid = order["orderId"]
    device = api.enroll_device(loc)
    first = api.post_status(device, oid, 60, key="bump-1", reason="grill done")
    assert first.status_code == 200
    assert first.json() == {
        "orderId": oid,
        "status": 60,
        "key": "bump-1",
        "accepted": True,
        "seq": 2,
    }
    # Stored before the answer: the event and the outbox row are already there.
    event = api.journal().events_after(loc, 1)[0]
    assert (event.type, dict(event.data)) == (
        "order.status",
        {"status": 60, "source": "device", "device": device.device_id, "key": "bump-1"},
    )
    assert [(r["order_id"], r["status"], r["reason"]) for r in api.outbox_rows()] == [
        (oid, 60, "grill done")
    ]
    repeat = api.post_status(device, oid, 60, key="bump-1")
    assert repeat.json() == first.json()
    backwards = api.post_status(device, oid, 50, key="bump-2")
    assert backwards.status_code == 200
    assert backwards.json()["accepted"] is False and backwards.json()["seq"] is None
    assert len(api.outbox_rows()) == 1
    assert api.post_status(device, oid, 70, key="bump-3").json()["accepted"] is True
    assert [r["status"] for r in api.outbox_rows()] == [60, 70]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"status": 90, "key": "k"}, 400),
        ({"status": "70", "key": "k"}, 400),
        ({"status": True, "key": "k"}, 400),
        ({"status": 70}, 400),
        ({"status": 70, "key": "k", "reason": 5}, 400),
    ],
)
def test_bad_status_requests_are_400(api: GatewayProcess, loc: str, body: dict, code: int) -> None:
    order = with_order(api, loc)
    device = api.enroll_device(loc)
    response = api.session.post(
        f"{api.base_url}/api/v1/orders/{order['orderId']}/status", json=body, headers=device.headers
    )
    assert response.status_code == code and response.json()["detail"]


def test_unknown_and_voided_orders(api: GatewayProcess, loc: str) -> None:
    gen = OrderGenerator(seed=9, location=loc)
    api.register(loc)
    order = gen.order()
    api.send_order(loc, order)
    api.send_order(loc, gen.cancel(order))
    device = api.enroll_device(loc)
    unknown = api.post_status(device, "no-such-order", 70)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_order"
    voided = api.post_status(device, order["orderId"], 70)
    assert voided.status_code == 409 and voided.json()["error"] == "voided"


def poll_in_background(
    gateway: GatewayProcess, device: EnrolledDevice, wait: float
) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def poll() -> None:
        started = time.monotonic()
        response = requests.get(
            f"{gateway.base_url}/api/v1/events",
            params={"after": 0, "wait": wait},
            headers=device.headers,
            timeout=wait + 10,
        )
        result.update(body=response.json(), done=time.monotonic(), took=time.monotonic() - started)

    thread = threading.Thread(target=poll)
    thread.start()
    return thread, result


@pytest.mark.parametrize(
    ("workers", "recheck_s", "within_s"),
    [
        (1, 30.0, 0.5),  # only the in-process notification can wake the poll this early
        (2, 30.0, 1.0),  # the webhook may land in the other worker: its doorbell rings here
    ],
)
def test_long_poll_holds_then_wakes_as_soon_as_an_event_lands(
    make_gateway: Callable[..., GatewayProcess],
    loc: str,
    workers: int,
    recheck_s: float,
    within_s: float,
) -> None:
    gateway = make_gateway(
        settings={"server": {"workers": workers}, "database": {"recheck_s": recheck_s}}
    )
    gateway.register(loc)
    device = gateway.enroll_device(loc)
    thread, held = poll_in_background(gateway, device, wait=1.0)
    thread.join(10)
    assert held["body"]["events"] == [] and held["took"] >= 0.95

    thread, result = poll_in_background(gateway, device, wait=20.0)
    order = OrderGenerator(seed=4, location=loc).order()
    landed: dict = {}

    def send() -> None:
        gateway.send_order(loc, order)
        landed["at"] = time.monotonic()

    timer = threading.Timer(0.5, send)  # lands while the poll is being held
    timer.start()
    thread.join(15)
    timer.join()
    assert [e["orderId"] for e in result["body"]["events"]] == [order["orderId"]]
    assert result["took"] < 5.0
    assert result["done"] - landed["at"] < within_s
