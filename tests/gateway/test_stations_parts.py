"""The parts and items API at a real gateway: idempotent by key, a clear 4xx for bad input,
journaled as order.part / order.item; courier statuses journaled as order.courier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kds_device.domain.timestamps import format_timestamp
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.gateway.stations_kit import (
    events_of,
    item,
    order,
    post_item,
    post_part,
    set_rules,
    write_rules,
)

pytestmark = pytest.mark.timeout(90)


def routed_order(
    gateway: GatewayProcess, loc: str, tmp_path: Path, order_type: int = 1
) -> tuple[EnrolledDevice, str]:
    """A location with rules and one order: item 0 grill, 1 fryer, 2 grill (by default)."""
    gateway.register(loc)
    set_rules(gateway, loc, write_rules(tmp_path))
    payload = order(f"{loc}-1", item("BRG"), item("FRY-01"), item("HOT"), order_type=order_type)
    assert gateway.send_order(loc, payload).status_code == 200
    return gateway.enroll_device(loc), payload["orderId"]


def test_part_and_item_changes_are_journaled_and_idempotent_by_key(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    device, oid = routed_order(api, loc, tmp_path)
    first = post_item(api, device, oid, 1, "fryer", key="i1")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["accepted"] and body["item"] == 1 and body["station"] == "fryer"
    assert body["statuses"] == [50]  # the first thing done anywhere: preparing
    assert post_item(api, device, oid, 1, "fryer", key="i1").json() == body  # a retry
    assert not post_item(api, device, oid, 1, "fryer", key="i2").json()["accepted"]  # already
    part = post_part(api, device, oid, "grill", key="p1")
    assert part.json()["accepted"] and part.json()["statuses"] == []
    assert post_part(api, device, oid, "grill", key="p1").json() == part.json()
    # The same key on a status is another request: keys of parts and statuses never mix.
    assert api.post_status(device, oid, 70, key="p1").json()["accepted"]
    recall = post_part(api, device, oid, "grill", done=False, key="p2")
    assert recall.json()["accepted"] and recall.json()["done"] is False
    parts = [e["data"] for e in events_of(api, device, "order.part")]
    items = [e["data"] for e in events_of(api, device, "order.item")]
    assert items == [
        {"station": "fryer", "item": 1, "done": True, "device": device.device_id, "key": "i1"}
    ]
    assert parts == [
        {"station": "grill", "done": True, "device": device.device_id, "key": "p1"},
        {"station": "grill", "done": False, "device": device.device_id, "key": "p2"},
    ]
    statuses = [e["data"] for e in events_of(api, device, "order.status")]
    assert [(s["status"], s["source"]) for s in statuses] == [(50, "policy"), (70, "device")]


def test_bad_requests_get_a_clear_4xx_and_change_nothing(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    device, oid = routed_order(api, loc, tmp_path)
    url = f"{api.base_url}/api/v1/orders/{oid}"
    cases = [
        (f"{url}/parts/grill", {"key": "k"}, 400, "bad_request", "done must be true or false"),
        (f"{url}/parts/grill", {"done": "yes", "key": "k"}, 400, "bad_request", "done must"),
        (f"{url}/parts/grill", {"done": True}, 400, "bad_request", "key must be"),
        (f"{url}/parts/grill", ["done"], 400, "bad_request", "JSON object"),
        (f"{url}/parts/Grill%20Bar", {"done": True, "key": "k"}, 400, "bad_request", "slug"),
        (
            f"{url}/parts/grill",
            {"done": True, "key": "k", "station": "fryer"},
            400,
            "bad_request",
            "differs",
        ),
        (f"{url}/parts/bar", {"done": True, "key": "k"}, 404, "unknown_station", "its parts"),
        (f"{url}/parts/all", {"done": True, "key": "k"}, 404, "unknown_station", "'all'"),
        (f"{url}/items/1", {"done": True, "key": "k"}, 400, "bad_request", "station is required"),
        (f"{url}/items/x", {"station": "grill", "done": True, "key": "k"}, 400, "bad_request", ""),
        (f"{url}/items/-1", {"station": "grill", "done": True, "key": "k"}, 400, "bad_request", ""),
        (f"{url}/items/1", {"station": "grill", "done": True, "key": "k"}, 404, "unknown_item", ""),
        (f"{url}/items/9", {"station": "fryer", "done": True, "key": "k"}, 404, "unknown_item", ""),
        (
            f"{api.base_url}/api/v1/orders/nope/parts/grill",
            {"done": True, "key": "k"},
            404,
            "unknown_order",
            "",
        ),
    ]
    for target, body, code, error, detail in cases:
        response = api.session.post(target, json=body, headers=device.headers, timeout=10)
        assert response.status_code == code, (target, body, response.text)
        assert response.json()["error"] == error, (target, body, response.text)
        assert detail in response.json()["detail"], (target, body, response.text)
    assert (
        api.session.post(f"{url}/parts/grill", json={"done": True, "key": "k"}).status_code == 401
    )
    assert events_of(api, device, "order.part") == []
    assert events_of(api, device, "order.item") == []
    # A voided order takes nothing more.
    assert api.send_order(loc, {"orderId": oid, "status": 100}).status_code == 200
    voided = post_part(api, device, oid, "grill")
    assert voided.status_code == 409 and voided.json()["error"] == "voided"


def test_an_order_without_routing_is_one_part_all(api: GatewayProcess, loc: str) -> None:
    api.register(loc)
    payload = order(f"{loc}-plain", item("A"), item("B"))
    assert api.send_order(loc, payload).status_code == 200
    device = api.enroll_device(loc)
    oid = payload["orderId"]
    assert post_part(api, device, oid, "grill").json()["error"] == "unknown_station"
    assert post_item(api, device, oid, 1, "all").json()["accepted"]
    assert post_item(api, device, oid, 2, "all").json()["error"] == "unknown_item"
    whole = post_part(api, device, oid, "all").json()
    # One part: the first start and every part done at once.
    assert whole["accepted"] and whole["statuses"] == [60]


# ---- courier statuses ----------------------------------------------------------------------


def courier(
    gateway: GatewayProcess, loc: str, oid: str, status: int | str, **extra: object
) -> dict[str, object]:
    body = {"orderId": oid, "status": status, "location": loc, **extra}
    response = gateway.post_webhook(f"/deliverect/{loc}/order-status", body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_courier_statuses_are_journaled_with_label_eta_and_name(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    device, oid = routed_order(api, loc, tmp_path, order_type=2)
    soon = format_timestamp(datetime.now(UTC) + timedelta(minutes=4))
    assert courier(api, loc, oid, 81)["result"] == "courier"
    answer = courier(
        api,
        loc,
        oid,
        83,
        pickupTime=soon,
        courier={"firstName": "Sam", "lastName": "Rider", "phoneNumber": "+1555"},
        trackingURL="https://t.example/1",
    )
    assert answer["result"] == "courier" and isinstance(answer["seq"], int)
    again = courier(
        api,
        loc,
        oid,
        83,
        pickupTime=soon,
        courier={"firstName": "Sam", "lastName": "Rider", "phoneNumber": "+1555"},
    )
    assert again["result"] == "duplicate"  # a re-delivery: nothing new
    assert courier(api, loc, oid, "85", courierName="Sam R.")["result"] == "courier"
    assert courier(api, loc, oid, 115, reason="courier gone")["result"] == "courier"
    assert courier(api, loc, "not-an-order", 83)["result"] == "ignored"
    events = [e["data"] for e in events_of(api, device, "order.courier")]
    assert [(e["status"], e["label"]) for e in events] == [
        (81, "delivery created"),
        (83, "en route to pickup"),
        (85, "arrived at pickup"),
        (115, "delivery cancelled"),
    ]
    assert "etaMin" not in events[0] and "courier" not in events[0]
    assert events[1]["etaMin"] in (3, 4)
    assert events[1]["etaAt"][:16] == soon[:16]
    assert events[1]["courier"] == {"name": "Sam R."}
    assert events[1]["payload"]["trackingURL"] == "https://t.example/1"  # unknown fields kept
    assert "etaMin" not in events[2] and events[2]["courier"] == {"name": "Sam R."}
    assert events[3]["payload"]["reason"] == "courier gone"
    # A courier status is not the order's status: the bump still goes forward.
    assert api.post_status(device, oid, 70).json()["accepted"]
    assert [e["data"]["status"] for e in events_of(api, device, "order.status")] == [70]


def test_courier_webhook_junk_is_never_a_500(api: GatewayProcess, loc: str, tmp_path: Path) -> None:
    device, oid = routed_order(api, loc, tmp_path, order_type=2)
    for extra in (
        {"pickupTime": "soon"},
        {"pickupTime": 1e20},
        {"etaMin": -5},
        {"etaMin": True},
        {"courier": "Sam"},
        {"courier": {"firstName": 3, "lastName": ["x"]}},
        {"courierName": {"a": 1}},
    ):
        assert courier(api, loc, oid, 84, **extra)["result"] in ("courier", "duplicate")
    assert courier(api, loc, oid, 84, etaMin=7)["result"] == "courier"
    last = events_of(api, device, "order.courier")[-1]["data"]
    assert last["etaMin"] == 7 and last["label"] == "almost at pickup"
    assert "Traceback" not in api.log_text()
