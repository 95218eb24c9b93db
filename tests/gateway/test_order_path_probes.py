"""Issue 12's probes, each against a real ``kds-gateway serve``, correctly signed: every one
gets a 4xx with a JSON reason or a journaled (rendered) order, never a 500; and the answer
agrees with the OpenAPI document."""

from __future__ import annotations

import json
import secrets
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest

from kds_device.gateway import hmac_auth
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.gateway.contract import Contract, load_spec

pytestmark = pytest.mark.timeout(120)


def new_order(loc: str, **fields: Any) -> dict[str, Any]:
    order = OrderGenerator(seed=secrets.randbelow(10_000), location=loc).order()
    order["orderId"] = uuid.uuid4().hex[:24]
    order.update(fields)
    return order


def assert_4xx(response: requests.Response, code: int, error: str) -> None:
    assert response.status_code == code, response.text
    body = response.json()
    assert body["error"] == error and body["detail"], body


def journaled(gateway: GatewayProcess, loc: str, order_id: str) -> dict[str, Any]:
    events = [e for e in gateway.journal().events_after(loc, 0) if e.order_id == order_id]
    assert [e.type for e in events] == ["order.received"], events
    return dict(events[0].data["payload"])


@pytest.fixture
def device(shared_gateway: GatewayProcess, loc: str) -> EnrolledDevice:
    shared_gateway.register(loc)
    return shared_gateway.enroll_device(loc)


@pytest.fixture
def contract(shared_gateway: GatewayProcess) -> Iterator[Contract]:
    """Every answer in the test is checked against the document."""
    checker = Contract(shared_gateway.base_url).attach(shared_gateway.session)
    yield checker
    shared_gateway.session.hooks["response"].remove(checker)


# ---- non-ASCII digits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "²"},
        {"orderType": "²"},
        {"items": [{"plu": "B", "name": "Burger", "quantity": "²"}]},
        {"items": [{"plu": "B", "name": "Burger", "quantity": "9" * 5000}]},
    ],
    ids=["status", "orderType", "quantity", "quantity-5000-digits"],
)
def test_non_ascii_and_huge_digit_strings_are_journaled(
    shared_gateway: GatewayProcess, loc: str, contract: Contract, fields: dict[str, Any]
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    order = new_order(loc, **fields)
    response = gateway.send_order(loc, order)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "received"
    assert journaled(gateway, loc, order["orderId"]) == order


def test_non_ascii_digit_status_on_the_status_webhook_is_400(
    shared_gateway: GatewayProcess, loc: str, contract: Contract
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    order = new_order(loc)
    gateway.send_order(loc, order)
    url = f"/deliverect/{loc}/order-status"
    for status in ("²", "٣", "9" * 5000):
        response = gateway.post_webhook(url, {"orderId": order["orderId"], "status": status})
        assert_4xx(response, 400, "invalid_status")


# ---- out-of-range times --------------------------------------------------------------------


@pytest.mark.parametrize(
    "when", [1e20, 10**30, "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"]
)
def test_out_of_range_times_are_journaled_and_flagged(
    shared_gateway: GatewayProcess, loc: str, contract: Contract, when: Any
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    order = new_order(loc, pickupTime=when)
    response = gateway.send_order(loc, order)
    assert response.status_code == 200, response.text
    assert [p.split(":")[0] for p in response.json()["problems"]] == ["pickupTime"]
    assert journaled(gateway, loc, order["orderId"])["pickupTime"] == when


# ---- the events cursor ------------------------------------------------------------------------


@pytest.mark.parametrize("after", ["99999999999999999999", str(2**63), "٣", "1e3", "-1"])
def test_events_after_out_of_range_is_400(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract, after: str
) -> None:
    response = shared_gateway.session.get(
        f"{shared_gateway.base_url}/api/v1/events",
        params={"after": after},
        headers=device.headers,
        timeout=10,
    )
    assert_4xx(response, 400, "bad_request")


def test_events_after_the_largest_seq_is_an_empty_page(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract
) -> None:
    page = shared_gateway.events(device, after=2**63 - 1)
    assert page["events"] == []


def test_wait_over_the_documented_maximum_is_400(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract
) -> None:
    url = f"{shared_gateway.base_url}/api/v1/events"
    for wait in ("31", "30.001", "inf", "nan"):
        response = shared_gateway.session.get(
            url, params={"wait": wait}, headers=device.headers, timeout=10
        )
        assert_4xx(response, 400, "bad_request")
    shared_gateway.post_webhook(
        f"/deliverect/{device.location_id}/orders", new_order(device.location_id)
    )
    assert len(shared_gateway.events(device, after=0, wait=30)["events"]) == 1  # 30 is allowed


# ---- body size ---------------------------------------------------------------------------------


def _chunked(body: bytes, size: int = 65_536) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_body_over_the_limit_is_413_and_one_under_it_is_read_whole(
    shared_gateway: GatewayProcess, loc: str
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    url = f"{gateway.base_url}/deliverect/{loc}/orders"
    big = json.dumps(new_order(loc, note="x" * (2 * 1024 * 1024))).encode()
    headers = {hmac_auth.HEADER: gateway.sign(big), "Content-Type": "application/json"}
    with requests.Session() as session:
        response = session.post(url, data=_chunked(big), headers=headers, timeout=30)
        assert response.request.headers.get("Transfer-Encoding") == "chunked"
        assert_4xx(response, 413, "request_entity_too_large")
    order = new_order(loc)
    small = json.dumps(order).encode()
    headers = {hmac_auth.HEADER: gateway.sign(small), "Content-Type": "application/json"}
    with requests.Session() as session:
        response = session.post(url, data=_chunked(small, 100), headers=headers, timeout=30)
        assert response.status_code == 200, response.text
    assert journaled(gateway, loc, order["orderId"]) == order


# ---- order ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order_id",
    ["a/b", "/lead", "trail/", "a//b", "a/status", "../x", ".x.", "x y", "ü/ß/😀", "a%2Fb", "?#"],
)
def test_every_accepted_order_id_can_be_bumped(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract, order_id: str
) -> None:
    gateway = shared_gateway
    loc = device.location_id
    response = gateway.send_order(loc, new_order(loc, orderId=order_id))
    assert response.status_code == 200 and response.json()["orderId"] == order_id
    url = f"{gateway.base_url}/api/v1/orders/{quote(order_id, safe='')}/status"
    body = {"status": 70, "key": "bump-1"}
    bumped = gateway.session.post(url, json=body, headers=device.headers, timeout=10)
    assert bumped.status_code == 200, bumped.text
    assert bumped.json()["orderId"] == order_id and bumped.json()["accepted"] is True
    assert gateway.journal().order_state(loc, order_id)["status"] == 70


def test_a_slash_in_an_id_may_come_raw_or_as_percent_2f(
    shared_gateway: GatewayProcess, device: EnrolledDevice
) -> None:
    gateway = shared_gateway
    loc = device.location_id
    gateway.send_order(loc, new_order(loc, orderId="one/two"))
    for path, status in (("one/two", 50), ("one%2Ftwo", 60), ("one%2ftwo", 70)):
        response = gateway.session.post(
            f"{gateway.base_url}/api/v1/orders/{path}/status",
            json={"status": status, "key": f"k{status}"},
            headers=device.headers,
            timeout=10,
        )
        assert response.status_code == 200 and response.json()["accepted"] is True, path
    assert gateway.journal().order_state(loc, "one/two")["status"] == 70


@pytest.mark.parametrize("order_id", [".", "..", " . ", "a\nb"])
def test_ids_no_url_can_carry_are_refused_at_the_door(
    shared_gateway: GatewayProcess, loc: str, contract: Contract, order_id: str
) -> None:
    shared_gateway.register(loc)
    response = shared_gateway.send_order(loc, new_order(loc, orderId=order_id))
    assert_4xx(response, 400, "invalid_order")


@pytest.mark.parametrize("length", [129, 10_000])
def test_absurd_id_lengths_are_refused_at_the_door(
    shared_gateway: GatewayProcess, loc: str, contract: Contract, length: int
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    response = gateway.send_order(loc, new_order(loc, orderId="x" * length))
    assert_4xx(response, 400, "invalid_order")
    assert "128" in response.json()["detail"]
    status = gateway.post_webhook(
        f"/deliverect/{loc}/order-status", {"orderId": "x" * length, "status": 60}
    )
    assert_4xx(status, 400, "invalid_status")
    assert gateway.journal().events_after(loc, 0) == []
    assert gateway.send_order(loc, new_order(loc, orderId="x" * 128)).status_code == 200


def test_a_long_id_in_a_status_url_is_400(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract
) -> None:
    url = f"{shared_gateway.base_url}/api/v1/orders/{'x' * 129}/status"
    response = shared_gateway.session.post(
        url, json={"status": 70, "key": "k"}, headers=device.headers, timeout=10
    )
    assert_4xx(response, 400, "bad_request")


# ---- the document and the server agree ----------------------------------------------------------


def test_a_blank_enrollment_code_is_400_and_invalid_by_the_document(
    shared_gateway: GatewayProcess, contract: Contract
) -> None:
    for body in ({"code": "\n"}, {"code": "ok", "name": " "}, {"code": "ok", "station": "\t"}):
        response = shared_gateway.session.post(
            f"{shared_gateway.base_url}/api/v1/enroll", json=body, timeout=10
        )
        assert_4xx(response, 400, "bad_request")
        with pytest.raises(Exception, match=r"pattern|does not match"):
            contract.spec.validate_request(RequestsOpenAPIRequest(response.request))


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/deliverect/register", {"POST"}),
        ("PUT", "/api/v1/enroll", {"POST"}),
        ("POST", "/api/v1/events", {"GET", "HEAD"}),
        ("DELETE", "/api/v1/orders/a/b/status", {"POST"}),
    ],
)
def test_405_names_the_allowed_methods(
    shared_gateway: GatewayProcess, method: str, path: str, allowed: set[str]
) -> None:
    response = shared_gateway.session.request(
        method, f"{shared_gateway.base_url}{path}", timeout=10
    )
    assert_4xx(response, 405, "method_not_allowed")
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
    with pytest.raises(Exception):  # noqa: B017 - undocumented methods are not in the document
        load_spec(shared_gateway.base_url).validate_request(
            RequestsOpenAPIRequest(response.request)
        )


def test_the_status_webhook_needs_an_order_id_in_the_document_too(
    shared_gateway: GatewayProcess, loc: str, contract: Contract
) -> None:
    gateway = shared_gateway
    gateway.register(loc)
    response = gateway.post_webhook(f"/deliverect/{loc}/order-status", {"status": 60})
    assert_4xx(response, 400, "invalid_status")
    with pytest.raises(Exception, match=r"orderId|_id|anyOf|valid"):
        contract.spec.validate_request(RequestsOpenAPIRequest(response.request))
    by_underscore = gateway.post_webhook(
        f"/deliverect/{loc}/order-status", {"_id": "early", "status": 60}
    )
    assert by_underscore.status_code == 200 and by_underscore.json()["result"] == "stored"


def test_an_idempotency_key_is_scoped_to_its_order(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract
) -> None:
    gateway = shared_gateway
    loc = device.location_id
    first, second = new_order(loc), new_order(loc)
    gateway.send_order(loc, first)
    gateway.send_order(loc, second)
    one = gateway.post_status(device, first["orderId"], 70, key="same-key")
    other = gateway.post_status(device, second["orderId"], 70, key="same-key")
    again = gateway.post_status(device, first["orderId"], 70, key="same-key")
    assert one.json()["orderId"] == first["orderId"] and one.json()["accepted"] is True
    assert other.json()["orderId"] == second["orderId"] and other.json()["accepted"] is True
    assert again.json() == one.json()  # the same request again: the same answer
    assert gateway.journal().order_state(loc, second["orderId"])["status"] == 70


def test_unknown_paths_are_json_404s(shared_gateway: GatewayProcess) -> None:
    response = shared_gateway.session.get(f"{shared_gateway.base_url}/nowhere", timeout=10)
    assert_4xx(response, 404, "not_found")


def test_lone_surrogate_escapes_are_kept_as_replacement_characters(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract
) -> None:
    gateway = shared_gateway
    loc = device.location_id
    body = b'{"orderId": "sur\\ud800", "note": "\\udc00x", "items": [{"name": "B\\ud83d"}]}'
    response = gateway.post_webhook(f"/deliverect/{loc}/orders", body)
    assert response.status_code == 200, response.text
    assert response.json()["orderId"] == "sur\ufffd"
    payload = journaled(gateway, loc, "sur\ufffd")
    assert payload["note"] == "\ufffdx" and payload["items"][0]["name"] == "B\ufffd"
    segment = quote("sur\ufffd", safe="")
    status = gateway.session.post(
        f"{gateway.base_url}/api/v1/orders/{segment}/status",
        data=b'{"status": 70, "key": "k\\udfff"}',
        headers={**device.headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert status.status_code == 200 and status.json()["key"] == "k\ufffd", status.text
    enroll = gateway.session.post(
        f"{gateway.base_url}/api/v1/enroll",
        data=b'{"code": "\\ud800", "name": "\\udbff"}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert_4xx(enroll, 404, "invalid_code")


# ---- refused by the HTTP server itself, before the gateway ------------------------------------


def test_a_request_line_over_the_servers_limit_is_a_json_414(
    shared_gateway: GatewayProcess, device: EnrolledDevice, contract: Contract
) -> None:
    for path, params in (("events", {"after": "1" * 5000}), ("report", {"tz": "A/" * 2500})):
        response = shared_gateway.session.get(
            f"{shared_gateway.base_url}/api/v1/{path}",
            params=params,
            headers=device.headers,
            timeout=10,
        )
        assert_4xx(response, 414, "uri_too_long")
        assert "4094" in response.json()["detail"]


def test_a_header_over_the_servers_limit_is_a_json_431(shared_gateway: GatewayProcess) -> None:
    response = shared_gateway.session.get(
        f"{shared_gateway.base_url}/api/v1/health", headers={"X-Big": "x" * 9000}, timeout=10
    )
    assert_4xx(response, 431, "request_header_fields_too_large")


def test_a_malformed_request_line_is_a_json_400(shared_gateway: GatewayProcess) -> None:
    port = int(shared_gateway.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET /api/v1/health HTTP/1.1 extra\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65_536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer
    assert b"content-type: application/json" in head.lower(), head
    refused = json.loads(body)
    assert refused["error"] == "bad_request" and refused["detail"], refused
