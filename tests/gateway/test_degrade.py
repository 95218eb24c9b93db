"""Degrade, don't drop: an order body with an id is journaled whatever else is wrong with it,
its problems answered, logged and kept with the raw body for the operator; only what cannot
be an order is refused (bad signature, too large, not JSON, no id)."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest

from kds_device.domain.order import parse_webhook
from tests.fixtures.gateway import GATEWAY_BIN, GatewayProcess
from tests.fixtures.mosquitto import wait_until

pytestmark = pytest.mark.timeout(120)

FLAGGED_CASES = {
    "negative quantity": (
        {"items": [{"plu": "B", "name": "Burger", "quantity": -1}]},
        ["items[0].quantity"],
    ),
    "zero quantity": ({"items": [{"name": "Burger", "quantity": 0}]}, ["items[0].quantity"]),
    "wrong types": (
        {"items": [{"name": ["Burger"], "plu": 7}], "orderType": {}, "note": []},
        ["items[0].name", "orderType", "note"],
    ),
    "no items": ({}, ["items"]),
    "empty items": ({"items": []}, ["items"]),
    "items not a list": ({"items": "burger"}, ["items"]),
    "absurd times": (
        {"items": [{"name": "A"}], "pickupTime": 1e20, "deliveryTime": "0001-01-01T00:00:00+01:00"},
        ["pickupTime", "deliveryTime"],
    ),
}


def kds_gateway(gateway: GatewayProcess, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(GATEWAY_BIN), "--config", str(gateway.config_path), *args],
        capture_output=True,
        timeout=60,
        check=True,
    )


@pytest.mark.parametrize("case", sorted(FLAGGED_CASES))
def test_an_order_with_problems_is_journaled_answered_and_kept(
    shared_gateway: GatewayProcess, loc: str, case: str
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    fields, fields_named = FLAGGED_CASES[case]
    order: dict[str, Any] = {"orderId": uuid.uuid4().hex[:24], **fields}
    raw = json.dumps(order, indent=2).encode()  # kept byte for byte, not re-serialised
    response = gateway.post_webhook(f"/deliverect/{loc}/orders", raw)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["result"] == "received"
    assert [p.split(":")[0] for p in answer["problems"]] == fields_named
    (event,) = gateway.journal().events_after(loc, 0)
    assert event.data["payload"] == order
    kept = [r for r in gateway.journal().flagged() if r["location_id"] == loc]
    assert [(r["order_id"], r["problems"]) for r in kept] == [
        (order["orderId"], answer["problems"])
    ]
    assert gateway.journal().kept_body("flagged", kept[0]["id"]) == raw
    wait_until(
        lambda: f"order {order['orderId']} at {loc} journaled with" in gateway.log_text(),
        10,
        "the flagged order's log line",
    )
    parsed = parse_webhook(event.data["payload"])  # what the screen will do with it
    assert [p.field for p in parsed.problems] == fields_named  # type: ignore[union-attr]


def test_a_duplicate_of_a_flagged_order_is_not_kept_twice(
    shared_gateway: GatewayProcess, loc: str
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    order = {"orderId": uuid.uuid4().hex[:24], "items": []}
    for _ in range(3):
        assert gateway.send_order(loc, order).status_code == 200
    assert [r["order_id"] for r in gateway.journal().flagged() if r["location_id"] == loc] == [
        order["orderId"]
    ]


def test_the_operator_lists_flagged_orders_and_reads_their_raw_bodies(
    shared_gateway: GatewayProcess, loc: str
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    order_id = uuid.uuid4().hex[:24]
    raw = b'{"orderId": "%s", "items": [{"name": "Soup", "quantity": -3}]}' % order_id.encode()
    assert gateway.post_webhook(f"/deliverect/{loc}/orders", raw).status_code == 200
    listing = kds_gateway(gateway, "flagged").stdout.decode()
    (line,) = [row for row in listing.splitlines() if order_id in row]
    assert "items[0].quantity" in line and loc in line
    assert "flagged order(s) kept" in listing
    row_id = line.split()[0]
    shown = kds_gateway(gateway, "flagged", "--show", row_id).stdout
    assert shown == raw + b"\n"
    gateway.post_webhook(f"/deliverect/{loc}/orders", b"{not json")
    rejected = kds_gateway(gateway, "rejected", "--limit", "5").stdout.decode()
    (refusal,) = [row for row in rejected.splitlines() if loc in row]
    assert "malformed_json" in refusal
    body = kds_gateway(gateway, "rejected", "--show", refusal.split()[0]).stdout
    assert body == b"{not json\n"
    missing = subprocess.run(
        [str(GATEWAY_BIN), "--config", str(gateway.config_path), "flagged", "--show", "999999"],
        capture_output=True,
        timeout=60,
    )
    assert missing.returncode == 1 and b"no flagged body" in missing.stderr


@pytest.mark.parametrize(
    ("body", "signed", "code", "error"),
    [
        (b'{"orderId": "x", "items": []}', False, 401, "bad_signature"),
        (b'{"orderId": "x", "note": "' + b"x" * 2_000_000 + b'"}', True, 413, None),
        (b"{not json", True, 400, "malformed_json"),
        (b'["orderId", "x"]', True, 400, "invalid_order"),
        (b'{"items": [{"name": "Burger"}]}', True, 400, "invalid_order"),
        (b'{"orderId": "", "_id": null}', True, 400, "invalid_order"),
    ],
    ids=["bad signature", "too large", "not JSON", "not an object", "no id", "empty id"],
)
def test_only_what_cannot_be_an_order_is_refused(
    shared_gateway: GatewayProcess,
    loc: str,
    body: bytes,
    signed: bool,
    code: int,
    error: str | None,
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    response = gateway.post_webhook(f"/deliverect/{loc}/orders", body, sign=signed)
    assert response.status_code == code, response.text
    assert response.json()["error"] == (error or "request_entity_too_large")
    assert gateway.journal().events_after(loc, 0) == []
