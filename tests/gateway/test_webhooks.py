"""Deliverect's webhooks against the gateway served for real (gunicorn subprocess)."""

from __future__ import annotations

import json

import pytest

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(60)

LOC = "65f0c1a2b3c4d5e6f7a8b9d1"


def event_types(gateway: GatewayProcess, location: str = LOC) -> list[tuple[str, str | None]]:
    return [(e.type, e.order_id) for e in gateway.journal().events_after(location, 0)]


def rejected_for(gateway: GatewayProcess, location: str) -> list[dict]:
    """The rejected-log rows of one location's URLs (the gateway is shared by the module)."""
    return [r for r in gateway.journal().rejected() if location in r["endpoint"]]


def test_register_answers_three_urls_naming_the_location_and_is_idempotent(
    shared_gateway: GatewayProcess,
    loc: str,
) -> None:
    gateway = shared_gateway
    first = gateway.register(loc, account="65f0c1a2b3c4d5e6f7a8b9c0", ref="acme-042")
    again = gateway.register(loc, account="65f0c1a2b3c4d5e6f7a8b9c0", ref="acme-042")
    assert first == again
    base = f"{gateway.base_url}/deliverect/{loc}"
    assert first == {
        "productSyncUrl": f"{base}/products",
        "orderWebhookUrl": f"{base}/orders",
        "orderStatusUpdateUrl": f"{base}/order-status",
    }
    rows = (
        gateway.db()
        .read()
        .execute("SELECT id, external_ref FROM locations WHERE id = ?", (loc,))
        .fetchall()
    )
    assert [tuple(r) for r in rows] == [(loc, "acme-042")]


@pytest.mark.parametrize(
    "case",
    ["valid", "one_byte_changed", "header_missing", "reserialised", "wrong_secret", "upper_hex"],
)
def test_hmac_matrix(shared_gateway: GatewayProcess, loc: str, case: str) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    order = OrderGenerator(seed=7, location=loc).order()
    raw = json.dumps(order, indent=1).encode()  # the bytes Deliverect signed
    signature = gateway.sign(raw)
    body = raw
    if case == "one_byte_changed":
        body = raw.replace(b'"quantity": 1', b'"quantity": 2', 1)
        assert body != raw
    elif case == "reserialised":
        body = json.dumps(json.loads(raw)).encode()  # same JSON, other bytes
    elif case == "wrong_secret":
        signature = gateway.sign(raw, secret="not-the-secret")
    elif case == "upper_hex":
        signature = signature.upper()
    headers = {} if case == "header_missing" else {"x-server-authorization-hmac-sha256": signature}
    response = gateway.post_webhook(f"/deliverect/{loc}/orders", body, sign=False, headers=headers)
    if case in ("valid", "upper_hex"):
        assert response.status_code == 200, response.text
        assert event_types(gateway, loc) == [("order.received", order["orderId"])]
    else:
        assert response.status_code == 401
        assert response.json()["error"] == "bad_signature"
        assert event_types(gateway, loc) == []
        assert rejected_for(gateway, loc) == []  # no side effect at all


def test_six_deliveries_then_cancel_is_one_voided_ticket_and_no_status_sent(
    gateway: GatewayProcess, deliverect_sim
) -> None:
    gateway.register(LOC)
    gen = OrderGenerator(seed=1, location=LOC)
    order = gen.order()
    answers = [gateway.send_order(LOC, order) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert [a.json()["result"] for a in answers] == ["received"] + ["duplicate"] * 5
    cancel = gateway.send_order(LOC, gen.cancel(order, reason="Courier not found"))
    assert cancel.status_code == 200 and cancel.json()["result"] == "voided"
    assert gateway.send_order(LOC, gen.cancel(order)).json()["result"] == "duplicate"
    assert event_types(gateway) == [
        ("order.received", order["orderId"]),
        ("order.voided", order["orderId"]),
    ]
    device = gateway.enroll_device(LOC)
    bump = gateway.post_status(device, order["orderId"], 70)
    assert bump.status_code == 409 and bump.json()["error"] == "voided"
    assert gateway.outbox_rows() == []
    assert deliverect_sim.calls() == []


def test_cancel_before_its_order_lands_voided(shared_gateway: GatewayProcess, loc: str) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    gen = OrderGenerator(seed=2, location=loc)
    order = gen.order()
    assert gateway.send_order(loc, gen.cancel(order, reason="Store too busy")).status_code == 200
    late = gateway.send_order(loc, order)
    assert late.status_code == 200 and late.json()["result"] == "voided"
    assert gateway.send_order(loc, order).json()["result"] == "duplicate"
    events = gateway.journal().events_after(loc, 0)
    assert [(e.type, e.seq) for e in events] == [
        ("order.voided", 1),
        ("order.received", 2),
        ("order.voided", 3),
    ]
    assert events[2].data == {"reason": "Store too busy"}
    assert events[1].data["payload"] == order


def test_unknown_location_is_404_and_kept_in_the_rejected_log(
    shared_gateway: GatewayProcess, loc: str
) -> None:
    gateway = shared_gateway
    nowhere = f"nowhere-{loc}"
    order = OrderGenerator(seed=3, location=nowhere).order()
    response = gateway.send_order(nowhere, order)
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_location"
    assert rejected_for(gateway, nowhere)[0]["reason"].startswith("unknown_location")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe\xfa not utf-8", "malformed_json"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed_json"),
        (b'{"orderId": "x", "items": [], "pickupTime": NaN}', "malformed_json"),
        (b"[1, 2, 3]", "invalid_order"),
        (b'{"items": []}', "invalid_order"),
        (b'{"orderId": {"id": "x"}, "items": []}', "invalid_order"),
        (b"", "malformed_json"),
    ],
)
def test_bad_order_bodies_are_400_with_a_reason_and_logged(
    shared_gateway: GatewayProcess, loc: str, body: bytes, error: str
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    response = gateway.post_webhook(f"/deliverect/{loc}/orders", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert response.json()["detail"]
    assert [r["endpoint"] for r in rejected_for(gateway, loc)] == [f"/deliverect/{loc}/orders"]
    assert event_types(gateway, loc) == []


def test_oversized_body_is_413(shared_gateway: GatewayProcess, loc: str) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    body = b'{"orderId": "big", "note": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = gateway.post_webhook(f"/deliverect/{loc}/orders", body)
    assert response.status_code == 413
    assert response.json()["error"] == "request_entity_too_large"
    assert gateway.session.get(f"{gateway.base_url}/api/v1/health").json() == {"ok": True}


def test_product_push_replaces_the_snapshot(shared_gateway: GatewayProcess, loc: str) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    products = OrderGenerator(seed=4, location=loc).products()
    first = gateway.post_webhook(f"/deliverect/{loc}/products", products)
    assert first.status_code == 200 and first.json()["count"] == len(products)
    second = gateway.post_webhook(f"/deliverect/{loc}/products", products[:3])
    assert second.status_code == 200
    assert gateway.journal().products(loc) == products[:3]
    synced = [e.data for e in gateway.journal().events_after(loc, 0)]
    assert synced == [{"count": len(products)}, {"count": 3}]
    refused = gateway.post_webhook(f"/deliverect/{loc}/products", {"plu": "x"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_products"


def test_order_status_webhook_moves_forward_only_and_voids(
    shared_gateway: GatewayProcess, loc: str
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    gen = OrderGenerator(seed=5, location=loc)
    order = gen.order()
    gateway.send_order(loc, order)
    url = f"/deliverect/{loc}/order-status"
    oid = order["orderId"]
    checks = [
        ({"orderId": oid, "status": "60", "timeStamp": "2026-01-01T10:00:00Z", "x": 1}, "status"),
        ({"orderId": oid, "status": 50, "reason": "late echo"}, "ignored"),  # backwards
        ({"orderId": oid, "status": 60}, "ignored"),  # the same again
        ({"orderId": oid, "status": 83}, "courier"),  # courier en route: not the order's
        ({"orderId": oid, "status": 9999}, "ignored"),  # unknown statuses are ignored
        ({"orderId": oid, "status": 110, "reason": "cancelled on POS"}, "voided"),
        ({"orderId": oid, "status": 90}, "ignored"),  # voided stays voided
    ]
    for body, result in checks:
        response = gateway.post_webhook(url, body)
        assert response.status_code == 200, response.text
        assert response.json()["result"] == result, body
    events = gateway.journal().events_after(loc, 0)
    assert [(e.type, dict(e.data)) for e in events[1:]] == [
        ("order.status", {"status": 60, "source": "deliverect"}),
        (
            "order.courier",
            {
                "status": 83,
                "label": "en route to pickup",
                "payload": {"orderId": oid, "status": 83},
            },
        ),
        ("order.voided", {"reason": "cancelled on POS"}),
    ]
    for bad in ({"status": 60}, {"orderId": oid, "status": "soon"}, [oid, 60]):
        response = gateway.post_webhook(url, bad)
        assert response.status_code == 400 and response.json()["error"] == "invalid_status"


def test_status_before_the_order_is_replayed_after_it(
    shared_gateway: GatewayProcess, loc: str
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    order = OrderGenerator(seed=6, location=loc).order()
    early = gateway.post_webhook(
        f"/deliverect/{loc}/order-status", {"orderId": order["orderId"], "status": 20}
    )
    assert early.json()["result"] == "stored"
    gateway.send_order(loc, order)
    assert [(e.type, e.data.get("status")) for e in gateway.journal().events_after(loc, 0)] == [
        ("order.received", None),
        ("order.status", 20),
    ]


def test_staging_location_key_only_when_allowed(make_gateway, shared_gateway) -> None:
    strict = shared_gateway
    staging = make_gateway(settings={"deliverect": {"accept_location_key": True}})
    register = json.dumps({"accountId": "a", "locationId": LOC, "externalReference": "r"}).encode()
    signed_by_location = {"X-Server-Authorization-HMAC-SHA256": strict.sign(register, secret=LOC)}
    for gateway, expected in ((strict, 401), (staging, 200)):
        response = gateway.post_webhook(
            "/deliverect/register", register, sign=False, headers=signed_by_location
        )
        assert response.status_code == expected
    raw = json.dumps(OrderGenerator(seed=8, location=LOC).order()).encode()
    for key, expected in ((LOC, 200), ("another-location", 401)):
        headers = {"X-Server-Authorization-HMAC-SHA256": staging.sign(raw, secret=key)}
        response = staging.post_webhook(
            f"/deliverect/{LOC}/orders", raw, sign=False, headers=headers
        )
        assert response.status_code == expected
